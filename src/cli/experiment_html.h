/* `tailor experiment report --html`: an experiment's report as one self-contained page (inline
 * CSS and SVG, no script, nothing fetched) that says in plain words what the numbers mean. */
#ifndef TL_CLI_EXPERIMENT_HTML_H
#define TL_CLI_EXPERIMENT_HTML_H

#include <jansson.h>
#include <stdio.h>

/* Writes the page for report (tl_service_experiment_report's JSON) to f. */
void tl_experiment_html(FILE *f, const json_t *report);

#endif
