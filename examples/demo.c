/* demo: a small command-line client for a g4f (gpt4free) backend server, written
 * against the C API in include/backend_api.h. `demo --help` says how to use it.
 * scripts/demo.sh builds it and, without --url, runs it against the bundled
 * offline test backend.
 *
 * Build: cc -Wall -Wextra -Werror -Iinclude examples/demo.c <libbackend_api> -o demo */
#define _POSIX_C_SOURCE 200809L

#include <backend_api.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    EXIT_DONE = 0,        /* the answer is complete */
    EXIT_STREAM = 1,      /* the stream failed */
    EXIT_USAGE = 2,       /* bad command line, --field, --media */
    EXIT_SERVER = 3,      /* an in-stream error or auth chunk */
    EXIT_INTERRUPT = 130, /* Ctrl-C */
};

static const char USAGE[] =
    "usage: demo [options] [message...]\n"
    "\n"
    "Streams one answer from a g4f (gpt4free) backend server and prints it as it arrives.\n"
    "\n"
    "options:\n"
    "  --url URL           the server, e.g. http://127.0.0.1:8080 (default: $BACKEND_API_URL)\n"
    "  --model M           the model (default: the server's choice)\n"
    "  --provider P        the provider (the body's \"provider\" field)\n"
    "  --system TEXT       a system message before yours\n"
    "  --media FILE        attach an image (jpeg, png, gif, webp) or audio file; repeatable\n"
    "  --field KEY=JSON    an extra body field as JSON; repeatable. Strings need quotes:\n"
    "                      --field web_search=true --field 'conversation_id=\"abc\"'\n"
    "  --raw               print every chunk's JSON, one per line, instead of the text\n"
    "  --timeout-idle MS   fail when no chunk arrives for MS milliseconds (0: never;\n"
    "                      default 300000)\n"
    "  --list-models       print the model listing (JSON; of --provider if given) and exit\n"
    "  --version           print the library version and exit\n"
    "  -h, --help          print this help and exit\n"
    "  --                  the rest is the message, even if it starts with '-'\n"
    "\n"
    "The message is the remaining arguments joined by spaces; \"-\" reads it from\n"
    "standard input; without one, \"Hello!\" is sent.\n"
    "\n"
    "environment:\n"
    "  BACKEND_API_KEY     the api key, sent as the body's \"api_key\" (never printed)\n"
    "  BACKEND_API_URL     the server, when --url is not given\n"
    "  BACKEND_API_LOG     error, warn, info, debug or trace: the library's log on stderr\n"
    "  ALL_PROXY, HTTPS_PROXY, HTTP_PROXY, NO_PROXY   a proxy to go through\n"
    "\n"
    "output: the answer on stdout as it arrives. Reasoning is shown dimmed when stdout\n"
    "is a terminal, else it goes to stderr prefixed \"[reasoning] \" (so stdout is the\n"
    "answer alone). Provider, notes, finish reason and usage go to stderr.\n"
    "\n"
    "exit status:\n"
    "  0    the answer is complete\n"
    "  1    the stream failed: connection, TLS, timeout, HTTP error, broken response\n"
    "  2    usage error: bad option, bad --field JSON, unreadable --media file\n"
    "  3    the server sent an in-stream error or auth chunk\n"
    "  130  interrupted (Ctrl-C)\n";

static volatile sig_atomic_t interrupted = 0;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

