/* Printing an answer as it arrives: content on standard output, reasoning labelled
 * "[reasoning]" and dimmed on a terminal (on standard error when standard output is
 * not one: a redirected answer holds the answer only unless --show-reasoning asks;
 * --hide-reasoning: nowhere), notes and errors on standard error; --raw and --json.
 * Chunk fields are read through the library's JSON Pointer look-ups. Everything
 * the server sent goes through put_text (safe_text.c) on its way to a terminal. */
#include "cli.h"

#include <string.h>

/* The string at `pointer` in the chunk copied into buf; false when there is none. */
static bool string_at(const backend_api_chunk *chunk, const char *pointer, char *buf, size_t size) {
    const char *value = NULL;
    if (backend_api_chunk_get_string(chunk, pointer, &value, NULL) != BACKEND_API_STATUS_OK) return false;
    snprintf(buf, size, "%s", value);
    return true;
}

void printer_init(struct printer *p, const struct options *o) {
    memset(p, 0, sizeof *p);
    p->mode = o->given[O_RAW] ? OUT_RAW : o->given[O_JSON] ? OUT_JSON : OUT_TEXT;
    p->tty = is_terminal(stdout);
    p->color = o->color;
    p->reasoning_to = o->reasoning == REASONING_HIDDEN                  ? NULL
                      : o->reasoning == REASONING_SHOWN || p->tty ? stdout
                                                                    : stderr;
    p->verbose = o->verbose;
    p->render = o->render && p->mode == OUT_TEXT;
    if (p->render) markdown_init(&p->md, stdout, o->color);
    bool terminal = is_terminal(stderr);
    p->notes = !o->given[O_QUIET] && (o->verbose || !terminal);
    p->spinner = !o->given[O_QUIET] && takes_escapes(stderr); /* it redraws with \r ESC [K */
    p->waiting = true;
}

void spinner_draw(struct printer *p) {
    if (!p->spinner || !p->waiting) return;
    fprintf(stderr, "\r%c waiting for the answer (Ctrl-C cancels)", "-\\|/"[p->frame++ % 4]);
    fflush(stderr);
    p->spinner_drawn = true;
}

static void spinner_erase(struct printer *p) {
    if (!p->spinner_drawn) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->spinner_drawn = false;
}

/* Before text of the answer goes out: the spinner goes for good. */
static void answer_starts(struct printer *p) {
    spinner_erase(p);
    p->waiting = false;
}

static void end_reasoning(struct printer *p) {
    if (!p->in_reasoning) return;
    p->in_reasoning = false;
    fputs(p->color ? "\033[0m\n" : "\n", p->reasoning_to);
    fflush(p->reasoning_to);
}

/* The rendered line held so far goes out (a note, reasoning or the end comes). */
static void flush_rendered(struct printer *p) {
    if (p->render) markdown_flush(&p->md);
}

static void end_content_line(struct printer *p) {
    flush_rendered(p);
    if (p->content_printed && p->last_content != '\n') {
        fputc('\n', stdout);
        p->last_content = '\n';
    }
    fflush(stdout);
}

/* Before a note on stderr: no spinner, and on a terminal the answer's line ends
 * first (a pipe gets the answer's text unchanged). */
static void before_note(struct printer *p) {
    spinner_erase(p);
    if (p->tty) end_content_line(p);
}

/* A note on stderr: "[name: text]", the text from the server. */
static void note(struct printer *p, const char *name, const char *text) {
    before_note(p);
    fprintf(stderr, "[%s: ", name);
    put_text(stderr, text, strlen(text));
    fputs("]\n", stderr);
}

static void print_content(struct printer *p, const char *text, size_t len) {
    if (text == NULL || len == 0) return;
    answer_starts(p);
    if (p->render)
        markdown_feed(&p->md, text, len);
    else
        put_text(stdout, text, len);
    fflush(stdout);
    p->content_printed = true;
    p->last_content = text[len - 1];
}

