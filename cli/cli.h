/* What the files of the command-line client share. One file per concern, as curl's
 * src/tool_*.c:
 *   backend-api.c   main: what to do (an answer, a conversation, a listing, logs)
 *   help.c          --help
 *   options.c       the option table, the command line, the environment, settings
 *   config.c        the configuration file (one long option per line, as .curlrc)
 *   platform.h      what differs between POSIX and Windows (platform_posix.c,
 *                   platform_windows.c): start, terminals, signals, files
 *   say.c           messages on standard error, neutralised on a terminal
 *   safe_text.c     control sequences from the server made visible on a terminal
 *   buffer.c        a growing string, and JSON strings written into it
 *   client.c        the library's client and request from the options; secrets
 *   report.c        errors and the hints that fit them
 *   output.c        printing an answer as it arrives
 *   markdown.c      markdown rendered on a terminal as it streams (tests/cli/markdown_test.c)
 *   answer.c        one answer: open, stream, finish
 *   beyond_text.c   an answer's tool calls, refusal and generated media (--save-media)
 *   attach.c        attachments: media, video, text files as context
 *   conversation.c  the messages so far and one turn of a conversation
 *   store.c         conversations saved on disk, one JSON file each
 *   logs.c          `backend-api logs`
 *   models.c        --list-models
 *   lineedit.c      reading a line: libedit or the terminal's, pastes, history (POSIX)
 *   lineedit_windows.c  reading a line on Windows: the console's own line editing
 *   chat.c          the conversation on a terminal and its /commands
 * Written against the public C API in include/backend_api.h only. */
#ifndef BACKEND_API_CLI_H
#define BACKEND_API_CLI_H

#define _POSIX_C_SOURCE 200809L
#define __USE_MINGW_ANSI_STDIO 1 /* MinGW: C99's printf (%zu, %lld), not the system's */

#include <backend_api.h>

#include "platform.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
    EXIT_DONE = 0,         /* the answer is complete; or the conversation was left */
    EXIT_STREAM = 1,       /* the request or the stream failed */
    EXIT_USAGE = 2,        /* bad command line, environment, configuration, --field, --media, --header */
    EXIT_SERVER = 3,       /* the server sent an in-stream error or auth chunk */
    EXIT_INTERRUPT = 130,  /* Ctrl-C (SIGINT) */
    EXIT_TERMINATED = 143, /* SIGTERM or SIGHUP */
    GO_ON = -1,            /* not an exit status: carry on */
};

/* The server a plain `g4f api` is: its backend API, and its OpenAI-compatible one. */
#define DEFAULT_URL "http://127.0.0.1:1337"
#define DEFAULT_OPENAI_URL "http://127.0.0.1:1337/v1"

/* ---------------------------------------------------------------- help.c */
void print_help(void);

/* ---------------------------------------------------------------- options.c */
enum opt {
    O_URL, O_PROTOCOL, O_MODEL, O_PROVIDER, O_SYSTEM, O_MEDIA, O_ATTACH, O_FIELD, O_HEADER, O_KEY_IN,
    O_PROXY, O_CACERT, O_INSECURE, O_RETRIES, O_CONNECT_TIMEOUT, O_HEADERS_TIMEOUT,
    O_IDLE_TIMEOUT, O_TOTAL_TIMEOUT, O_MAX_LINE, O_RAW, O_JSON, O_QUIET, O_VERBOSE, O_COLOR,
    O_RAW_TERMINAL, O_HIDE_REASONING, O_SHOW_REASONING, O_RENDER, O_CONTINUE, O_CONVERSATION, O_NO_LOG, O_CONFIG, O_NO_CONFIG, O_LIST_MODELS,
    O_SAVE_MEDIA, O_LIST_PROVIDERS, O_VERSION, O_HELP,
    O_API_KEY, O_G4F_API_KEY, /* configuration file only: keys do not belong on a command line */
    O_COUNT
};

struct optspec {
    const char *name; /* long name, without "--" */
    char short_name;  /* 0: none */
    bool takes_value;
    bool repeatable;
    bool in_config;  /* may be set in the configuration file */
    const char *env; /* the environment variable used when the option is not given */
};
extern const struct optspec OPTS[O_COUNT];

struct list {
    const char **items;
    size_t n, cap;
};

/* Where a value came from, weakest first: precedence is command line > environment > file. */
enum origin { FROM_NONE, FROM_FILE, FROM_ENV, FROM_COMMAND_LINE };