static void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("demo: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Prints a library error and frees it. */
static void say_error(const char *what, backend_api_error *err) {
    say("%s: %s (%s)", what, backend_api_error_message(err),
        backend_api_status_name(backend_api_error_status(err)));
    backend_api_error_free(err);
}

/* ---------------------------------------------------------------- tiny JSON look-ups
 * Only for display: finds "key": in a JSON object text and reads a string or a
 * number after it. Good enough for the provider, finish and usage objects. */

static const char *json_value(const char *json, const char *key) {
    size_t klen = strlen(key);
    for (const char *p = json; (p = strchr(p, '"')) != NULL; p++) {
        if (strncmp(p + 1, key, klen) != 0 || p[1 + klen] != '"') continue;
        const char *q = p + 2 + klen;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') q++;
        if (*q != ':') continue;
        q++;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') q++;
        return q;
    }
    return NULL;
}

/* Copies the string value of `key` into buf (escapes other than \" and \\ kept as they are). */
static bool json_string(const char *json, const char *key, char *buf, size_t size) {
    const char *v = json ? json_value(json, key) : NULL;
    if (v == NULL || *v != '"' || size == 0) return false;
    size_t n = 0;
    for (v++; *v && *v != '"' && n + 1 < size; v++) {
        if (*v == '\\' && (v[1] == '"' || v[1] == '\\')) v++;
        buf[n++] = *v;
    }
    buf[n] = '\0';
    return true;
}

static bool json_number(const char *json, const char *key, long *out) {
    const char *v = json ? json_value(json, key) : NULL;
    if (v == NULL) return false;
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (end == v || errno != 0) return false;
    *out = n;
    return true;
}

/* A top-level field of a chunk (its JSON text for objects), or NULL. Owned by the chunk. */
static const char *field(const backend_api_chunk *chunk, const char *key) {
    const char *value = NULL;
    return backend_api_chunk_field(chunk, key, &value, NULL) == BACKEND_API_STATUS_OK ? value : NULL;
}

/* ---------------------------------------------------------------- options */

struct options {
    const char *url, *model, *provider, *system;
    const char **media;
    size_t n_media;
    const char **fields;
    size_t n_fields;
    bool raw, list_models;
    long long idle_ms; /* -1: the library's default */
    char *message;     /* malloc'd */
};

/* Reads all of stdin into a malloc'd string, trailing newlines cut. */
static char *read_stdin(void) {
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL) return NULL;
    for (;;) {
        if (len + 1 >= cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (bigger == NULL) {
                free(buf);
                return NULL;
            }
            buf = bigger;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, stdin);
        len += n;
        if (n == 0) break;
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) len--;
    buf[len] = '\0';
    return buf;
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct options *o) {
    char **words = calloc((size_t)argc + 1, sizeof *words);
    o->media = calloc((size_t)argc + 1, sizeof *o->media);
    o->fields = calloc((size_t)argc + 1, sizeof *o->fields);
    if (words == NULL || o->media == NULL || o->fields == NULL) {
        free(words);
        say("out of memory");
        return EXIT_STREAM;
    }
    size_t n_words = 0;
    bool only_words = false;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (only_words || arg[0] != '-' || strcmp(arg, "-") == 0) {
            words[n_words++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_words = true;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(USAGE, stdout);
            free(words);
            return EXIT_DONE;
        }
        if (strcmp(arg, "--version") == 0) {
            printf("demo (backend_api %s)\n", backend_api_version());
            free(words);
            return EXIT_DONE;
        }
        if (strcmp(arg, "--raw") == 0) {
            o->raw = true;
            continue;
        }
        if (strcmp(arg, "--list-models") == 0) {
            o->list_models = true;
            continue;
        }
        /* Options with a value: --name VALUE or --name=VALUE. */
        static const char *const with_value[] = {"--url",   "--model", "--provider",    "--system",
                                                 "--media", "--field", "--timeout-idle"};
        const char *name = NULL, *value = NULL;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++) {
            size_t len = strlen(with_value[k]);
            if (strncmp(arg, with_value[k], len) != 0) continue;
            if (arg[len] == '=') {
                name = with_value[k];
                value = arg + len + 1;
            } else if (arg[len] == '\0') {
                name = with_value[k];
                if (i + 1 >= argc) {
                    say("%s needs a value (see --help)", name);
                    free(words);
                    return EXIT_USAGE;
                }
                value = argv[++i];
            }
            if (name != NULL) break;
        }
        if (name == NULL) {
            say("unknown option %s (see --help)", arg);
            free(words);
            return EXIT_USAGE;
        }
        if (strcmp(name, "--url") == 0) {
            o->url = value;
        } else if (strcmp(name, "--model") == 0) {
            o->model = value;
        } else if (strcmp(name, "--provider") == 0) {
            o->provider = value;
        } else if (strcmp(name, "--system") == 0) {
            o->system = value;
        } else if (strcmp(name, "--media") == 0) {
            o->media[o->n_media++] = value;
        } else if (strcmp(name, "--field") == 0) {
            const char *eq = strchr(value, '=');
            if (eq == NULL || eq == value) {
                say("--field takes KEY=JSON, not \"%s\"", value);
                free(words);
                return EXIT_USAGE;
            }
            o->fields[o->n_fields++] = value;
        } else { /* --timeout-idle */
            char *end = NULL;
            errno = 0;
            long long ms = strtoll(value, &end, 10);
            if (end == value || *end != '\0' || errno != 0 || ms < 0) {
                say("--timeout-idle takes milliseconds (0 or more), not \"%s\"", value);
                free(words);
                return EXIT_USAGE;
            }
            o->idle_ms = ms;
        }
    }
    if (o->url == NULL) o->url = getenv("BACKEND_API_URL");
    if (o->url == NULL || o->url[0] == '\0') {
        say("no server: give --url URL or set BACKEND_API_URL (scripts/demo.sh starts an offline backend)");
        free(words);
        return EXIT_USAGE;
    }
    if (n_words == 1 && strcmp(words[0], "-") == 0) {
        o->message = read_stdin();
    } else if (n_words == 0) {
        o->message = strdup("Hello!");
    } else {
        size_t len = 1;
        for (size_t k = 0; k < n_words; k++) len += strlen(words[k]) + 1;
        o->message = malloc(len);
        if (o->message != NULL) {
            o->message[0] = '\0';
            for (size_t k = 0; k < n_words; k++) {
                if (k > 0) strcat(o->message, " ");
                strcat(o->message, words[k]);
            }
        }
    }
    free(words);
    if (o->message == NULL) {
        say("could not read the message");
        return EXIT_STREAM;
    }
    return -1;
}

