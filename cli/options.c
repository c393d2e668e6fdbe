/* The options: their table, the command line, the environment, and the settings
 * derived from them. Precedence: command line > environment > configuration file. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const struct optspec OPTS[O_COUNT] = {
    [O_URL] = {"url", 'u', true, false, true, "BACKEND_API_URL"},
    [O_PROTOCOL] = {"protocol", 0, true, false, true, "BACKEND_API_PROTOCOL"},
    [O_MODEL] = {"model", 'm', true, false, true, "BACKEND_API_MODEL"},
    [O_PROVIDER] = {"provider", 'p', true, false, true, "BACKEND_API_PROVIDER"},
    [O_SYSTEM] = {"system", 's', true, false, true, NULL},
    [O_MEDIA] = {"media", 0, true, true, false, NULL},
    [O_ATTACH] = {"attach", 'a', true, true, false, NULL},
    [O_FIELD] = {"field", 0, true, true, true, NULL},
    [O_HEADER] = {"header", 'H', true, true, true, NULL},
    [O_KEY_IN] = {"key-in", 0, true, false, true, "BACKEND_API_KEY_IN"},
    [O_PROXY] = {"proxy", 0, true, false, true, "BACKEND_API_PROXY"},
    [O_CACERT] = {"cacert", 0, true, false, true, "BACKEND_API_CACERT"},
    [O_INSECURE] = {"insecure", 'k', false, false, true, NULL},
    [O_RETRIES] = {"retries", 0, true, false, true, "BACKEND_API_RETRIES"},
    [O_CONNECT_TIMEOUT] = {"connect-timeout", 0, true, false, true, NULL},
    [O_HEADERS_TIMEOUT] = {"headers-timeout", 0, true, false, true, NULL},
    [O_IDLE_TIMEOUT] = {"idle-timeout", 0, true, false, true, NULL},
    [O_TOTAL_TIMEOUT] = {"total-timeout", 0, true, false, true, NULL},
    [O_MAX_LINE] = {"max-line", 0, true, false, true, NULL},
    [O_RAW] = {"raw", 0, false, false, false, NULL},
    [O_JSON] = {"json", 0, false, false, false, NULL},
    [O_QUIET] = {"quiet", 'q', false, false, true, NULL},
    [O_VERBOSE] = {"verbose", 'v', false, false, true, NULL},
    [O_COLOR] = {"color", 0, true, false, true, NULL},
    [O_RAW_TERMINAL] = {"raw-terminal", 0, false, false, true, NULL},
    [O_HIDE_REASONING] = {"hide-reasoning", 0, false, false, true, NULL},
    [O_SHOW_REASONING] = {"show-reasoning", 0, false, false, true, NULL},
    [O_RENDER] = {"render", 0, true, false, true, NULL},
    [O_CONTINUE] = {"continue", 'c', false, false, false, NULL},
    [O_CONVERSATION] = {"conversation", 0, true, false, false, NULL},
    [O_NO_LOG] = {"no-log", 0, false, false, true, NULL},
    [O_CONFIG] = {"config", 'K', true, false, false, NULL},
    [O_NO_CONFIG] = {"no-config", 0, false, false, false, NULL},
    [O_LIST_MODELS] = {"list-models", 0, false, false, false, NULL},
    [O_SAVE_MEDIA] = {"save-media", 0, true, false, true, NULL},
    [O_LIST_PROVIDERS] = {"list-providers", 0, false, false, false, NULL},
    [O_VERSION] = {"version", 'V', false, false, false, NULL},
    [O_HELP] = {"help", 'h', false, false, false, NULL},
    [O_API_KEY] = {"api-key", 0, true, false, true, "BACKEND_API_KEY"},
    [O_G4F_API_KEY] = {"g4f-api-key", 0, true, false, true, "BACKEND_API_G4F_KEY"},
};

/* The four timeouts, in the order of backend_api_timeout. */
static const enum opt TIMEOUT_OPTS[4] = {O_CONNECT_TIMEOUT, O_HEADERS_TIMEOUT, O_IDLE_TIMEOUT, O_TOTAL_TIMEOUT};

bool list_push(struct list *l, const char *item) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        const char **bigger = realloc(l->items, cap * sizeof *bigger);
        if (bigger == NULL) return false;
        l->items = bigger;
        l->cap = cap;
    }
    l->items[l->n++] = item;
    return true;
}

void options_free(struct options *o) {
    for (int i = 0; i < O_COUNT; i++) free(o->many[i].items);
    free(o->words.items);
    free(o->message);
    free(o->url_with_scheme);
    free(o->config_text);
}

/* Only the command-line options: api-key and g4f-api-key are for the file alone. */
static bool on_command_line(int i) { return i != O_API_KEY && i != O_G4F_API_KEY; }

/* Finds the option `arg` names: "--name", "--name=value", "-x", "-xVALUE".
 * Sets *inline_value when the value is part of arg. Returns O_COUNT when none. */
