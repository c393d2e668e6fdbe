/* --list-models: the server's listing. On a terminal, one model per line grouped by
 * provider; in a pipe or with --json, the server's JSON as it came. The listing
 * blocks this thread in the library; a watcher thread waits for a signal meanwhile
 * and cancels it (the signal handler itself cannot). */
#include "cli.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *cancel_on_signal(void *canceller) {
    while (!got_sigint && !got_term && !got_stop_watch) wait_for(-1, -1);
    if (!got_stop_watch) backend_api_canceller_cancel(canceller);
    return NULL;
}

static void put_line(const char *indent, const char *text) {
    fputs(indent, stdout);
    put_text(stdout, text, strlen(text));
    fputc('\n', stdout);
}

/* The name of element `i` of the list at `pointer`: a string, or the object's
 * "model", "id" or "name". */
static void print_model(const backend_api_chunk *c, const char *list, size_t i, const char *indent) {
    static const char *const keys[] = {"", "/model", "/id", "/name"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        char pointer[512];
        const char *name = NULL;
        snprintf(pointer, sizeof pointer, "%s/%zu%s", list, i, keys[k]);
        if (backend_api_chunk_get_string(c, pointer, &name, NULL) == BACKEND_API_STATUS_OK) {
            put_line(indent, name);
            return;
        }
    }
}

static void print_list(const backend_api_chunk *c, const char *list, const char *indent) {
    size_t n = 0;
    backend_api_chunk_get_count(c, list, &n);
    for (size_t i = 0; i < n; i++) print_model(c, list, i, indent);
}

/* `key` escaped for a JSON Pointer: ~ as ~0, / as ~1. */
static void escape_key(const char *key, char *buf, size_t size) {
    size_t n = 0;
    for (; *key != '\0' && n + 3 < size; key++) {
        if (*key == '~' || *key == '/') {
            buf[n++] = '~';
            buf[n++] = *key == '~' ? '0' : '1';
        } else {
            buf[n++] = *key;
        }
    }
    buf[n] = '\0';
}

/* The listing for a person: {"Provider": [models]}, [models] or {"data": [models]}. */
static bool print_readable(const char *json, size_t len) {
    struct buffer b = {0};
    buffer_adds(&b, "{\"listing\":");
    buffer_add(&b, json, len);
    buffer_adds(&b, "}");
    backend_api_chunk *c = NULL;
    backend_api_json_type t;
    bool ok = !b.failed && backend_api_chunk_parse(b.data, b.len, &c, NULL) == BACKEND_API_STATUS_OK &&
              backend_api_chunk_get_type(c, "/listing", &t) == BACKEND_API_STATUS_OK;
    buffer_free(&b);
    if (ok && t == BACKEND_API_JSON_TYPE_ARRAY) {
        print_list(c, "/listing", "");
    } else if (ok && t == BACKEND_API_JSON_TYPE_OBJECT &&
               backend_api_chunk_get_type(c, "/listing/data", &t) == BACKEND_API_STATUS_OK) {
        print_list(c, "/listing/data", "");
    } else if (ok && t == BACKEND_API_JSON_TYPE_OBJECT) {
        size_t n = 0;
        backend_api_chunk_get_count(c, "/listing", &n);
        for (size_t i = 0; i < n; i++) {
            const char *provider = NULL;
            char escaped[600], pointer[620];
            if (backend_api_chunk_get_key(c, "/listing", i, &provider, NULL) != BACKEND_API_STATUS_OK) continue;
            put_line("", provider);
            escape_key(provider, escaped, sizeof escaped);
            snprintf(pointer, sizeof pointer, "/listing/%s", escaped);
            print_list(c, pointer, "  ");
        }
    } else {
        ok = false;
    }
    backend_api_chunk_free(c);
    return ok;
}

int list_models(const struct options *o, const backend_api_client *client) {
    const struct where w = {o, openai(o)               ? "/models"
                               : o->value[O_PROVIDER] ? "/backend-api/v2/models/<provider>"
                                                      : "/backend-api/v2/models"};
    const char *json = NULL;
    size_t len = 0;
    backend_api_error *err = NULL;
    backend_api_canceller *canceller = backend_api_canceller_new();
    pthread_t watcher;
    if (canceller == NULL || pthread_create(&watcher, NULL, cancel_on_signal, canceller) != 0) {
        say("cannot start the listing: out of resources");
        backend_api_canceller_free(canceller);
        return EXIT_STREAM;
    }
    backend_api_status st = backend_api_models(client, o->value[O_PROVIDER], canceller, &json, &len, &err);
    got_stop_watch = 1;
    on_signal(0); /* wakes the watcher */
    pthread_join(watcher, NULL);
    backend_api_canceller_free(canceller);
    if (st == BACKEND_API_STATUS_CANCELLED) {
        say(got_term ? "terminated" : "cancelled");
        backend_api_error_free(err);
        return got_term ? EXIT_TERMINATED : EXIT_INTERRUPT;
    }
    if (st != BACKEND_API_STATUS_OK) {
        report("listing the models", err, &w);
        return EXIT_STREAM;
    }
    bool readable = !o->given[O_JSON] && isatty(STDOUT_FILENO) == 1 && print_readable(json, len);
    if (!readable) {
        put_json_text(stdout, json, len);
        fputc('\n', stdout);
    }
    backend_api_string_free(json);
    return EXIT_DONE;
}
