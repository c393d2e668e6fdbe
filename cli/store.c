/* Conversations on disk: one JSON file per conversation,
 * $XDG_STATE_HOME/backend-api/conversations/ID.json (else ~/.local/state/...), the
 * folder 0700 and the files 0600. Each save writes a new file beside the old one
 * and renames it over it (atomic on POSIX), so a reader, a crash or a second
 * instance never sees half a file; two instances on one conversation: the last
 * save wins whole. The file is read back with the library's JSON look-ups
 * (backend_api_chunk_parse). Chosen over SQLite: nothing to link or load, a file
 * a user can read, copy or delete, and one writer per conversation is the case
 * that matters (see README, "Command-line client"). */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { FILE_MAX = 256 << 20 }; /* a saved conversation bigger than this is not ours */

/* mkdir -p with mode 0700 for what it makes. */
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

/* The conversations' folder, made when missing. False (after saying why) when it cannot be. */
bool store_dir(char *buf, size_t size) {
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    int n = xdg != NULL && xdg[0] == '/' ? snprintf(buf, size, "%s/backend-api/conversations", xdg)
            : home != NULL && home[0] != '\0' ? snprintf(buf, size, "%s/.local/state/backend-api/conversations", home)
                                              : -1;
    if (n < 0 || (size_t)n >= size) {
        say("cannot save the conversation: neither XDG_STATE_HOME nor HOME is set (--no-log saves nothing)");
        return false;
    }
    if (!make_private_dirs(buf)) {
        say("cannot save the conversation in %s: %s (--no-log saves nothing)", buf, strerror(errno));
        return false;
    }
    return true;
}

/* An id as this program makes them: digits, letters and '-', nothing that walks a path. */
bool valid_id(const char *id) {
    size_t n = strspn(id, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-");
    return n > 0 && n < ID_SIZE && id[n] == '\0';
}

/* A new id: the time, then 8 hex digits from the clock's nanoseconds and the pid. */
void new_id(char *id) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char when[16];
    strftime(when, sizeof when, "%Y%m%d-%H%M%S", &tm);
    snprintf(id, ID_SIZE, "%s-%08lx", when,
             ((unsigned long)now.tv_nsec ^ ((unsigned long)getpid() << 16)) & 0xffffffffUL);
}

static bool file_path(const char *id, char *buf, size_t size) {
    char dir[1024];
    if (!store_dir(dir, sizeof dir)) return false;
    int n = snprintf(buf, size, "%s/%s.json", dir, id);
    return n > 0 && (size_t)n < size;
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

/* Saves `json` as conversation `id`: a private temporary file, then renamed over. */
bool store_write(const char *id, const char *json, size_t len) {
    char path[1100], tmp[1200];
    if (!file_path(id, path, sizeof path)) return false;
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write_all(fd, json, len) && write_all(fd, "\n", 1) && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0) ok = false;
    if (ok && rename(tmp, path) == 0) return true;
    say("cannot save the conversation in %s: %s", path, strerror(errno));
    unlink(tmp);
    return false;
}

/* Reads conversation `id` back as a chunk (the library's JSON look-ups); NULL
 * after saying why. */
backend_api_chunk *store_read(const char *id) {
    char path[1100];
    if (!valid_id(id)) {
        say("no conversation \"%s\": `backend-api logs` lists them", id);
        return NULL;
    }
    if (!file_path(id, path, sizeof path)) return NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    char *text = NULL;
    ssize_t n = -1;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < FILE_MAX &&
        (text = malloc((size_t)st.st_size + 1)) != NULL)
        n = read(fd, text, (size_t)st.st_size);
    if (fd >= 0) close(fd);
    if (n < 0) {
        if (fd < 0 && errno == ENOENT)
            say("no conversation \"%s\": `backend-api logs` lists them", id);
        else
            say("cannot read the conversation %s", path);
        free(text);
        return NULL;
    }
    backend_api_chunk *chunk = NULL;
    backend_api_error *err = NULL;
    if (backend_api_chunk_parse(text, (size_t)n, &chunk, &err) != BACKEND_API_STATUS_OK) {
        say("%s is not a saved conversation: %s", path, backend_api_error_message(err));
        backend_api_error_free(err);
    }
    free(text);
    return chunk;
}

