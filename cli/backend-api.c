/* backend-api: the command-line client of the backend-api library. It streams an
 * answer from a g4f (gpt4free) server, or holds a conversation on a terminal.
 * Written against the public C API in include/backend_api.h only: it is also the
 * project's largest example program. `backend-api --help` and cli/backend-api.1 say
 * how to use it; cli/build.sh builds it.
 *
 * Line editing in the conversation: libedit, loaded at run time when the system has
 * it (see "reading a line"); else the terminal's own line editing. */
#define _POSIX_C_SOURCE 200809L

#include <backend_api.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>


enum {
    EXIT_DONE = 0,         /* the answer is complete; or the conversation was left */
    EXIT_STREAM = 1,       /* the request or the stream failed */
    EXIT_USAGE = 2,        /* bad command line, environment, --field, --media, --header */
    EXIT_SERVER = 3,       /* the server sent an in-stream error or auth chunk */
    EXIT_INTERRUPT = 130,  /* Ctrl-C (SIGINT) */
    EXIT_TERMINATED = 143, /* SIGTERM or SIGHUP */
    GO_ON = -1,            /* not an exit status: carry on */
};

/* --help, in parts (C compilers need not take string literals over 4095 bytes). */
static const char *const USAGE[] = {
    "usage: backend-api [options] [message...]\n"
    "\n"
    "Streams the answer of a g4f (gpt4free) server to a message, as it arrives. The\n"
    "message is the arguments joined by spaces; a \"-\" among them stands for standard\n"
    "input. With no message, standard input is the message when it is not a terminal;\n"
    "on a terminal, backend-api holds a conversation (see below).\n"
    "\n"
    "request:\n"
    "  -u, --url URL            the server's base URL: http://HOST:1337 for `g4f api`,\n"
    "                           http://HOST:8080 for `g4f gui` ($BACKEND_API_URL)\n"
    "      --protocol NAME      backend (the default: g4f's backend API) or openai (the\n"
    "                           OpenAI-compatible API of `g4f api` and its peers, at a\n"
    "                           base URL such as http://HOST:1337/v1)\n"
    "                           ($BACKEND_API_PROTOCOL)\n"
    "  -m, --model NAME         the model (default: the server's choice) ($BACKEND_API_MODEL)\n"
    "  -p, --provider NAME      the provider (default: the server's choice)\n"
    "                           ($BACKEND_API_PROVIDER)\n"
    "  -s, --system TEXT        a system message before the conversation\n"
    "      --media FILE         attach an image (jpeg, png, gif, webp) or an audio file;\n"
    "                           repeatable\n"
    "      --field KEY=JSON     an extra body field, as JSON; repeatable. Strings need\n"
    "                           quotes: --field web_search=true --field 'conversation_id=\"c1\"'\n"
    "  -H, --header 'NAME: VALUE'  a header sent with every request; repeatable\n"
    "      --key-in WHERE       where $BACKEND_API_KEY goes: body (the default), bearer\n"
    "                           (Authorization: Bearer) or both ($BACKEND_API_KEY_IN)\n"
    "\n",
    "connection:\n"
    "      --proxy URL          an http://, socks4://, socks5:// or socks5h:// proxy, or\n"
    "                           \"none\" ($BACKEND_API_PROXY; default: $ALL_PROXY,\n"
    "                           $HTTPS_PROXY, $HTTP_PROXY, minding $NO_PROXY)\n"
    "      --cacert FILE        trust only the certificates in this PEM file\n"
    "                           ($BACKEND_API_CACERT)\n"
    "  -k, --insecure           do not verify the server's TLS certificate\n"
    "      --retries N          retry a request that failed before any answer (no\n"
    "                           connection, HTTP 429, 502, 503, 504) up to N times\n"
    "                           (default 0) ($BACKEND_API_RETRIES)\n"
    "      --connect-timeout T  to connect, TLS included (default 30s)\n"
    "      --headers-timeout T  from the request to the response headers (default 120s)\n"
    "      --idle-timeout T     between two chunks of the answer (default 300s)\n"
    "      --total-timeout T    for the whole answer (default: none)\n"
    "                           T: seconds, or a number with ms, s or m; 0 turns it off\n"
    "      --max-line SIZE      the longest line or event accepted, in bytes, or with k\n"
    "                           or M (default 16M)\n"
    "\n",
    "output:\n"
    "      --raw                print every chunk's JSON as it arrives, one per line\n"
    "      --json               print one JSON object when the answer ends: the\n"
    "                           assembled answer (see below)\n"
    "  -q, --quiet              no notes on standard error (provider, finish, usage) and\n"
    "                           no spinner\n"
    "\n"
    "other:\n"
    "      --list-models        print the server's model listing as JSON (of --provider\n"
    "                           when given; not with --protocol openai) and exit\n"
    "  -V, --version            print the version and exit\n"
    "  -h, --help               print this help and exit\n"
    "      --                   the rest is the message, even words starting with '-'\n"
    "\n",
    "conversation: with no message and a terminal on standard input, each line you type\n"
    "is sent with the conversation so far, and the answer is kept for the next one.\n"
    "Ctrl-C cancels the answer in flight (the question is then not kept) or clears the\n"
    "line; Ctrl-D, /quit or /exit leaves; /reset starts a new conversation; /help\n"
    "lists the commands; //text sends \"/text\". Line editing and history: libedit when\n"
    "the system has it (not with TERM unset or dumb), else the terminal's own.\n"
    "\n"
    "output in detail: the answer goes to standard output as it arrives. Reasoning is\n"
    "shown dimmed when standard output is a terminal, else it goes to standard error\n"
    "prefixed \"[reasoning] \". Provider, notes, finish reason and usage go to standard\n"
    "error. While the answer has not started, a spinner turns on standard error when it\n"
    "is a terminal. --json prints the assembled answer: {\"type\":\"answer\", \"content\",\n"
    "\"reasoning\", \"finish_reason\", \"usage\", \"title\", \"tool_calls\", \"conversation\",\n"
    "\"provider\", \"model\", \"error\" (an in-stream error), \"status\" (END, CANCELLED or the\n"
    "failure's status name), \"failure\" (its message, or null), \"http_status\" (or null)}.\n"
    "\n",
    "environment:\n"
    "  BACKEND_API_URL, BACKEND_API_PROTOCOL, BACKEND_API_MODEL, BACKEND_API_PROVIDER,\n"
    "  BACKEND_API_KEY_IN, BACKEND_API_PROXY, BACKEND_API_CACERT, BACKEND_API_RETRIES\n"
    "                           as the options above; an option wins over its variable\n"
    "  BACKEND_API_KEY          the provider's api key, sent as --key-in says\n"
    "  BACKEND_API_G4F_KEY      the key of a server started with `g4f api --g4f-api-key`,\n"
    "                           sent as the g4f-api-key header\n"
    "  BACKEND_API_LOG          error, warn, info, debug or trace: the library's log on\n"
    "                           standard error\n"
    "  ALL_PROXY, HTTPS_PROXY, HTTP_PROXY, NO_PROXY   the proxy, unless --proxy is given\n"
    "Keys and the values of secret-looking headers never appear in any output.\n"
    "\n"
    "exit status:\n"
    "  0    the answer is complete (a conversation: it was left with Ctrl-D or /quit)\n"
    "  1    the request or the stream failed: connection, TLS, timeout, HTTP error,\n"
    "       broken response\n"
    "  2    usage error: a bad option or environment variable, bad --field JSON,\n"
    "       a bad --header or --media, an empty message\n"
    "  3    the server sent an in-stream error or auth chunk\n"
    "  130  interrupted by Ctrl-C (SIGINT) before the answer was complete\n"
    "  143  ended by SIGTERM or SIGHUP\n",
    NULL};