/* ---------------------------------------------------------------- the request */

/* Builds the request from the options; returns -1 or an exit status. */
static int build_request(const struct options *o, backend_api_request *req) {
    backend_api_error *err = NULL;
    if (o->model != NULL && backend_api_request_set_model(req, o->model, &err) != BACKEND_API_STATUS_OK) {
        say_error("--model", err);
        return EXIT_USAGE;
    }
    if (o->provider != NULL &&
        backend_api_request_set_field_string(req, "provider", o->provider, &err) != BACKEND_API_STATUS_OK) {
        say_error("--provider", err);
        return EXIT_USAGE;
    }
    if (o->system != NULL && backend_api_request_add_message(req, "system", o->system, &err) != BACKEND_API_STATUS_OK) {
        say_error("--system", err);
        return EXIT_USAGE;
    }
    if (backend_api_request_add_message(req, "user", o->message, &err) != BACKEND_API_STATUS_OK) {
        say_error("message", err);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < o->n_media; i++) {
        if (backend_api_request_add_media_file(req, o->media[i], &err) != BACKEND_API_STATUS_OK) {
            char what[512];
            snprintf(what, sizeof what, "--media %s", o->media[i]);
            say_error(what, err);
            return EXIT_USAGE;
        }
    }
    for (size_t i = 0; i < o->n_fields; i++) {
        const char *eq = strchr(o->fields[i], '=');
        size_t klen = (size_t)(eq - o->fields[i]);
        char *key = malloc(klen + 1);
        if (key == NULL) return EXIT_STREAM;
        memcpy(key, o->fields[i], klen);
        key[klen] = '\0';
        backend_api_status st = backend_api_request_set_field_json(req, key, eq + 1, &err);
        free(key);
        if (st != BACKEND_API_STATUS_OK) {
            say_error("--field", err);
            return EXIT_USAGE;
        }
    }
    const char *key = getenv("BACKEND_API_KEY");
    if (key != NULL && key[0] != '\0' &&
        backend_api_request_set_api_key(req, key, BACKEND_API_KEY_BODY, &err) != BACKEND_API_STATUS_OK) {
        say_error("BACKEND_API_KEY", err); /* the library's messages never contain the key */
        return EXIT_USAGE;
    }
    return -1;
}

