/* Reading a line in the conversation. With libedit (BSD licence; on macOS, and on
 * Linux wherever ssh is) loaded at run time when present, through its
 * readline-compatible calls, with its history kept in a file from one run to the
 * next; else the terminal's own line mode. Nothing to install either way.
 *
 * Pastes: the terminal is asked for bracketed paste (ESC [ ? 2004 h) while the
 * conversation runs, so a pasted block arrives as ESC [ 200 ~ ... ESC [ 201 ~ and lands in
 * the line being edited, its newlines kept, instead of sending one message per line:
 * Enter sends it. The keyboard's bytes go through `editline_getc` below, which finds
 * those markers, before libedit sees them (through rl_getc_function). */
#include "cli.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct {
    void *lib; /* NULL: the terminal's own line mode */
    void (*install)(const char *prompt, void (*on_line)(char *));
    void (*remove)(void);
    void (*read_char)(void);
    void (*replace_line)(const char *text, int clear_undo);
    int (*add_history)(const char *line);
    int (*bind_key)(int key, int (*fn)(int, int));
    int (*insert)(int count, int key);
    int (*read_history)(const char *file);
    int (*write_history)(const char *file);
    int (*truncate_history)(const char *file, int lines);
    int (**getc_function)(FILE *);
    FILE **instream, **outstream;
    const char **name;
    int *catch_signals;
} editline;

const char END_OF_INPUT_KEY[] = "Ctrl-D";

static bool bracketed_paste; /* the terminal is asked for it */
static char history_path[1100];
enum { HISTORY_LINES = 1000, PASTE_MAX = 4 << 20 };

/* ---------------------------------------------------------------- the keyboard's bytes */

static struct {
    unsigned char buf[4096];
    size_t start, len;
} in;

static const char PASTE_START[] = "\033[200~", PASTE_END[] = "\033[201~";

/* Reads more bytes from the terminal, waiting up to timeout_ms (negative: for
 * ever). False at end of input or when nothing came in time. */
static bool fill(int timeout_ms) {
    if (in.start > 0) {
        memmove(in.buf, in.buf + in.start, in.len);
        in.start = 0;
    }
    if (in.len == sizeof in.buf) return true;
    if (timeout_ms >= 0 && wait_for(STDIN_FILENO, timeout_ms) != 1) return false;
    for (;;) {
        ssize_t n = read(STDIN_FILENO, in.buf + in.len, sizeof in.buf - in.len);
        if (n < 0 && errno == EINTR && !got_sigint && !got_term) continue;
        if (n <= 0) return false;
        in.len += (size_t)n;
        return true;
    }
}

/* Whether the bytes waiting start with `marker`; waits briefly for the rest of a
 * marker's beginning (a lone Escape key is not kept waiting long). */
static bool starts_with(const char *marker) {
    size_t m = strlen(marker);
    while (in.len < m && memcmp(in.buf + in.start, marker, in.len) == 0 && in.len > 0)
        if (!fill(50)) return false;
    return in.len >= m && memcmp(in.buf + in.start, marker, m) == 0;
}

static void consume(size_t n) {
    in.start += n;
    in.len -= n;
}

/* After PASTE_START: the pasted text up to PASTE_END, added to `b` (CR and CR LF
 * as a newline; past PASTE_MAX the rest is dropped). */
static void take_paste(struct buffer *b) {
    consume(strlen(PASTE_START));
    bool after_cr = false;
    for (;;) {
        if (in.len == 0 && !fill(-1)) return;
        if (in.buf[in.start] == '\033' && starts_with(PASTE_END)) {
            consume(strlen(PASTE_END));
            return;
        }
        char c = (char)in.buf[in.start];
        consume(1);
        bool skip = c == '\n' && after_cr; /* the LF of a CR LF */
        after_cr = c == '\r';
        if (!skip && b->len < PASTE_MAX) buffer_add(b, c == '\r' ? "\n" : &c, 1);
    }
}

/* ---------------------------------------------------------------- libedit */

/* dlsym into a function pointer, as POSIX allows. */
#define LOOKUP(lib, field, symbol) (*(void **)(&(field)) = dlsym(lib, symbol))

