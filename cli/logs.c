/* `backend-api logs [-n N] [-q TEXT] [--json] [ID]`, `backend-api logs rm ID`: the
 * saved conversations, newest first (id, last change in local time, model, turns,
 * the first question), those holding TEXT, or one of them (any unique prefix of its
 * id); or one deleted. --json gives the files as they are (times in UTC). What the
 * server said is neutralised on a terminal, as everywhere. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char LOGS_HELP[] =
    "usage: backend-api logs [-n N] [-q TEXT] [--json]   the saved conversations, the latest first\n"
    "       backend-api logs [--json] ID                 one of them (any unique start of its id)\n"
    "       backend-api logs rm ID                       delete one\n"
    "  -n N      at most N (default 20)\n"
    "  -q TEXT   those with TEXT in a message (letters of any case)\n"
    "  --json    the saved JSON (times in UTC); else times are local\n";

/* "2026-12-06T10:53:15Z" (UTC, as saved) in local time, "2026-12-06 11:53"; the text
 * as it is when it is not that form. */
static void local_time(const char *utc, char *buf, size_t size) {
    int y, mo, d, h, mi, s;
    snprintf(buf, size, "%s", utc);
    if (sscanf(utc, "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi, &s) != 6 || mo < 1 || mo > 12) return;
    /* days from 1970-01-01 to the date (proleptic Gregorian), without timegm */
    int yy = y - (mo <= 2), era = (yy >= 0 ? yy : yy - 399) / 400, yoe = yy - era * 400;
    int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1, doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    time_t t = ((time_t)era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + s;
    struct tm tm;
    if (localtime_r(&t, &tm) != NULL) strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
}

/* The string at `pointer`, or `fallback`. Owned by the chunk. */
static const char *text_at(const backend_api_chunk *c, const char *pointer, const char *fallback) {
    const char *v = NULL;
    return backend_api_chunk_get_string(c, pointer, &v, NULL) == BACKEND_API_STATUS_OK ? v : fallback;
}

/* Prints a saved conversation: a header line, then each message. */
void print_saved(const backend_api_chunk *saved, FILE *f) {
    size_t n = 0;
    backend_api_chunk_get_count(saved, "/messages", &n);
    char when[40];
    local_time(text_at(saved, "/updated", ""), when, sizeof when);
    const char *head[] = {text_at(saved, "/id", "(unsaved)"), when,
                          text_at(saved, "/model", "the server's model"),
                          text_at(saved, "/provider", "the server's provider")};
    fputs("conversation ", f);
    for (int k = 0; k < 4; k++) {
        put_text(f, head[k], strlen(head[k]));
        fputs(k < 3 ? ", " : "\n", f);
    }
    const char *system = text_at(saved, "/system", NULL);
    if (system != NULL) {
        fputs("system: ", f);
        put_text(f, system, strlen(system));
        fputc('\n', f);
    }
    for (size_t i = 0; i < n; i++) {
        char role[48], content[48];
        snprintf(role, sizeof role, "/messages/%zu/role", i);
        snprintf(content, sizeof content, "/messages/%zu/content", i);
        const char *r = text_at(saved, role, "?"), *t = text_at(saved, content, "");
        char pointer[48];
        snprintf(pointer, sizeof pointer, "/reasoning/%zu", i / 2);
        const char *thought = i % 2 == 1 ? text_at(saved, pointer, "") : "";
        if (thought[0] != '\0') {
            fputs("reasoning: ", f);
            put_text(f, thought, strlen(thought));
            fputc('\n', f);
        }
        put_text(f, r, strlen(r));
        fputs(": ", f);
        put_text(f, t, strlen(t));
        fputc('\n', f);
    }
}

/* One line of the listing: id, time, model, turns, the first question (cut short). */
static void print_summary(const backend_api_chunk *saved, const char *id) {
    size_t n = 0;
    backend_api_chunk_get_count(saved, "/messages", &n);
    const char *first = text_at(saved, "/messages/0/content", "");
    char question[61];
    size_t len = 0;
    for (const char *s = first; *s != '\0' && len < 56; s++) {
        if ((*s & 0xc0) == 0x80 && len == 0) continue;
        question[len++] = *s == '\n' || *s == '\t' ? ' ' : *s;
    }
    while (len > 0 && (question[len - 1] & 0xc0) == 0x80) len--; /* no half character */
    if (len > 0 && (question[len - 1] & 0xc0) == 0xc0) len--;
    question[len] = '\0';
    char when[40];
    local_time(text_at(saved, "/updated", "?"), when, sizeof when);
    printf("%s  %s  %s  %zu turn%s  ", id, when, text_at(saved, "/model", "-"), n / 2,
           n / 2 == 1 ? "" : "s");
    put_text(stdout, question, len);
    fputs(strlen(first) > len ? "...\n" : "\n", stdout);
}

/* Whether `needle` is in `hay`, ASCII letters of any case. */
static bool contains(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay != '\0'; hay++) {
        size_t k = 0;
        while (k < n && hay[k] != '\0' &&
               (hay[k] == needle[k] || ((hay[k] | 0x20) == (needle[k] | 0x20) && (needle[k] | 0x20) >= 'a' &&
                                        (needle[k] | 0x20) <= 'z')))
            k++;
        if (k == n) return true;
    }
    return false;
}

/* Whether a message of the saved conversation (or its system message) holds `text`. */
static bool matches(const backend_api_chunk *saved, const char *text) {
    size_t n = 0;
    backend_api_chunk_get_count(saved, "/messages", &n);
    if (contains(text_at(saved, "/system", ""), text)) return true;
    for (size_t i = 0; i < n; i++) {
        char pointer[48];
        snprintf(pointer, sizeof pointer, "/messages/%zu/content", i);
        if (contains(text_at(saved, pointer, ""), text)) return true;
    }
    return false;
}

static int show_one(const char *prefix, bool json) {
    char id[ID_SIZE];
    int rc = store_resolve(prefix, id);
    if (rc != GO_ON) return rc;
    backend_api_chunk *saved = store_read(id);
    if (saved == NULL) return EXIT_USAGE;
    if (json) {
        size_t len = 0;
        const char *text = backend_api_chunk_json(saved, &len);
        put_json_text(stdout, text, len);
        fputc('\n', stdout);
    } else {
        print_saved(saved, stdout);
    }
    backend_api_chunk_free(saved);
    return EXIT_DONE;
}

/* The latest `max` conversations, or with `query` the latest `max` holding it. */
static int list(size_t max, bool json, const char *query) {
    enum { ALL = 100000 };
    size_t room = query != NULL ? ALL : max;
    char(*ids)[ID_SIZE] = calloc(room, ID_SIZE);
    if (ids == NULL) return EXIT_STREAM;
    size_t n = store_list(ids, room), shown = 0;
    if (json) fputc('[', stdout);
    for (size_t k = 0; k < n && shown < max; k++) {
        backend_api_chunk *saved = store_read(ids[k]);
        if (saved == NULL) continue;
        if (query == NULL || matches(saved, query)) {
            if (json) {
                size_t len = 0;
                const char *text = backend_api_chunk_json(saved, &len);
                if (shown > 0) fputc(',', stdout);
                put_json_text(stdout, text, len);
            } else {
                print_summary(saved, ids[k]);
            }
            shown++;
        }
        backend_api_chunk_free(saved);
    }
    if (json) fputs("]\n", stdout);
    if (shown == 0 && !json) fputs(query != NULL ? "no saved conversation holds that text\n" : "no saved conversations yet\n", stderr);
    free(ids);
    return EXIT_DONE;
}

/* `logs rm ID`: deletes one conversation (any unique prefix of its id). */
static int remove_one(int argc, char **argv) {
    char id[ID_SIZE];
    if (argc != 2) {
        say("logs rm takes one conversation id (see backend-api logs --help)");
        return EXIT_USAGE;
    }
    int rc = store_resolve(argv[1], id);
    if (rc != GO_ON) return rc;
    if (!store_remove(id)) return EXIT_STREAM;
    fprintf(stderr, "deleted conversation %s\n", id);
    return EXIT_DONE;
}

/* argv[0] is "logs". */
int logs_command(int argc, char **argv) {
    long max = 20;
    bool json = false;
    const char *id = NULL, *query = NULL;
    if (argc > 1 && strcmp(argv[1], "rm") == 0) return remove_one(argc - 1, argv + 1);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(LOGS_HELP, stdout);
            return EXIT_DONE;
        } else if (strcmp(argv[i], "-q") == 0 && i + 1 < argc) {
            query = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            char *end = NULL;
            max = strtol(argv[++i], &end, 10);
            if (*end != '\0' || max < 1 || max > 100000) {
                say("logs -n takes a number from 1 to 100000, not \"%s\"", argv[i]);
                return EXIT_USAGE;
            }
        } else if (argv[i][0] != '-' && id == NULL) {
            id = argv[i];
        } else {
            say("logs takes [-n N] [-q TEXT] [--json] [ID], or rm ID, not \"%s\" (see backend-api logs --help)",
                argv[i]);
            return EXIT_USAGE;
        }
    }
    return id != NULL ? show_one(id, json) : list((size_t)max, json, query);
}
