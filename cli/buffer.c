/* A growing NUL-terminated string, and JSON strings written into it: what the
 * conversation keeps of its messages and what the store writes. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

void buffer_add(struct buffer *b, const char *text, size_t len) {
    if (b->failed) return;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1) cap *= 2;
        char *bigger = realloc(b->data, cap);
        if (bigger == NULL) {
            b->failed = true;
            return;
        }
        b->data = bigger;
        b->cap = cap;
    }
    memcpy(b->data + b->len, text, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void buffer_adds(struct buffer *b, const char *text) { buffer_add(b, text, strlen(text)); }

/* `text` (UTF-8) as a JSON string: quotes, backslashes and control characters escaped. */
void buffer_add_json_string(struct buffer *b, const char *text) {
    buffer_add(b, "\"", 1);
    for (const char *s = text; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            buffer_add(b, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            buffer_add(b, esc, 6);
        } else {
            buffer_add(b, s, 1);
        }
    }
    buffer_add(b, "\"", 1);
}

void buffer_free(struct buffer *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}