struct options {
    const char *value[O_COUNT]; /* the winning value; NULL: none */
    enum origin origin[O_COUNT];
    bool given[O_COUNT];       /* set (a flag), wherever */
    struct list many[O_COUNT]; /* repeatable options: the file's, then the command line's */
    struct list words;         /* the message's words */
    char *config_text;         /* the configuration file's values point into this */
    char config_path[1024];    /* "" when none was read */
    unsigned config_line[O_COUNT]; /* the file's line of a value */
    /* derived from the values */
    long long timeout_ms[4]; /* -1: the library's default */
    long long max_line;      /* 0: the library's default */
    long long retries;
    uint32_t key_in;
    uint32_t protocol; /* a backend_api_protocol */
    const char *api_key, *g4f_key;
    const char *url;     /* never printed as it is: it may hold user:password */
    bool url_defaulted;  /* no URL was given anywhere */
    char *url_with_scheme; /* malloc'd: the URL given without a scheme, with http:// */
    bool color;          /* SGR colour codes on the terminal */
    bool render;         /* markdown rendered: --render, auto on a terminal */
    bool verbose;        /* provider, finish and usage notes on a terminal too */
    bool raw_terminal;   /* the server's text reaches a terminal unneutralised */
    enum reasoning {
        REASONING_AUTO,   /* on standard output when it is a terminal, else on standard error */
        REASONING_HIDDEN, /* --hide-reasoning: nowhere */
        REASONING_SHOWN,  /* --show-reasoning: on standard output, also redirected */
    } reasoning;
    bool log;            /* conversations are saved */
    char *message;       /* one-shot mode; malloc'd */
};

int parse_command_line(int argc, char **argv, struct options *o);
void options_free(struct options *o);
bool option_set(struct options *o, enum opt id, const char *value, enum origin from);
const char *source_of(const struct options *o, enum opt id, char *buf, size_t size);
int derive_settings(struct options *o);
bool openai(const struct options *o);
bool list_push(struct list *l, const char *item);

/* ---------------------------------------------------------------- config.c */
int read_config(struct options *o, const char *explicit_path);

/* ---------------------------------------------------------------- safe_text.c */
/* Whether text for `f` is neutralised: f is a terminal and --raw-terminal is off. */
void safe_text_init(bool raw_terminal);
bool neutralise(FILE *f);
void put_text(FILE *f, const char *text, size_t len);
void put_json_text(FILE *f, const char *json, size_t len);

/* ---------------------------------------------------------------- say.c */
void say(const char *fmt, ...) PRINTF_FORMAT(1, 2);
void add_secret(const char *value);
bool secret_header_name(const char *name);
void put_masked(FILE *f, const char *text);

/* ---------------------------------------------------------------- buffer.c */
struct buffer {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len, cap;
    bool failed; /* out of memory once: the content is incomplete */
};
void buffer_add(struct buffer *b, const char *text, size_t len);
void buffer_adds(struct buffer *b, const char *text);
void buffer_add_json_string(struct buffer *b, const char *text);
void buffer_free(struct buffer *b);

/* ---------------------------------------------------------------- client.c */
int make_client(const struct options *o, backend_api_client **out);
backend_api_status log_to_stderr(backend_api_client *client, uint32_t level, backend_api_error **err);

/* ---------------------------------------------------------------- report.c */
struct where {
    const struct options *o;
    const char *path; /* what was asked of the server: "/backend-api/v2/conversation" */
};
void url_for_display(const char *url, char *buf, size_t size);
void report(const char *what, backend_api_error *err, const struct where *w);
bool shorten_retry_error(const char *text, char *buf, size_t size);

/* ---------------------------------------------------------------- markdown.c */
struct markdown {
    FILE *out;
    bool color;         /* SGR colours and OSC 8 hyperlinks; without: bold and italics only */
    bool in_fence;      /* inside ``` ... ``` */
    bool passing;       /* the current line was too long to hold: it goes out as it is */
    int kind;           /* what the current line is, once known (markdown.c) */
    size_t done;        /* bytes of the line written */
    struct buffer line; /* the current line, until its newline */
};
void markdown_init(struct markdown *m, FILE *out, bool color);
void markdown_feed(struct markdown *m, const char *text, size_t len);
void markdown_flush(struct markdown *m);
void markdown_free(struct markdown *m);

