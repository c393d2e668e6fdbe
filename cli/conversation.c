/* A conversation: the messages so far (kept as JSON text), the server's
 * `conversation` state, the model, provider and system message; one turn (the
 * request, the answer), and the save after each complete turn (store.c). A new
 * request is built for each turn from all of that, so /model, /provider and
 * /system apply to the next turn and a conversation read back from disk goes on
 * exactly as one held in memory. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void now_utc(char *buf, size_t size) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void conversation_init(struct conversation *c, const struct options *o, backend_api_client *client) {
    memset(c, 0, sizeof *c);
    c->o = o;
    c->client = client;
    c->model = o->value[O_MODEL];
    c->provider = o->value[O_PROVIDER];
    c->system = o->value[O_SYSTEM];
    for (int id = O_MEDIA; id <= O_ATTACH; id++) /* for the first message */
        for (size_t k = 0; k < o->many[id].n; k++) list_push(&c->attach, o->many[id].items[k]);
}

/* /attach FILE: the file goes with the next message. */
bool conversation_attach(struct conversation *c, const char *path) {
    char *copy = strdup(path);
    if (copy != NULL && list_push(&c->owned_attach, copy) && list_push(&c->attach, copy)) return true;
    free(copy);
    return false;
}

/* The attachments went with their message. */
static void attachments_sent(struct conversation *c) {
    for (size_t k = 0; k < c->owned_attach.n; k++) free((char *)c->owned_attach.items[k]);
    c->owned_attach.n = c->attach.n = 0;
}

/* Forgets the messages and the state: the next turn starts a new conversation. */
void conversation_reset(struct conversation *c) {
    buffer_free(&c->history);
    buffer_free(&c->state);
    buffer_free(&c->reasoning);
    c->id[0] = '\0';
}

void conversation_free(struct conversation *c) {
    conversation_reset(c);
    attachments_sent(c);
    free(c->attach.items);
    free(c->owned_attach.items);
    for (int k = 0; k < 3; k++) free(c->owned[k]);
}

/* /model, /provider, /system: NULL or "" goes back to none (the server's choice). */
void conversation_set(struct conversation *c, int which, const char *value) {
    char *copy = value != NULL && value[0] != '\0' ? strdup(value) : NULL;
    free(c->owned[which]);
    c->owned[which] = copy;
    if (which == SET_MODEL) c->model = copy;
    if (which == SET_PROVIDER) c->provider = copy;
    if (which == SET_SYSTEM) c->system = copy;
}

/* A saved string field, copied in as the conversation's own, unless an option set it. */
static void take_saved(struct conversation *c, const backend_api_chunk *saved, const char *pointer, int which,
                       enum opt given) {
    const char *value = NULL;
    if (c->o->value[given] == NULL &&
        backend_api_chunk_get_string(saved, pointer, &value, NULL) == BACKEND_API_STATUS_OK)
        conversation_set(c, which, value);
}

static void add_string_or_null(struct buffer *b, const char *key, const char *value) {
    buffer_adds(b, ",\"");
    buffer_adds(b, key);
    buffer_adds(b, "\":");
    if (value != NULL)
        buffer_add_json_string(b, value);
    else
        buffer_adds(b, "null");
}

/* The `conversation` field of `from` (unless absent or null) as JSON text into `to`, in place
 * of what it held. */
static void copy_state(struct buffer *to, const backend_api_chunk *from) {
    const char *field = NULL;
    backend_api_json_type t;
    if (backend_api_chunk_get_type(from, "/conversation", &t) != BACKEND_API_STATUS_OK ||
        t == BACKEND_API_JSON_TYPE_NULL || backend_api_chunk_field(from, "conversation", &field, NULL) != BACKEND_API_STATUS_OK)
        return;
    buffer_free(to);
    if (t == BACKEND_API_JSON_TYPE_STRING)
        buffer_add_json_string(to, field);
    else
        buffer_adds(to, field);
}

/* Keeps the provider's state of an answer chunk as the library's follow-ups send it back
 * (g4f keys it by the provider that answered and rebuilds the provider's conversation from
 * what comes back, so the inner object goes back, or the whole when unkeyed): the library's
 * own follow-up is made from the answer and its `conversation` field kept. Nothing is kept
 * when the answer has no state. */
