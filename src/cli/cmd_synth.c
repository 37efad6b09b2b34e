/* tailor synth: placeholder until its issue lands; says so rather than pretending. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_synth(const tl_cli *cli, int argc, char **argv)
{
    (void)cli;
    (void)argc;
    (void)argv;
    fprintf(stderr, "tailor: 'synth' is not implemented yet\n");
    return TL_EXIT_FAIL;
}
