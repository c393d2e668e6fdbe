/* Markdown rendered on a terminal as the answer streams: headings, bold and
 * emphasis, inline code, fenced code with its language, lists, quotes, rules and
 * links (OSC 8 hyperlinks when colour is on, else "text <url>"). Text goes out as
 * it comes, except what is still undecided, never beyond the current line: the start
 * of a line until its kind is known (a heading, a list, a fence, a rule), and an
 * emphasis, code span or link from its opening mark until it closes. Without colour (NO_COLOR, --color never) bold and
 * italics stay, colours go. Pure logic over a FILE: the server's text goes through
 * put_text (safe_text.c), so a terminal gets it neutralised; only the SGR and OSC 8
 * codes written here are raw. */
#include "cli.h"

#include <string.h>

enum { LINE_MAX_HELD = 8 << 10 }; /* a longer line goes out as it is, unrendered (and held spans are rescanned: bounded) */

/* What the current line is, once known. */
enum kind { UNDECIDED, PLAIN, HEADING, BULLET, QUOTE, FENCE, RULE, CODE };

static const char RESET[] = "\033[0m";

void markdown_init(struct markdown *m, FILE *out, bool color) {
    memset(m, 0, sizeof *m);
    m->out = out;
    m->color = color;
}

static void code(const struct markdown *m, const char *sgr) { fputs(sgr, m->out); }
static void text(const struct markdown *m, const char *s, size_t n) { put_text(m->out, s, n); }

/* Whether a link target may go into an OSC 8 sequence: printable ASCII only. */
static bool safe_url(const char *s, size_t n) {
    for (size_t k = 0; k < n; k++)
        if ((unsigned char)s[k] <= 0x20 || (unsigned char)s[k] >= 0x7f) return false;
    return n > 0;
}

/* Where the span that `marker` (mlen bytes) opens at s[at] closes: its offset; 0 when
 * it is not an opening (a space follows); SIZE_MAX when its end has not come yet. */
static size_t closing(const char *s, size_t n, size_t at, const char *marker, size_t mlen) {
    if (at + mlen >= n) return SIZE_MAX;
    if (s[at + mlen] == ' ') return 0;
    for (size_t k = at + mlen + 1; k + mlen <= n; k++)
        if (memcmp(s + k, marker, mlen) == 0 && s[k - 1] != ' ') return k;
    return SIZE_MAX;
}

static size_t inline_spans(const struct markdown *m, const char *s, size_t n, bool final);

/* `s[at]` starts "[text](url)": writes the link and returns its length; 0 if it is
 * not one; SIZE_MAX when it may still become one. */
static size_t link(const struct markdown *m, const char *s, size_t n, size_t at) {
    const char *close = memchr(s + at, ']', n - at);
    if (close == NULL || (size_t)(close - s) + 1 >= n) return SIZE_MAX;
    if (close[1] != '(') return 0;
    size_t url_at = (size_t)(close - s) + 2;
    const char *end = memchr(s + url_at, ')', n - url_at);
    if (end == NULL) return SIZE_MAX;
    size_t url_len = (size_t)(end - s) - url_at, text_at = at + 1, text_len = (size_t)(close - s) - text_at;
    if (m->color && safe_url(s + url_at, url_len)) {
        fprintf(m->out, "\033]8;;%.*s\033\\\033[4m", (int)url_len, s + url_at);
        inline_spans(m, s + text_at, text_len, true);
        fputs("\033[24m\033]8;;\033\\", m->out);
    } else {
        inline_spans(m, s + text_at, text_len, true);
        fputs(" <", m->out);
        text(m, s + url_at, url_len);
        fputc('>', m->out);
    }
    return (size_t)(end - s) + 1 - at;
}

/* A span between two marks, its inside rendered too. */
static size_t span(const struct markdown *m, const char *s, size_t at, size_t end, size_t mlen, const char *on,
                   const char *off) {
    code(m, on);
    inline_spans(m, s + at + mlen, end - at - mlen, true);
    code(m, off);
    return end + mlen - at;
}

