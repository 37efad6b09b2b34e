/* The config file and the environment of `tailor serve` (serve_config.h): both go through the
 * server's checked setter, so that a value means the same wherever it is written. */
#include "cli/serve_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

void tl_serve_env_name(const char *name, char *buf, size_t len)
{
    size_t o = (size_t)snprintf(buf, len, "TAILOR_");
    for (const char *p = name; *p && o + 1 < len; p++)
        buf[o++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    buf[o < len ? o : len - 1] = '\0';
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* One line of the file; returns 0, or -1 after printing why. */
static int file_line(tl_server_config *c, const char *path, long no, char *line)
{
    char pbuf[256], kbuf[128];
    char *s = trim(line);
    if (!*s || *s == '#')
        return 0;
    char *eq = strchr(s, '=');
    if (!eq) {
        fprintf(stderr, "tailor serve: %s:%ld: expected `key = value`\n",
                tl_cli_printable(path, pbuf, sizeof(pbuf)), no);
        return -1;
    }
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    size_t vn = strlen(value);
    if (vn >= 2 && value[0] == '"' && value[vn - 1] == '"') {
        value[vn - 1] = '\0';
        value++;
    }
    const tl_server_setting *st = tl_server_setting_find(key);
    tl_diag d;
    tl_diag_clear(&d);
    if (!st) {
        fprintf(stderr, "tailor serve: %s:%ld: %s: not a setting (see tailor serve --help)\n",
                tl_cli_printable(path, pbuf, sizeof(pbuf)), no,
                tl_cli_printable(key, kbuf, sizeof(kbuf)));
        return -1;
    }
    tl_err rc = tl_server_config_set(c, st, value, &d);
    if (rc != TL_OK) {
        fprintf(stderr, "tailor serve: %s:%ld: %s: %s\n",
                tl_cli_printable(path, pbuf, sizeof(pbuf)), no, st->name,
                rc == TL_ENOMEM ? tl_strerror(rc) : d.msg);
        return -1;
    }
    return 0;
}

int tl_serve_config_file(tl_server_config *c, const char *path)
{
    char pbuf[256];
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "tailor serve: %s: %s\n", tl_cli_printable(path, pbuf, sizeof(pbuf)),
                strerror(errno));
        return TL_EXIT_USAGE;
    }
    char *line = NULL;
    size_t cap = 0;
    long no = 0;
    int code = TL_EXIT_OK;
    while (code == TL_EXIT_OK && getline(&line, &cap, f) >= 0)
        if (file_line(c, path, ++no, line) != 0)
            code = TL_EXIT_USAGE;
    if (code == TL_EXIT_OK && ferror(f)) {
        fprintf(stderr, "tailor serve: %s: %s\n", tl_cli_printable(path, pbuf, sizeof(pbuf)),
                strerror(errno));
        code = TL_EXIT_USAGE;
    }
    free(line);
    fclose(f);
    return code;
}

int tl_serve_config_env(tl_server_config *c)
{
    for (const tl_server_setting *s = tl_server_settings; s->name; s++) {
        char var[64];
        if (strcmp(s->name, "db") == 0 || strcmp(s->name, "pseudonym-key") == 0)
            continue; /* $TAILOR_DB, $TAILOR_PSEUDONYM_KEY_FILE: the global options' */
        tl_serve_env_name(s->name, var, sizeof(var));
        const char *v = getenv(var);
        if (!v || !*v)
            continue;
        tl_diag d;
        tl_diag_clear(&d);
        tl_err rc = tl_server_config_set(c, s, v, &d);
        if (rc != TL_OK) {
            fprintf(stderr, "tailor serve: $%s: %s\n", var,
                    rc == TL_ENOMEM ? tl_strerror(rc) : d.msg);
            return TL_EXIT_USAGE;
        }
    }
    return TL_EXIT_OK;
}
