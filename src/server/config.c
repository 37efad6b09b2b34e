/* The server's settings: one table of {name, type, default, range, help} that the CLI turns
 * into flags, environment variables, config-file keys and --help (Redis's config table), and
 * the checked setter they all go through. */
#include "server/server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AT(member) offsetof(tl_server_config, member)

const tl_server_setting tl_server_settings[] = {
    {"model", TL_SETTING_STR, "FILE", NULL, 0, 0, AT(model), 0,
     "the model file to serve (tailor train --out); required"},
    {"models", TL_SETTING_STR, "LIST", NULL, 0, 0, AT(models), 0,
     "more models to serve, comma-separated, each FILE (named by its kind:\n"
     "ease) or NAME=FILE; a request picks one with model=NAME (the main\n"
     "model by default; model=popular: the popular items)"},
    {"segment-attribute", TL_SETTING_STR, "NAME", "department", 0, 0, AT(segment_attr), 0,
     "the patrons' attribute (of their records) whose groups get a homepage\n"
     "row, \"Popular in your department\"; 'none': no such row"},
    {"min-group", TL_SETTING_INT, "K", "5", 1, 1000, AT(min_group), 0,
     "the fewest patrons behind any count a group's row shows: an item\n"
     "held by fewer of the group is left out (k-anonymity)"},
    {"calendar", TL_SETTING_STR, "FILE", NULL, 0, 0, AT(calendar), 0,
     "the academic calendar: a TSV file of terms, exam weeks and breaks\n"
     "(name, kind, start, end; etc/calendar.tsv); during an exam week the\n"
     "homepage begins with \"For your exams\" (default: none)"},
    {"search-personal-weight", TL_SETTING_STR, "W", "0.3", 0, 0, AT(search_weight), 0,
     "catalogue search (GET /v1/search): the weight of a patron's profile\n"
     "against the text, 0 (text alone) to 1; a request's weight= wins"},
    {"search-cache", TL_SETTING_INT, "N", "1024", 0, 1000000, AT(search_cache), 0,
     "catalogue search: the answers of recent searches kept until the\n"
     "catalogue changes (0 = none)"},
    {"row-policy", TL_SETTING_STR, "fixed|bandit", "bandit", 0, 0, AT(row_policy), 0,
     "the homepage's row order: 'bandit' (a contextual bandit learning from\n"
     "clicks and loans, docs/IMPRESSIONS.md) or 'fixed' (the listed order)"},
    {"bandit-p-min", TL_SETTING_STR, "P", "0.02", 0, 0, AT(bandit_p_min), 0,
     "the bandits' least probability of any choice (exploration), 0 to 0.1"},
    {"attribution-window", TL_SETTING_INT, "DAYS", "14", 1, 365, AT(attribution_days), 0,
     "a loan without an impression_id is a reward of the patron's latest\n"
     "impression that showed the item within this many days"},
    {"impressions", TL_SETTING_STR, "on|off", "on", 0, 0, AT(impressions), 0,
     "log what responses showed, with each decision's probability, and join\n"
     "clicks and loans to it (needs a writable store; docs/IMPRESSIONS.md)"},
    {"db", TL_SETTING_STR, "PATH", NULL, 0, 0, AT(db), 0,
     "the store: live histories and POST /v1/events (default: the global\n"
     "--db or $TAILOR_DB, or ./tailor.db, when the file exists; without one\n"
     "the model alone answers, read-only)"},
    {"pseudonym-key", TL_SETTING_STR, "FILE", NULL, 0, 0, AT(pseudonym_key), 0,
     "the store's pseudonym key (tailor key pseudonym-new): patron ids are\n"
     "kept as hashes keyed with it (default: the global --pseudonym-key or\n"
     "$TAILOR_PSEUDONYM_KEY_FILE; none: ids as they are)"},
    {"bind", TL_SETTING_STR, "ADDR", "127.0.0.1", 0, 0, AT(bind), 0,
     "the address to listen on (IPv4 or IPv6; 0.0.0.0 = every interface)"},
    {"port", TL_SETTING_INT, "N", "8080", 0, 65535, AT(port), 0,
     "the TCP port; 0 picks a free one (the first line of stdout names it)"},
    {"threads", TL_SETTING_INT, "N", "4", 1, 256, AT(threads), 0, "worker threads"},
    {"max-body", TL_SETTING_INT, "BYTES", "1048576", 256, 268435456, AT(max_body), 1,
     "the largest request body (413 beyond)"},
    {"max-batch", TL_SETTING_INT, "N", "1000", 1, 100000, AT(max_batch), 0,
     "the most events in one POST /v1/events (413 beyond)"},
    {"max-json-depth", TL_SETTING_INT, "N", "16", 2, 1000, AT(max_depth), 0,
     "the deepest nesting of a JSON body (400 beyond)"},
    {"cors-origin", TL_SETTING_STR, "ORIGIN", NULL, 0, 0, AT(cors_origin), 0,
     "answer browsers from this origin ('*' = any) with CORS headers;\n"
     "none by default"},
    {"request-timeout", TL_SETTING_INT, "SECONDS", "30", 1, 3600, AT(request_timeout), 0,
     "close a connection idle this long (slow clients); also the longest\n"
     "wait for requests in flight at shutdown"},
    {"max-connections", TL_SETTING_INT, "N", "1024", 1, 65536, AT(max_connections), 0,
     "open connections at most; libmicrohttpd closes further ones at once"},
    {"rate-limit", TL_SETTING_INT, "N", "0", 0, 1000000, AT(rate_limit), 0,
     "requests a second for each API key (for each client address where\n"
     "no key is used); beyond, 429 with Retry-After (0 = no limit)"},
    {"rate-burst", TL_SETTING_INT, "N", "0", 0, 1000000, AT(rate_burst), 0,
     "requests a client may make at once before rate-limit holds it back\n"
     "(0 = rate-limit: one second's worth)"},
    {"retrain-events", TL_SETTING_INT, "N", "0", 0, 1000000000, AT(retrain_events), 0,
     "train again in the background after N new events (0 = never by\n"
     "itself; POST /v1/models/train always can)"},
    {"retrain-seconds", TL_SETTING_INT, "SECONDS", "0", 0, 100000000, AT(retrain_seconds), 0,
     "... and at least this often while events arrive (0 = no schedule)"},
    {"retention-hours", TL_SETTING_INT, "HOURS", "24", 0, 8760, AT(retention_hours), 0,
     "delete events past their patrons' retention windows (and opted-out\n"
     "patrons' events) this often, as tailor retention run (0 = never)"},
    {"unsubscribe-url", TL_SETTING_STR, "URL", NULL, 0, 0, AT(unsubscribe_url), 0,
     "GET /v1/unsubscribe as patrons reach it, for the links in digests\n"
     "(default: http://127.0.0.1:8080/v1/unsubscribe)"},
    {"digest-every", TL_SETTING_INT, "SECONDS", "0", 0, 31622400, AT(digest_every), 0,
     "send new-arrival digests this often, of the items added since the\n"
     "last one, as tailor digest (0 = never); needs digest-out or digest-smtp"},
    {"digest-out", TL_SETTING_STR, "DIR", NULL, 0, 0, AT(digest_out), 0,
     "the scheduled digests go into DIR, one PATRON.eml each"},
    {"digest-smtp", TL_SETTING_STR, "URL", NULL, 0, 0, AT(digest_smtp), 0,
     "... or to this SMTP server (smtp://HOST:PORT, smtps://HOST; login from\n"
     "$TAILOR_SMTP_USER and $TAILOR_SMTP_PASSWORD)"},
    {"digest-from", TL_SETTING_STR, "ADDR", NULL, 0, 0, AT(digest_from), 0,
     "the digests' From header (default: Tailor <tailor@localhost>)"},
    {"quiet", TL_SETTING_BOOL, NULL, NULL, 0, 1, AT(quiet), 0,
     "no per-request log line on stderr (benchmarks)"},
    {"read-only", TL_SETTING_BOOL, NULL, NULL, 0, 1, AT(read_only), 0,
     "open the store read-only: writes (events, items, users, keys) and\n"
     "training answer 503 read_only"},
    {"no-auth", TL_SETTING_BOOL, NULL, NULL, 0, 1, AT(no_auth), 0,
     "serve without authentication (no API keys asked for): anyone who can\n"
     "reach the port may read recommendations, write events and train;\n"
     "for local trials only (by default every route but GET /v1/health\n"
     "needs Authorization: Bearer KEY, see tailor key create)"},
    {.name = NULL},
};