/* ---------------------------------------------------------------- calls of the 0.2 ABI
 * The calls whose form changed from the library's 0.1 to 0.2, each used from here only. */

/* "Nothing yet, call again" from backend_api_next(stream, 0, ...). */
#define NOTHING_YET BACKEND_API_STATUS_AGAIN

static backend_api_status fetch_models(const backend_api_client *client, const char *provider,
                                       const backend_api_canceller *canceller, const char **json, size_t *len,
                                       backend_api_error **err) {
    return backend_api_models(client, provider, canceller, json, len, err);
}

static void free_models(const char *json) { backend_api_string_free(json); }

/* Cancels the answer in flight. Called by the loop that also closes the stream, so
 * the stream's own cancel is the right call (a canceller serves other threads). */
static void cancel_answer(backend_api_stream *stream) { backend_api_cancel(stream); }

static backend_api_status install_log(backend_api_client *client, backend_api_log_callback callback, void *data,
                                      uint32_t level, backend_api_error **err) {
    return backend_api_client_set_log(client, callback, data, NULL, level, err);
}

/* ---------------------------------------------------------------- messages */

static void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("backend-api: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---------------------------------------------------------------- signals
 * The handler only sets a flag and writes a byte to a pipe that the loops poll;
 * the loop then cancels (cancel is not async-signal-safe). */

/* Lock-free atomics: safe in a signal handler, and read by the listing's watcher thread. */
static atomic_int got_sigint = 0, got_term = 0, got_stop_watch = 0;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "signal handlers need lock-free atomics");
static int signal_pipe[2] = {-1, -1};

