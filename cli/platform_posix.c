/* The platform calls of cli/platform.h on POSIX systems (Linux, macOS, the BSDs).
 * Signals: the handler only sets a flag and writes a byte to a pipe that the loops
 * poll; the loop then cancels (cancel is not async-signal-safe). SIGPIPE keeps its
 * default: when the reader of standard output goes away, the program ends (141). */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void platform_init(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    /* The user's character set, for the line editor (multibyte and wide characters);
     * only LC_CTYPE: numbers and messages keep the C locale's form. */
    setlocale(LC_CTYPE, "");
}

bool is_terminal(FILE *f) { return isatty(fileno(f)) == 1; }

bool takes_escapes(FILE *f) { return is_terminal(f); }

bool stdin_piped(void) {
    struct stat st;
    return fstat(STDIN_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* ---------------------------------------------------------------- signals */

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

int wait_for(ptrdiff_t fd, int timeout_ms) {
    struct pollfd p[2] = {{signal_pipe[0], POLLIN, 0}, {(int)fd, POLLIN, 0}};
    if (poll(p, 2, timeout_ms) <= 0) return 0; /* EINTR: a signal */
    if (p[0].revents) {
        drain_signal_pipe();
        return 0;
    }
    return p[1].revents ? 1 : 0;
}

/* ---------------------------------------------------------------- folders and files */

bool app_folder(enum app_folder which, char *buf, size_t size) {
    const char *xdg = getenv(which == APP_CONFIG ? "XDG_CONFIG_HOME" : "XDG_STATE_HOME"), *home = getenv("HOME");
    int n = xdg != NULL && xdg[0] == '/' ? snprintf(buf, size, "%s/backend-api", xdg)
            : home != NULL && home[0] != '\0'
                ? snprintf(buf, size, "%s/%s/backend-api", home, which == APP_CONFIG ? ".config" : ".local/state")
                : -1;
    return n > 0 && (size_t)n < size;
}

bool make_private_dirs(char *path) {
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/') continue;
        *p = '\0';
        bool ok = mkdir(path, 0700) == 0 || errno == EEXIST;
        *p = '/';
        if (!ok) return false;
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST;
}

const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

bool is_folder(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *read_file(const char *path, size_t max, size_t *len, struct file_facts *facts) {
    memset(facts, 0, sizeof *facts);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    char *data = NULL;
    if (fd < 0 || fstat(fd, &st) != 0) {
    } else if (!S_ISREG(st.st_mode)) {
        facts->not_regular = S_ISFIFO(st.st_mode)   ? "a FIFO"
                             : S_ISDIR(st.st_mode)  ? "a directory"
                             : S_ISSOCK(st.st_mode) ? "a socket"
                                                    : "a device";
        errno = EINVAL;
    } else if ((facts->size = st.st_size, (unsigned long long)st.st_size > max)) {
        errno = EFBIG;
    } else if ((data = malloc((size_t)st.st_size + 1)) != NULL) {
        facts->others_read = (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
        size_t got = 0;
        for (ssize_t n = 1; got < (size_t)st.st_size && n > 0; got += n > 0 ? (size_t)n : 0)
            if ((n = read(fd, data + got, (size_t)st.st_size - got)) < 0 && errno == EINTR) n = 0;
        data[got] = '\0';
        *len = got;
    }
    int saved = errno;
    if (fd >= 0) close(fd);
    errno = saved;
    return data;
}

static bool write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

bool replace_file(const char *path, const char *data, size_t len) {
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write_all(fd, data, len) && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0) ok = false;
    if (ok && rename(tmp, path) == 0) return true;
    int saved = errno;
    unlink(tmp);
    errno = saved;
    return false;
}

bool remove_file(const char *path) { return unlink(path) == 0; }

bool list_files(const char *dir, void (*seen)(const char *name, long long mtime_ns, void *ctx), void *ctx) {
    DIR *d = opendir(dir);
    if (d == NULL) return false;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            seen(e->d_name, (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec, ctx);
    }
    closedir(d);
    return true;
}
