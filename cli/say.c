/* Messages on standard error: "backend-api: ...". They may quote the server (its
 * error message) or the library (which may quote the server), so on a terminal
 * they are neutralised (safe_text.c), and every secret this program knows of is
 * masked in the library's log lines. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

void say(const char *fmt, ...) {
    char stack[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(stack, sizeof stack, fmt, ap);
    va_end(ap);
    char *text = stack;
    if (n >= (int)sizeof stack && (text = malloc((size_t)n + 1)) != NULL) {
        va_start(ap, fmt);
        vsnprintf(text, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    if (text == NULL) text = stack; /* cut short rather than lost */
    flockfile(stderr);
    fputs("backend-api: ", stderr);
    put_text(stderr, text, strlen(text));
    fputc('\n', stderr);
    funlockfile(stderr);
    if (text != stack) free(text);
}

/* ---------------------------------------------------------------- secrets
 * The library keeps keys and secret headers out of its own messages; the log
 * callback also masks every secret value this program knows of, in case a
 * header's name does not look secret to the library (such as g4f-api-key). */

static struct {
    const char *values[64];
    size_t n;
} secrets;

void add_secret(const char *value) {
    if (value != NULL && value[0] != '\0' && secrets.n < sizeof secrets.values / sizeof *secrets.values)
        secrets.values[secrets.n++] = value;
}

/* Whether a header's name says its value is a credential. */
bool secret_header_name(const char *name) {
    static const char *const words[] = {"auth", "key", "token", "secret", "cookie", "pass", "session",
                                        "credential", "signature"};
    char lower[128];
    size_t n = 0;
    for (; name[n] != '\0' && n + 1 < sizeof lower; n++) lower[n] = (char)(name[n] | 0x20);
    lower[n] = '\0';
    for (size_t k = 0; k < sizeof words / sizeof *words; k++)
        if (strstr(lower, words[k]) != NULL) return true;
    return false;
}

/* The length of the known secret `text` starts with, or 0. */
static size_t secret_at(const char *text) {
    for (size_t k = 0; k < secrets.n; k++) {
        size_t len = strlen(secrets.values[k]);
        if (strncmp(text, secrets.values[k], len) == 0) return len;
    }
    return 0;
}

/* Writes `text` to f with every known secret value replaced by "***", neutralised
 * on a terminal. */
void put_masked(FILE *f, const char *text) {
    const char *run = text;
    for (; *text != '\0'; text++) {
        size_t skip = secret_at(text);
        if (skip == 0) continue;
        put_text(f, run, (size_t)(text - run));
        fputs("***", f);
        text += skip - 1;
        run = text + 1;
    }
    put_text(f, run, (size_t)(text - run));
}
