/* Reading a line on Windows: the console's own line editing (ReadConsoleW in line
 * mode: the arrow keys, Home, End, the console's history on Up and F7), the typed
 * UTF-16 turned into UTF-8, so any language can be typed. No libedit and no bracketed
 * paste: a pasted block arrives line by line (a """ block takes it as one message).
 * Ctrl-C clears the line, Ctrl-Z then Enter leaves (Ctrl-D's part on POSIX). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <windows.h>

const char END_OF_INPUT_KEY[] = "Ctrl-Z then Enter";

void line_editor_init(void) {}

const char *line_editing(void) { return "the console's"; }

/* The console's input mode with `flags` on or off. */
static void console_input_mode(DWORD flags, bool on) {
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    DWORD mode;
    if (GetConsoleMode(in, &mode)) SetConsoleMode(in, on ? mode | flags : mode & ~flags);
}

enum line_result read_line(const char *prompt, char **out) {
    enum { UNITS = 1024 };
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    console_input_mode(ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT | ENABLE_PROCESSED_INPUT, true);
    fputs(prompt, stderr);
    fflush(stderr);
    struct buffer b = {0};
    buffer_adds(&b, "");
    wchar_t units[UNITS + 1];
    DWORD kept = 0; /* a high surrogate whose pair comes with the next read */
    for (;;) {
        DWORD n = 0;
        if (!ReadConsoleW(in, units + kept, UNITS - kept, &n, NULL) || n == 0) {
            /* Ctrl-C ends the read with nothing (ERROR_OPERATION_ABORTED); its handler
             * may set the flag a moment later. */
            bool cleared = got_sigint || got_term || GetLastError() == ERROR_OPERATION_ABORTED;
            buffer_free(&b);
            if (!cleared) return LINE_EOF;
            fputc('\n', stderr);
            return got_term ? LINE_TERMINATED : LINE_CLEARED;
        }
        n += kept;
        kept = units[n - 1] >= 0xd800 && units[n - 1] <= 0xdbff ? 1 : 0;
        int size = WideCharToMultiByte(CP_UTF8, 0, units, (int)(n - kept), NULL, 0, NULL, NULL);
        char *text = size > 0 ? malloc((size_t)size) : NULL;
        if (text != NULL) {
            WideCharToMultiByte(CP_UTF8, 0, units, (int)(n - kept), text, size, NULL, NULL);
            buffer_add(&b, text, (size_t)size);
            free(text);
        }
        if (kept) units[0] = units[n - 1];
        if (b.failed || (b.len > 0 && b.data[b.len - 1] == '\n')) break;
    }
    if (b.failed) {
        buffer_free(&b);
        return LINE_EOF;
    }
    while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r')) b.data[--b.len] = '\0';
    if (b.data[0] == '\x1a') { /* Ctrl-Z: the end of input, as the console's programs take it */
        buffer_free(&b);
        return LINE_EOF;
    }
    *out = b.data;
    return LINE_OK;
}

/* A console sends no bracketed paste: nothing to ask for. */
void bracketed_paste_mode(bool on) { (void)on; }

/* While an answer streams: keys typed are not echoed into it (they wait for the next prompt). */
void keyboard_echo(bool on) { console_input_mode(ENABLE_ECHO_INPUT, on); }
