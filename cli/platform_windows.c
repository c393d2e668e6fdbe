/* The platform calls of cli/platform.h on Windows (built with MinGW-w64; tried under
 * Wine). Text is UTF-8 inside the program: the arguments come from the wide command
 * line, paths and %APPDATA% go through the wide (UTF-16) file calls, and what goes to
 * a console is written with WriteConsoleW (the C library's own writes would pass it
 * through a code page), with escape sequences on (ENABLE_VIRTUAL_TERMINAL_PROCESSING;
 * a console without them gets no colour). A pipe or a file gets the bytes as they are
 * (binary mode: no CR added, no ^Z read as the end). Ctrl-C and Ctrl-Break come
 * through SetConsoleCtrlHandler, on a thread of the system's: the handler sets the
 * flags the loops look at between waits. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <winsock2.h>
#include <windows.h>
#include <shellapi.h>

/* A UTF-8 copy of a UTF-16 string (n units, or -1: up to its NUL), malloc'd; NULL when it cannot be. */
static char *utf8_of(const wchar_t *w, int n) {
    int size = WideCharToMultiByte(CP_UTF8, 0, w, n, NULL, 0, NULL, NULL);
    char *s = size > 0 || n == 0 ? malloc((size_t)size + 1) : NULL;
    if (s == NULL) return NULL;
    if (size > 0) WideCharToMultiByte(CP_UTF8, 0, w, n, s, size, NULL, NULL);
    s[size] = '\0';
    return s;
}

/* A UTF-16 copy of a UTF-8 string, malloc'd; NULL (errno EINVAL or ENOMEM) when it cannot be. */
static wchar_t *wide_of(const char *s) {
    int size = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w = size > 0 ? malloc((size_t)size * sizeof *w) : NULL;
    if (w == NULL) {
        errno = size > 0 ? ENOMEM : EINVAL;
        return NULL;
    }
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, size);
    return w;
}

/* The last Windows error as errno. */
static void set_errno_from_windows(void) {
    switch (GetLastError()) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_NAME: errno = ENOENT; break;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION: errno = EACCES; break;
    case ERROR_ALREADY_EXISTS:
    case ERROR_FILE_EXISTS: errno = EEXIST; break;
    case ERROR_DISK_FULL: errno = ENOSPC; break;
    case ERROR_NOT_ENOUGH_MEMORY: errno = ENOMEM; break;
    default: errno = EIO; break;
    }
}

/* ---------------------------------------------------------------- start, terminals */

static bool console[3]; /* stdin, stdout, stderr: a console (as the program started) */
static bool escapes[3]; /* ... a console with escape sequences on */

static HANDLE handle_of(FILE *f) { return (HANDLE)_get_osfhandle(_fileno(f)); }

/* ---- a console's output: the streams that are one write into a pipe, and a thread
 * writes what comes out of it to the console with WriteConsoleW, in the order written
 * (stdout and stderr share the pipe), UTF-8 turned into UTF-16 whole characters at a
 * time. The streams are unbuffered then: each write reaches the console at once, as
 * on a terminal. */

static HANDLE console_out = INVALID_HANDLE_VALUE, writer;

/* The length of the longest start of s[0..len) that ends with a whole UTF-8 character. */
static size_t whole_characters(const unsigned char *s, size_t len) {
    for (size_t back = 1; back <= 3 && back <= len; back++) {
        unsigned char c = s[len - back];
        if ((c & 0xc0) == 0x80) continue; /* a continuation byte: its lead is further back */
        size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        return need > back ? len - back : len;
    }
    return len;
}

static void write_wide(const char *s, size_t len) {
    wchar_t units[4096];
    int n = len > 0 ? MultiByteToWideChar(CP_UTF8, 0, s, (int)len, units, 4096) : 0; /* bad bytes: U+FFFD */
    for (DWORD done = 0, w = 0; done < (DWORD)n; done += w)
        if (!WriteConsoleW(console_out, units + done, (DWORD)n - done, &w, NULL) || w == 0) break;
}

