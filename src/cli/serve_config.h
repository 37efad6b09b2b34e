/* `tailor serve`'s settings from outside the command line: the config file and the
 * environment. The server's one table of settings (server/server.h) names them all. */
#ifndef TL_CLI_SERVE_CONFIG_H
#define TL_CLI_SERVE_CONFIG_H

#include <stddef.h>

#include "server/server.h"

/* "TAILOR_" and the setting's name in capitals, '-' as '_' ("max-body": TAILOR_MAX_BODY). */
void tl_serve_env_name(const char *name, char *buf, size_t len);

/* Applies the config file at path: `key = value` lines (a key is a setting's name; '#' starts
 * a comment line; a value may be in double quotes). Prints "tailor serve: FILE:LINE: KEY: why"
 * and returns TL_EXIT_USAGE for a bad line or an unreadable file; else TL_EXIT_OK. */
int tl_serve_config_file(tl_server_config *c, const char *path);

/* Applies $TAILOR_<NAME> of every setting that has one set (not empty), except db (the global
 * $TAILOR_DB, which main reads). Prints the variable and why for a bad value and returns
 * TL_EXIT_USAGE; else TL_EXIT_OK. */
int tl_serve_config_env(tl_server_config *c);

#endif