static void keep_state(struct buffer *state, const backend_api_chunk *answer) {
    backend_api_request *scratch = backend_api_request_new(), *next = NULL;
    backend_api_chunk *body = NULL;
    const char *json = NULL;
    size_t len = 0;
    if (scratch != NULL &&
        backend_api_request_follow_up_answer(scratch, answer, NULL, &next, NULL) == BACKEND_API_STATUS_OK &&
        backend_api_request_json(next, &json, &len, NULL) == BACKEND_API_STATUS_OK &&
        backend_api_chunk_parse(json, len, &body, NULL) == BACKEND_API_STATUS_OK)
        copy_state(state, body);
    backend_api_chunk_free(body);
    backend_api_string_free(json);
    backend_api_request_free(next);
    backend_api_request_free(scratch);
}

/* The file format conversation_json writes: 2 since the state is kept as it is sent back
 * (keep_state). A file without it (format 1, written before) holds the server's whole
 * state, keyed by the provider that answered; sent back as it is, the provider would not
 * find its own. */
#define SAVED_FORMAT 2

/* A format-1 file's state made what keep_state keeps: the library's follow-up rule
 * applied to an answer carrying it, whose provider is the conversation's, else the one
 * key of the state (format 1 did not keep who answered; g4f keys by that provider). */
static void convert_old_state(struct conversation *c, const backend_api_chunk *saved) {
    const char *provider = c->provider;
    size_t members = 0;
    if (provider == NULL && backend_api_chunk_get_count(saved, "/conversation", &members) == BACKEND_API_STATUS_OK &&
        members == 1)
        backend_api_chunk_get_key(saved, "/conversation", 0, &provider, NULL);
    struct buffer old = {0};
    buffer_adds(&old, "{\"type\":\"answer\",\"content\":\"\"");
    add_string_or_null(&old, "provider", provider);
    buffer_adds(&old, ",\"conversation\":");
    buffer_add(&old, c->state.data, c->state.len);
    buffer_adds(&old, "}");
    backend_api_chunk *answer = NULL;
    if (!old.failed && backend_api_chunk_parse(old.data, old.len, &answer, NULL) == BACKEND_API_STATUS_OK)
        keep_state(&c->state, answer);
    backend_api_chunk_free(answer);
    buffer_free(&old);
}

/* Goes on with saved conversation `id`. Returns GO_ON or EXIT_USAGE. */
int conversation_resume(struct conversation *c, const char *prefix) {
    char id[ID_SIZE];
    int rc = store_resolve(prefix, id);
    if (rc != GO_ON) return rc;
    backend_api_chunk *saved = store_read(id);
    if (saved == NULL) return EXIT_USAGE;
    const char *messages = NULL, *created = NULL;
    size_t len = 0, count = 0;
    if (backend_api_chunk_get_count(saved, "/messages", &count) != BACKEND_API_STATUS_OK ||
        backend_api_chunk_field(saved, "messages", &messages, &len) != BACKEND_API_STATUS_OK || len < 2) {
        say("conversation %s has no messages list: not one this program saved", id);
        backend_api_chunk_free(saved);
        return EXIT_USAGE;
    }
    conversation_reset(c);
    /* The list's inside: "[a,b]" -> "a,b" (the library wrote it compactly). */
    buffer_add(&c->history, messages + 1, len - 2);
    const char *reasoning = NULL;
    size_t reasoning_len = 0, turns = 0;
    if (backend_api_chunk_get_count(saved, "/reasoning", &turns) == BACKEND_API_STATUS_OK && turns == count / 2 &&
        backend_api_chunk_field(saved, "reasoning", &reasoning, &reasoning_len) == BACKEND_API_STATUS_OK &&
        reasoning_len >= 2)
        buffer_add(&c->reasoning, reasoning + 1, reasoning_len - 2);
    else /* saved before reasoning was kept: none for each turn */
        for (size_t k = 0; k < count / 2; k++) buffer_adds(&c->reasoning, k > 0 ? ",\"\"" : "\"\"");
    copy_state(&c->state, saved);
    take_saved(c, saved, "/model", SET_MODEL, O_MODEL);
    take_saved(c, saved, "/provider", SET_PROVIDER, O_PROVIDER);
    take_saved(c, saved, "/system", SET_SYSTEM, O_SYSTEM);
    int64_t format = 1;
    backend_api_chunk_get_int64(saved, "/format", &format);
    if (format < SAVED_FORMAT && c->state.len > 0) convert_old_state(c, saved);
    if (backend_api_chunk_get_string(saved, "/created", &created, NULL) == BACKEND_API_STATUS_OK)
        snprintf(c->created, sizeof c->created, "%s", created);
    snprintf(c->id, sizeof c->id, "%s", id);
    backend_api_chunk_free(saved);
    return GO_ON;
}

