/* The configuration file, as curl's .curlrc: one long option per line,
 *   url = http://127.0.0.1:1337
 *   model "gpt-4o"
 *   header = X-Trace: 1
 *   verbose
 * `name = value`, `name: value` or `name value`, a leading "--" allowed, # comments,
 * values in double quotes with \" and \\ escapes. Read from -K FILE, else from
 * $XDG_CONFIG_HOME/backend-api/config (~/.config/backend-api/config; on Windows
 * %APPDATA%\backend-api\config) when it exists.
 * Its values are the weakest: the environment and the command line win. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { CONFIG_MAX = 1 << 20 }; /* a configuration file is small; a bigger one is a mistake */

/* The default file's path into buf; false when no home is known. */
static bool default_path(char *buf, size_t size) {
    char folder[1000];
    if (!app_folder(APP_CONFIG, folder, sizeof folder)) return false;
    int n = snprintf(buf, size, "%s/config", folder);
    return n > 0 && (size_t)n < size;
}

/* Cuts one value in place: unquotes "..." (with \" and \\), or trims spaces.
 * Returns NULL for an unfinished quote or text after the closing one. */
static char *unquote(char *v) {
    v += strspn(v, " \t");
    if (*v != '"') {
        size_t n = strlen(v);
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r')) v[--n] = '\0';
        return v;
    }
    char *out = v, *in = v + 1;
    for (; *in != '\0' && *in != '"'; in++) {
        if (*in == '\\' && (in[1] == '"' || in[1] == '\\')) in++;
        *out++ = *in;
    }
    if (*in != '"' || in[1 + strspn(in + 1, " \t\r")] != '\0') return NULL;
    *out = '\0';
    return v;
}

/* Whether a line's value is a key: api-key, g4f-api-key, or a secret-looking header. */
static bool is_a_key(int id, const char *value) {
    if (id == O_API_KEY || id == O_G4F_API_KEY) return true;
    if (id != O_HEADER) return false;
    char name[128];
    size_t len = strcspn(value, ":");
    snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name - 1 ? len : sizeof name - 1), value);
    return secret_header_name(name);
}

/* Parses one line (cut in place). Returns GO_ON, or EXIT_USAGE after saying why. */
static int config_line(struct options *o, char *line, unsigned number, bool *holds_key) {
    char *p = line + strspn(line, " \t");
    if (*p == '#' || *p == '\0' || *p == '\r') return GO_ON;
    if (p[0] == '-' && p[1] == '-') p += 2;
    size_t name_len = strcspn(p, " \t=:\r");
    char name[64];
    if (name_len == 0 || name_len >= sizeof name) {
        say("%s:%u: not `name = value`", o->config_path, number);
        return EXIT_USAGE;
    }
    memcpy(name, p, name_len);
    name[name_len] = '\0';
    char *rest = p + name_len + strspn(p + name_len, " \t");
    if (*rest == '=' || *rest == ':') rest++;
    int id = 0;
    while (id < O_COUNT && (strcmp(OPTS[id].name, name) != 0 || !OPTS[id].in_config)) id++;
    if (id == O_COUNT) {
        say("%s:%u: unknown option \"%s\" (the file takes long options such as url, model, header)",
            o->config_path, number, name);
        return EXIT_USAGE;
    }
    char *value = unquote(rest);
    if (value == NULL) {
        say("%s:%u: %s: a quoted value must end with a quote", o->config_path, number, name);
        return EXIT_USAGE;
    }
    if (OPTS[id].takes_value != (value[0] != '\0')) {
        say("%s:%u: %s %s", o->config_path, number, name,
            OPTS[id].takes_value ? "needs a value" : "takes no value");
        return EXIT_USAGE;
    }
    if (o->origin[id] <= FROM_FILE) o->config_line[id] = number;
    *holds_key = *holds_key || is_a_key(id, value);
    return option_set(o, (enum opt)id, OPTS[id].takes_value ? value : "", FROM_FILE) ? GO_ON : EXIT_STREAM;
}

int read_config(struct options *o, const char *explicit_path) {
    if (explicit_path != NULL)
        snprintf(o->config_path, sizeof o->config_path, "%s", explicit_path);
    else if (!default_path(o->config_path, sizeof o->config_path))
        return GO_ON;
    struct file_facts facts;
    size_t len = 0;
    char *text = read_file(o->config_path, CONFIG_MAX, &len, &facts);
    if (text == NULL) {
        if (explicit_path == NULL && errno == ENOENT) {
            o->config_path[0] = '\0';
            return GO_ON;
        }
        say("cannot read the configuration file %s: %s", o->config_path,
            errno == EINVAL ? "not a regular file" : strerror(errno));
        return EXIT_USAGE;
    }
    o->config_text = text;
    unsigned number = 0;
    bool holds_key = false;
    for (char *line = text; line != NULL;) {
        char *next = strchr(line, '\n');
        if (next != NULL) *next++ = '\0';
        int rc = config_line(o, line, ++number, &holds_key);
        if (rc != GO_ON) return rc;
        line = next;
    }
    if (facts.others_read && holds_key)
        say("warning: %s holds a key and others may read it: chmod 600 %s", o->config_path, o->config_path);
    return GO_ON;
}