static void print_reasoning(struct printer *p, const char *text, size_t len) {
    FILE *to = p->reasoning_to;
    if (text == NULL || len == 0 || to == NULL) return; /* a status-only reasoning chunk; hidden */
    answer_starts(p);
    if (to == stdout) flush_rendered(p);
    if (!p->in_reasoning) {
        p->in_reasoning = true;
        if (to == stdout && p->content_printed && p->last_content != '\n') fputc('\n', stdout);
        if (p->color) fputs("\033[2m", to);
        fputs("[reasoning] ", to); /* told apart without colour too (NO_COLOR) */
    }
    put_text(to, text, len);
    fflush(to);
}

static void print_provider(struct printer *p, const backend_api_chunk *chunk) {
    char name[128] = "", model[128] = "", line[300];
    if (!p->notes) return;
    if (!string_at(chunk, "/provider/label", name, sizeof name)) string_at(chunk, "/provider/name", name, sizeof name);
    string_at(chunk, "/provider/model", model, sizeof model);
    if (name[0] == '\0') return;
    snprintf(line, sizeof line, "%s%s%s", name, model[0] ? ", model " : "", model);
    note(p, "provider", line);
}

static void keep_usage(struct printer *p, const backend_api_chunk *chunk) {
    int64_t prompt = 0, completion = 0, total = 0;
    if (backend_api_chunk_get_int64(chunk, "/usage/prompt_tokens", &prompt) == BACKEND_API_STATUS_OK &&
        backend_api_chunk_get_int64(chunk, "/usage/completion_tokens", &completion) == BACKEND_API_STATUS_OK) {
        if (backend_api_chunk_get_int64(chunk, "/usage/total_tokens", &total) != BACKEND_API_STATUS_OK)
            total = prompt + completion;
        snprintf(p->usage, sizeof p->usage, "%lld prompt + %lld completion = %lld tokens", (long long)prompt,
                 (long long)completion, (long long)total);
    } else {
        const char *u = NULL;
        if (backend_api_chunk_field(chunk, "usage", &u, NULL) == BACKEND_API_STATUS_OK)
            snprintf(p->usage, sizeof p->usage, "%s", u);
    }
}

static void print_server_error(struct printer *p, backend_api_kind kind, const backend_api_chunk *chunk) {
    const char *text = backend_api_chunk_text(chunk, NULL);
    char short_text[1024];
    answer_starts(p);
    end_content_line(p);
    if (!p->verbose && shorten_retry_error(text, short_text, sizeof short_text)) text = short_text;
    say("the server sent %s: %s", kind == BACKEND_API_KIND_AUTH ? "an auth error" : "an error",
        text != NULL ? text : backend_api_chunk_json(chunk, NULL));
}

static void print_text_chunk(struct printer *p, const backend_api_chunk *chunk, backend_api_kind kind) {
    size_t len = 0;
    const char *text = backend_api_chunk_text(chunk, &len);
    if (kind != BACKEND_API_KIND_REASONING && kind != BACKEND_API_KIND_LOG) end_reasoning(p);
    switch (kind) {
    case BACKEND_API_KIND_CONTENT:
    case BACKEND_API_KIND_REFUSAL: print_content(p, text, len); break;
    case BACKEND_API_KIND_REASONING: print_reasoning(p, text, len); break;
    case BACKEND_API_KIND_PROVIDER: print_provider(p, chunk); break;
    case BACKEND_API_KIND_ERROR:
    case BACKEND_API_KIND_AUTH: print_server_error(p, kind, chunk); break;
    case BACKEND_API_KIND_MESSAGE: note(p, "note", text != NULL ? text : ""); break;
    case BACKEND_API_KIND_TITLE: snprintf(p->title, sizeof p->title, "%s", text != NULL ? text : ""); break;
    case BACKEND_API_KIND_FINISH:
        if (!string_at(chunk, "/finish/reason", p->finish, sizeof p->finish))
            snprintf(p->finish, sizeof p->finish, "(no reason given)");
        break;
    case BACKEND_API_KIND_USAGE: keep_usage(p, chunk); break;
    default: /* log, conversation, parameters, preview, ...: not for the terminal */
        break;
    }
}