static void add_message(struct buffer *b, const char *role, const char *content) {
    if (b->len > 0) buffer_adds(b, ",");
    buffer_adds(b, "{\"role\":");
    buffer_add_json_string(b, role);
    buffer_adds(b, ",\"content\":");
    buffer_add_json_string(b, content);
    buffer_adds(b, "}");
}

/* The conversation as saved: never a key, a header or the URL's password. */
static void conversation_json(const struct conversation *c, struct buffer *b) {
    char updated[32], url[1024];
    now_utc(updated, sizeof updated);
    url_for_display(c->o->url, url, sizeof url);
    buffer_adds(b, "{\"id\":");
    buffer_add_json_string(b, c->id);
    char format[24];
    snprintf(format, sizeof format, ",\"format\":%d", SAVED_FORMAT);
    buffer_adds(b, format);
    add_string_or_null(b, "created", c->created);
    add_string_or_null(b, "updated", updated);
    add_string_or_null(b, "protocol", openai(c->o) ? "openai" : "backend");
    add_string_or_null(b, "url", url);
    add_string_or_null(b, "model", c->model);
    add_string_or_null(b, "provider", c->provider);
    add_string_or_null(b, "system", c->system);
    buffer_adds(b, ",\"messages\":[");
    if (c->history.data != NULL) buffer_add(b, c->history.data, c->history.len);
    buffer_adds(b, "],\"reasoning\":[");
    if (c->reasoning.data != NULL) buffer_add(b, c->reasoning.data, c->reasoning.len);
    buffer_adds(b, "],\"conversation\":");
    buffer_adds(b, c->state.len > 0 ? c->state.data : "null");
    buffer_adds(b, "}");
}

/* The conversation as a chunk (for /history: printed as `logs ID` prints it). */
void conversation_print(const struct conversation *c, FILE *f) {
    struct buffer b = {0};
    conversation_json(c, &b);
    backend_api_chunk *chunk = NULL;
    if (!b.failed && backend_api_chunk_parse(b.data, b.len, &chunk, NULL) == BACKEND_API_STATUS_OK)
        print_saved(chunk, f);
    backend_api_chunk_free(chunk);
    buffer_free(&b);
}

static int set_field(backend_api_request *req, const char *key_json) {
    backend_api_error *err = NULL;
    const char *eq = strchr(key_json, '=');
    if (eq == NULL || eq == key_json) {
        say("--field takes KEY=JSON (not shown: it may hold a secret)");
        return EXIT_USAGE;
    }
    size_t key_len = (size_t)(eq - key_json);
    char *key = malloc(key_len + 1);
    if (key == NULL) return EXIT_STREAM;
    memcpy(key, key_json, key_len);
    key[key_len] = '\0';
    bool ok = backend_api_request_set_field_json(req, key, eq + 1, &err) == BACKEND_API_STATUS_OK;
    if (!ok) say("--field %s: %s", key, backend_api_error_message(err));
    backend_api_error_free(err);
    free(key);
    return ok ? GO_ON : EXIT_USAGE;
}

/* Says what failed (and frees the error) unless st is OK. */
static bool applied(backend_api_status st, backend_api_error **err, const char *what) {
    if (st == BACKEND_API_STATUS_OK) return true;
    say("%s: %s", what, backend_api_error_message(*err));
    backend_api_error_free(*err);
    *err = NULL;
    return false;
}

/* The request for `message`: the messages so far and the state, the model and
 * provider, the attachments given for it (text files before the message, in
 * `sent`, which is what the user said), fields and the key. */
