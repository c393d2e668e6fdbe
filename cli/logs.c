/* `backend-api logs [-n N] [--json] [ID]`: the saved conversations, newest first
 * (id, last change, model, turns, the first question), or one of them. What the
 * server said is neutralised on a terminal, as everywhere. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The string at `pointer`, or `fallback`. Owned by the chunk. */
static const char *text_at(const backend_api_chunk *c, const char *pointer, const char *fallback) {
    const char *v = NULL;
    return backend_api_chunk_get_string(c, pointer, &v, NULL) == BACKEND_API_STATUS_OK ? v : fallback;
}

/* Prints a saved conversation: a header line, then each message. */
void print_saved(const backend_api_chunk *saved, FILE *f) {
    size_t n = 0;
    backend_api_chunk_get_count(saved, "/messages", &n);
    const char *head[] = {text_at(saved, "/id", "(unsaved)"), text_at(saved, "/updated", ""),
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
    printf("%s  %s  %s  %zu turn%s  ", id, text_at(saved, "/updated", "?"), text_at(saved, "/model", "-"), n / 2,
           n / 2 == 1 ? "" : "s");
    put_text(stdout, question, len);
    fputs(strlen(first) > len ? "...\n" : "\n", stdout);
}

static int show_one(const char *id, bool json) {
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

static int list(size_t max, bool json) {
    char(*ids)[ID_SIZE] = calloc(max ? max : 1, ID_SIZE);
    if (ids == NULL) return EXIT_STREAM;
    size_t n = store_list(ids, max);
    if (json) fputc('[', stdout);
    for (size_t k = 0; k < n; k++) {
        backend_api_chunk *saved = store_read(ids[k]);
        if (saved == NULL) continue;
        if (json) {
            size_t len = 0;
            const char *text = backend_api_chunk_json(saved, &len);
            if (k > 0) fputc(',', stdout);
            put_json_text(stdout, text, len);
        } else {
            print_summary(saved, ids[k]);
        }
        backend_api_chunk_free(saved);
    }
    if (json) fputs("]\n", stdout);
    if (n == 0 && !json) fputs("no saved conversations yet\n", stderr);
    free(ids);
    return EXIT_DONE;
}

/* argv[0] is "logs". */
int logs_command(int argc, char **argv) {
    long max = 20;
    bool json = false;
    const char *id = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
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
            say("logs takes [-n N] [--json] [ID], not \"%s\" (see --help)", argv[i]);
            return EXIT_USAGE;
        }
    }
    return id != NULL ? show_one(id, json) : list((size_t)max, json);
}