static enum opt find_option(const char *arg, const char **inline_value) {
    *inline_value = NULL;
    for (int i = 0; i < O_COUNT; i++) {
        const struct optspec *s = &OPTS[i];
        if (!on_command_line(i)) continue;
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

/* Sets an option from `from`; a value from a stronger source stays. Repeatable
 * options add up (the file's headers, then the command line's). */
bool option_set(struct options *o, enum opt id, const char *value, enum origin from) {
    if (OPTS[id].repeatable) {
        o->given[id] = true;
        return list_push(&o->many[id], value);
    }
    if (from < o->origin[id]) return true;
    o->given[id] = true;
    o->origin[id] = from;
    o->value[id] = value;
    return true;
}

/* The option of short name `c`; O_COUNT when none. */
static enum opt short_option(char c) {
    for (int i = 0; i < O_COUNT; i++)
        if (OPTS[i].short_name == c && on_command_line(i)) return (enum opt)i;
    return O_COUNT;
}

/* "-qv", "-qvu URL", "-qvuURL" are "-q -v", "-q -v -u URL": flags together, as
 * getopt takes them; an option with a value takes the rest of the word, else
 * `next` (then *i moves past it). Returns GO_ON or an exit status. */
static int short_flags(const char *arg, const char *next, int *i, struct options *o) {
    for (const char *c = arg + 1; *c != '\0'; c++) {
        enum opt id = short_option(*c);
        if (id == O_COUNT) {
            say("unknown option -%c in %s (see --help)", *c, arg);
            return EXIT_USAGE;
        }
        const char *value = !OPTS[id].takes_value ? NULL : c[1] != '\0' ? c + 1 : next;
        if (OPTS[id].takes_value && value == NULL) {
            say("-%c (--%s) in %s needs a value (see --help)", *c, OPTS[id].name, arg);
            return EXIT_USAGE;
        }
        if (!option_set(o, id, value, FROM_COMMAND_LINE)) return EXIT_STREAM;
        if (value == next && value != NULL) ++*i;
        if (OPTS[id].takes_value) break;
    }
    return GO_ON;
}

/* Reads the command line, the configuration file and the environment into o.
 * Returns GO_ON or an exit status. */
int parse_command_line(int argc, char **argv, struct options *o) {
    bool only_words = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (only_words || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (!list_push(&o->words, arg)) return EXIT_STREAM;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_words = true;
            continue;
        }
        const char *value = NULL;
        enum opt id = find_option(arg, &value);
        if (id == O_COUNT && arg[1] != '-') { /* -qv: short flags together, the last may take a value */
            int rc = short_flags(arg, i + 1 < argc ? argv[i + 1] : NULL, &i, o);
            if (rc != GO_ON) return rc;
            continue;
        }
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
        if (!option_set(o, id, value, FROM_COMMAND_LINE)) return EXIT_STREAM;
    }
    for (int i = 0; i < O_COUNT; i++) {
        const char *env = OPTS[i].env ? getenv(OPTS[i].env) : NULL;
        if (env != NULL && env[0] != '\0') option_set(o, (enum opt)i, env, FROM_ENV);
    }
    if (o->given[O_HELP] || o->given[O_VERSION] || o->given[O_NO_CONFIG]) return GO_ON;
    return read_config(o, o->value[O_CONFIG]);
}

/* Says which option, variable or configuration line a bad value came from. */
const char *source_of(const struct options *o, enum opt id, char *buf, size_t size) {
    if (o->origin[id] == FROM_ENV && OPTS[id].env != NULL)
        snprintf(buf, size, "$%s", OPTS[id].env);
    else if (o->origin[id] == FROM_FILE)
        snprintf(buf, size, "%s:%u: %s", o->config_path, o->config_line[id], OPTS[id].name);
    else
        snprintf(buf, size, "--%s", OPTS[id].name);
    return buf;
}

bool openai(const struct options *o) { return o->protocol == BACKEND_API_PROTOCOL_OPENAI; }

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

static int derive_amounts(struct options *o) {
    char from[1200];
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
        say("%s takes a size in bytes (at least 1), or with k or M, not \"%s\"",
            source_of(o, O_MAX_LINE, from, sizeof from), o->value[O_MAX_LINE]);
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
    return GO_ON;
}

/* One of `names` (NULL-terminated) for option `id`, as its index; -1 after saying so. */
static int choice(const struct options *o, enum opt id, const char *fallback, const char *const *names,
                  const char *expected) {
    const char *value = o->value[id] ? o->value[id] : fallback;
    for (int k = 0; names[k] != NULL; k++)
        if (strcmp(value, names[k]) == 0) return k;
    char from[1200];
    say("%s takes %s, not \"%s\"", source_of(o, id, from, sizeof from), expected, value);
    return -1;
}

/* The server's address: the option, $BACKEND_API_URL, with the OpenAI protocol
 * $OPENAI_BASE_URL, the file, else the default (what `g4f api` serves). Without
 * a scheme, http:// (as curl: "-u 127.0.0.1:1337"). */
static bool choose_url(struct options *o) {
    const char *openai_url = getenv("OPENAI_BASE_URL");
    if (openai(o) && o->origin[O_URL] < FROM_ENV && openai_url != NULL && openai_url[0] != '\0')
        option_set(o, O_URL, openai_url, FROM_ENV);
    o->url = o->value[O_URL];
    if (o->url == NULL) {
        o->url = openai(o) ? DEFAULT_OPENAI_URL : DEFAULT_URL;
        o->url_defaulted = true;
    } else if (strstr(o->url, "://") == NULL) {
        size_t n = strlen(o->url) + sizeof "http://";
        if ((o->url_with_scheme = malloc(n)) == NULL) return false;
        snprintf(o->url_with_scheme, n, "http://%s", o->url);
        o->url = o->url_with_scheme;
    }
    return true;
}

/* $OPENAI_BASE_URL alone (no --protocol, no URL of ours anywhere) means the
 * OpenAI protocol at that address, as the openai package reads it. */
static bool openai_by_environment(const struct options *o) {
    const char *openai_url = getenv("OPENAI_BASE_URL");
    return o->value[O_PROTOCOL] == NULL && o->value[O_URL] == NULL && openai_url != NULL && openai_url[0] != '\0';
}

/* Where reasoning goes: --hide-reasoning and --show-reasoning from the stronger source
 * (the command line over the file); both from one source is an error. */
static bool choose_reasoning(struct options *o) {
    bool hide = o->given[O_HIDE_REASONING], show = o->given[O_SHOW_REASONING];
    if (hide && show && o->origin[O_HIDE_REASONING] == o->origin[O_SHOW_REASONING]) {
        char from[1200];
        say("--show-reasoning and --hide-reasoning do not go together (%s)",
            source_of(o, O_SHOW_REASONING, from, sizeof from));
        return false;
    }
    if (hide && show) hide = o->origin[O_HIDE_REASONING] > o->origin[O_SHOW_REASONING];
    o->reasoning = hide ? REASONING_HIDDEN : show ? REASONING_SHOWN : REASONING_AUTO;
    return true;
}

/* Turns the option values into settings. Returns GO_ON or EXIT_USAGE. */
int derive_settings(struct options *o) {
    int rc = derive_amounts(o);
    if (rc != GO_ON) return rc;
    static const char *const key_in[] = {"body", "bearer", "both", NULL};
    static const uint32_t placements[] = {BACKEND_API_KEY_BODY, BACKEND_API_KEY_BEARER,
                                          BACKEND_API_KEY_BODY | BACKEND_API_KEY_BEARER};
    int k = choice(o, O_KEY_IN, "body", key_in, "body, bearer or both");
    if (k < 0) return EXIT_USAGE;
    o->key_in = placements[k];
    static const char *const protocols[] = {"backend", "openai", NULL};
    k = choice(o, O_PROTOCOL, openai_by_environment(o) ? "openai" : "backend", protocols, "backend or openai");
    if (k < 0) return EXIT_USAGE;
    o->protocol = k == 0 ? BACKEND_API_PROTOCOL_BACKEND : BACKEND_API_PROTOCOL_OPENAI;
    static const char *const colors[] = {"auto", "always", "never", NULL};
    k = choice(o, O_RENDER, "auto", colors, "auto, always or never");
    if (k < 0) return EXIT_USAGE;
    o->render = k == 1 || (k == 0 && takes_escapes(stdout));
    k = choice(o, O_COLOR, "auto", colors, "auto, always or never");
    if (k < 0) return EXIT_USAGE;
    const char *no_color = getenv("NO_COLOR");
    o->color = k == 1 || (k == 0 && (no_color == NULL || no_color[0] == '\0') && takes_escapes(stdout));
    char from[1200];
    if (openai(o) && o->given[O_LIST_MODELS] && o->value[O_PROVIDER] != NULL) {
        say("--list-models of one provider (%s) needs --protocol backend: the OpenAI protocol lists all models",
            source_of(o, O_PROVIDER, from, sizeof from));
        return EXIT_USAGE;
    }
    if (o->given[O_RAW] && o->given[O_JSON]) {
        say("--raw and --json do not go together");
        return EXIT_USAGE;
    }
    if (o->value[O_SAVE_MEDIA] != NULL && !is_folder(o->value[O_SAVE_MEDIA])) {
        say("%s: \"%s\" is not a folder (make it first)", source_of(o, O_SAVE_MEDIA, from, sizeof from),
            o->value[O_SAVE_MEDIA]);
        return EXIT_USAGE;
    }
    if (!choose_reasoning(o)) return EXIT_USAGE;
    if (o->given[O_CONTINUE] && o->given[O_CONVERSATION]) {
        say("--continue and --conversation do not go together");
        return EXIT_USAGE;
    }
    o->api_key = o->value[O_API_KEY];
    const char *openai_key = getenv("OPENAI_API_KEY");
    if (openai(o) && o->origin[O_API_KEY] < FROM_ENV && openai_key != NULL && openai_key[0] != '\0')
        o->api_key = openai_key;
    o->g4f_key = o->value[O_G4F_API_KEY];
    o->verbose = o->given[O_VERBOSE];
    o->raw_terminal = o->given[O_RAW_TERMINAL];
    o->log = !o->given[O_NO_LOG];
    return choose_url(o) ? GO_ON : EXIT_STREAM;
}
