/* What differs between POSIX systems and Windows, behind one set of calls: the
 * program's start (arguments, locale, console), terminals, signals and waiting,
 * files and folders. cli/platform_posix.c and cli/platform_windows.c hold the two
 * implementations (cli/cflags.sh picks one); the line reader is lineedit.c (libedit
 * or the terminal's line mode) on POSIX and lineedit_windows.c (the console's) on
 * Windows. Paths and text are UTF-8 on both. Every other file of the client is
 * written against this header and the C library alone. */
#ifndef BACKEND_API_CLI_PLATFORM_H
#define BACKEND_API_CLI_PLATFORM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef _WIN32
/* stdio's own lock, which MinGW's C library names differently. */
#define flockfile _lock_file
#define funlockfile _unlock_file
/* say()'s format checked as C99's printf (MinGW's, see cli.h), not the system's. */
#define PRINTF_FORMAT(fmt, args) __attribute__((format(gnu_printf, fmt, args)))
#else
#define PRINTF_FORMAT(fmt, args) __attribute__((format(printf, fmt, args)))
#endif

/* Called first in main: the locale for the line editor (POSIX); on Windows the
 * arguments as UTF-8 (from the wide command line), standard streams in binary mode
 * (a pipe gets the bytes as they are) and a console set to UTF-8 output with escape
 * sequences on. *argv may be replaced; it stays valid until the program ends. */
void platform_init(int *argc, char ***argv);

/* Whether `f` (stdin, stdout or stderr) is a terminal (a console on Windows). */
bool is_terminal(FILE *f);

/* Whether colour and other escape sequences work on `f`: a terminal that takes them. */
bool takes_escapes(FILE *f);

/* Whether standard input is a pipe or a file (not a terminal, not closed or the null
 * device): what is piped goes with the words. */
bool stdin_piped(void);

/* Ctrl-C (SIGINT; CTRL_C_EVENT) and termination (SIGTERM, SIGHUP; Ctrl-Break, the
 * console closed) set these; got_stop_watch ends the listing's watcher thread.
 * Lock-free atomics: set in a signal handler or the console's handler thread. */
extern atomic_int got_sigint, got_term, got_stop_watch;
bool catch_signals(void);
/* Wakes a wait_for (sig 0: without a signal). */
void on_signal(int sig);
/* Waits up to timeout_ms (negative: for ever) for `fd` (a descriptor; a SOCKET on
 * Windows; negative: none) to be readable or a signal. Returns 1 when fd is
 * readable, 0 on a signal or when the time is up (and sometimes early: callers
 * loop). */
int wait_for(ptrdiff_t fd, int timeout_ms);

/* The program's own folder for configuration or for state, into buf (not made):
 * POSIX: $XDG_CONFIG_HOME/backend-api (~/.config/backend-api) and $XDG_STATE_HOME/backend-api
 * (~/.local/state/backend-api); Windows: %APPDATA%\backend-api for both. False when
 * no home is known. */
enum app_folder { APP_CONFIG, APP_STATE };
bool app_folder(enum app_folder which, char *buf, size_t size);

/* mkdir -p, private to the user (0700 on POSIX) for what it makes. */
bool make_private_dirs(char *path);
bool is_folder(const char *path);
/* The file name of a path: after its last '/' (on Windows also '\\'). */
const char *base_name(const char *path);

/* What read_file found besides the content. */
struct file_facts {
    const char *not_regular; /* errno EINVAL: "a directory", "a FIFO", "a socket", "a device" */
    long long size;          /* the file's size (also when EFBIG) */
    bool others_read;        /* others than the user may read it (POSIX permissions) */
};
/* A regular file's content, malloc'd and NUL-terminated, its length in *len; NULL
 * with errno set (EINVAL: not a regular file; EFBIG: more than max bytes). */
char *read_file(const char *path, size_t max, size_t *len, struct file_facts *facts);
/* Replaces the file at `path` with `data`, whole or not at all: a temporary file
 * beside it (private to the user), flushed to disk, renamed over it. False with
 * errno set. */
bool replace_file(const char *path, const char *data, size_t len);
bool remove_file(const char *path);
/* Calls seen() for each regular file in folder `dir` (not following links) with its
 * name and last change (nanoseconds since 1970). False when the folder cannot be read. */
bool list_files(const char *dir, void (*seen)(const char *name, long long mtime_ns, void *ctx), void *ctx);

#endif