static DWORD WINAPI console_writer(void *pipe) {
    char buf[4096];
    size_t kept = 0;
    DWORD n;
    while (ReadFile(pipe, buf + kept, (DWORD)(sizeof buf - kept), &n, NULL) && n > 0) {
        size_t len = kept + n, whole = whole_characters((unsigned char *)buf, len);
        if (whole == 0 && len == sizeof buf) whole = len; /* not UTF-8: out as it is */
        write_wide(buf, whole);
        memmove(buf, buf + whole, len - whole);
        kept = len - whole;
    }
    write_wide(buf, kept);
    CloseHandle(pipe);
    return 0;
}

/* At exit: what the streams hold goes out, and the thread ends when the pipe does. */
static void end_console_output(void) {
    fflush(stdout);
    fflush(stderr);
    for (int fd = 1; fd <= 2; fd++)
        if (console[fd]) _close(fd);
    WaitForSingleObject(writer, INFINITE);
}

static void console_output(void) {
    HANDLE r, w;
    console_out = CreateFileW(L"CONOUT$", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                              OPEN_EXISTING, 0, NULL);
    if (console_out == INVALID_HANDLE_VALUE || !CreatePipe(&r, &w, NULL, 0)) return;
    DWORD mode;
    bool vt = GetConsoleMode(console_out, &mode) &&
              SetConsoleMode(console_out, mode | ENABLE_PROCESSED_OUTPUT | ENABLE_VIRTUAL_TERMINAL_PROCESSING);
    int fd = _open_osfhandle((intptr_t)w, _O_WRONLY | _O_BINARY);
    writer = fd >= 0 ? CreateThread(NULL, 0, console_writer, r, 0, NULL) : NULL;
    if (writer == NULL) { /* the streams write to the console themselves */
        if (fd >= 0) _close(fd);
        CloseHandle(r);
        return;
    }
    FILE *streams[3] = {stdin, stdout, stderr};
    for (int k = 1; k <= 2; k++) {
        if (!console[k]) continue;
        _dup2(fd, k);
        setvbuf(streams[k], NULL, _IONBF, 0);
        escapes[k] = vt;
    }
    _close(fd);
    atexit(end_console_output);
}

void platform_init(int *argc, char ***argv) {
    int n = 0;
    wchar_t **wide = CommandLineToArgvW(GetCommandLineW(), &n);
    char **utf8 = wide != NULL ? calloc((size_t)n + 1, sizeof *utf8) : NULL;
    bool ok = utf8 != NULL;
    for (int k = 0; ok && k < n; k++) ok = (utf8[k] = utf8_of(wide[k], -1)) != NULL;
    if (ok) {
        *argc = n;
        *argv = utf8; /* kept until the end: the options point into it */
    } else if (utf8 != NULL) {
        for (int k = 0; k < n; k++) free(utf8[k]);
        free(utf8);
    }
    if (wide != NULL) LocalFree(wide);
    FILE *streams[3] = {stdin, stdout, stderr};
    for (int k = 0; k < 3; k++) {
        DWORD mode;
        _setmode(_fileno(streams[k]), _O_BINARY);
        console[k] = GetConsoleMode(handle_of(streams[k]), &mode) != 0;
    }
    if (console[1] || console[2]) console_output();
}

bool is_terminal(FILE *f) { return f == stdin ? console[0] : f == stdout ? console[1] : f == stderr && console[2]; }

bool takes_escapes(FILE *f) { return f == stdout ? escapes[1] : f == stderr ? escapes[2] : false; }

bool stdin_piped(void) {
    DWORD type = GetFileType(GetStdHandle(STD_INPUT_HANDLE)); /* a console and NUL are FILE_TYPE_CHAR */
    return type == FILE_TYPE_PIPE || type == FILE_TYPE_DISK;
}

/* ---------------------------------------------------------------- Ctrl-C and waiting */

atomic_int got_sigint = 0, got_term = 0, got_stop_watch = 0;
static atomic_int woken = 0;

