/* The body of POST /v1/events as events: one object or an array of them, each
 * {"user", "item", "type", "value"?, "timestamp"?, "context"?: {"device", "channel", "branch",
 * "session"}}. No libmicrohttpd here, so that the fuzz target reaches it directly. */
#ifndef TL_SERVER_EVENTS_JSON_H
#define TL_SERVER_EVENTS_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "tailor/error.h"
#include "tailor/ingest.h"

/* Converts j into *out (malloc'd, *n events; strings point into j, which must outlive them).
 * A timestamp is whole Unix seconds or an ISO-8601 UTC text ("2026-12-05T10:00:00Z", an
 * offset "+01:00", fractions of a second ignored, a date alone = its midnight UTC).
 * Errors: TL_EINVAL with *bad the index of the first bad event (0 for a body that is no event
 * at all) and d's field naming it ("[3].user", "[0].context.device"); TL_ETOOBIG (more than
 * max events: *bad = max); TL_ENOMEM. *out is set on TL_OK only. */
tl_err tl__events_from_json(const json_t *j, size_t max, tl_event_rec **out, size_t *n, size_t *bad,
                            tl_diag *d);

/* Unix seconds of an ISO-8601 text as above; 0 on success, -1 when it is not one or is out of
 * TL_TIME_MIN..TL_TIME_MAX. */
int tl__iso8601_seconds(const char *s, int64_t *out);

#endif