/* '-' and '_' are the same in names, so that file keys may use either. */
static int same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a == '_' ? '-' : *a, y = *b == '_' ? '-' : *b;
        if (x != y)
            return 0;
    }
    return *a == *b;
}

const tl_server_setting *tl_server_setting_find(const char *name)
{
    for (const tl_server_setting *s = tl_server_settings; s->name; s++)
        if (same_name(s->name, name))
            return s;
    return NULL;
}

static int parse_bool(const char *t, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no",
                                                                                "off"};
    for (size_t k = 0; k < sizeof(yes) / sizeof(yes[0]); k++) {
        if (strcasecmp(t, yes[k]) == 0)
            return *out = 1, 0;
        if (strcasecmp(t, no[k]) == 0)
            return *out = 0, 0;
    }
    return -1;
}

tl_err tl_server_config_set(tl_server_config *c, const tl_server_setting *s, const char *text,
                            tl_diag *d)
{
    char *at = (char *)c + s->offset;
    if (s->type == TL_SETTING_BOOL) {
        int v;
        if (parse_bool(text, &v) != 0) {
            tl_diag_set(d, NULL, 0, s->name, "'%.100s' is not true or false", text);
            return TL_EINVAL;
        }
        *(int *)at = v;
        return TL_OK;
    }
    if (s->type == TL_SETTING_STR) {
        if (!*text) {
            tl_diag_set(d, NULL, 0, s->name, "needs a value, not an empty string");
            return TL_EINVAL;
        }
        char *v = strdup(text);
        if (!v)
            return TL_ENOMEM;
        free(*(char **)at);
        *(char **)at = v;
        return TL_OK;
    }
    const char *p = text + (*text == '-');
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*p || strspn(p, "0123456789") != strlen(p) || *end) {
        tl_diag_set(d, NULL, 0, s->name, "'%.100s' is not a whole number", text);
        return TL_EINVAL;
    }
    if (errno == ERANGE || v < s->min || v > s->max) {
        tl_diag_set(d, NULL, 0, s->name, "'%.100s' is out of range (%lld..%lld)", text, s->min,
                    s->max);
        return TL_EINVAL;
    }
    if (s->wide)
        *(long long *)at = v;
    else
        *(int *)at = (int)v;
    return TL_OK;
}

tl_err tl_server_config_init(tl_server_config *c)
{
    memset(c, 0, sizeof(*c));
    for (const tl_server_setting *s = tl_server_settings; s->name; s++) {
        tl_err rc = s->def ? tl_server_config_set(c, s, s->def, NULL) : TL_OK;
        if (rc != TL_OK) { /* no memory for "127.0.0.1" (a bad default is a test failure) */
            tl_server_config_release(c);
            return rc;
        }
    }
    return TL_OK;
}

void tl_server_config_release(tl_server_config *c)
{
    for (const tl_server_setting *s = tl_server_settings; s->name; s++)
        if (s->type == TL_SETTING_STR) {
            char **p = (char **)((char *)c + s->offset);
            free(*p);
            *p = NULL;
        }
}