static bool editline_bind(void *lib) {
    return LOOKUP(lib, editline.install, "rl_callback_handler_install") &&
           LOOKUP(lib, editline.remove, "rl_callback_handler_remove") &&
           LOOKUP(lib, editline.read_char, "rl_callback_read_char") &&
           LOOKUP(lib, editline.replace_line, "rl_replace_line") &&
           LOOKUP(lib, editline.add_history, "add_history") && LOOKUP(lib, editline.bind_key, "rl_bind_key") &&
           LOOKUP(lib, editline.insert, "rl_insert") && LOOKUP(lib, editline.read_history, "read_history") &&
           LOOKUP(lib, editline.write_history, "write_history") &&
           LOOKUP(lib, editline.truncate_history, "history_truncate_file") &&
           LOOKUP(lib, editline.getc_function, "rl_getc_function") &&
           LOOKUP(lib, editline.instream, "rl_instream") && LOOKUP(lib, editline.outstream, "rl_outstream") &&
           LOOKUP(lib, editline.name, "rl_readline_name") && LOOKUP(lib, editline.catch_signals, "rl_catch_signals");
}

/* A paste on its way into the line being edited, handed to libedit a character at a
 * time so that it draws it; a newline in it as NEWLINE_SIGN (shown as one, a line
 * being one screen line to libedit), turned back by read_edited_line. */
static struct buffer pasted;
static size_t pasted_at;
static const char NEWLINE_SIGN[] = "\u2424"; /* ␤ */
enum { NEWLINE_SIGN_CP = 0x2424 };

/* The next code point of `s` (UTF-8) at *at, which advances; NUL at the end. */
static unsigned next_code_point(const unsigned char *s, size_t len, size_t *at) {
    if (*at >= len) return 0;
    unsigned c = s[*at];
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (*at + n > len) n = len - *at;
    unsigned cp = n == 1 ? c : c & (0x3f >> (n - 1));
    for (size_t k = 1; k < n; k++) cp = cp << 6 | (s[*at + k] & 0x3f);
    *at += n;
    return cp;
}

/* libedit's source of characters: the keyboard's bytes, UTF-8 decoded to code
 * points; a paste's characters as typed ones, its newlines as NEWLINE_SIGN and its
 * other control characters left out (they would be editing keys). */
static int editline_getc(FILE *f) {
    (void)f;
    while (pasted_at < pasted.len) {
        unsigned cp = next_code_point((const unsigned char *)pasted.data, pasted.len, &pasted_at);
        if (cp == '\n') return NEWLINE_SIGN_CP;
        if (cp >= 0x20 || cp == '\t') return (int)cp;
    }
    if (in.len == 0 && !fill(-1)) return EOF;
    if (bracketed_paste && in.buf[in.start] == '\033' && starts_with(PASTE_START)) {
        buffer_free(&pasted);
        pasted_at = 0;
        take_paste(&pasted);
        return editline_getc(f);
    }
    unsigned c = in.buf[in.start];
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1, at = 0;
    while (in.len < n)
        if (!fill(-1)) return EOF;
    unsigned cp = next_code_point(in.buf + in.start, n, &at);
    consume(n);
    return (int)cp;
}

static void history_file(void) {
    char dir[1024];
    if (!app_folder(APP_STATE, dir, sizeof dir)) return;
    snprintf(history_path, sizeof history_path, "%s/history", dir);
    editline.read_history(history_path);
}

/* Whether the locale (LC_CTYPE, from the environment) is UTF-8, as the keyboard's
 * bytes are decoded. */
static bool utf8_locale(void) {
    const char *set = nl_langinfo(CODESET);
    return set != NULL && (strcmp(set, "UTF-8") == 0 || strcmp(set, "utf8") == 0);
}

/* Loads libedit unless the terminal cannot take it (TERM unset or "dumb") or the
 * locale is not UTF-8: libedit would drop what it cannot convert, so the terminal's
 * line mode, which passes the bytes on as they are typed, is used, with a note. */
void line_editor_init(void) {
    static const char *const names[] = {"libedit.so.2", "libedit.so", "libedit.3.dylib", "libedit.dylib"};
    const char *term = getenv("TERM");
    if (term == NULL || term[0] == '\0' || strcmp(term, "dumb") == 0) return;
    bracketed_paste = isatty(STDIN_FILENO) == 1 && isatty(STDERR_FILENO) == 1;
    if (!utf8_locale()) {
        if (bracketed_paste)
            say("note: the locale's character set (%s) is not UTF-8: line editing is off, typed text goes as the "
                "terminal sends it; set LANG=C.UTF-8 (or another UTF-8 locale) for line editing",
                nl_langinfo(CODESET));
        return;
    }
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
    *editline.getc_function = editline_getc;
    editline.bind_key('\t', editline.insert);
    history_file();
}

