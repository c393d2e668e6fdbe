/* The conversation on a terminal: the prompt, the /commands, and """ blocks. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* The /commands; %s: END_OF_INPUT_KEY (a literal, so that the format is checked). */
#define CHAT_HELP                                                                                                   \
    "commands:\n"                                                                                                   \
    "  /model NAME     the model of the next requests (/model alone: the server's choice)\n"                         \
    "  /provider NAME  the provider of the next requests (/provider alone: the server's)\n"                          \
    "  /system TEXT    the system message (/system alone: none)\n"                                                   \
    "  /attach FILE    send the file with the next message (media, or text as context)\n"                            \
    "  /history        the conversation so far\n"                                                                    \
    "  /reset          start a new conversation (the answers so far are forgotten)\n"                                \
    "  /quit           leave (also /exit, or %s on an empty line)\n"                                                 \
    "  /help           this list\n"                                                                                  \
    "  //text          send \"/text\"\n"                                                                             \
    "\"\"\" on a line starts a message of several lines; \"\"\" ends it. A paste lands in the line: Enter sends it.\n" \
    "Ctrl-C cancels the answer in flight, or clears the line.\n"

static void chat_banner(const struct conversation *c) {
    char shown[1024];
    url_for_display(c->o->url, shown, sizeof shown);
    fprintf(stderr, "backend-api %s: a conversation with ", backend_api_version());
    put_text(stderr, shown, strlen(shown));
    if (c->model) fprintf(stderr, ", model %s", c->model);
    if (c->provider) fprintf(stderr, ", provider %s", c->provider);
    if (c->id[0] != '\0') fprintf(stderr, " (going on with %s)", c->id);
    fprintf(stderr, "\nType a message and Enter. /help lists the commands; %s or /quit leaves.\n", END_OF_INPUT_KEY);
}

/* The argument of "/name ARG", or NULL when `line` is not that command. */
static const char *argument(const char *line, const char *name) {
    size_t n = strlen(name);
    if (strncmp(line, name, n) != 0 || (line[n] != '\0' && line[n] != ' ')) return NULL;
    return line + n + strspn(line + n, " ");
}

/* Runs a command line ("/reset", ...); returns GO_ON or EXIT_DONE to leave. */
static int chat_command(struct conversation *c, const char *line) {
    const char *arg;
    if (strcmp(line, "/quit") == 0 || strcmp(line, "/exit") == 0) return EXIT_DONE;
    if (strcmp(line, "/reset") == 0) {
        conversation_reset(c);
        fputs("(a new conversation)\n", stderr);
    } else if (strcmp(line, "/help") == 0) {
        fprintf(stderr, CHAT_HELP, END_OF_INPUT_KEY);
    } else if (strcmp(line, "/history") == 0) {
        conversation_print(c, stderr);
    } else if ((arg = argument(line, "/model")) != NULL) {
        conversation_set(c, SET_MODEL, arg);
        fprintf(stderr, "(model: %s)\n", arg[0] ? arg : "the server's choice");
    } else if ((arg = argument(line, "/provider")) != NULL) {
        conversation_set(c, SET_PROVIDER, arg);
        fprintf(stderr, "(provider: %s)\n", arg[0] ? arg : "the server's choice");
    } else if ((arg = argument(line, "/attach")) != NULL && arg[0] != '\0') {
        if (conversation_attach(c, arg)) {
            fputs("(attached to the next message: ", stderr);
            put_text(stderr, arg, strlen(arg));
            fputs(")\n", stderr);
        }
    } else if ((arg = argument(line, "/system")) != NULL) {
        conversation_set(c, SET_SYSTEM, arg);
        fputs(arg[0] ? "(system message set)\n" : "(no system message)\n", stderr);
    } else {
        fprintf(stderr, "unknown command %s: /help lists them (//text sends \"/text\")\n", line);
    }
    return GO_ON;
}

/* After a line starting with """: the lines up to one ending with """, joined
 * by newlines, as one message. Returns LINE_OK with *line replaced. */
static enum line_result read_block(char **line) {
    struct buffer b = {0};
    const char *first = *line + strspn(*line, " \t") + 3;
    buffer_adds(&b, first);
    for (bool done = strlen(first) >= 3 && strcmp(first + strlen(first) - 3, "\"\"\"") == 0; !done;) {
        char *next = NULL;
        enum line_result r = read_line("... ", &next);
        if (r != LINE_OK) {
            buffer_free(&b);
            return r;
        }
        size_t n = strlen(next);
        done = n >= 3 && strcmp(next + n - 3, "\"\"\"") == 0;
        if (b.len > 0) buffer_adds(&b, "\n");
        buffer_adds(&b, next);
        free(next);
    }
    if (b.len >= 3) b.data[b.len -= 3] = '\0'; /* the closing """ */
    free(*line);
    *line = b.data != NULL ? b.data : strdup("");
    return LINE_OK;
}

int chat(struct conversation *c) {
    int rc = GO_ON;
    line_editor_init();
    chat_banner(c);
    bracketed_paste_mode(true);
    while (rc == GO_ON) {
        char *line = NULL;
        got_sigint = 0;
        enum line_result r = read_line("> ", &line);
        const char *text = r == LINE_OK ? line + strspn(line, " \t") : "";
        if (r == LINE_OK && strncmp(text, "\"\"\"", 3) == 0) {
            r = read_block(&line);
            text = r == LINE_OK ? line + strspn(line, "\n") : "";
        }
        if (r == LINE_EOF) rc = EXIT_DONE;
        if (r == LINE_TERMINATED) rc = EXIT_TERMINATED;
        if (r != LINE_OK) continue;
        if (text[0] == '/' && text[1] != '/')
            rc = chat_command(c, text);
        else if (text[0] != '\0') {
            keyboard_echo(false);
            if (send_message(c, text[0] == '/' ? text + 1 : text) == EXIT_INTERRUPT)
                fputs("(the question is not kept in the conversation)\n", stderr);
            keyboard_echo(true);
        }
        if (got_term) rc = EXIT_TERMINATED;
        free(line);
    }
    bracketed_paste_mode(false);
    return rc; /* libedit stays loaded: what it holds stays reachable until the end */
}
