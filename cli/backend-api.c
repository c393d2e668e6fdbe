/* backend-api: the command-line client of the backend-api library. It streams an
 * answer from a g4f (gpt4free) server, or holds a conversation on a terminal, and
 * saves the conversations. Written against the public C API in
 * include/backend_api.h only: it is also the project's largest example program.
 * `backend-api --help` and cli/backend-api.1 say how to use it; cli/build.sh builds
 * it; cli/cli.h says which file holds what. This file: what to do. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The most standard input may bring: a message far past what a model takes is a
 * mistake (the wrong file), said before anything is sent. */
enum { STDIN_MAX = 8 << 20 };

/* Reads all of standard input into a malloc'd string, trailing newlines cut; NULL
 * (errno set; EFBIG past STDIN_MAX) when it cannot. */
static char *read_all_stdin(void) {
    struct buffer b = {0};
    char chunk[65536];
    size_t n;
    buffer_adds(&b, "");
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0 && b.len <= STDIN_MAX) buffer_add(&b, chunk, n);
    if (ferror(stdin) || b.failed || b.len > STDIN_MAX) {
        if (b.len > STDIN_MAX) errno = EFBIG;
        buffer_free(&b);
        return NULL;
    }
    while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r')) b.data[--b.len] = '\0';
    return b.data;
}

/* Standard input read for the message, or NULL after saying why. */
static char *read_stdin_for_message(int *rc) {
    char *input = read_all_stdin();
    if (input == NULL && errno == EFBIG) {
        say("standard input is larger than %d MiB: too much for one message (give a part of it)", STDIN_MAX >> 20);
        *rc = EXIT_USAGE;
    } else if (input == NULL) {
        say("could not read standard input: %s", strerror(errno));
        *rc = EXIT_STREAM;
    }
    return input;
}

/* Joins the words with spaces; the word "-" stands for standard input, which is
 * also the message when there are no words. Words and a pipe without "-" are one
 * message: the words, a blank line, what was piped (`cat notes | backend-api
 * "summarise"`). Returns GO_ON or an exit status. */
static int make_message(struct options *o) {
    const char *only_stdin[] = {"-"};
    struct list words = o->words.n ? o->words : (struct list){only_stdin, 1, 1};
    char *input = NULL;
    struct buffer b = {0};
    int rc = GO_ON;
    buffer_adds(&b, "");
    for (size_t k = 0; k < words.n; k++) {
        bool from_stdin = strcmp(words.items[k], "-") == 0;
        if (from_stdin && input != NULL) {
            say("\"-\" (standard input) may stand only once in the message");
            free(input);
            buffer_free(&b);
            return EXIT_USAGE;
        }
        if (from_stdin && (input = read_stdin_for_message(&rc)) == NULL) {
            buffer_free(&b);
            return rc;
        }
        if (k > 0) buffer_adds(&b, " ");
        buffer_adds(&b, from_stdin ? input : words.items[k]);
    }
    if (input == NULL && stdin_piped()) {
        if ((input = read_stdin_for_message(&rc)) == NULL) {
            buffer_free(&b);
            return rc;
        }
        if (input[0] != '\0') {
            buffer_adds(&b, "\n\n");
            buffer_adds(&b, input);
        }
    }
    free(input);
    if (b.failed) return EXIT_STREAM;
    o->message = b.data;
    if (strspn(o->message, " \t\r\n") == strlen(o->message)) {
        say("the message is empty%s", words.n == 1 && o->words.n == 0 ? " (nothing came on standard input)" : "");
        return EXIT_USAGE;
    }
    return GO_ON;
}

/* The conversation to go on with: -c (the latest), --conversation ID, or a new one. */
static int pick_conversation(const struct options *o, struct conversation *c) {
    char id[ID_SIZE];
    if (o->given[O_CONVERSATION]) return conversation_resume(c, o->value[O_CONVERSATION]);
    if (!o->given[O_CONTINUE]) return GO_ON;
    if (!store_latest(id)) {
        say("--continue: no saved conversation yet");
        return EXIT_USAGE;
    }
    return conversation_resume(c, id);
}

static int talk(const struct options *o, backend_api_client *client, bool chatting) {
    struct conversation c;
    conversation_init(&c, o, client);
    int rc = pick_conversation(o, &c);
    if (rc == GO_ON) rc = chatting ? chat(&c) : send_message(&c, o->message);
    conversation_free(&c);
    return rc;
}

static int run(struct options *o) {
    int rc = derive_settings(o);
    safe_text_init(o->raw_terminal);
    bool listing = o->given[O_LIST_MODELS] || o->given[O_LIST_PROVIDERS];
    bool chatting = o->words.n == 0 && !listing && is_terminal(stdin);
    if (rc == GO_ON && !chatting && !listing) rc = make_message(o);
    if (rc != GO_ON) return rc;
    backend_api_client *client = NULL;
    rc = make_client(o, &client);
    if (rc == GO_ON && !catch_signals()) {
        say("cannot set up signal handling: %s", strerror(errno));
        rc = EXIT_STREAM;
    }
    if (rc == GO_ON)
        rc = o->given[O_LIST_PROVIDERS] ? list_providers(o, client)
             : o->given[O_LIST_MODELS]  ? list_models(o, client)
                                        : talk(o, client, chatting);
    backend_api_client_free(client);
    /* The library goes quiet before exit: a stream or name lookup still in flight is
     * cancelled and its thread joined, so nothing of it runs beside the exit handlers.
     * A lookup stuck in the system's resolver is not waited for past a second. */
    backend_api_shutdown(1000);
    return rc;
}

int main(int argc, char **argv) {
    platform_init(&argc, &argv);
    if (argc > 1 && strcmp(argv[1], "logs") == 0) {
        safe_text_init(false);
        return logs_command(argc - 1, argv + 1);
    }
    struct options o;
    memset(&o, 0, sizeof o);
    int rc = parse_command_line(argc, argv, &o);
    if (rc == GO_ON && o.given[O_HELP]) {
        print_help();
        rc = EXIT_DONE;
    } else if (rc == GO_ON && o.given[O_VERSION]) {
        line_editor_init();
        printf("backend-api %s (line editing: %s)\n", backend_api_version(), line_editing());
        rc = EXIT_DONE;
    } else if (rc == GO_ON) {
        rc = run(&o);
    }
    options_free(&o);
    return rc;
}