/* ---------------------------------------------------------------- printing chunks */

struct printer {
    bool raw, tty;
    bool in_reasoning;    /* a run of reasoning is being printed */
    bool content_printed; /* some content went out ... */
    char last_content;    /* ... ending with this byte */
    int result;           /* EXIT_SERVER once an error/auth chunk came */
    char finish[64];
    char usage[160];
};

static void end_reasoning(struct printer *p) {
    if (!p->in_reasoning) return;
    p->in_reasoning = false;
    if (p->tty) {
        fputs("\033[0m\n", stdout);
        fflush(stdout);
    } else {
        fputc('\n', stderr);
    }
}

static void print_chunk(struct printer *p, const backend_api_chunk *chunk) {
    backend_api_kind kind = backend_api_chunk_kind(chunk);
    if (kind == BACKEND_API_KIND_ERROR || kind == BACKEND_API_KIND_AUTH) p->result = EXIT_SERVER;
    if (p->raw) {
        size_t len = 0;
        const char *json = backend_api_chunk_json(chunk, &len);
        fwrite(json, 1, len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        return;
    }
    size_t len = 0;
    const char *text = backend_api_chunk_text(chunk, &len);
    if (kind != BACKEND_API_KIND_REASONING && kind != BACKEND_API_KIND_LOG) end_reasoning(p);
    switch (kind) {
    case BACKEND_API_KIND_CONTENT:
        if (text == NULL || len == 0) break;
        fwrite(text, 1, len, stdout);
        fflush(stdout);
        p->content_printed = true;
        p->last_content = text[len - 1];
        break;
    case BACKEND_API_KIND_REASONING:
        if (text == NULL || len == 0) break; /* a status-only reasoning chunk */
        if (!p->in_reasoning) {
            p->in_reasoning = true;
            if (p->tty) {
                if (p->content_printed && p->last_content != '\n') fputc('\n', stdout);
                fputs("\033[2m", stdout);
            } else {
                fputs("[reasoning] ", stderr);
            }
        }
        fwrite(text, 1, len, p->tty ? stdout : stderr);
        fflush(p->tty ? stdout : stderr);
        break;
    case BACKEND_API_KIND_PROVIDER: {
        const char *prov = field(chunk, "provider");
        char name[128] = "", model[128] = "";
        if (prov != NULL && !json_string(prov, "label", name, sizeof name)) json_string(prov, "name", name, sizeof name);
        if (prov != NULL) json_string(prov, "model", model, sizeof model);
        if (name[0] != '\0') fprintf(stderr, "[provider: %s%s%s]\n", name, model[0] ? ", model " : "", model);
        break;
    }
    case BACKEND_API_KIND_ERROR:
    case BACKEND_API_KIND_AUTH:
        if (p->content_printed && p->last_content != '\n') {
            fputc('\n', stdout);
            fflush(stdout);
            p->last_content = '\n';
        }
        fprintf(stderr, "demo: the server sent %s: %s\n", kind == BACKEND_API_KIND_AUTH ? "an auth error" : "an error",
                text != NULL ? text : backend_api_chunk_json(chunk, NULL));
        break;
    case BACKEND_API_KIND_MESSAGE:
        fprintf(stderr, "[note: %s]\n", text != NULL ? text : "");
        break;
    case BACKEND_API_KIND_TITLE:
        fprintf(stderr, "[title: %s]\n", text != NULL ? text : "");
        break;
    case BACKEND_API_KIND_FINISH:
        if (!json_string(field(chunk, "finish"), "reason", p->finish, sizeof p->finish))
            snprintf(p->finish, sizeof p->finish, "(no reason given)");
        break;
    case BACKEND_API_KIND_USAGE: {
        const char *u = field(chunk, "usage");
        long prompt = 0, completion = 0, total = 0;
        if (json_number(u, "prompt_tokens", &prompt) && json_number(u, "completion_tokens", &completion)) {
            if (!json_number(u, "total_tokens", &total)) total = prompt + completion;
            snprintf(p->usage, sizeof p->usage, "%ld prompt + %ld completion = %ld tokens", prompt, completion, total);
        } else if (u != NULL) {
            snprintf(p->usage, sizeof p->usage, "%s", u);
        }
        break;
    }
    default: /* log, conversation, parameters, preview, ...: not for the terminal */
        break;
    }
}

/* ---------------------------------------------------------------- main */

static int list_models(const backend_api_client *client, const char *provider) {
    const char *json = NULL;
    size_t len = 0;
    backend_api_error *err = NULL;
    if (backend_api_models(client, provider, NULL, &json, &len, &err) != BACKEND_API_STATUS_OK) {
        say_error("listing models", err);
        return EXIT_STREAM;
    }
    fwrite(json, 1, len, stdout);
    fputc('\n', stdout);
    backend_api_string_free(json);
    return EXIT_DONE;
}

static int run(const struct options *o) {
    backend_api_client *client = NULL;
    backend_api_request *req = NULL;
    backend_api_stream *stream = NULL;
    backend_api_error *err = NULL;
    int rc = EXIT_STREAM;

    if (backend_api_client_new(o->url, &client, &err) != BACKEND_API_STATUS_OK) {
        say_error("--url", err);
        return EXIT_USAGE;
    }
    if (o->idle_ms >= 0 &&
        backend_api_client_set_timeout(client, BACKEND_API_TIMEOUT_IDLE, o->idle_ms, &err) != BACKEND_API_STATUS_OK) {
        say_error("--timeout-idle", err);
        rc = EXIT_USAGE;
        goto out;
    }
    if (o->list_models) {
        rc = list_models(client, o->provider);
        goto out;
    }
    req = backend_api_request_new();
    if (req == NULL) goto out;
    rc = build_request(o, req);
    if (rc >= 0) goto out;
    rc = EXIT_STREAM;
    if (backend_api_open(client, req, &stream, &err) != BACKEND_API_STATUS_OK) {
        say_error("cannot start the request", err);
        goto out;
    }

    struct printer p = {.raw = o->raw, .tty = isatty(STDOUT_FILENO) == 1, .result = EXIT_DONE};
    bool cancel_sent = false;
    for (;;) {
        if (interrupted && !cancel_sent) {
            backend_api_cancel(stream); /* next() then returns CANCELLED */
            cancel_sent = true;
        }
        backend_api_chunk *chunk = NULL;
        /* A short wait, so Ctrl-C is noticed; the idle timeout is the client's. */
        backend_api_status st = backend_api_next(stream, 200, &chunk, &err);
        if (st == BACKEND_API_STATUS_AGAIN) continue;
        if (st == BACKEND_API_STATUS_OK) {
            print_chunk(&p, chunk);
            backend_api_chunk_free(chunk);
            continue;
        }
        if (!p.raw) end_reasoning(&p);
        if (p.content_printed && p.last_content != '\n') fputc('\n', stdout);
        fflush(stdout);
        if (st == BACKEND_API_STATUS_END) {
            if (!p.raw) {
                if (p.finish[0]) fprintf(stderr, "[finish: %s]\n", p.finish);
                if (p.usage[0]) fprintf(stderr, "[usage: %s]\n", p.usage);
            }
            rc = p.result;
        } else if (st == BACKEND_API_STATUS_CANCELLED) {
            say("interrupted");
            rc = EXIT_INTERRUPT;
        } else {
            say_error("the stream failed", err);
            rc = EXIT_STREAM;
        }
        break;
    }

out:
    backend_api_close(stream);
    backend_api_request_free(req);
    backend_api_client_free(client);
    return rc;
}

int main(int argc, char **argv) {
    struct options o = {.idle_ms = -1};
    int rc = parse_args(argc, argv, &o);
    if (rc < 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigint; /* no SA_RESTART: nothing here needs it */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        rc = run(&o);
    }
    free(o.media);
    free(o.fields);
    free(o.message);
    return rc;
}
