/* Ctrl-C during a long fit: the first one asks the work to stop at its next check (the command
 * then exits 130 without writing anything), a second one ends the program at once. */
#ifndef TL_CLI_INTERRUPT_H
#define TL_CLI_INTERRUPT_H

/* Installs the SIGINT handler, unless SIGINT is ignored (then it stays ignored). */
void tl_interrupt_catch(void);
/* Restores the default SIGINT action if tl_interrupt_catch installed the handler. */
void tl_interrupt_release(void);
/* Nonzero once Ctrl-C was pressed; the shape of tl_fit_hooks.cancelled (ctx unused). */
int tl_interrupted(void *ctx);

#endif
