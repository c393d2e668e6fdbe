/* Signals: the handler only sets a flag and writes a byte to a pipe that the loops
 * poll; the loop then cancels (cancel is not async-signal-safe). SIGPIPE keeps its
 * default: when the reader of standard output goes away, the program ends (141). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* Lock-free atomics: safe in a signal handler, and read by the listing's watcher thread. */
atomic_int got_sigint = 0, got_term = 0, got_stop_watch = 0;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "signal handlers need lock-free atomics");
static int signal_pipe[2] = {-1, -1};

/* Also called with 0, to wake the loop without a signal. */
void on_signal(int sig) {
    int saved = errno;
    if (sig == SIGINT) got_sigint = 1;
    if (sig == SIGTERM || sig == SIGHUP) got_term = 1;
    char byte = 0;
    if (signal_pipe[1] >= 0 && write(signal_pipe[1], &byte, 1) < 0) { /* full: a byte is there already */
    }
    errno = saved;
}

static bool set_cloexec_nonblock(int fd) {
    return fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0;
}

bool catch_signals(void) {
    if (pipe(signal_pipe) != 0 || !set_cloexec_nonblock(signal_pipe[0]) || !set_cloexec_nonblock(signal_pipe[1]))
        return false;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR, which is fine */
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGINT, &sa, NULL) == 0 && sigaction(SIGTERM, &sa, NULL) == 0 &&
           sigaction(SIGHUP, &sa, NULL) == 0;
}

static void drain_signal_pipe(void) {
    char buf[64];
    while (read(signal_pipe[0], buf, sizeof buf) > 0) {
    }
}

/* Waits up to timeout_ms (negative: for ever) for `fd` to be readable or a signal.
 * Returns 1 when fd is readable, 0 on a signal or when the time is up. */
int wait_for(int fd, int timeout_ms) {
    struct pollfd p[2] = {{signal_pipe[0], POLLIN, 0}, {fd, POLLIN, 0}};
    if (poll(p, 2, timeout_ms) <= 0) return 0; /* EINTR: a signal */
    if (p[0].revents) {
        drain_signal_pipe();
        return 0;
    }
    return p[1].revents ? 1 : 0;
}
