/* `tailor audit --html`: the audit report as one self-contained page (inline CSS and SVG, no
 * script, nothing fetched), with a plain-language paragraph per metric for librarians. */
#ifndef TL_CLI_AUDIT_HTML_H
#define TL_CLI_AUDIT_HTML_H

#include <stdint.h>
#include <stdio.h>

#include "eval/audit.h"

/* What the page says about where the lists came from. */
typedef struct tl_audit_meta {
    const char *model; /* the model file, as given */
    const char *kind;  /* its kind: "ials", ... */
    int64_t fallbacks; /* patrons without a usable history, who got the popular items */
} tl_audit_meta;

/* Writes s to f with &, <, >, " and ' as entities (the HTML reports share it). */
void tl_html_esc(FILE *f, const char *s);

/* Writes the page to f; write errors are left to the caller's checked stream. */
void tl_audit_html(FILE *f, const tl_audit_report *r, const tl_audit_meta *meta);

#endif