/* ---------------------------------------------------------------- output.c */
enum output { OUT_TEXT, OUT_RAW, OUT_JSON };
struct printer {
    enum output mode;
    bool tty;             /* standard output is a terminal */
    bool color;           /* SGR codes allowed */
    bool notes;           /* provider, finish and usage on stderr */
    bool spinner;         /* a spinner on stderr while waiting (a terminal, not --quiet) */
    bool waiting;         /* no text of the answer yet */
    bool spinner_drawn;   /* a spinner frame is on the screen */
    unsigned frame;       /* the spinner's next frame */
    FILE *reasoning_to;   /* where reasoning goes (options.c's choose_reasoning); NULL: nowhere */
    bool verbose;         /* -v: errors in full */
    bool render;          /* markdown rendered (a terminal, or --render always) */
    struct markdown md;
    bool in_reasoning;    /* a run of reasoning is being printed */
    bool content_printed; /* some content went out ... */
    char last_content;    /* ... ending with this byte */
    bool server_error;    /* an error/auth chunk came */
    unsigned long chunks; /* chunks received */
    char finish[64];
    char usage[160];
    char title[160];
};
void printer_init(struct printer *p, const struct options *o);
void spinner_draw(struct printer *p);
void print_chunk(struct printer *p, const backend_api_chunk *chunk);
int finish_turn(struct printer *p, backend_api_stream *stream, backend_api_status st, backend_api_error *err,
                const struct where *w);

/* ---------------------------------------------------------------- answer.c */
int stream_answer(const struct options *o, backend_api_client *client, const backend_api_request *req,
                  backend_api_stream **out);

/* ---------------------------------------------------------------- beyond_text.c */
void beyond_text(const struct options *o, const backend_api_client *client, const backend_api_request *req,
                 const backend_api_stream *stream);

/* ---------------------------------------------------------------- attach.c */
int attach_files(const struct list *paths, backend_api_request *req, struct buffer *context);

/* ---------------------------------------------------------------- store.c */
#define ID_SIZE 40
bool store_dir(char *buf, size_t size);
bool valid_id(const char *id);
void new_id(char *id);
bool store_write(const char *id, const char *json, size_t len);
backend_api_chunk *store_read(const char *id);
bool store_latest(char *id);
int store_resolve(const char *prefix, char *id);
bool store_remove(const char *id);
size_t store_list(char (*ids)[ID_SIZE], size_t max);

/* ---------------------------------------------------------------- conversation.c */
struct conversation {
    const struct options *o;
    backend_api_client *client;
    char id[ID_SIZE];    /* "" until the first turn is saved */
    const char *model;   /* NULL: the server's choice */
    const char *provider;
    char *owned[3];      /* model, provider, system when set in the conversation */
    const char *system;  /* NULL: none */
    struct buffer history;      /* the messages so far: JSON objects joined by commas */
    struct buffer state;        /* the server's `conversation` state, JSON; empty: none */
    struct buffer reasoning;    /* each answer's reasoning ("" when none): JSON strings joined by commas,
                                   saved beside the messages (not sent back) */
    char created[32];
    struct list attach;  /* files for the next message: -a and --media, then /attach */
    struct list owned_attach; /* the malloc'd ones among them (/attach) */
};
void conversation_init(struct conversation *c, const struct options *o, backend_api_client *client);
int conversation_resume(struct conversation *c, const char *id);
void conversation_reset(struct conversation *c);
void conversation_set(struct conversation *c, int which, const char *value);
void conversation_free(struct conversation *c);
bool conversation_attach(struct conversation *c, const char *path);
int send_message(struct conversation *c, const char *message);
void conversation_print(const struct conversation *c, FILE *f);
enum { SET_MODEL, SET_PROVIDER, SET_SYSTEM };

/* ---------------------------------------------------------------- logs.c */
int logs_command(int argc, char **argv);
void print_saved(const backend_api_chunk *saved, FILE *f);

/* ---------------------------------------------------------------- models.c */
int list_models(const struct options *o, const backend_api_client *client);
int list_providers(const struct options *o, const backend_api_client *client);

/* ---------------------------------------------------------------- lineedit.c */
enum line_result { LINE_OK, LINE_EOF, LINE_CLEARED, LINE_TERMINATED };
extern const char END_OF_INPUT_KEY[]; /* what ends the input at the prompt: "Ctrl-D" */
void line_editor_init(void);
const char *line_editing(void);
enum line_result read_line(const char *prompt, char **out);
void bracketed_paste_mode(bool on);
void keyboard_echo(bool on);

/* ---------------------------------------------------------------- chat.c */
int chat(struct conversation *c);

#endif