/* Bold, emphasis, inline code and links: writes s up to where a span is still open
 * (all of it when `final`: the line has ended, an open mark is then text). Returns
 * how much was written. */
static size_t inline_spans(const struct markdown *m, const char *s, size_t n, bool final) {
    size_t start = 0;
    for (size_t k = 0; k < n;) {
        size_t used = 0;
        char c = s[k];
        bool word_start = k == 0 || s[k - 1] == ' ' || s[k - 1] == '(';
        bool twice = k + 1 < n && s[k + 1] == c;
        if (c == '`' || c == '*' || (c == '_' && word_start) || c == '[') {
            size_t mlen = c == '`' || c == '[' || !twice ? 1 : 2;
            char mark[3] = {c, c, '\0'};
            mark[mlen] = '\0';
            size_t end = c == '[' ? 0 : closing(s, n, k, mark, mlen);
            if (c != '[' && k + 1 == n && c != '`') end = SIZE_MAX; /* "*" may become "**" */
            text(m, s + start, k - start);
            start = k;
            if (c == '[') used = link(m, s, n, k);
            else if (end != 0 && end != SIZE_MAX && c == '`') {
                if (m->color) code(m, "\033[36m");
                else fputc('`', m->out);
                text(m, s + k + 1, end - k - 1);
                if (m->color) code(m, "\033[39m");
                else fputc('`', m->out);
                used = end + 1 - k;
            } else if (end != 0 && end != SIZE_MAX) {
                used = span(m, s, k, end, mlen, mlen == 2 ? "\033[1m" : "\033[3m", mlen == 2 ? "\033[22m" : "\033[23m");
            } else {
                used = end;
            }
            if (used == SIZE_MAX && !final) return k; /* held until it closes or the line ends */
            if (used == SIZE_MAX || used == 0) used = 0;
        }
        if (used == 0) {
            k++;
            continue;
        }
        k += used;
        start = k;
    }
    text(m, s + start, n - start);
    return n;
}

/* Whether every byte of s is c or a space. */
static bool only(const char *s, size_t n, char c) {
    for (size_t k = 0; k < n; k++)
        if (s[k] != c && s[k] != ' ') return false;
    return true;
}

/* Whether s (n bytes) is a beginning of `whole`. */
static bool begins(const char *s, size_t n, const char *whole) {
    return n <= strlen(whole) && memcmp(s, whole, n) == 0;
}

/* The kind of the line so far (UNDECIDED until its start tells, unless `final`);
 * *at: where its text starts, after the marks. */
static enum kind classify(const struct markdown *m, const char *s, size_t n, bool final, size_t *at) {
    size_t indent = 0;
    while (indent < n && s[indent] == ' ') indent++;
    const char *t = s + indent;
    size_t tn = n - indent;
    *at = 0;
    bool fence = tn >= 3 && (memcmp(t, "```", 3) == 0 || memcmp(t, "~~~", 3) == 0);
    bool maybe_fence = !fence && (begins(t, tn, "```") || begins(t, tn, "~~~"));
    if (!final && (tn == 0 || maybe_fence)) return UNDECIDED;
    if (fence) return FENCE;
    if (m->in_fence) return CODE;
    size_t hashes = 0;
    while (hashes < tn && hashes < 7 && t[hashes] == '#') hashes++;
    if (hashes > 0 && hashes == tn && !final) return UNDECIDED;
    if (indent < 4 && hashes >= 1 && hashes <= 6 && (hashes == tn || t[hashes] == ' ')) {
        *at = indent + hashes;
        while (*at < n && s[*at] == ' ') ++*at;
        return HEADING;
    }
    if (t[0] == '-' || t[0] == '*' || t[0] == '_') {
        if (only(t, tn, t[0])) {
            if (!final) return UNDECIDED;
            size_t marks = 0;
            for (size_t k = 0; k < tn; k++) marks += t[k] == t[0];
            if (marks >= 3) return RULE;
        }
    }
    if (tn == 1 && t[0] == '+' && !final) return UNDECIDED;
    if (tn >= 2 && (t[0] == '-' || t[0] == '*' || t[0] == '+') && t[1] == ' ') {
        *at = indent + 2;
        return BULLET;
    }
    if (tn == 1 && t[0] == '>' && !final) return UNDECIDED; /* its space may follow */
    if (t[0] == '>') {
        *at = indent + 1 + (tn > 1 && t[1] == ' ');
        return QUOTE;
    }
    return PLAIN;
}

