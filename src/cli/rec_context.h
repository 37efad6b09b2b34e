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

/* The re-rankers' options (recommend, audit): member is a tl_cli_rerank in args type. */
typedef struct tl_cli_rerank {
    double diversify, calibrate; /* < 0: not given (tl_cli_rerank_init) */
    int max_per_author;
    int all_editions;
} tl_cli_rerank;

#define TL_CLI_RERANK_OPTS(type, member)                                                           \
    {"diversify",                                                                                  \
     0,                                                                                            \
     TL_OPT_NUM,                                                                                   \
     "LAMBDA",                                                                                     \
     NULL,                                                                                         \
     0,                                                                                            \
     1,                                                                                            \
     TL_OPT_AT(type, member.diversify),                                                            \
     "re-rank by MMR (maximal marginal relevance) with this lambda: 1 =\n"                         \
     "relevance alone, lower = fewer items alike (subjects, authors)"},                            \
        {"calibrate",                                                                              \
         0,                                                                                        \
         TL_OPT_NUM,                                                                               \
         "LAMBDA",                                                                                 \
         NULL,                                                                                     \
         0,                                                                                        \
         1,                                                                                        \
         TL_OPT_AT(type, member.calibrate),                                                        \
         "re-rank so the list's subjects follow the patron's history (Steck's\n"                   \
         "calibration): 0 = relevance alone, 1 = the subject shares alone"},                       \
        {"max-per-author",                                                                         \
         0,                                                                                        \
         TL_OPT_INT,                                                                               \
         "N",                                                                                      \
         "0",                                                                                      \
         0,                                                                                        \
         1000,                                                                                     \
         TL_OPT_AT(type, member.max_per_author),                                                   \
         "at most N items of one (first) author in a list; 0 = no cap"},                           \
        {"all-editions",                                                                           \
         0,                                                                                        \
         TL_OPT_FLAG,                                                                              \
         NULL,                                                                                     \
         NULL,                                                                                     \
         0,                                                                                        \
         0,                                                                                        \
         TL_OPT_AT(type, member.all_editions),                                                     \
         "list every edition and format of a work (default: one entry per work,\n"                 \
         "by the catalogue's work ids, with a store)"},

/* Before parsing: no re-ranker given. */
void tl_cli_rerank_init(tl_cli_rerank *r);
/* r as the service's re-ranking. */
tl_rerank tl_cli_rerank_get(const tl_cli_rerank *r);

/* c as a service context; -1 after a usage error (a time that is not one). */
int tl_cli_context_get(const tl_cmd_def *def, const tl_cli_context *c, tl_rec_context *out);

#endif
