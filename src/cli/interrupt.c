/* SIGINT as a request to stop (cli/interrupt.h). */
#include "cli/interrupt.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    static const char msg[] = "\ntailor: interrupted; stopping (Ctrl-C again to quit at once)\n";
    (void)sig;
    interrupted = 1;
    signal(SIGINT, SIG_DFL); /* the second Ctrl-C ends the program */
    ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)n;
}

void tl_interrupt_catch(void)
{
    struct sigaction sa;
    if (sigaction(SIGINT, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
        return; /* started with Ctrl-C ignored (nohup, a background job): keep it so */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESTART; /* reads in progress go on; the work checks the flag */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

void tl_interrupt_release(void)
{
    struct sigaction sa;
    if (sigaction(SIGINT, NULL, &sa) == 0 && sa.sa_handler == on_sigint)
        signal(SIGINT, SIG_DFL);
}

int tl_interrupted(void *ctx)
{
    (void)ctx;
    return interrupted != 0;
}