void print_chunk(struct printer *p, const backend_api_chunk *chunk) {
    backend_api_kind kind = backend_api_chunk_kind(chunk);
    p->chunks++;
    if (kind == BACKEND_API_KIND_ERROR || kind == BACKEND_API_KIND_AUTH) p->server_error = true;
    if (p->mode == OUT_TEXT) {
        print_text_chunk(p, chunk, kind);
    } else if (p->mode == OUT_RAW) {
        size_t len = 0;
        const char *json = backend_api_chunk_json(chunk, &len);
        answer_starts(p);
        put_json_text(stdout, json, len);
        fputc('\n', stdout);
        fflush(stdout);
    } else if (kind == BACKEND_API_KIND_ERROR || kind == BACKEND_API_KIND_AUTH) {
        print_server_error(p, kind, chunk); /* --json: the rest comes at the end */
    }
}

/* --json: the assembled answer with how the stream ended. */
static void print_answer_json(backend_api_stream *stream, backend_api_status end, const backend_api_error *err) {
    backend_api_chunk *answer = NULL;
    size_t len = 0;
    if (backend_api_stream_answer(stream, &answer, NULL) != BACKEND_API_STATUS_OK) return;
    const char *json = backend_api_chunk_json(answer, &len);
    struct buffer b = {0};
    buffer_add(&b, json, len - 1); /* without its closing brace */
    buffer_adds(&b, ",\"status\":");
    buffer_add_json_string(&b, backend_api_status_name(end));
    buffer_adds(&b, ",\"failure\":");
    if (err != NULL)
        buffer_add_json_string(&b, backend_api_error_message(err));
    else
        buffer_adds(&b, "null");
    uint16_t code = backend_api_error_http_status(err);
    char tail[40];
    snprintf(tail, sizeof tail, code != 0 ? ",\"http_status\":%u}\n" : ",\"http_status\":null}\n", code);
    buffer_adds(&b, tail);
    if (b.data != NULL) put_json_text(stdout, b.data, b.len);
    fflush(stdout);
    buffer_free(&b);
    backend_api_chunk_free(answer);
}

/* After the stream: the line ends, notes, and the turn's exit status. */
int finish_turn(struct printer *p, backend_api_stream *stream, backend_api_status st, backend_api_error *err,
                const struct where *w) {
    answer_starts(p);
    end_reasoning(p);
    end_content_line(p);
    if (p->render) markdown_free(&p->md);
    if (p->mode == OUT_JSON) print_answer_json(stream, st, err);
    backend_api_stats stats = {.size = sizeof stats};
    if (p->notes && p->mode == OUT_TEXT && stream != NULL &&
        backend_api_stream_stats(stream, &stats) == BACKEND_API_STATUS_OK && stats.retries > 0) {
        char line[64];
        snprintf(line, sizeof line, "%u (the request was sent again after a failure)", (unsigned)stats.retries);
        note(p, "retries", line);
    }
    if (st == BACKEND_API_STATUS_END) {
        const char *const notes[][2] = {{"title", p->title}, {"finish", p->finish}, {"usage", p->usage}};
        for (size_t k = 0; k < 3 && p->notes && p->mode == OUT_TEXT; k++)
            if (notes[k][1][0] != '\0') note(p, notes[k][0], notes[k][1]);
        return p->server_error ? EXIT_SERVER : EXIT_DONE;
    }
    if (st == BACKEND_API_STATUS_CANCELLED) {
        say(got_term ? "terminated" : "cancelled");
        return got_term ? EXIT_TERMINATED : EXIT_INTERRUPT;
    }
    report(p->chunks > 0 ? "the answer broke off" : "the request failed", err, w);
    return EXIT_STREAM;
}