/* Writes what can go out of the current line; `final`: the line has ended. */
static void advance(struct markdown *m, bool final) {
    const char *s = m->line.data;
    size_t n = m->line.len;
    if (m->kind == UNDECIDED) {
        size_t at = 0;
        m->kind = classify(m, s, n, final, &at);
        if (m->kind == UNDECIDED) return;
        size_t indent = 0;
        while (indent < n && s[indent] == ' ') indent++;
        if (m->kind == BULLET || m->kind == QUOTE) text(m, s, indent);
        if (m->kind == HEADING) code(m, !m->color ? "\033[1m" : at > 0 && s[1] == '#' ? "\033[1;35m" : "\033[1;4;35m");
        if (m->kind == BULLET) fputs(m->color ? "\033[36m•\033[39m " : "• ", m->out);
        if (m->kind == QUOTE) fputs(m->color ? "\033[2m│\033[22m \033[3m" : "│ ", m->out);
        if (m->kind == CODE && m->color) code(m, "\033[33m");
        m->done = m->kind == PLAIN || m->kind == CODE ? 0 : at;
    }
    switch (m->kind) {
    case FENCE:
    case RULE:
        if (!final) return;
        if (m->color) code(m, "\033[2m");
        if (m->kind == FENCE) text(m, s, n), m->in_fence = !m->in_fence;
        else fputs("────────────────────────────────", m->out);
        if (m->color) code(m, RESET);
        m->done = n;
        return;
    case CODE:
        text(m, s + m->done, n - m->done);
        m->done = n;
        break;
    default: m->done += inline_spans(m, s + m->done, n - m->done, final); break;
    }
    if (!final) return;
    if (m->kind == HEADING) code(m, RESET);
    if (m->kind == QUOTE && m->color) code(m, "\033[23m");
    if (m->kind == CODE && m->color) code(m, "\033[39m");
}

/* The line is over: what is held goes out, and the next starts afresh. */
static void end_line(struct markdown *m) {
    if (!m->passing) advance(m, true);
    m->line.len = 0;
    m->done = 0;
    m->kind = UNDECIDED;
    m->passing = false;
}

/* Takes streamed text and writes what can go out of it. */
void markdown_feed(struct markdown *m, const char *s, size_t n) {
    while (n > 0) {
        const char *nl = memchr(s, '\n', n);
        size_t part = nl != NULL ? (size_t)(nl - s) : n;
        if (!m->passing && m->line.len + part > LINE_MAX_HELD) { /* too long to hold: out as it is */
            if (m->line.len > m->done) text(m, m->line.data + m->done, m->line.len - m->done);
            m->passing = true;
        }
        if (m->passing) {
            text(m, s, part);
        } else {
            buffer_add(&m->line, s, part);
            advance(m, false);
        }
        if (nl == NULL) break;
        end_line(m);
        fputc('\n', m->out);
        s += part + 1;
        n -= part + 1;
    }
}

/* The last line, which no newline ended; then the renderer is empty again. */
void markdown_flush(struct markdown *m) {
    if (m->line.len > 0) end_line(m);
}

void markdown_free(struct markdown *m) { buffer_free(&m->line); }