/* Also called with 0, to wake the loop without a signal. */
static void on_signal(int sig) {
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

static bool catch_signals(void) {
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

/* Waits up to timeout_ms (negative: for ever) for `fd` to be readable or a signal.
 * Returns 1 when fd is readable, 0 on a signal or when the time is up. */
static int wait_for(int fd, int timeout_ms) {
    struct pollfd p[2] = {{signal_pipe[0], POLLIN, 0}, {fd, POLLIN, 0}};
    if (poll(p, 2, timeout_ms) <= 0) return 0; /* EINTR: a signal */
    if (p[0].revents) {
        drain_signal_pipe();
        return 0;
    }
    return p[1].revents ? 1 : 0;
}

/* ---------------------------------------------------------------- options */

enum opt {
    O_URL, O_PROTOCOL, O_MODEL, O_PROVIDER, O_SYSTEM, O_MEDIA, O_FIELD, O_HEADER, O_KEY_IN,
    O_PROXY, O_CACERT, O_INSECURE, O_RETRIES, O_CONNECT_TIMEOUT, O_HEADERS_TIMEOUT,
    O_IDLE_TIMEOUT, O_TOTAL_TIMEOUT, O_MAX_LINE, O_RAW, O_JSON, O_QUIET, O_LIST_MODELS,
    O_VERSION, O_HELP, O_COUNT
};

static const struct optspec {
    const char *name; /* long name, without "--" */
    char short_name;  /* 0: none */
    bool takes_value;
    bool repeatable;
    const char *env; /* the environment variable used when the option is not given */
} OPTS[O_COUNT] = {
    [O_URL] = {"url", 'u', true, false, "BACKEND_API_URL"},
    [O_PROTOCOL] = {"protocol", 0, true, false, "BACKEND_API_PROTOCOL"},
    [O_MODEL] = {"model", 'm', true, false, "BACKEND_API_MODEL"},
    [O_PROVIDER] = {"provider", 'p', true, false, "BACKEND_API_PROVIDER"},
    [O_SYSTEM] = {"system", 's', true, false, NULL},
    [O_MEDIA] = {"media", 0, true, true, NULL},
    [O_FIELD] = {"field", 0, true, true, NULL},
    [O_HEADER] = {"header", 'H', true, true, NULL},
    [O_KEY_IN] = {"key-in", 0, true, false, "BACKEND_API_KEY_IN"},
    [O_PROXY] = {"proxy", 0, true, false, "BACKEND_API_PROXY"},
    [O_CACERT] = {"cacert", 0, true, false, "BACKEND_API_CACERT"},
    [O_INSECURE] = {"insecure", 'k', false, false, NULL},
    [O_RETRIES] = {"retries", 0, true, false, "BACKEND_API_RETRIES"},
    [O_CONNECT_TIMEOUT] = {"connect-timeout", 0, true, false, NULL},
    [O_HEADERS_TIMEOUT] = {"headers-timeout", 0, true, false, NULL},
    [O_IDLE_TIMEOUT] = {"idle-timeout", 0, true, false, NULL},
    [O_TOTAL_TIMEOUT] = {"total-timeout", 0, true, false, NULL},
    [O_MAX_LINE] = {"max-line", 0, true, false, NULL},
    [O_RAW] = {"raw", 0, false, false, NULL},
    [O_JSON] = {"json", 0, false, false, NULL},
    [O_QUIET] = {"quiet", 'q', false, false, NULL},
    [O_LIST_MODELS] = {"list-models", 0, false, false, NULL},
    [O_VERSION] = {"version", 'V', false, false, NULL},
    [O_HELP] = {"help", 'h', false, false, NULL},
};

/* The four timeouts, in the order of backend_api_timeout. */
static const enum opt TIMEOUT_OPTS[4] = {O_CONNECT_TIMEOUT, O_HEADERS_TIMEOUT, O_IDLE_TIMEOUT, O_TOTAL_TIMEOUT};

struct list {
    const char **items;
    size_t n;
};

struct options {
    const char *value[O_COUNT]; /* the last value given, else the environment's; NULL: neither */
    bool given[O_COUNT];        /* flags, and options given on the command line */
    struct list many[O_COUNT];  /* repeatable options */
    struct list words;          /* the message's words */
    /* derived from the values */
    long long timeout_ms[4]; /* -1: the library's default */
    long long max_line;      /* 0: the library's default */
    long long retries;
    uint32_t key_in;
    uint32_t protocol; /* a backend_api_protocol */
    const char *api_key, *g4f_key;
    const char *url; /* never printed as it is: it may hold user:password */
    char *message;   /* one-shot mode; malloc'd */
};

static bool list_init(struct list *l, int cap) {
    l->items = calloc((size_t)cap + 1, sizeof *l->items);
    l->n = 0;
    return l->items != NULL;
}

static void options_free(struct options *o) {
    for (int i = 0; i < O_COUNT; i++) free(o->many[i].items);
    free(o->words.items);
    free(o->message);
}

/* Finds the option `arg` names: "--name", "--name=value", "-x", "-xVALUE".
 * Sets *inline_value when the value is part of arg. Returns O_COUNT when none. */
static enum opt find_option(const char *arg, const char **inline_value) {
    *inline_value = NULL;
    for (int i = 0; i < O_COUNT; i++) {
        const struct optspec *s = &OPTS[i];
        if (arg[1] == '-') {
            size_t len = strlen(s->name);
            if (strncmp(arg + 2, s->name, len) != 0) continue;
            if (arg[2 + len] == '\0') return (enum opt)i;
            if (arg[2 + len] == '=' && s->takes_value) {
                *inline_value = arg + 3 + len;
                return (enum opt)i;
            }
        } else if (s->short_name != 0 && arg[1] == s->short_name) {
            if (arg[2] == '\0') return (enum opt)i;
            if (s->takes_value) {
                *inline_value = arg + 2;
                return (enum opt)i;
            }
        }
    }
    return O_COUNT;
}

static void option_set(struct options *o, enum opt id, const char *value) {
    o->given[id] = true;
    if (OPTS[id].repeatable)
        o->many[id].items[o->many[id].n++] = value;
    else
        o->value[id] = value;
}

/* Reads the command line into o. Returns GO_ON or an exit status. */
static int parse_command_line(int argc, char **argv, struct options *o) {
    for (int i = 0; i < O_COUNT; i++)
        if (OPTS[i].repeatable && !list_init(&o->many[i], argc)) return EXIT_STREAM;
    if (!list_init(&o->words, argc)) return EXIT_STREAM;
    bool only_words = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (only_words || arg[0] != '-' || strcmp(arg, "-") == 0) {
            o->words.items[o->words.n++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_words = true;
            continue;
        }
        const char *value = NULL;
        enum opt id = find_option(arg, &value);
        if (id == O_COUNT) {
            say("unknown option %s (see --help)", arg);
            return EXIT_USAGE;
        }
        if (OPTS[id].takes_value && value == NULL) {
            if (i + 1 >= argc) {
                say("--%s needs a value (see --help)", OPTS[id].name);
                return EXIT_USAGE;
            }
            value = argv[++i];
        }
        option_set(o, id, value);
    }
    for (int i = 0; i < O_COUNT; i++) {
        const char *env = OPTS[i].env ? getenv(OPTS[i].env) : NULL;
        if (o->value[i] == NULL && env != NULL && env[0] != '\0') o->value[i] = env;
    }
    return GO_ON;
}

/* Says which option or variable a bad value came from. */
static const char *source_of(const struct options *o, enum opt id, char *buf, size_t size) {
    if (o->given[id] || OPTS[id].env == NULL)
        snprintf(buf, size, "--%s", OPTS[id].name);
    else
        snprintf(buf, size, "$%s", OPTS[id].env);
    return buf;
}

/* A number with an optional unit from `units` (suffix, factor; NULL-terminated);
 * a number without one is multiplied by `plain`. Returns false when malformed. */
struct unit {
    const char *suffix;
    double factor;
};

static bool parse_amount(const char *text, const struct unit *units, double plain, long long *out) {
    char *end = NULL;
    errno = 0;
    double n = strtod(text, &end);
    if (end == text || errno != 0 || n < 0 || n != n) return false;
    double factor = *end == '\0' ? plain : 0;
    for (const struct unit *u = units; factor == 0 && u->suffix != NULL; u++)
        if (strcmp(end, u->suffix) == 0) factor = u->factor;
    if (factor == 0 || n * factor > 9.0e15) return false;
    *out = (long long)(n * factor + 0.5);
    return true;
}

static const struct unit TIME_UNITS[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {NULL, 0}};
static const struct unit SIZE_UNITS[] = {{"k", 1024}, {"K", 1024}, {"M", 1048576}, {NULL, 0}};

/* Turns the option values into settings. Returns GO_ON or EXIT_USAGE. */
static int derive_settings(struct options *o) {
    char from[64];
    for (int k = 0; k < 4; k++) {
        enum opt id = TIMEOUT_OPTS[k];
        o->timeout_ms[k] = -1;
        if (o->value[id] != NULL && !parse_amount(o->value[id], TIME_UNITS, 1000, &o->timeout_ms[k])) {
            say("%s takes seconds, or a number with ms, s or m (0 turns it off), not \"%s\"",
                source_of(o, id, from, sizeof from), o->value[id]);
            return EXIT_USAGE;
        }
    }
    if (o->value[O_MAX_LINE] != NULL &&
        (!parse_amount(o->value[O_MAX_LINE], SIZE_UNITS, 1, &o->max_line) || o->max_line < 1)) {
        say("--max-line takes a size in bytes (at least 1), or with k or M, not \"%s\"", o->value[O_MAX_LINE]);
        return EXIT_USAGE;
    }
    if (o->value[O_RETRIES] != NULL) {
        static const struct unit none[] = {{NULL, 0}};
        if (!parse_amount(o->value[O_RETRIES], none, 1, &o->retries) || o->retries > 100 ||
            strchr(o->value[O_RETRIES], '.') != NULL) {
            say("%s takes a whole number from 0 to 100, not \"%s\"", source_of(o, O_RETRIES, from, sizeof from),
                o->value[O_RETRIES]);
            return EXIT_USAGE;
        }
    }
    const char *where = o->value[O_KEY_IN] ? o->value[O_KEY_IN] : "body";
    o->key_in = strcmp(where, "body") == 0     ? BACKEND_API_KEY_BODY
                : strcmp(where, "bearer") == 0 ? BACKEND_API_KEY_BEARER
                : strcmp(where, "both") == 0   ? (BACKEND_API_KEY_BODY | BACKEND_API_KEY_BEARER)
                                               : 0;
    if (o->key_in == 0) {
        say("%s takes body, bearer or both, not \"%s\"", source_of(o, O_KEY_IN, from, sizeof from), where);
        return EXIT_USAGE;
    }
    const char *protocol = o->value[O_PROTOCOL] ? o->value[O_PROTOCOL] : "backend";
    if (strcmp(protocol, "backend") == 0) {
        o->protocol = BACKEND_API_PROTOCOL_BACKEND;
    } else if (strcmp(protocol, "openai") == 0) {
        o->protocol = BACKEND_API_PROTOCOL_OPENAI;
    } else {
        say("%s takes backend or openai, not \"%s\"", source_of(o, O_PROTOCOL, from, sizeof from), protocol);
        return EXIT_USAGE;
    }
    if (o->protocol == BACKEND_API_PROTOCOL_OPENAI && o->given[O_LIST_MODELS] && o->value[O_PROVIDER] != NULL) {
        say("--list-models of one provider (%s) needs --protocol backend: the OpenAI protocol lists all models",
            source_of(o, O_PROVIDER, from, sizeof from));
        return EXIT_USAGE;
    }
    if (o->given[O_RAW] && o->given[O_JSON]) {
        say("--raw and --json do not go together");
        return EXIT_USAGE;
    }
    o->api_key = getenv("BACKEND_API_KEY");
    o->g4f_key = getenv("BACKEND_API_G4F_KEY");
    o->url = o->value[O_URL];
    if (o->url == NULL) {
        say("no server: give --url URL or set BACKEND_API_URL (`g4f api` listens on "
            "http://127.0.0.1:1337, `g4f gui` on http://127.0.0.1:8080)");
        return EXIT_USAGE;
    }
    return GO_ON;
}

/* ---------------------------------------------------------------- the message */

/* Reads all of standard input into a malloc'd string, trailing newlines cut. */
static char *read_all_stdin(void) {
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (len + 1 >= cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (bigger == NULL) break;
            buf = bigger;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, stdin);
        len += n;
        if (n == 0) {
            while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) len--;
            buf[len] = '\0';
            return buf;
        }
    }
    free(buf);
    return NULL;
}

/* Joins the words with spaces; the word "-" stands for standard input, which is
 * also the message when there are no words. Returns GO_ON or an exit status. */