const char *line_editing(void) { return editline.lib != NULL ? "libedit" : "the terminal's"; }

/* Keeps a line in the history file, private to the user. */
static void remember(const char *line) {
    editline.add_history(line);
    if (history_path[0] == '\0') return;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", history_path);
    *strrchr(dir, '/') = '\0';
    if (!make_private_dirs(dir)) return;
    int fd = open(history_path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) close(fd);
    if (editline.write_history(history_path) == 0) editline.truncate_history(history_path, HISTORY_LINES);
}

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
        if (in.len > 0 || pasted_at < pasted.len || wait_for(STDIN_FILENO, -1) == 1) {
            editline.read_char();
        } else if (got_term || got_sigint) {
            editline.replace_line("", 0);
            editline.remove();
            fputs(got_term ? "\n" : "^C\n", stderr); /* as shells show it (the terminal's line mode echoes it) */
            return got_term ? LINE_TERMINATED : LINE_CLEARED;
        }
    }
    if (edited_line == NULL) return LINE_EOF;
    for (char *sign; (sign = strstr(edited_line, NEWLINE_SIGN)) != NULL;) { /* a paste's newlines */
        *sign = '\n';
        memmove(sign + 1, sign + strlen(NEWLINE_SIGN), strlen(sign + strlen(NEWLINE_SIGN)) + 1);
    }
    if (edited_line[0] != '\0') remember(edited_line);
    *out = edited_line;
    return LINE_OK;
}

/* ---------------------------------------------------------------- the terminal's line mode */

/* Reads a line in the terminal's own line mode (erase, kill and word erase work);
 * a paste goes on across its newlines until the line after it ends. */
static enum line_result read_plain_line(const char *prompt, char **out) {
    struct buffer b = {0};
#ifdef IUTF8
    struct termios t; /* erase takes a whole UTF-8 character, not its last byte (Linux) */
    if (utf8_locale() && tcgetattr(STDIN_FILENO, &t) == 0 && (t.c_iflag & IUTF8) == 0) {
        t.c_iflag |= IUTF8;
        tcsetattr(STDIN_FILENO, TCSANOW, &t);
    }
#endif
    fputs(prompt, stderr);
    fflush(stderr);
    buffer_adds(&b, "");
    for (;;) {
        if (in.len == 0) {
            if (wait_for(STDIN_FILENO, -1) != 1) {
                if (!got_term && !got_sigint) continue;
                tcflush(STDIN_FILENO, TCIFLUSH); /* what was typed of the line */
                buffer_free(&b);
                fputc('\n', stderr);
                return got_term ? LINE_TERMINATED : LINE_CLEARED;
            }
            if (!fill(0)) {
                bool empty = b.len == 0;
                if (empty) {
                    buffer_free(&b);
                    fputc('\n', stderr);
                    return LINE_EOF;
                }
                break;
            }
        }
        if (bracketed_paste && in.buf[in.start] == '\033' && starts_with(PASTE_START)) {
            take_paste(&b);
            continue;
        }
        char c = (char)in.buf[in.start];
        consume(1);
        if (c == '\n') break;
        buffer_add(&b, &c, 1);
    }
    if (b.data == NULL) return LINE_EOF;
    *out = b.data;
    return LINE_OK;
}

enum line_result read_line(const char *prompt, char **out) {
    return editline.lib != NULL ? read_edited_line(prompt, out) : read_plain_line(prompt, out);
}

/* Asks the terminal for bracketed paste for the whole conversation (a paste while
 * an answer streams is then one message too), or stops asking. */
void bracketed_paste_mode(bool on) {
    if (!bracketed_paste) return;
    fputs(on ? "\033[?2004h" : "\033[?2004l", stderr);
    fflush(stderr);
}

/* While an answer streams: keys typed are not echoed into it (they wait, unread, for
 * the next prompt); then the terminal echoes again. */
void keyboard_echo(bool on) {
    struct termios t;
    if (isatty(STDIN_FILENO) != 1 || tcgetattr(STDIN_FILENO, &t) != 0) return;
    t.c_lflag = on ? t.c_lflag | ECHO : t.c_lflag & ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSANOW, &t);
}