static int build_request(const struct conversation *c, const char *message, backend_api_request *req,
                         struct buffer *sent) {
    const struct options *o = c->o;
    backend_api_error *err = NULL;
    int rc = attach_files(&c->attach, req, sent);
    if (rc != GO_ON) return rc;
    buffer_adds(sent, message);
    if (sent->failed) return EXIT_STREAM;
    struct buffer messages = {0};
    buffer_adds(&messages, "[");
    if (c->system != NULL) {
        struct buffer sys = {0};
        add_message(&sys, "system", c->system);
        buffer_add(&messages, sys.data, sys.len);
        buffer_free(&sys);
        if (c->history.len > 0) buffer_adds(&messages, ",");
    }
    if (c->history.len > 0) buffer_add(&messages, c->history.data, c->history.len);
    buffer_adds(&messages, "]");
    bool ok = !messages.failed &&
              applied(backend_api_request_set_messages_json(req, messages.data, &err), &err, "the conversation");
    buffer_free(&messages);
    if (!ok) return EXIT_USAGE;
    if (!applied(backend_api_request_add_message(req, "user", sent->data, &err), &err, "the message")) return EXIT_USAGE;
    if (c->model != NULL && !applied(backend_api_request_set_model(req, c->model, &err), &err, "the model"))
        return EXIT_USAGE;
    if (c->provider != NULL &&
        !applied(backend_api_request_set_field_string(req, "provider", c->provider, &err), &err, "the provider"))
        return EXIT_USAGE;
    if (c->state.len > 0 &&
        !applied(backend_api_request_set_field_json(req, "conversation", c->state.data, &err), &err,
                 "the conversation state"))
        return EXIT_USAGE;
    const struct list *fields = &o->many[O_FIELD];
    for (size_t i = 0; i < fields->n; i++) {
        rc = set_field(req, fields->items[i]);
        if (rc != GO_ON) return rc;
    }
    if (o->api_key != NULL && o->api_key[0] != '\0' &&
        !applied(backend_api_request_set_api_key(req, o->api_key, o->key_in, &err), &err, "BACKEND_API_KEY"))
        return EXIT_USAGE;
    return GO_ON;
}

/* Keeps a complete turn: the message, the answer, the new state; then saves. */
static void keep_turn(struct conversation *c, const char *message, backend_api_stream *stream) {
    backend_api_chunk *answer = NULL;
    if (backend_api_stream_answer(stream, &answer, NULL) != BACKEND_API_STATUS_OK) return;
    const char *content = NULL, *reasoning = NULL;
    if (backend_api_chunk_get_string(answer, "/content", &content, NULL) != BACKEND_API_STATUS_OK) content = "";
    if (backend_api_chunk_get_string(answer, "/reasoning", &reasoning, NULL) != BACKEND_API_STATUS_OK) reasoning = "";
    bool first = c->history.len == 0;
    add_message(&c->history, "user", message);
    add_message(&c->history, "assistant", content);
    if (!first) buffer_adds(&c->reasoning, ",");
    buffer_add_json_string(&c->reasoning, reasoning);
    keep_state(&c->state, answer);
    backend_api_chunk_free(answer);
    if (!c->o->log) return;
    if (c->id[0] == '\0') {
        new_id(c->id);
        now_utc(c->created, sizeof c->created);
    }
    struct buffer b = {0};
    conversation_json(c, &b);
    if (!b.failed) store_write(c->id, b.data, b.len);
    buffer_free(&b);
}

/* Sends one message; a complete answer becomes part of the conversation (and is
 * saved), a failed or cancelled one does not. Returns the turn's exit status. */
int send_message(struct conversation *c, const char *message) {
    backend_api_request *req = backend_api_request_new();
    backend_api_stream *stream = NULL;
    if (req == NULL) return EXIT_STREAM;
    struct buffer sent = {0};
    int rc = build_request(c, message, req, &sent);
    if (rc == GO_ON) rc = stream_answer(c->o, c->client, req, &stream);
    if (rc == EXIT_DONE) keep_turn(c, sent.data, stream);
    if (rc == EXIT_DONE) attachments_sent(c);
    buffer_free(&sent);
    backend_api_close(stream);
    backend_api_request_free(req);
    return rc;
}
