/* The request context options that `tailor recommend` and `tailor homepage` share with the
 * server's query parameters (device, channel, branch, time), and their reading. */
#ifndef TL_CLI_REC_CONTEXT_H
#define TL_CLI_REC_CONTEXT_H

#include "cli/opt.h"
#include "tailor/service.h"

typedef struct tl_cli_context {
    const char *device, *channel, *branch, *time;
} tl_cli_context;

/* The options, for a command's table; member is the tl_cli_context in its args type. */
#define TL_CLI_CONTEXT_OPTS(type, member)                                                          \
    {"device",                                                                                     \
     0,                                                                                            \
     TL_OPT_STR,                                                                                   \
     "NAME",                                                                                       \
     NULL,                                                                                         \
     0,                                                                                            \
     0,                                                                                            \
     TL_OPT_AT(type, member.device),                                                               \
     "the request's device: the patron's events on it weigh more"},                                \
        {"channel",                                                                                \
         0,                                                                                        \
         TL_OPT_STR,                                                                               \
         "NAME",                                                                                   \
         NULL,                                                                                     \
         0,                                                                                        \
         0,                                                                                        \
         TL_OPT_AT(type, member.channel),                                                          \
         "... its channel (web, app, kiosk): the same"},                                           \
        {"branch",                                                                                 \
         0,                                                                                        \
         TL_OPT_STR,                                                                               \
         "NAME",                                                                                   \
         NULL,                                                                                     \
         0,                                                                                        \
         0,                                                                                        \
         TL_OPT_AT(type, member.branch),                                                           \
         "... its branch: the same"},                                                              \
        {"time",                                                                                   \
         0,                                                                                        \
         TL_OPT_STR,                                                                               \
         "WHEN",                                                                                   \
         NULL,                                                                                     \
         0,                                                                                        \
         0,                                                                                        \
         TL_OPT_AT(type, member.time),                                                             \
         "answer as of WHEN (Unix seconds or ISO 8601): later events are left out"},

/* c as a service context; -1 after a usage error (a time that is not one). */
int tl_cli_context_get(const tl_cmd_def *def, const tl_cli_context *c, tl_rec_context *out);

#endif
