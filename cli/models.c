/* --list-models: the server's listing. On a terminal, one model per line grouped by
 * provider; in a pipe one "provider<TAB>model" a line (the model alone when the
 * listing names no provider); with --json, the server's JSON as it came. A
 * provider's listing that is empty is an error naming it (g4f lists an unknown
 * provider as empty). The listing
 * blocks this thread in the library; a watcher thread waits for a signal meanwhile
 * and cancels it (the signal handler itself cannot). */
#include "cli.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void *cancel_on_signal(void *canceller) {
    while (!got_sigint && !got_term && !got_stop_watch) wait_for(-1, -1);
    if (!got_stop_watch) backend_api_canceller_cancel(canceller);
    return NULL;
}

/* How the listing is printed: for a person (grouped by provider) or for a program
 * (one "provider<TAB>model" a line). */
struct lister {
    bool grouped;
    const char *provider; /* the provider of a one-provider listing; NULL: none */
    size_t models;        /* printed so far */
};

/* A name from the server on one line: on a terminal neutralised; in a pipe its
 * control characters (a tab, a newline that would break the line format) as spaces. */
static void put_name(const char *text) {
    if (neutralise(stdout)) {
        put_text(stdout, text, strlen(text));
        return;
    }
    for (; *text != '\0'; text++) fputc((unsigned char)*text < 0x20 ? ' ' : *text, stdout);
}

static void put_model(struct lister *l, const char *provider, const char *model) {
    if (l->grouped) {
        fputs(provider != NULL && l->provider == NULL ? "  " : "", stdout);
    } else if (provider != NULL) {
        put_name(provider);
        fputc('\t', stdout);
    }
    put_name(model);
    fputc('\n', stdout);
    l->models++;
}

/* The name of element `i` of the list at `pointer`: a string, or the object's
 * "model", "id" or "name". */
static void print_model(struct lister *l, const backend_api_chunk *c, const char *list, size_t i,
                        const char *provider) {
    static const char *const keys[] = {"", "/model", "/id", "/name"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        char pointer[512];
        const char *name = NULL;
        snprintf(pointer, sizeof pointer, "%s/%zu%s", list, i, keys[k]);
        if (backend_api_chunk_get_string(c, pointer, &name, NULL) == BACKEND_API_STATUS_OK) {
            put_model(l, provider, name);
            return;
        }
    }
}

static void print_list(struct lister *l, const backend_api_chunk *c, const char *list, const char *provider) {
    size_t n = 0;
    backend_api_chunk_get_count(c, list, &n);
    for (size_t i = 0; i < n; i++) print_model(l, c, list, i, provider);
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

/* The listing as lines: {"Provider": [models]}, [models] (of l->provider) or
 * {"data": [models]} (OpenAI's). False when it is none of these. */
static bool print_lines(struct lister *l, const char *json, size_t len) {
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
        print_list(l, c, "/listing", l->provider);
    } else if (ok && t == BACKEND_API_JSON_TYPE_OBJECT &&
               backend_api_chunk_get_type(c, "/listing/data", &t) == BACKEND_API_STATUS_OK) {
        print_list(l, c, "/listing/data", NULL);
    } else if (ok && t == BACKEND_API_JSON_TYPE_OBJECT) {
        size_t n = 0;
        backend_api_chunk_get_count(c, "/listing", &n);
        for (size_t i = 0; i < n; i++) {
            const char *provider = NULL;
            char escaped[600], pointer[620];
            if (backend_api_chunk_get_key(c, "/listing", i, &provider, NULL) != BACKEND_API_STATUS_OK) continue;
            if (l->grouped) {
                put_name(provider);
                fputc('\n', stdout);
            }
            escape_key(provider, escaped, sizeof escaped);
            snprintf(pointer, sizeof pointer, "/listing/%s", escaped);
            print_list(l, c, pointer, provider);
        }
    } else {
        ok = false;
    }
    backend_api_chunk_free(c);
    return ok;
}

/* Fetches a listing (the models of `provider`, or with `providers` the providers)
 * while a watcher thread cancels it on a signal. GO_ON with *json owned by the
 * caller, or an exit status after saying why. */