struct entry {
    char id[ID_SIZE];
    struct timespec mtime;
};

/* Newest first; equal times by id, the later first. */
static int newest_first(const void *a, const void *b) {
    const struct entry *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec) return x->mtime.tv_sec < y->mtime.tv_sec ? 1 : -1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec) return x->mtime.tv_nsec < y->mtime.tv_nsec ? 1 : -1;
    return -strcmp(x->id, y->id);
}

/* The ids of the saved conversations, newest first, up to `max`. Returns how many. */
size_t store_list(char (*ids)[ID_SIZE], size_t max) {
    char dir[1024];
    if (!store_dir(dir, sizeof dir)) return 0;
    DIR *d = opendir(dir);
    struct entry *all = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        struct stat st;
        char id[ID_SIZE];
        if (len < 6 || len - 5 >= ID_SIZE || strcmp(e->d_name + len - 5, ".json") != 0) continue;
        snprintf(id, sizeof id, "%.*s", (int)(len - 5), e->d_name);
        if (!valid_id(id) || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            struct entry *bigger = realloc(all, (cap = cap ? cap * 2 : 64) * sizeof *all);
            if (bigger == NULL) break;
            all = bigger;
        }
        memcpy(all[n].id, id, sizeof id);
        all[n++].mtime = st.st_mtim;
    }
    if (d != NULL) closedir(d);
    if (n > 0) qsort(all, n, sizeof *all, newest_first);
    size_t k = 0;
    for (; k < n && k < max; k++) memcpy(ids[k], all[k].id, ID_SIZE);
    free(all);
    return k;
}

/* The conversation whose id starts with `prefix` (any unique prefix, the whole id
 * included) into id. Returns GO_ON, or EXIT_USAGE after saying that none matches
 * or listing the candidates. */
int store_resolve(const char *prefix, char *id) {
    enum { MAX = 100000, SHOWN = 10 };
    if (!valid_id(prefix)) {
        say("no conversation \"%s\": `backend-api logs` lists them", prefix);
        return EXIT_USAGE;
    }
    char(*ids)[ID_SIZE] = calloc(MAX, ID_SIZE);
    if (ids == NULL) return EXIT_STREAM;
    size_t n = store_list(ids, MAX), found = 0, at = 0, len = strlen(prefix);
    for (size_t k = 0; k < n; k++) {
        if (strcmp(ids[k], prefix) == 0) { /* a whole id, even if others start with it */
            found = 1;
            at = k;
            break;
        }
        if (strncmp(ids[k], prefix, len) == 0 && found++ == 0) at = k;
    }
    if (found == 1) memcpy(id, ids[at], ID_SIZE);
    if (found == 0) say("no conversation \"%s\": `backend-api logs` lists them", prefix);
    if (found > 1) {
        say("\"%s\" is the start of %zu conversations' ids; give more of one:", prefix, found);
        for (size_t k = 0, shown = 0; k < n && shown < SHOWN; k++)
            if (strncmp(ids[k], prefix, len) == 0) fprintf(stderr, "  %s\n", ids[k]), shown++;
        if (found > SHOWN) fprintf(stderr, "  ... and %zu more\n", found - SHOWN);
    }
    free(ids);
    return found == 1 ? GO_ON : EXIT_USAGE;
}

/* Deletes conversation `id`; false after saying why. */
bool store_remove(const char *id) {
    char path[1100];
    if (!file_path(id, path, sizeof path)) return false;
    if (unlink(path) == 0) return true;
    say("cannot delete %s: %s", path, strerror(errno));
    return false;
}

/* The latest conversation's id into id; false when there is none. */
bool store_latest(char *id) {
    char ids[1][ID_SIZE];
    if (store_list(ids, 1) == 0) return false;
    memcpy(id, ids[0], ID_SIZE);
    return true;
}