static int make_message(struct options *o) {
    const char *only_stdin[] = {"-"};
    struct list words = o->words.n ? o->words : (struct list){only_stdin, 1};
    char *input = NULL;
    size_t len = 1;
    for (size_t k = 0; k < words.n; k++) {
        if (strcmp(words.items[k], "-") == 0) {
            if (input != NULL) {
                say("\"-\" (standard input) may stand only once in the message");
                free(input);
                return EXIT_USAGE;
            }
            if ((input = read_all_stdin()) == NULL) {
                say("could not read standard input: %s", strerror(errno));
                return EXIT_STREAM;
            }
        }
        len += strlen(strcmp(words.items[k], "-") == 0 ? input : words.items[k]) + 1;
    }
    o->message = malloc(len);
    if (o->message != NULL) {
        o->message[0] = '\0';
        for (size_t k = 0; k < words.n; k++) {
            if (k > 0) strcat(o->message, " ");
            strcat(o->message, strcmp(words.items[k], "-") == 0 ? input : words.items[k]);
        }
    }
    free(input);
    if (o->message == NULL) return EXIT_STREAM;
    if (strspn(o->message, " \t\r\n") == strlen(o->message)) {
        say("the message is empty%s", words.n == 1 && o->words.n == 0 ? " (nothing came on standard input)" : "");
        return EXIT_USAGE;
    }
    return GO_ON;
}

/* ---------------------------------------------------------------- secrets
 * The library keeps keys and secret headers out of its own messages; the log
 * callback below also masks every secret value this program knows of, in case a
 * header's name does not look secret to the library (such as g4f-api-key). */

static struct {
    const char *values[64];
    size_t n;
} secrets;

static void add_secret(const char *value) {
    if (value != NULL && value[0] != '\0' && secrets.n < sizeof secrets.values / sizeof *secrets.values)
        secrets.values[secrets.n++] = value;
}

/* Whether a header's name says its value is a credential. */
static bool secret_header_name(const char *name) {
    static const char *const words[] = {"auth", "key", "token", "secret", "cookie", "pass", "session"};
    char lower[128];
    size_t n = 0;
    for (; name[n] != '\0' && n + 1 < sizeof lower; n++) lower[n] = (char)(name[n] | 0x20);
    lower[n] = '\0';
    for (size_t k = 0; k < sizeof words / sizeof *words; k++)
        if (strstr(lower, words[k]) != NULL) return true;
    return false;
}

/* Writes `text` to f with every known secret value replaced by "***". */
static void put_masked(FILE *f, const char *text) {
    while (*text != '\0') {
        size_t skip = 0;
        for (size_t k = 0; k < secrets.n && skip == 0; k++) {
            size_t len = strlen(secrets.values[k]);
            if (strncmp(text, secrets.values[k], len) == 0) skip = len;
        }
        if (skip > 0) {
            fputs("***", f);
            text += skip;
        } else {
            fputc(*text++, f);
        }
    }
}

static const char *const LEVELS[] = {"", "error", "warn", "info", "debug", "trace"};

/* Called on the streams' threads: one fprintf-sized write under stderr's lock. */
static void on_log(void *data, backend_api_log_level level, const char *message) {
    (void)data;
    flockfile(stderr);
    fprintf(stderr, "backend-api: [%s] ", level >= 1 && level <= 5 ? LEVELS[level] : "log");
    put_masked(stderr, message);
    fputc('\n', stderr);
    funlockfile(stderr);
}

/* ---------------------------------------------------------------- the server's address */

/* The URL without user:password@, for messages. */
static void url_for_display(const char *url, char *buf, size_t size) {
    const char *scheme_end = strstr(url, "://");
    const char *host = scheme_end ? scheme_end + 3 : url;
    size_t authority = strcspn(host, "/?#");
    const char *at = memchr(host, '@', authority);
    if (at == NULL)
        snprintf(buf, size, "%s", url);
    else
        snprintf(buf, size, "%.*s%s", (int)(host - url), url, at + 1);
}