static int fetch_listing(const struct options *o, const backend_api_client *client, bool providers,
                         const char **json, size_t *len) {
    const struct where w = {o, providers              ? (openai(o) ? "/providers" : "/backend-api/v2/providers")
                               : openai(o)             ? "/models"
                               : o->value[O_PROVIDER] ? "/backend-api/v2/models/<provider>"
                                                      : "/backend-api/v2/models"};
    backend_api_error *err = NULL;
    backend_api_canceller *canceller = backend_api_canceller_new();
    pthread_t watcher;
    if (canceller == NULL || pthread_create(&watcher, NULL, cancel_on_signal, canceller) != 0) {
        say("cannot start the listing: out of resources");
        backend_api_canceller_free(canceller);
        return EXIT_STREAM;
    }
    backend_api_status st = providers ? backend_api_providers(client, canceller, json, len, &err)
                                      : backend_api_models(client, o->value[O_PROVIDER], canceller, json, len, &err);
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
        report(providers ? "listing the providers" : "listing the models", err, &w);
        return EXIT_STREAM;
    }
    return GO_ON;
}

/* --list-providers: one name a line (with its label on a terminal); --json: the
 * server's JSON. A list of {name, label} (backend API) or {id, label} (OpenAI's). */
int list_providers(const struct options *o, const backend_api_client *client) {
    const char *json = NULL;
    size_t len = 0, n = 0;
    int rc = fetch_listing(o, client, true, &json, &len);
    if (rc != GO_ON) return rc;
    backend_api_chunk *c = NULL;
    struct buffer b = {0};
    buffer_adds(&b, "{\"listing\":");
    buffer_add(&b, json, len);
    buffer_adds(&b, "}");
    bool lines = !o->given[O_JSON] && !b.failed &&
                 backend_api_chunk_parse(b.data, b.len, &c, NULL) == BACKEND_API_STATUS_OK &&
                 backend_api_chunk_get_count(c, "/listing", &n) == BACKEND_API_STATUS_OK;
    for (size_t i = 0; lines && i < n; i++) {
        char name[64], id[64], label[64];
        const char *value = NULL, *shown = NULL;
        snprintf(name, sizeof name, "/listing/%zu/name", i);
        snprintf(id, sizeof id, "/listing/%zu/id", i);
        snprintf(label, sizeof label, "/listing/%zu/label", i);
        if (backend_api_chunk_get_string(c, name, &value, NULL) != BACKEND_API_STATUS_OK &&
            backend_api_chunk_get_string(c, id, &value, NULL) != BACKEND_API_STATUS_OK)
            continue;
        put_name(value);
        if (is_terminal(stdout) && backend_api_chunk_get_string(c, label, &shown, NULL) == BACKEND_API_STATUS_OK &&
            strcmp(shown, value) != 0) {
            fputs("  (", stdout);
            put_name(shown);
            fputc(')', stdout);
        }
        fputc('\n', stdout);
    }
    if (!lines) {
        put_json_text(stdout, json, len);
        fputc('\n', stdout);
    }
    buffer_free(&b);
    backend_api_chunk_free(c);
    backend_api_string_free(json);
    return EXIT_DONE;
}

int list_models(const struct options *o, const backend_api_client *client) {
    const char *json = NULL;
    size_t len = 0;
    int rc = fetch_listing(o, client, false, &json, &len);
    if (rc != GO_ON) return rc;
    struct lister l = {is_terminal(stdout), o->value[O_PROVIDER], 0};
    bool lines = !o->given[O_JSON] && print_lines(&l, json, len);
    if (!lines) {
        put_json_text(stdout, json, len);
        fputc('\n', stdout);
    }
    backend_api_string_free(json);
    if (lines && l.models == 0 && o->value[O_PROVIDER] != NULL) {
        say("the server lists no model of the provider \"%s\": it has no provider of that name, or that provider "
            "has no model; `backend-api --list-models` lists them all", o->value[O_PROVIDER]);
        return EXIT_STREAM;
    }
    return EXIT_DONE;
}
