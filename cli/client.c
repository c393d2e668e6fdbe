/* The library's client from the options: the server, proxy, TLS, timeouts,
 * headers and the library's log; and the check of a --media file. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Splits "NAME: VALUE" into name (copied into buf) and value. The argument is
 * never printed: it may hold a secret. */
static bool split_header(const char *arg, char *name, size_t size, const char **value) {
    const char *colon = strchr(arg, ':');
    if (colon == NULL) return false;
    size_t len = (size_t)(colon - arg);
    while (len > 0 && (arg[len - 1] == ' ' || arg[len - 1] == '\t')) len--;
    if (len == 0 || len >= size) return false;
    memcpy(name, arg, len);
    name[len] = '\0';
    for (*value = colon + 1; **value == ' ' || **value == '\t';) (*value)++;
    return true;
}

static int add_headers(backend_api_client *client, const struct options *o) {
    backend_api_error *err = NULL;
    const struct list *h = &o->many[O_HEADER];
    for (size_t i = 0; i < h->n; i++) {
        char name[128];
        const char *value = NULL;
        if (!split_header(h->items[i], name, sizeof name, &value)) {
            say("--header takes 'NAME: VALUE' (header %zu is not; not shown, as it may hold a secret)", i + 1);
            return EXIT_USAGE;
        }
        if (secret_header_name(name)) add_secret(value);
        if (backend_api_client_add_header(client, name, value, &err) != BACKEND_API_STATUS_OK) {
            say("--header %s: %s", name, backend_api_error_message(err));
            backend_api_error_free(err);
            return EXIT_USAGE;
        }
    }
    if (o->g4f_key != NULL && o->g4f_key[0] != '\0' &&
        backend_api_client_add_header(client, "g4f-api-key", o->g4f_key, &err) != BACKEND_API_STATUS_OK) {
        say("BACKEND_API_G4F_KEY: %s", backend_api_error_message(err));
        backend_api_error_free(err);
        return EXIT_USAGE;
    }
    return GO_ON;
}

static const char *const LEVELS[] = {"", "error", "warn", "info", "debug", "trace"};

/* Called on the streams' threads: one line under stderr's lock. */
static void on_log(void *data, backend_api_log_level level, const char *message) {
    (void)data;
    flockfile(stderr);
    fprintf(stderr, "backend-api: [%s] ", level >= 1 && level <= 5 ? LEVELS[level] : "log");
    put_masked(stderr, message);
    fputc('\n', stderr);
    funlockfile(stderr);
}

backend_api_status log_to_stderr(backend_api_client *client, uint32_t level, backend_api_error **err) {
    return backend_api_client_set_log(client, on_log, NULL, NULL, level, err);
}

/* The log level named by BACKEND_API_LOG: 0 when unset; -1 when unknown. */
static int log_level(void) {
    const char *name = getenv("BACKEND_API_LOG");
    if (name == NULL || name[0] == '\0') return 0;
    for (int level = 1; level <= 5; level++)
        if (strcasecmp(name, LEVELS[level]) == 0) return level;
    return -1;
}

/* Whether a setter succeeded; if not, says which option failed and frees the error.
 * `err` is read here, after the setter's call (an argument) has written it. */
static bool applied(backend_api_status st, backend_api_error **err, const char *what) {
    if (st == BACKEND_API_STATUS_OK) return true;
    say("%s: %s", what, backend_api_error_message(*err));
    backend_api_error_free(*err);
    *err = NULL;
    return false;
}

static int configure_client(backend_api_client *client, const struct options *o) {
    backend_api_error *err = NULL;
    char from[1200];
    const char *proxy = o->value[O_PROXY];
    if (proxy != NULL &&
        !applied(backend_api_client_set_proxy(client, strcmp(proxy, "none") == 0 ? NULL : proxy, &err), &err,
                 source_of(o, O_PROXY, from, sizeof from)))
        return EXIT_USAGE;
    if (o->value[O_CACERT] != NULL &&
        !applied(backend_api_client_set_ca_file(client, o->value[O_CACERT], &err), &err,
                 source_of(o, O_CACERT, from, sizeof from)))
        return EXIT_USAGE;
    if (o->given[O_INSECURE]) {
        if (!applied(backend_api_client_set_verify_tls(client, false, &err), &err, "--insecure")) return EXIT_USAGE;
        if (is_terminal(stderr))
            say("warning: --insecure: the server's certificate is not checked; anyone between you and it "
                "can read and change the conversation");
    }
    if (o->retries > 0 &&
        !applied(backend_api_client_set_retries(client, (uint32_t)o->retries, 1000, 30000, &err), &err, "--retries"))
        return EXIT_USAGE;
    static const enum opt timeouts[4] = {O_CONNECT_TIMEOUT, O_HEADERS_TIMEOUT, O_IDLE_TIMEOUT, O_TOTAL_TIMEOUT};
    for (int k = 0; k < 4; k++) {
        if (o->timeout_ms[k] >= 0 &&
            !applied(backend_api_client_set_timeout(client, (uint32_t)k, o->timeout_ms[k], &err), &err,
                     source_of(o, timeouts[k], from, sizeof from)))
            return EXIT_USAGE;
    }
    if (!applied(backend_api_client_set_protocol(client, o->protocol, &err), &err,
                 source_of(o, O_PROTOCOL, from, sizeof from)))
        return EXIT_USAGE;
    if (o->max_line > 0 &&
        !applied(backend_api_client_set_max_line(client, (size_t)o->max_line, &err), &err, "--max-line"))
        return EXIT_USAGE;
    int level = log_level();
    if (level < 0) {
        say("BACKEND_API_LOG takes error, warn, info, debug or trace, not \"%s\"", getenv("BACKEND_API_LOG"));
        return EXIT_USAGE;
    }
    if (level > 0 && !applied(log_to_stderr(client, (uint32_t)level, &err), &err, "BACKEND_API_LOG"))
        return EXIT_USAGE;
    return add_headers(client, o);
}

int make_client(const struct options *o, backend_api_client **out) {
    backend_api_error *err = NULL;
    add_secret(o->api_key);
    add_secret(o->g4f_key);
    if (backend_api_client_new(o->url, out, &err) != BACKEND_API_STATUS_OK) {
        char from[1200];
        say("%s: %s", o->url_defaulted ? "the default URL" : source_of(o, O_URL, from, sizeof from),
            backend_api_error_message(err));
        backend_api_error_free(err);
        return EXIT_USAGE;
    }
    return configure_client(*out, o);
}

