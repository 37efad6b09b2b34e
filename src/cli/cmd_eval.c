/* tailor eval: placeholder until its issue lands; says so rather than pretending. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_eval(const tl_cli *cli, int argc, char **argv)
{
    (void)cli;
    (void)argc;
    (void)argv;
    fprintf(stderr, "tailor: 'eval' is not implemented yet\n");
    return TL_EXIT_FAIL;
}
