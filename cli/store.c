/* Conversations on disk: one JSON file per conversation,
 * $XDG_STATE_HOME/backend-api/conversations/ID.json (else ~/.local/state/...; on
 * Windows %APPDATA%\backend-api\conversations), the folder 0700 and the files 0600.
 * Each save writes a new file beside the old one and renames it over it
 * (platform.h's replace_file), so a reader, a crash or a second
 * instance never sees half a file; two instances on one conversation: the last
 * save wins whole. The file is read back with the library's JSON look-ups
 * (backend_api_chunk_parse). Chosen over SQLite: nothing to link or load, a file
 * a user can read, copy or delete, and one writer per conversation is the case
 * that matters (see README, "Command-line client"). */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { FILE_MAX = 256 << 20 }; /* a saved conversation bigger than this is not ours */

/* The conversations' folder, made when missing. False (after saying why) when it cannot be. */
bool store_dir(char *buf, size_t size) {
    char folder[1000];
    if (!app_folder(APP_STATE, folder, sizeof folder)) {
        say("cannot save the conversation: no home folder is known (--no-log saves nothing)");
        return false;
    }
    int n = snprintf(buf, size, "%s/conversations", folder);
    if (n < 0 || (size_t)n >= size) return false;
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

/* Saves `json` (and a newline) as conversation `id`, whole or not at all. */
bool store_write(const char *id, const char *json, size_t len) {
    char path[1100];
    if (!file_path(id, path, sizeof path)) return false;
    struct buffer b = {0};
    buffer_add(&b, json, len);
    buffer_adds(&b, "\n");
    bool ok = !b.failed && replace_file(path, b.data, b.len);
    if (!ok) say("cannot save the conversation in %s: %s", path, b.failed ? "out of memory" : strerror(errno));
    buffer_free(&b);
    return ok;
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
    struct file_facts facts;
    size_t n = 0;
    char *text = read_file(path, FILE_MAX, &n, &facts);
    if (text == NULL) {
        if (errno == ENOENT)
            say("no conversation \"%s\": `backend-api logs` lists them", id);
        else
            say("cannot read the conversation %s", path);
        return NULL;
    }
    backend_api_chunk *chunk = NULL;
    backend_api_error *err = NULL;
    if (backend_api_chunk_parse(text, n, &chunk, &err) != BACKEND_API_STATUS_OK) {
        say("%s is not a saved conversation: %s", path, backend_api_error_message(err));
        backend_api_error_free(err);
    }
    free(text);
    return chunk;
}

struct entry {
    char id[ID_SIZE];
    long long mtime_ns;
};

struct entries {
    struct entry *all;
    size_t n, cap;
};

/* Newest first; equal times by id, the later first. */
static int newest_first(const void *a, const void *b) {
    const struct entry *x = a, *y = b;
    if (x->mtime_ns != y->mtime_ns) return x->mtime_ns < y->mtime_ns ? 1 : -1;
    return -strcmp(x->id, y->id);
}

/* A file of the folder: kept when its name is ID.json. */
static void saved_file(const char *name, long long mtime_ns, void *ctx) {
    struct entries *e = ctx;
    size_t len = strlen(name);
    char id[ID_SIZE];
    if (len < 6 || len - 5 >= ID_SIZE || strcmp(name + len - 5, ".json") != 0) return;
    snprintf(id, sizeof id, "%.*s", (int)(len - 5), name);
    if (!valid_id(id)) return;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        struct entry *bigger = realloc(e->all, cap * sizeof *bigger);
        if (bigger == NULL) return;
        e->all = bigger;
        e->cap = cap;
    }
    memcpy(e->all[e->n].id, id, sizeof id);
    e->all[e->n++].mtime_ns = mtime_ns;
}

/* The ids of the saved conversations, newest first, up to `max`. Returns how many. */
size_t store_list(char (*ids)[ID_SIZE], size_t max) {
    char dir[1024];
    if (!store_dir(dir, sizeof dir)) return 0;
    struct entries e = {0};
    list_files(dir, saved_file, &e);
    if (e.n > 0) qsort(e.all, e.n, sizeof *e.all, newest_first);
    size_t k = 0;
    for (; k < e.n && k < max; k++) memcpy(ids[k], e.all[k].id, ID_SIZE);
    free(e.all);
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
    if (remove_file(path)) return true;
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