void on_signal(int sig) {
    if (sig == SIGINT) got_sigint = 1;
    if (sig == SIGTERM) got_term = 1;
    woken = 1;
}

/* On the system's thread for console events: Ctrl-C is SIGINT's, the others (Ctrl-Break,
 * the console closed, logoff, shutdown) SIGTERM's. */
static BOOL WINAPI on_console_event(DWORD event) {
    on_signal(event == CTRL_C_EVENT ? SIGINT : SIGTERM);
    return TRUE;
}

bool catch_signals(void) { return SetConsoleCtrlHandler(on_console_event, TRUE) != 0; }

/* The console's handler cannot wake a wait on a socket: waits are cut in slices this
 * long, between which the flags are looked at. */
enum { SLICE_MS = 50 };

int wait_for(ptrdiff_t fd, int timeout_ms) {
    for (int waited = 0;;) {
        if (got_sigint || got_term || woken) {
            woken = 0;
            return 0;
        }
        int slice = timeout_ms >= 0 && timeout_ms - waited < SLICE_MS ? timeout_ms - waited : SLICE_MS;
        WSAPOLLFD p = {(SOCKET)fd, POLLRDNORM, 0};
        if (fd < 0 || WSAPoll(&p, 1, slice) < 0)
            Sleep((DWORD)slice);
        else if (p.revents != 0)
            return 1;
        waited += slice;
        if (timeout_ms >= 0 && waited >= timeout_ms) return 0;
    }
}

/* ---------------------------------------------------------------- folders and files */

bool app_folder(enum app_folder which, char *buf, size_t size) {
    (void)which; /* configuration and state share %APPDATA%\backend-api */
    const wchar_t *appdata = _wgetenv(L"APPDATA");
    char *folder = appdata != NULL && appdata[0] != L'\0' ? utf8_of(appdata, -1) : NULL;
    int n = folder != NULL ? snprintf(buf, size, "%s\\backend-api", folder) : -1;
    free(folder);
    return n > 0 && (size_t)n < size;
}

static DWORD attributes_of(const char *path) {
    wchar_t *w = wide_of(path);
    DWORD a = w != NULL ? GetFileAttributesW(w) : INVALID_FILE_ATTRIBUTES;
    if (a == INVALID_FILE_ATTRIBUTES && w != NULL) set_errno_from_windows();
    free(w);
    return a;
}

bool is_folder(const char *path) {
    DWORD a = attributes_of(path);
    return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY) != 0;
}

const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/'), *backslash = strrchr(path, '\\');
    const char *last = slash > backslash ? slash : backslash;
    return last != NULL ? last + 1 : path;
}

/* mkdir -p: each folder of the path that is missing (a drive "C:" and a share
 * "\\server\share" are taken as there). The folders inherit their parent's access
 * list: under %APPDATA% the user's alone. */
bool make_private_dirs(char *path) {
    size_t len = strlen(path);
    for (size_t k = 1; k <= len; k++) {
        if (k < len && path[k] != '/' && path[k] != '\\') continue;
        char end = path[k];
        path[k] = '\0';
        bool skip = path[k - 1] == ':' || path[k - 1] == '\\' || path[k - 1] == '/' || is_folder(path);
        wchar_t *w = skip ? NULL : wide_of(path);
        bool ok = skip || (w != NULL && (CreateDirectoryW(w, NULL) || GetLastError() == ERROR_ALREADY_EXISTS));
        if (!ok && w != NULL) set_errno_from_windows();
        free(w);
        path[k] = end;
        if (!ok) return false;
    }
    return true;
}