/* HOST:PORT of the URL (the scheme's port when none is given), for a failed connection. */
static void url_address(const char *url, char *buf, size_t size) {
    const char *scheme_end = strstr(url, "://");
    const char *host = scheme_end ? scheme_end + 3 : url;
    size_t len = strcspn(host, "/?#");
    const char *at = memchr(host, '@', len);
    if (at != NULL) {
        len -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    const char *bracket = memchr(host, ']', len);
    const char *after = bracket ? bracket : host;
    bool has_port = memchr(after, ':', len - (size_t)(after - host)) != NULL;
    const char *port = strncasecmp(url, "https:", 6) == 0 ? "443" : "80";
    snprintf(buf, size, "%.*s%s%s", (int)len, host, has_port ? "" : ":", has_port ? "" : port);
}

/* ---------------------------------------------------------------- errors and hints */

struct where {
    const struct options *o;
    const char *path; /* what was asked of the server: "/backend-api/v2/conversation" */
};

static bool openai(const struct options *o) { return o->protocol == BACKEND_API_PROTOCOL_OPENAI; }

static void hint_not_found(const struct where *w, const char *server_message) {
    if (server_message != NULL && strstr(server_message, "Provider not found") != NULL) {
        say("hint: the server has no provider \"%s\"; `backend-api --list-models` lists them",
            w->o->value[O_PROVIDER] ? w->o->value[O_PROVIDER] : "(none given)");
        return;
    }
    char shown[512];
    url_for_display(w->o->url, shown, sizeof shown);
    if (openai(w->o)) {
        say("hint: nothing answers %s%s: is this an OpenAI-compatible server on the right port and base path?",
            shown, w->path);
        say("hint: give the base URL with its /v1 (http://HOST:1337/v1 for `g4f api`), or --protocol backend");
        return;
    }
    say("hint: nothing answers %s%s: is this a g4f server on the right port and base path?", shown, w->path);
    say("hint: give the base URL only (http://HOST:1337 for `g4f api`, http://HOST:8080 for `g4f gui`),"
        " without /v1 or /backend-api/v2");
    say("hint: a `g4f api` started with --no-gui has no /backend-api/v2: start it without --no-gui, or run `g4f gui`");
}

static void hint_http(const struct where *w, const backend_api_error *err) {
    uint16_t code = backend_api_error_http_status(err);
    if (code == 404) {
        hint_not_found(w, backend_api_error_server_message(err));
    } else if (code == 401 || code == 403) {
        if (w->o->g4f_key == NULL)
            say("hint: a server started with `g4f api --g4f-api-key KEY` wants that key: set BACKEND_API_G4F_KEY "
                "(sent as the g4f-api-key header)");
        else
            say("hint: the server refused the key in BACKEND_API_G4F_KEY");
    } else if (code >= 300 && code < 400) {
        say("hint: redirects are not followed (the request would be sent again elsewhere); give the final URL");
    }
}

/* Whether a proxy from the environment may apply (the library reads these). */
static bool proxy_in_environment(void) {
    static const char *const names[] = {"ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"};
    for (size_t k = 0; k < sizeof names / sizeof *names; k++)
        if (getenv(names[k]) != NULL && getenv(names[k])[0] != '\0') return true;
    return false;
}

/* A connection that could not be made: names the address, and the proxy's part. */
static void report_connect(const char *what, const backend_api_error *err, const struct options *o) {
    char address[512];
    url_address(o->url, address, sizeof address);
    bool proxied = o->value[O_PROXY] != NULL && strcmp(o->value[O_PROXY], "none") != 0;
    say("%s: cannot connect to %s%s: %s (CONNECT)", what, address, proxied ? " through the proxy" : "",
        backend_api_error_message(err));
    if (proxied)
        say("hint: is the proxy up? --proxy none goes direct");
    else if (o->value[O_PROXY] == NULL && proxy_in_environment())
        say("hint: ALL_PROXY, HTTPS_PROXY or HTTP_PROXY is set, so the request may go through a proxy; "
            "--proxy none goes direct");
    else
        say("hint: is the g4f server running there? `g4f api` listens on port 1337, `g4f gui` on 8080");
}

/* Prints a library error with what was being done and a hint; frees the error. */
static void report(const char *what, backend_api_error *err, const struct where *w) {
    backend_api_status st = backend_api_error_status(err);
    if (st == BACKEND_API_STATUS_CONNECT) {
        report_connect(what, err, w->o);
    } else {
        say("%s: %s (%s)", what, backend_api_error_message(err), backend_api_status_name(st));
        if (st == BACKEND_API_STATUS_HTTP) hint_http(w, err);
        if (st == BACKEND_API_STATUS_TLS)
            say("hint: --cacert FILE trusts a private CA; --insecure skips the check (unsafe)");
    }
    backend_api_error_free(err);
}

/* ---------------------------------------------------------------- the client */

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
    char from[64];
    const char *proxy = o->value[O_PROXY];
    if (proxy != NULL &&
        !applied(backend_api_client_set_proxy(client, strcmp(proxy, "none") == 0 ? NULL : proxy, &err), &err,
                 source_of(o, O_PROXY, from, sizeof from)))
        return EXIT_USAGE;
    if (o->value[O_CACERT] != NULL &&
        !applied(backend_api_client_set_ca_file(client, o->value[O_CACERT], &err), &err,
                 source_of(o, O_CACERT, from, sizeof from)))
        return EXIT_USAGE;
    if (o->given[O_INSECURE] && !applied(backend_api_client_set_verify_tls(client, false, &err), &err, "--insecure"))
        return EXIT_USAGE;
    if (o->retries > 0 &&
        !applied(backend_api_client_set_retries(client, (uint32_t)o->retries, 1000, 30000, &err), &err, "--retries"))
        return EXIT_USAGE;
    for (int k = 0; k < 4; k++) {
        snprintf(from, sizeof from, "--%s", OPTS[TIMEOUT_OPTS[k]].name);
        if (o->timeout_ms[k] >= 0 &&
            !applied(backend_api_client_set_timeout(client, (uint32_t)k, o->timeout_ms[k], &err), &err, from))
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
    if (level > 0 && !applied(install_log(client, on_log, NULL, (uint32_t)level, &err), &err, "BACKEND_API_LOG"))
        return EXIT_USAGE;
    return add_headers(client, o);
}

static int make_client(const struct options *o, backend_api_client **out) {
    backend_api_error *err = NULL;
    add_secret(o->api_key);
    add_secret(o->g4f_key);
    if (backend_api_client_new(o->url, out, &err) != BACKEND_API_STATUS_OK) {
        say("--url: %s", backend_api_error_message(err));
        backend_api_error_free(err);
        return EXIT_USAGE;
    }
    return configure_client(*out, o);
}

/* ---------------------------------------------------------------- the request */

static int set_field(backend_api_request *req, const char *key_json) {
    backend_api_error *err = NULL;
    const char *eq = strchr(key_json, '=');
    if (eq == NULL || eq == key_json) {
        say("--field takes KEY=JSON, not \"%s\"", key_json);
        return EXIT_USAGE;
    }
    char *key = strndup(key_json, (size_t)(eq - key_json));
    if (key == NULL) return EXIT_STREAM;
    bool ok = backend_api_request_set_field_json(req, key, eq + 1, &err) == BACKEND_API_STATUS_OK;
    if (!ok) say("--field %s: %s", key, backend_api_error_message(err));
    backend_api_error_free(err);
    free(key);
    return ok ? GO_ON : EXIT_USAGE;
}

static int fill_request(const struct options *o, const char *message, backend_api_request *req) {
    backend_api_error *err = NULL;
    const struct list *media = &o->many[O_MEDIA], *fields = &o->many[O_FIELD];
    if (o->value[O_MODEL] != NULL && !applied(backend_api_request_set_model(req, o->value[O_MODEL], &err), &err, "--model"))
        return EXIT_USAGE;
    if (o->value[O_PROVIDER] != NULL &&
        !applied(backend_api_request_set_field_string(req, "provider", o->value[O_PROVIDER], &err), &err, "--provider"))
        return EXIT_USAGE;
    if (o->value[O_SYSTEM] != NULL &&
        !applied(backend_api_request_add_message(req, "system", o->value[O_SYSTEM], &err), &err, "--system"))
        return EXIT_USAGE;
    if (!applied(backend_api_request_add_message(req, "user", message, &err), &err, "the message")) return EXIT_USAGE;
    for (size_t i = 0; i < media->n; i++) {
        char what[512];
        snprintf(what, sizeof what, "--media %s", media->items[i]);
        if (!applied(backend_api_request_add_media_file(req, media->items[i], &err), &err, what)) return EXIT_USAGE;
    }
    for (size_t i = 0; i < fields->n; i++) {
        int rc = set_field(req, fields->items[i]);
        if (rc != GO_ON) return rc;
    }
    if (o->api_key != NULL && o->api_key[0] != '\0' &&
        !applied(backend_api_request_set_api_key(req, o->api_key, o->key_in, &err), &err, "BACKEND_API_KEY"))
        return EXIT_USAGE;
    return GO_ON;
}

/* ---------------------------------------------------------------- tiny JSON look-ups
 * Only for display: finds "key": in a JSON object's text and reads a string or a
 * number after it. Good enough for the provider, finish and usage objects. */

static const char *json_value(const char *json, const char *key) {
    size_t klen = strlen(key);
    for (const char *p = json; (p = strchr(p, '"')) != NULL; p++) {
        if (strncmp(p + 1, key, klen) != 0 || p[1 + klen] != '"') continue;
        const char *q = p + 2 + klen + strspn(p + 2 + klen, " \t\r\n");
        if (*q != ':') continue;
        return q + 1 + strspn(q + 1, " \t\r\n");
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

static void put_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* ---------------------------------------------------------------- printing an answer */

enum output { OUT_TEXT, OUT_RAW, OUT_JSON };

struct printer {
    enum output mode;
    bool tty;             /* standard output is a terminal */
    bool notes;           /* provider, finish and usage on stderr (not --quiet) */
    bool spinner;         /* a spinner on stderr while waiting (a terminal, not --quiet) */
    bool waiting;         /* no text of the answer yet */
    bool spinner_drawn;   /* a spinner frame is on the screen */
    unsigned frame;       /* the spinner's next frame */
    bool in_reasoning;    /* a run of reasoning is being printed */
    bool content_printed; /* some content went out ... */
    char last_content;    /* ... ending with this byte */
    bool server_error;    /* an error/auth chunk came */
    unsigned long chunks; /* chunks received */
    char finish[64];
    char usage[160];
    char title[160];
};

static void spinner_draw(struct printer *p) {
    if (!p->spinner || !p->waiting) return;
    fprintf(stderr, "\r%c waiting for the answer (Ctrl-C cancels)", "-\\|/"[p->frame++ % 4]);
    fflush(stderr);
    p->spinner_drawn = true;
}

static void spinner_erase(struct printer *p) {
    if (!p->spinner_drawn) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->spinner_drawn = false;
}

/* Before text of the answer goes out: the spinner goes for good. */
static void answer_starts(struct printer *p) {
    spinner_erase(p);
    p->waiting = false;
}

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

static void end_content_line(struct printer *p) {
    if (p->content_printed && p->last_content != '\n') {
        fputc('\n', stdout);
        p->last_content = '\n';
    }
    fflush(stdout);
}

/* Before a note on stderr: no spinner, and on a terminal the answer's line ends
 * first (a pipe gets the answer's text unchanged). */
static void before_note(struct printer *p) {
    spinner_erase(p);
    if (p->tty) end_content_line(p);
}

static void print_content(struct printer *p, const char *text, size_t len) {
    if (text == NULL || len == 0) return;
    answer_starts(p);
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    p->content_printed = true;
    p->last_content = text[len - 1];
}

static void print_reasoning(struct printer *p, const char *text, size_t len) {
    if (text == NULL || len == 0) return; /* a status-only reasoning chunk */
    answer_starts(p);
    FILE *to = p->tty ? stdout : stderr;
    if (!p->in_reasoning) {
        p->in_reasoning = true;
        if (p->tty) {
            if (p->content_printed && p->last_content != '\n') fputc('\n', stdout);
            fputs("\033[2m", stdout);
        } else {
            fputs("[reasoning] ", stderr);
        }
    }
    fwrite(text, 1, len, to);
    fflush(to);
}

static void print_provider(struct printer *p, const backend_api_chunk *chunk) {
    const char *prov = field(chunk, "provider");
    char name[128] = "", model[128] = "";
    if (prov == NULL || !p->notes) return;
    if (!json_string(prov, "label", name, sizeof name)) json_string(prov, "name", name, sizeof name);
    json_string(prov, "model", model, sizeof model);
    if (name[0] == '\0') return;
    before_note(p);
    fprintf(stderr, "[provider: %s%s%s]\n", name, model[0] ? ", model " : "", model);
}

static void keep_usage(struct printer *p, const backend_api_chunk *chunk) {
    const char *u = field(chunk, "usage");
    long prompt = 0, completion = 0, total = 0;
    if (json_number(u, "prompt_tokens", &prompt) && json_number(u, "completion_tokens", &completion)) {
        if (!json_number(u, "total_tokens", &total)) total = prompt + completion;
        snprintf(p->usage, sizeof p->usage, "%ld prompt + %ld completion = %ld tokens", prompt, completion, total);
    } else if (u != NULL) {
        snprintf(p->usage, sizeof p->usage, "%s", u);
    }
}

static void print_server_error(struct printer *p, backend_api_kind kind, const backend_api_chunk *chunk) {
    const char *text = backend_api_chunk_text(chunk, NULL);
    answer_starts(p);
    end_content_line(p);
    say("the server sent %s: %s", kind == BACKEND_API_KIND_AUTH ? "an auth error" : "an error",
        text != NULL ? text : backend_api_chunk_json(chunk, NULL));
}

static void print_text_chunk(struct printer *p, const backend_api_chunk *chunk, backend_api_kind kind) {
    size_t len = 0;
    const char *text = backend_api_chunk_text(chunk, &len);
    if (kind != BACKEND_API_KIND_REASONING && kind != BACKEND_API_KIND_LOG) end_reasoning(p);
    switch (kind) {
    case BACKEND_API_KIND_CONTENT: print_content(p, text, len); break;
    case BACKEND_API_KIND_REASONING: print_reasoning(p, text, len); break;
    case BACKEND_API_KIND_PROVIDER: print_provider(p, chunk); break;
    case BACKEND_API_KIND_ERROR:
    case BACKEND_API_KIND_AUTH: print_server_error(p, kind, chunk); break;
    case BACKEND_API_KIND_MESSAGE:
        before_note(p);
        fprintf(stderr, "[note: %s]\n", text != NULL ? text : "");
        break;
    case BACKEND_API_KIND_TITLE: snprintf(p->title, sizeof p->title, "%s", text != NULL ? text : ""); break;
    case BACKEND_API_KIND_FINISH:
        if (!json_string(field(chunk, "finish"), "reason", p->finish, sizeof p->finish))
            snprintf(p->finish, sizeof p->finish, "(no reason given)");
        break;
    case BACKEND_API_KIND_USAGE: keep_usage(p, chunk); break;
    default: /* log, conversation, parameters, preview, ...: not for the terminal */
        break;
    }
}

static void print_chunk(struct printer *p, const backend_api_chunk *chunk) {
    backend_api_kind kind = backend_api_chunk_kind(chunk);
    p->chunks++;
    if (kind == BACKEND_API_KIND_ERROR || kind == BACKEND_API_KIND_AUTH) p->server_error = true;
    if (p->mode == OUT_TEXT) {
        print_text_chunk(p, chunk, kind);
    } else if (p->mode == OUT_RAW) {
        size_t len = 0;
        const char *json = backend_api_chunk_json(chunk, &len);
        answer_starts(p);
        fwrite(json, 1, len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    } else if (kind == BACKEND_API_KIND_ERROR || kind == BACKEND_API_KIND_AUTH) {
        print_server_error(p, kind, chunk); /* --json: the rest comes at the end */
    }
}

/* --json: the assembled answer with how the stream ended. */
static void print_answer_json(backend_api_stream *stream, backend_api_status end, const backend_api_error *err) {
    backend_api_chunk *answer = NULL;
    size_t len = 0;
    if (backend_api_stream_answer(stream, &answer, NULL) != BACKEND_API_STATUS_OK) return;
    const char *json = backend_api_chunk_json(answer, &len);
    fwrite(json, 1, len - 1, stdout); /* without its closing brace */
    fputs(",\"status\":", stdout);
    put_json_string(stdout, backend_api_status_name(end));
    fputs(",\"failure\":", stdout);
    if (err != NULL)
        put_json_string(stdout, backend_api_error_message(err));
    else
        fputs("null", stdout);
    uint16_t code = backend_api_error_http_status(err);
    if (code != 0)
        printf(",\"http_status\":%u}\n", code);
    else
        fputs(",\"http_status\":null}\n", stdout);
    fflush(stdout);
    backend_api_chunk_free(answer);
}

/* After the stream: the line ends, notes, and the turn's exit status. */
static int finish_turn(struct printer *p, backend_api_stream *stream, backend_api_status st, backend_api_error *err,
                       const struct where *w) {
    answer_starts(p);
    end_reasoning(p);
    end_content_line(p);
    if (p->mode == OUT_JSON) print_answer_json(stream, st, err);
    if (st == BACKEND_API_STATUS_END) {
        const char *const notes[][2] = {{"title", p->title}, {"finish", p->finish}, {"usage", p->usage}};
        for (size_t k = 0; k < 3 && p->notes && p->mode == OUT_TEXT; k++)
            if (notes[k][1][0] != '\0') fprintf(stderr, "[%s: %s]\n", notes[k][0], notes[k][1]);
        return p->server_error ? EXIT_SERVER : EXIT_DONE;
    }
    if (st == BACKEND_API_STATUS_CANCELLED) {
        say(got_term ? "terminated" : "cancelled");
        return got_term ? EXIT_TERMINATED : EXIT_INTERRUPT;
    }
    report(p->chunks > 0 ? "the answer broke off" : "the request failed", err, w);
    return EXIT_STREAM;
}

/* ---------------------------------------------------------------- one answer */

static void printer_init(struct printer *p, const struct options *o) {
    memset(p, 0, sizeof *p);
    p->mode = o->given[O_RAW] ? OUT_RAW : o->given[O_JSON] ? OUT_JSON : OUT_TEXT;
    p->tty = isatty(STDOUT_FILENO) == 1;
    p->notes = !o->given[O_QUIET];
    p->spinner = !o->given[O_QUIET] && isatty(STDERR_FILENO) == 1;
    p->waiting = true;
}

/* The poll timeout: the library's (idle and total timeouts), shortened to turn the spinner. */
static int poll_timeout(const struct printer *p, backend_api_stream *stream) {
    int64_t ms = backend_api_stream_timeout_ms(stream);
    int spin = p->spinner && p->waiting ? 100 : -1;
    if (ms < 0 || ms > INT32_MAX) return spin;
    return spin >= 0 && spin < ms ? spin : (int)ms;
}

/* Streams the answer to `req`: prints it, and on success leaves the stream in
 * *out (for the next turn). Returns the turn's exit status. */
static int stream_answer(const struct options *o, backend_api_client *client, const backend_api_request *req,
                         backend_api_stream **out) {
    const struct where w = {o, openai(o) ? "/chat/completions" : "/backend-api/v2/conversation"};
    backend_api_stream *stream = NULL;
    backend_api_error *err = NULL;
    ptrdiff_t fd = -1; /* a file descriptor here (a SOCKET on Windows) */
    if (backend_api_open(client, req, &stream, &err) != BACKEND_API_STATUS_OK ||
        backend_api_stream_fd(stream, &fd, &err) != BACKEND_API_STATUS_OK) {
        report("cannot start the request", err, &w);
        backend_api_close(stream);
        return EXIT_STREAM;
    }
    struct printer p;
    printer_init(&p, o);
    spinner_draw(&p);
    backend_api_status st;
    for (;;) {
        backend_api_chunk *chunk = NULL;
        st = backend_api_next(stream, 0, &chunk, &err);
        if (st == BACKEND_API_STATUS_OK) {
            print_chunk(&p, chunk);
            backend_api_chunk_free(chunk);
            continue;
        }
        if (st != NOTHING_YET) break;
        wait_for((int)fd, poll_timeout(&p, stream));
        if (got_sigint || got_term) cancel_answer(stream); /* next() then returns CANCELLED */
        spinner_draw(&p);
    }
    int rc = finish_turn(&p, stream, st, err, &w);
    if (rc == EXIT_DONE)
        *out = stream;
    else
        backend_api_close(stream);
    return rc;
}

/* ---------------------------------------------------------------- a conversation */

struct conversation {
    const struct options *o;
    backend_api_client *client;
    backend_api_request *request; /* the last complete turn: NULL at the start */
    backend_api_stream *stream;   /* its answer */
};

static void conversation_reset(struct conversation *c) {
    backend_api_close(c->stream);
    backend_api_request_free(c->request);
    c->stream = NULL;
    c->request = NULL;
}

/* The request for the next message: the first from the options, later ones the
 * library's follow-up (messages so far, the answer, the conversation state). */
static int next_request(const struct conversation *c, const char *message, backend_api_request **out) {
    backend_api_error *err = NULL;
    if (c->request != NULL) {
        if (backend_api_request_follow_up(c->request, c->stream, message, out, &err) == BACKEND_API_STATUS_OK)
            return GO_ON;
        say("cannot continue the conversation: %s", backend_api_error_message(err));
        backend_api_error_free(err);
        return EXIT_USAGE;
    }
    if ((*out = backend_api_request_new()) == NULL) return EXIT_STREAM;
    return fill_request(c->o, message, *out);
}

/* Sends one message; a complete answer becomes part of the conversation, a
 * failed or cancelled one does not. Returns the turn's exit status. */
static int send_message(struct conversation *c, const char *message) {
    backend_api_request *req = NULL;
    backend_api_stream *stream = NULL;
    int rc = next_request(c, message, &req);
    if (rc == GO_ON) rc = stream_answer(c->o, c->client, req, &stream);
    if (rc == EXIT_DONE) {
        conversation_reset(c);
        c->request = req;
        c->stream = stream;
    } else {
        backend_api_request_free(req);
    }
    return rc;
}

/* ---------------------------------------------------------------- reading a line
 * With libedit (BSD licence; on macOS, and on Linux wherever ssh is) loaded at run
 * time when present, through its readline-compatible calls; else the terminal's own
 * line mode. Nothing to install either way, and nothing fixed when building. */

enum line_result { LINE_OK, LINE_EOF, LINE_CLEARED, LINE_TERMINATED };

static struct {
    void *lib; /* NULL: the terminal's own line mode */
    void (*install)(const char *prompt, void (*on_line)(char *));
    void (*remove)(void);
    void (*read_char)(void);
    void (*replace_line)(const char *text, int clear_undo);
    int (*add_history)(const char *line);
    int (*bind_key)(int key, int (*fn)(int, int));
    int (*insert)(int count, int key);
    FILE **instream, **outstream;
    const char **name;
    int *catch_signals;
} editline;

/* dlsym into a function pointer, as POSIX allows. */
#define LOOKUP(lib, field, symbol) (*(void **)(&(field)) = dlsym(lib, symbol))

static bool editline_bind(void *lib) {
    return LOOKUP(lib, editline.install, "rl_callback_handler_install") &&
           LOOKUP(lib, editline.remove, "rl_callback_handler_remove") &&
           LOOKUP(lib, editline.read_char, "rl_callback_read_char") &&
           LOOKUP(lib, editline.replace_line, "rl_replace_line") &&
           LOOKUP(lib, editline.add_history, "add_history") && LOOKUP(lib, editline.bind_key, "rl_bind_key") &&
           LOOKUP(lib, editline.insert, "rl_insert") && LOOKUP(lib, editline.instream, "rl_instream") &&
           LOOKUP(lib, editline.outstream, "rl_outstream") && LOOKUP(lib, editline.name, "rl_readline_name") &&
           LOOKUP(lib, editline.catch_signals, "rl_catch_signals");
}

/* Loads libedit unless the terminal cannot take it (TERM unset or "dumb"). */
static void line_editor_init(void) {
    static const char *const names[] = {"libedit.so.2", "libedit.so", "libedit.3.dylib", "libedit.dylib"};
    const char *term = getenv("TERM");
    if (term == NULL || term[0] == '\0' || strcmp(term, "dumb") == 0) return;
    for (size_t k = 0; k < sizeof names / sizeof *names && editline.lib == NULL; k++) {
        void *lib = dlopen(names[k], RTLD_NOW | RTLD_LOCAL);
        if (lib != NULL && editline_bind(lib))
            editline.lib = lib;
        else if (lib != NULL)
            dlclose(lib);
    }
    if (editline.lib == NULL) return;
    *editline.name = "backend-api";
    *editline.instream = stdin;
    *editline.outstream = stderr;
    *editline.catch_signals = 0; /* Ctrl-C is ours: it clears the line */
    editline.bind_key('\t', editline.insert);
}

static const char *line_editing(void) { return editline.lib != NULL ? "libedit" : "the terminal's"; }

static char *edited_line;
static bool edited_done;

static void on_edited_line(char *line) {
    editline.remove(); /* no new prompt until asked */
    edited_line = line;
    edited_done = true;
}

/* Reads a line with libedit, waiting in poll() so that signals are seen. */
static enum line_result read_edited_line(const char *prompt, char **out) {
    edited_line = NULL;
    edited_done = false;
    editline.install(prompt, on_edited_line);
    while (!edited_done) {
        if (wait_for(STDIN_FILENO, -1) == 1) {
            editline.read_char();
        } else if (got_term || got_sigint) {
            editline.replace_line("", 0);
            editline.remove();
            fputs(got_term ? "\n" : "^C\n", stderr); /* as shells show it (the terminal's line mode echoes it) */
            return got_term ? LINE_TERMINATED : LINE_CLEARED;
        }
    }
    if (edited_line == NULL) return LINE_EOF;
    if (edited_line[0] != '\0') editline.add_history(edited_line);
    *out = edited_line;
    return LINE_OK;
}

/* Reads a line in the terminal's own line mode (erase, kill and word erase work). */
static enum line_result read_plain_line(const char *prompt, char **out) {
    size_t cap = 256, len = 0;
    char *buf = malloc(cap);
    fputs(prompt, stderr);
    fflush(stderr);
    while (buf != NULL) {
        if (wait_for(STDIN_FILENO, -1) != 1) {
            if (!got_term && !got_sigint) continue;
            tcflush(STDIN_FILENO, TCIFLUSH); /* what was typed of the line */
            free(buf);
            fputc('\n', stderr);
            return got_term ? LINE_TERMINATED : LINE_CLEARED;
        }
        if (len + 1 >= cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (bigger == NULL) break;
            buf = bigger;
        }
        ssize_t n = read(STDIN_FILENO, buf + len, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 && len == 0) {
            free(buf);
            fputc('\n', stderr);
            return LINE_EOF;
        }
        if (n <= 0 || buf[len] == '\n') {
            buf[len] = '\0';
            *out = buf;
            return LINE_OK;
        }
        len++;
    }
    free(buf);
    return LINE_EOF;
}

static enum line_result read_line(const char *prompt, char **out) {
    return editline.lib != NULL ? read_edited_line(prompt, out) : read_plain_line(prompt, out);
}

/* ---------------------------------------------------------------- the conversation's loop */

static const char CHAT_HELP[] = "commands:\n"
                                "  /reset   start a new conversation (the answers so far are forgotten)\n"
                                "  /quit    leave (also /exit, or Ctrl-D on an empty line)\n"
                                "  /help    this list\n"
                                "  //text   send \"/text\"\n"
                                "Ctrl-C cancels the answer in flight, or clears the line.\n";

static void chat_banner(const struct options *o) {
    char shown[512];
    url_for_display(o->url, shown, sizeof shown);
    fprintf(stderr, "backend-api %s: a conversation with %s%s%s%s%s\n", backend_api_version(), shown,
            o->value[O_MODEL] ? ", model " : "", o->value[O_MODEL] ? o->value[O_MODEL] : "",
            o->value[O_PROVIDER] ? ", provider " : "", o->value[O_PROVIDER] ? o->value[O_PROVIDER] : "");
    fputs("Type a message and Enter. /help lists the commands; Ctrl-D or /quit leaves.\n", stderr);
}

/* Runs a command line ("/reset", ...); returns GO_ON or EXIT_DONE to leave. */
static int chat_command(struct conversation *c, const char *line) {
    if (strcmp(line, "/quit") == 0 || strcmp(line, "/exit") == 0) return EXIT_DONE;
    if (strcmp(line, "/reset") == 0) {
        conversation_reset(c);
        fputs("(a new conversation)\n", stderr);
    } else if (strcmp(line, "/help") == 0) {
        fputs(CHAT_HELP, stderr);
    } else {
        fprintf(stderr, "unknown command %s: /help lists them (//text sends \"/text\")\n", line);
    }
    return GO_ON;
}

static int chat(const struct options *o, backend_api_client *client) {
    struct conversation c = {o, client, NULL, NULL};
    int rc = GO_ON;
    line_editor_init();
    chat_banner(o);
    while (rc == GO_ON) {
        char *line = NULL;
        got_sigint = 0;
        enum line_result r = read_line("> ", &line);
        if (r == LINE_EOF) rc = EXIT_DONE;
        if (r == LINE_TERMINATED) rc = EXIT_TERMINATED;
        if (r != LINE_OK) continue;
        const char *text = line + strspn(line, " \t");
        if (text[0] == '/' && text[1] != '/')
            rc = chat_command(&c, text);
        else if (text[0] != '\0' && send_message(&c, text[0] == '/' ? text + 1 : text) == EXIT_INTERRUPT)
            fputs("(the question is not kept in the conversation)\n", stderr);
        if (got_term) rc = EXIT_TERMINATED;
        free(line);
    }
    conversation_reset(&c);
    return rc; /* libedit stays loaded: what it holds stays reachable until the end */
}

/* ---------------------------------------------------------------- main */

/* --list-models blocks this thread in the library; this thread waits for a signal
 * meanwhile and cancels the listing (the signal handler itself cannot). */
static void *cancel_on_signal(void *canceller) {
    while (!got_sigint && !got_term && !got_stop_watch) wait_for(-1, -1);
    if (!got_stop_watch) backend_api_canceller_cancel(canceller);
    return NULL;
}

static int list_models(const struct options *o, const backend_api_client *client) {
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
    backend_api_status st = fetch_models(client, o->value[O_PROVIDER], canceller, &json, &len, &err);
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
    fwrite(json, 1, len, stdout);
    fputc('\n', stdout);
    free_models(json);
    return EXIT_DONE;
}

static int one_answer(const struct options *o, backend_api_client *client) {
    struct conversation c = {o, client, NULL, NULL};
    int rc = send_message(&c, o->message);
    conversation_reset(&c);
    return rc;
}

static int run(struct options *o) {
    int rc = derive_settings(o);
    bool chatting = o->words.n == 0 && !o->given[O_LIST_MODELS] && isatty(STDIN_FILENO) == 1;
    if (rc == GO_ON && !chatting && !o->given[O_LIST_MODELS]) rc = make_message(o);
    if (rc != GO_ON) return rc;
    backend_api_client *client = NULL;
    rc = make_client(o, &client);
    if (rc == GO_ON && !catch_signals()) {
        say("cannot set up signal handling: %s", strerror(errno));
        rc = EXIT_STREAM;
    }
    if (rc == GO_ON) rc = o->given[O_LIST_MODELS] ? list_models(o, client) : chatting ? chat(o, client) : one_answer(o, client);
    backend_api_client_free(client);
    return rc;
}

int main(int argc, char **argv) {
    struct options o;
    memset(&o, 0, sizeof o);
    int rc = parse_command_line(argc, argv, &o);
    if (rc == GO_ON && o.given[O_HELP]) {
        for (const char *const *part = USAGE; *part != NULL; part++) fputs(*part, stdout);
        rc = EXIT_DONE;
    } else if (rc == GO_ON && o.given[O_VERSION]) {
        line_editor_init();
        printf("backend-api %s (line editing: %s)\n", backend_api_version(), line_editing());
        rc = EXIT_DONE;
    } else if (rc == GO_ON) {
        rc = run(&o);
    }
    options_free(&o);
    return rc;
}
