/* What the server sent, written to a terminal: control characters are made visible
 * so that an answer or an error message cannot drive the terminal (retitle it,
 * clear it, write the clipboard with OSC 52, overwrite a line with CR). Newline
 * and tab are kept; other C0 controls show as ^@ .. ^_ (ESC as ^[, CR as ^M), DEL
 * as ^?, and the C1 controls U+0080..U+009F as <U+009B>. A pipe or a file gets the
 * text unchanged, and so does a terminal with --raw-terminal. */
#include "cli.h"

#include <string.h>

static bool raw_terminal;

void safe_text_init(bool raw) { raw_terminal = raw; }

bool neutralise(FILE *f) { return !raw_terminal && is_terminal(f); }

/* Writes one control character visibly. */
static void put_visible(FILE *f, unsigned c) {
    if (c < 0x20)
        fprintf(f, "^%c", (char)(c + '@'));
    else if (c == 0x7f)
        fputs("^?", f);
    else
        fprintf(f, "<U+%04X>", c);
}

void put_text(FILE *f, const char *text, size_t len) {
    if (!neutralise(f)) {
        fwrite(text, 1, len, f);
        return;
    }
    const unsigned char *s = (const unsigned char *)text;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned c = s[i];
        bool c0 = (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f;
        bool c1 = c == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f;
        if (!c0 && !c1) continue;
        fwrite(s + start, 1, i - start, f);
        put_visible(f, c1 ? s[i + 1] : c);
        i += c1 ? 1 : 0;
        start = i + 1;
    }
    fwrite(s + start, 1, len - start, f);
}

/* JSON text (--raw, --json) to a terminal: JSON escapes raw control characters
 * already; DEL and the C1 controls it may carry raw inside strings are written as
 * \u escapes, the same JSON value. */
void put_json_text(FILE *f, const char *json, size_t len) {
    if (!neutralise(f)) {
        fwrite(json, 1, len, f);
        return;
    }
    const unsigned char *s = (const unsigned char *)json;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        bool c1 = s[i] == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f;
        if (s[i] != 0x7f && !c1) continue;
        fwrite(s + start, 1, i - start, f);
        fprintf(f, "\\u%04x", c1 ? s[i + 1] : s[i]);
        i += c1 ? 1 : 0;
        start = i + 1;
    }
    fwrite(s + start, 1, len - start, f);
}