char *read_file(const char *path, size_t max, size_t *len, struct file_facts *facts) {
    memset(facts, 0, sizeof *facts);
    DWORD a = attributes_of(path);
    if (a == INVALID_FILE_ATTRIBUTES) return NULL;
    if (a & FILE_ATTRIBUTE_DIRECTORY) {
        facts->not_regular = "a directory";
        errno = EINVAL;
        return NULL;
    }
    wchar_t *w = wide_of(path);
    HANDLE h = w != NULL ? CreateFileW(w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                                       OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL)
                         : INVALID_HANDLE_VALUE;
    free(w);
    if (h == INVALID_HANDLE_VALUE) {
        set_errno_from_windows();
        return NULL;
    }
    LARGE_INTEGER size;
    char *data = NULL;
    if (GetFileType(h) != FILE_TYPE_DISK) {
        facts->not_regular = "a device";
        errno = EINVAL;
    } else if (!GetFileSizeEx(h, &size)) {
        set_errno_from_windows();
    } else if ((facts->size = size.QuadPart, (unsigned long long)size.QuadPart > max)) {
        errno = EFBIG;
    } else if ((data = malloc((size_t)size.QuadPart + 1)) == NULL) {
        errno = ENOMEM;
    } else {
        size_t got = 0;
        DWORD n = 1;
        while (got < (size_t)size.QuadPart && n > 0) {
            if (!ReadFile(h, data + got, (DWORD)((size_t)size.QuadPart - got), &n, NULL)) {
                set_errno_from_windows();
                free(data);
                data = NULL;
                break;
            }
            got += n;
        }
        if (data != NULL) {
            data[got] = '\0';
            *len = got;
        }
    }
    CloseHandle(h);
    return data;
}

/* Writes all of data to h; false with errno set. */
static bool write_all(HANDLE h, const char *data, size_t len) {
    while (len > 0) {
        DWORD n = 0, chunk = len > (1u << 30) ? 1u << 30 : (DWORD)len;
        if (!WriteFile(h, data, chunk, &n, NULL) || n == 0) {
            set_errno_from_windows();
            return false;
        }
        data += n;
        len -= n;
    }
    return true;
}

bool replace_file(const char *path, const char *data, size_t len) {
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.%lu.tmp", path, (unsigned long)GetCurrentProcessId());
    wchar_t *wtmp = wide_of(tmp), *wpath = wide_of(path);
    HANDLE h = wtmp != NULL && wpath != NULL
                   ? CreateFileW(wtmp, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL)
                   : INVALID_HANDLE_VALUE;
    bool ok = h != INVALID_HANDLE_VALUE && write_all(h, data, len);
    if (ok && !FlushFileBuffers(h)) ok = false;
    if (h != INVALID_HANDLE_VALUE && !CloseHandle(h)) ok = false;
    if (ok && !MoveFileExW(wtmp, wpath, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) ok = false;
    if (!ok && wtmp != NULL && wpath != NULL) {
        set_errno_from_windows();
        DeleteFileW(wtmp);
    }
    free(wtmp);
    free(wpath);
    return ok;
}

bool remove_file(const char *path) {
    wchar_t *w = wide_of(path);
    bool ok = w != NULL && DeleteFileW(w);
    if (!ok && w != NULL) set_errno_from_windows();
    free(w);
    return ok;
}

bool list_files(const char *dir, void (*seen)(const char *name, long long mtime_ns, void *ctx), void *ctx) {
    char pattern[1100];
    snprintf(pattern, sizeof pattern, "%s\\*", dir);
    wchar_t *w = wide_of(pattern);
    WIN32_FIND_DATAW found;
    HANDLE h = w != NULL ? FindFirstFileW(w, &found) : INVALID_HANDLE_VALUE;
    free(w);
    if (h == INVALID_HANDLE_VALUE) return GetLastError() == ERROR_FILE_NOT_FOUND; /* empty */
    do {
        if (found.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT | FILE_ATTRIBUTE_DEVICE))
            continue;
        char *name = utf8_of(found.cFileName, -1);
        /* FILETIME: 100 ns steps since 1601-01-01 */
        long long ticks = (long long)found.ftLastWriteTime.dwHighDateTime << 32 | found.ftLastWriteTime.dwLowDateTime;
        if (name != NULL) seen(name, (ticks - 116444736000000000LL) * 100, ctx);
        free(name);
    } while (FindNextFileW(h, &found));
    FindClose(h);
    return true;
}
