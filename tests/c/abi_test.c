/* The C ABI driven from C over loopback: usage as documented, and every entry
 * point with bad arguments. Usage: abi_test BACKEND_URL. Last line: "N passed, M failed". */
#include "backend_api.h"
#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *url;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A request with one user message and one extra field given as JSON text. */
static backend_api_request *make_request(const char *key, const char *json) {
    const char *fields[][2] = {{key, json}, {NULL, NULL}};
    return request_with(fields);
}

static backend_api_stream *open_stream(backend_api_client *c, const char *key, const char *json) {
    backend_api_request *r = make_request(key, json);
    backend_api_stream *s = NULL;
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    backend_api_request_free(r);
    return s;
}

static void test_version_and_names(void) {
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", BACKEND_API_VERSION_MAJOR, BACKEND_API_VERSION_MINOR,
             BACKEND_API_VERSION_PATCH);
    CHECK(strcmp(backend_api_version(), want) == 0);
    CHECK(strcmp(backend_api_status_name(BACKEND_API_STATUS_HTTP), "HTTP") == 0);
    CHECK(strcmp(backend_api_status_name(4), "UNKNOWN") == 0);
    CHECK(strcmp(backend_api_status_name(0xFFFFFFFFu), "UNKNOWN") == 0);
}

static void test_bad_arguments(void) {
    backend_api_client *sentinel = (backend_api_client *)0x1;
    backend_api_client *c = sentinel;
    backend_api_error *e = NULL;

    CHECK(backend_api_client_new(NULL, &c, &e) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(c == sentinel); /* out-params are written only on success */
    CHECK(e && backend_api_error_status(e) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(e && strstr(backend_api_error_message(e), "base_url is NULL"));
    CHECK(backend_api_error_http_status(e) == 0 && backend_api_error_server_message(e) == NULL);
    backend_api_error_free(e);
    e = NULL;
    CHECK(backend_api_client_new("http://h\xff", &c, &e) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(e && strstr(backend_api_error_message(e), "UTF-8"));
    backend_api_error_free(e);
    CHECK(backend_api_client_new("ftp://h", &c, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_client_new(url, NULL, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(c == sentinel);

    c = client_for(url);
    CHECK(backend_api_client_add_header(NULL, "a", "b", NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_client_add_header(c, NULL, "b", NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_client_add_header(c, "a b", "v", NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_client_set_timeout(c, BACKEND_API_TIMEOUT_IDLE, -1, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_client_set_timeout(c, 99, 10, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_client_set_timeout(c, BACKEND_API_TIMEOUT_TOTAL, 0, NULL) == BACKEND_API_STATUS_OK);
    CHECK(backend_api_client_set_ca_file(c, "/nonexistent.pem", NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_client_set_proxy(c, "::nope", NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_client_set_max_line(c, 0, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_client_set_verify_tls(NULL, true, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_client_set_skip_malformed(NULL, true, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);

    backend_api_request *r = backend_api_request_new();
    CHECK(r != NULL);
    CHECK(backend_api_request_set_model(NULL, "m", NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_request_set_model(r, NULL, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_request_add_message(r, "user", "\xc3\x28", NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_request_add_message_json(r, "user", "[oops", NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_request_set_messages_json(r, "{}", NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_request_set_field_json(r, "provider", "not json", NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_request_set_field_json(r, "model", "\"x\"", NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_request_set_field_string(r, NULL, "x", NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_request_set_api_key(r, "k", 0, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_request_add_header(NULL, "a", "b", NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_request_add_header(r, "a b", "v", NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_request_add_header(r, "X-A", "line\nbreak", NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_request_add_header(r, "X-A", NULL, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_request_set_api_key(r, NULL, BACKEND_API_KEY_BODY, NULL) == BACKEND_API_STATUS_OK);
    e = NULL;
    CHECK(backend_api_request_add_media_file(r, "/nonexistent/cat.png", &e) == BACKEND_API_STATUS_MEDIA);
    CHECK(e && strstr(backend_api_error_message(e), "/nonexistent/cat.png"));
    backend_api_error_free(e);
    CHECK(backend_api_request_add_media_bytes(r, (const uint8_t *)"text", 4, "a.txt", NULL) == BACKEND_API_STATUS_MEDIA);
    CHECK(backend_api_request_add_media_bytes(r, NULL, 5, NULL, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_request_add_media_uri(r, "ftp://x", NULL, NULL) == BACKEND_API_STATUS_MEDIA);

    backend_api_stream *s = (backend_api_stream *)0x1;
    CHECK(backend_api_open(NULL, r, &s, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_open(c, NULL, &s, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_open(c, r, NULL, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(s == (backend_api_stream *)0x1);
    backend_api_chunk *ch = NULL;
    CHECK(backend_api_next(NULL, 0, &ch, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    const char *json = NULL;
    CHECK(backend_api_models(NULL, NULL, NULL, &json, NULL, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_models(c, NULL, NULL, NULL, NULL, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(json == NULL);

    /* NULL objects in accessors and frees are harmless. */
    CHECK(strcmp(backend_api_chunk_type(NULL), "") == 0);
    CHECK(backend_api_chunk_kind(NULL) == BACKEND_API_KIND_OTHER);
    CHECK(backend_api_chunk_text(NULL, NULL) == NULL);
    CHECK(strcmp(backend_api_chunk_json(NULL, NULL), "") == 0);
    const char *v = NULL;
    CHECK(backend_api_chunk_field(NULL, "x", &v, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_error_status(NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(strcmp(backend_api_error_message(NULL), "") == 0);
    backend_api_cancel(NULL);
    backend_api_close(NULL);
    backend_api_chunk_free(NULL);
    backend_api_error_free(NULL);
    backend_api_string_free(NULL);
    backend_api_client_free(NULL);
    backend_api_request_free(NULL);
    backend_api_request_free(r);
    backend_api_client_free(c);
}

static void test_canned_answer(void) {
    backend_api_client *c = client_for(url);
    backend_api_stream *s = open_stream(c, NULL, NULL);
    char text[512] = "";
    int usage_seen = 0, n = 0;
    backend_api_chunk *ch = NULL;
    backend_api_error *e = NULL;
    backend_api_status st;
    while ((st = backend_api_next(s, -1, &ch, &e)) == BACKEND_API_STATUS_OK) {
        n++;
        if (backend_api_chunk_kind(ch) == BACKEND_API_KIND_CONTENT) {
            size_t len = 0;
            const char *t = backend_api_chunk_text(ch, &len);
            CHECK(t && strlen(t) == len);
            CHECK(backend_api_chunk_text(ch, NULL) == t); /* lent once */
            strncat(text, t, sizeof text - strlen(text) - 1);
        }
        if (backend_api_chunk_kind(ch) == BACKEND_API_KIND_USAGE) {
            const char *v = NULL;
            size_t len = 0;
            CHECK(backend_api_chunk_field(ch, "usage", &v, &len) == BACKEND_API_STATUS_OK);
            CHECK(v && strstr(v, "\"total_tokens\"") && strlen(v) == len);
            CHECK(backend_api_chunk_field(ch, "model", &v, NULL) == BACKEND_API_STATUS_OK && strcmp(v, "test-model") == 0);
            const char *again = NULL;
            CHECK(backend_api_chunk_field(ch, "model", &again, NULL) == BACKEND_API_STATUS_OK && again == v); /* lent once */
            CHECK(backend_api_chunk_field(ch, "absent", &v, NULL) == BACKEND_API_STATUS_NOT_FOUND);
            CHECK(backend_api_chunk_field(ch, NULL, &v, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
            CHECK(backend_api_chunk_text(ch, NULL) == NULL);
            CHECK(strcmp(backend_api_chunk_type(ch), "usage") == 0);
            size_t jl = 0;
            const char *j = backend_api_chunk_json(ch, &jl);
            CHECK(strncmp(j, "{\"type\": \"usage\"", 16) == 0 && strlen(j) == jl);
            usage_seen = 1;
        }
        backend_api_chunk_free(ch);
    }
    CHECK(st == BACKEND_API_STATUS_END);
    CHECK(e == NULL);
    CHECK(usage_seen && n >= 4);
    CHECK(strcmp(text, "Hello from the bundled offline backend! You said: hi") == 0);
    CHECK(backend_api_next(s, 0, &ch, NULL) == BACKEND_API_STATUS_END); /* END is final */
    backend_api_close(s);
    backend_api_client_free(c);
}

static void test_errors(void) {
    backend_api_client *c = client_for(url);
    backend_api_stream *s = open_stream(c, "provider", "\"NoSuchProvider\"");
    backend_api_chunk *ch = (backend_api_chunk *)0x1;
    backend_api_error *e = NULL;
    CHECK(backend_api_next(s, -1, &ch, &e) == BACKEND_API_STATUS_HTTP);
    CHECK(ch == (backend_api_chunk *)0x1);
    CHECK(e && backend_api_error_http_status(e) == 404);
    CHECK(e && backend_api_error_server_message(e) && strcmp(backend_api_error_server_message(e), "Provider not found") == 0);
    backend_api_error_free(e);
    e = NULL;
    CHECK(backend_api_next(s, -1, &ch, &e) == BACKEND_API_STATUS_HTTP); /* errors are final */
    backend_api_error_free(e);
    backend_api_close(s);

    s = open_stream(c, "test_fault", "\"error_chunk\"");
    int fatal = 0;
    backend_api_status st;
    while ((st = backend_api_next(s, -1, &ch, NULL)) == BACKEND_API_STATUS_OK) {
        backend_api_kind k = backend_api_chunk_kind(ch);
        if (k == BACKEND_API_KIND_ERROR) {
            fatal++;
            CHECK(strcmp(backend_api_chunk_text(ch, NULL), "ValueError: test failure") == 0);
        }
        backend_api_chunk_free(ch);
    }
    CHECK(st == BACKEND_API_STATUS_END && fatal == 1);
    backend_api_close(s);

    s = open_stream(c, "test_fault", "\"malformed\"");
    e = NULL;
    while ((st = backend_api_next(s, -1, &ch, &e)) == BACKEND_API_STATUS_OK) backend_api_chunk_free(ch);
    CHECK(st == BACKEND_API_STATUS_PROTOCOL);
    CHECK(e && strstr(backend_api_error_message(e), "oops"));
    backend_api_error_free(e);
    backend_api_close(s);
    backend_api_client_free(c);
}

struct canceller {
    backend_api_stream *s;
    double at;
};

static void *cancel_later(void *arg) {
    struct canceller *k = arg;
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
    k->at = now_ms();
    backend_api_cancel(k->s);
    backend_api_cancel(k->s); /* repeatable */
    return NULL;
}

static void test_cancel_and_close(void) {
    backend_api_client *c = client_for(url);
    backend_api_stream *s = open_stream(c, "test_fault", "\"stall\"");
    backend_api_chunk *ch = NULL;
    /* Read what the server sends, up to the stall. */
    while (backend_api_next(s, 300, &ch, NULL) == BACKEND_API_STATUS_OK) backend_api_chunk_free(ch);
    struct canceller k = {s, 0};
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &k);
    backend_api_status st = backend_api_next(s, -1, &ch, NULL); /* blocks until the cancel */
    double woke = now_ms();
    pthread_join(t, NULL);
    CHECK(st == BACKEND_API_STATUS_CANCELLED);
    CHECK(backend_api_next(s, 0, &ch, NULL) == BACKEND_API_STATUS_CANCELLED);
    printf("cancel woke a blocked next after %.3f ms\n", woke - k.at);
    backend_api_close(s);

    s = open_stream(c, "test_fault", "\"stall\"");
    while (backend_api_next(s, 300, &ch, NULL) == BACKEND_API_STATUS_OK) backend_api_chunk_free(ch);
    double t0 = now_ms();
    backend_api_close(s);
    double took = now_ms() - t0;
    printf("close of a stream stalled mid-answer took %.3f ms\n", took);
    CHECK(took < 5000); /* a hang guard, not a benchmark */

    s = open_stream(c, "test_fault", "\"no_answer\"");
    CHECK(backend_api_next(s, 0, &ch, NULL) == BACKEND_API_STATUS_AGAIN);
    CHECK(backend_api_next(s, 20, &ch, NULL) == BACKEND_API_STATUS_AGAIN);
    backend_api_close(s);
    backend_api_client_free(c);
}

static void test_models(void) {
    backend_api_client *c = client_for(url);
    const char *json = NULL;
    size_t len = 0;
    CHECK(backend_api_models(c, NULL, NULL, &json, &len, NULL) == BACKEND_API_STATUS_OK);
    CHECK(json && strstr(json, "\"TestBackend\"") && strlen(json) == len);
    backend_api_string_free(json);
    json = NULL;
    CHECK(backend_api_models(c, "TestBackend", NULL, &json, NULL, NULL) == BACKEND_API_STATUS_OK);
    CHECK(json && json[0] == '[');
    backend_api_string_free(json);
    backend_api_error *e = NULL;
    CHECK(backend_api_models(c, "Nope", NULL, &json, NULL, &e) == BACKEND_API_STATUS_HTTP);
    CHECK(backend_api_error_http_status(e) == 404);
    backend_api_error_free(e);
    backend_api_client_free(c);
}

/* The text of the ECHO chunk the backend sends for `r` (with `test_echo`), body
 * and headers as JSON; free it. NULL when there is none. */
static char *echo_of(backend_api_client *c, backend_api_request *r) {
    CHECK(backend_api_request_set_field_json(r, "test_echo", "true", NULL) == BACKEND_API_STATUS_OK);
    backend_api_stream *s = NULL;
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    char *echo = NULL;
    backend_api_chunk *ch = NULL;
    while (!echo && backend_api_next(s, -1, &ch, NULL) == BACKEND_API_STATUS_OK) {
        const char *t = backend_api_chunk_text(ch, NULL);
        if (backend_api_chunk_kind(ch) == BACKEND_API_KIND_CONTENT && t && strncmp(t, "ECHO:", 5) == 0)
            echo = strdup(t + 5);
        backend_api_chunk_free(ch);
    }
    backend_api_close(s);
    return echo;
}

/* The request's body as backend_api_request_json gives it; free it with backend_api_string_free. */
static const char *json_of(const backend_api_request *r) {
    const char *json = NULL;
    size_t len = 0;
    CHECK(backend_api_request_json(r, &json, &len, NULL) == BACKEND_API_STATUS_OK);
    CHECK(json && strlen(json) == len);
    if (!json) abort(); /* reported above */
    return json;
}

/* Whether a call returned INVALID_ARGUMENT with an error whose message holds `want`; frees the error. */
static int invalid(backend_api_status st, backend_api_error **e, const char *want) {
    int ok = st == BACKEND_API_STATUS_INVALID_ARGUMENT && *e && strstr(backend_api_error_message(*e), want);
    if (!ok) fprintf(stderr, "expected INVALID_ARGUMENT with \"%s\": %s\n", want, *e ? backend_api_error_message(*e) : "(no error)");
    backend_api_error_free(*e);
    *e = NULL;
    return ok;
}

/* A follow-up from an answer kept after its stream was closed, a copy of a request,
 * and the body a program may inspect: never the api key. */
static void test_follow_up_answer_and_clone(void) {
    backend_api_client *c = client_for(url);
    backend_api_request *r = make_request("test_conversation", "{\"TestBackend\":{\"id\":7}}");
    CHECK(backend_api_request_set_api_key(r, "sk-abi-secret", BACKEND_API_KEY_BODY, NULL) == BACKEND_API_STATUS_OK);
    backend_api_stream *s = NULL;
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    backend_api_chunk *ch = NULL;
    while (backend_api_next(s, -1, &ch, NULL) == BACKEND_API_STATUS_OK) backend_api_chunk_free(ch);
    backend_api_chunk *answer = NULL;
    CHECK(backend_api_stream_answer(s, &answer, NULL) == BACKEND_API_STATUS_OK);
    CHECK(backend_api_chunk_kind(answer) == BACKEND_API_KIND_ANSWER);
    backend_api_close(s); /* the answer outlives its stream */

    backend_api_request *next = NULL;
    CHECK(backend_api_request_follow_up_answer(r, answer, "second", &next, NULL) == BACKEND_API_STATUS_OK);
    char *echo = next ? echo_of(c, next) : NULL;
    CHECK(echo && strstr(echo, "{\"content\":\"Hello from the bundled offline backend! You said: hi\",\"role\":\"assistant\"}"));
    CHECK(echo && strstr(echo, "{\"content\":\"second\",\"role\":\"user\"}"));
    /* The state of the provider that answered goes back unwrapped, as g4f expects it. */
    CHECK(echo && strstr(echo, "\"conversation\":{\"id\":7}"));
    CHECK(echo && strstr(echo, "\"api_key\":\"sk-abi-secret\"")); /* the key went along, inside */
    free(echo);

    /* What a program may inspect: the body without the key. */
    const char *body = json_of(next);
    CHECK(strstr(body, "\"conversation\":{\"id\":7}") && strstr(body, "\"second\""));
    CHECK(!strstr(body, "sk-abi-secret") && !strstr(body, "api_key"));
    backend_api_string_free(body);
    backend_api_request_free(next);

    /* A copy changes apart from its original and keeps the key inside. */
    backend_api_request *copy = NULL;
    CHECK(backend_api_request_clone(r, &copy, NULL) == BACKEND_API_STATUS_OK);
    CHECK(backend_api_request_set_model(copy, "other-model", NULL) == BACKEND_API_STATUS_OK);
    const char *a = json_of(r), *b = json_of(copy);
    CHECK(strstr(a, "\"model\":\"test-model\"") && strstr(b, "\"model\":\"other-model\""));
    backend_api_string_free(a);
    backend_api_string_free(b);
    echo = copy ? echo_of(c, copy) : NULL;
    CHECK(echo && strstr(echo, "\"api_key\":\"sk-abi-secret\"") && strstr(echo, "\"model\":\"other-model\""));
    free(echo);
    backend_api_request_free(copy);

    /* An answer of your own; a null conversation is not sent. */
    backend_api_chunk *own = NULL;
    const char *mine = "{\"type\":\"answer\",\"content\":\"kept\",\"conversation\":null}";
    CHECK(backend_api_chunk_parse(mine, strlen(mine), &own, NULL) == BACKEND_API_STATUS_OK);
    backend_api_request *plain = make_request("x", "1");
    CHECK(backend_api_request_follow_up_answer(plain, own, "more", &next, NULL) == BACKEND_API_STATUS_OK);
    body = json_of(next);
    CHECK(strstr(body, "{\"content\":\"kept\",\"role\":\"assistant\"}") && !strstr(body, "conversation"));
    backend_api_string_free(body);
    backend_api_request_free(next);
    backend_api_chunk_free(own);

    /* Wrong chunks and NULLs: INVALID_ARGUMENT with a clear message, `*out` untouched. */
    backend_api_request *sentinel = (backend_api_request *)0x1, *out = sentinel;
    backend_api_error *e = NULL;
    const char *content = "{\"type\":\"content\",\"content\":\"x\"}";
    CHECK(backend_api_chunk_parse(content, strlen(content), &own, NULL) == BACKEND_API_STATUS_OK);
    CHECK(invalid(backend_api_request_follow_up_answer(r, own, "m", &out, &e), &e, "not an answer chunk"));
    backend_api_chunk_free(own);
    const char *odd = "{\"type\":\"answer\",\"content\":5}";
    CHECK(backend_api_chunk_parse(odd, strlen(odd), &own, NULL) == BACKEND_API_STATUS_OK);
    CHECK(invalid(backend_api_request_follow_up_answer(r, own, "m", &out, &e), &e, "content is not a string"));
    backend_api_chunk_free(own);
    CHECK(invalid(backend_api_request_follow_up_answer(NULL, answer, "m", &out, &e), &e, "request is NULL"));
    CHECK(invalid(backend_api_request_follow_up_answer(r, NULL, "m", &out, &e), &e, "answer is NULL"));
    CHECK(invalid(backend_api_request_follow_up_answer(r, answer, "m", NULL, &e), &e, "out is NULL"));
    CHECK(invalid(backend_api_request_clone(NULL, &out, &e), &e, "request is NULL"));
    CHECK(invalid(backend_api_request_clone(r, NULL, &e), &e, "out is NULL"));
    CHECK(out == sentinel);
    const char *json = "untouched";
    CHECK(invalid(backend_api_request_json(NULL, &json, NULL, &e), &e, "request is NULL"));
    CHECK(invalid(backend_api_request_json(r, NULL, NULL, &e), &e, "json_out is NULL"));
    CHECK(strcmp(json, "untouched") == 0);

    /* No user message (after tool calls): the answer is the last message. */
    CHECK(backend_api_request_follow_up_answer(r, answer, NULL, &next, NULL) == BACKEND_API_STATUS_OK);
    body = json_of(next);
    CHECK(strstr(body, "\"role\":\"assistant\"}]"));
    backend_api_string_free(body);
    backend_api_request_free(next);

    backend_api_request_free(plain);
    backend_api_chunk_free(answer);
    backend_api_request_free(r);
    backend_api_client_free(c);
}

/* Drains a stream of the OpenAI protocol's script `script`; its answer and the
 * stream (closed by the caller). Counts the chunks of choice 1 and refusals. */
static backend_api_chunk *openai_script(backend_api_client *c, const char *script, int *second,
                                        int *refusals, backend_api_stream **s) {
    char json[64];
    snprintf(json, sizeof json, "\"%s\"", script);
    *s = open_stream(c, "test_openai", json);
    backend_api_chunk *ch = NULL;
    *second = *refusals = 0;
    while (backend_api_next(*s, -1, &ch, NULL) == BACKEND_API_STATUS_OK) {
        *second += backend_api_chunk_choice(ch) == 1;
        *refusals += backend_api_chunk_kind(ch) == BACKEND_API_KIND_REFUSAL;
        backend_api_chunk_free(ch);
    }
    backend_api_chunk *answer = NULL;
    CHECK(backend_api_stream_answer(*s, &answer, NULL) == BACKEND_API_STATUS_OK);
    return answer;
}

/* Choices, refusals, tool results and response headers. */
static void test_choices_refusals_tools_headers(void) {
    backend_api_client *c = client_for(url);
    char base[256];
    snprintf(base, sizeof base, "%s/v1", url);
    backend_api_client *o = client_for(base);
    CHECK(backend_api_client_set_protocol(o, BACKEND_API_PROTOCOL_OPENAI, NULL) == BACKEND_API_STATUS_OK);
    int second, refusals;
    backend_api_stream *s = NULL;
    backend_api_chunk *a = openai_script(o, "choices", &second, &refusals, &s);
    const char *text = NULL;
    double logprob = 0;
    CHECK(second == 3 && refusals == 0);
    CHECK(backend_api_chunk_get_string(a, "/content", &text, NULL) == BACKEND_API_STATUS_OK && strcmp(text, "Red") == 0);
    CHECK(backend_api_chunk_get_string(a, "/finish_reason", &text, NULL) == BACKEND_API_STATUS_OK && strcmp(text, "stop") == 0);
    backend_api_chunk_free(a);
    /* Response headers: by name in any case, and by index. */
    const char *value = NULL, *name = NULL;
    size_t len = 0;
    CHECK(backend_api_stream_header(s, "X-Request-Id", &value, &len) == BACKEND_API_STATUS_OK && strcmp(value, "req-test") == 0 && len == 8);
    CHECK(backend_api_stream_header(s, "x-ratelimit-remaining-requests", &value, NULL) == BACKEND_API_STATUS_OK && strcmp(value, "99") == 0);
    CHECK(backend_api_stream_header(s, "x-absent", &value, NULL) == BACKEND_API_STATUS_NOT_FOUND);
    CHECK(backend_api_stream_header_at(s, 0, &name, &value) == BACKEND_API_STATUS_OK && strcmp(name, "content-type") == 0);
    CHECK(backend_api_stream_header_at(s, 99, &name, &value) == BACKEND_API_STATUS_NOT_FOUND);
    CHECK(backend_api_stream_header(NULL, "x", &value, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_stream_header(s, NULL, &value, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    backend_api_close(s);
    /* Log probabilities through the JSON Pointer getters of a content chunk. */
    s = open_stream(o, "test_openai", "\"choices\"");
    backend_api_chunk *ch = NULL;
    backend_api_status early = backend_api_stream_header(s, "x-request-id", &value, NULL);
    CHECK(early == BACKEND_API_STATUS_AGAIN || early == BACKEND_API_STATUS_OK); /* before or after the headers */
    while (backend_api_next(s, -1, &ch, NULL) == BACKEND_API_STATUS_OK) {
        if (backend_api_chunk_kind(ch) == BACKEND_API_KIND_CONTENT && backend_api_chunk_choice(ch) == 0)
            CHECK(backend_api_chunk_get_number(ch, "/logprobs/content/0/logprob", &logprob) == BACKEND_API_STATUS_OK && logprob == -0.25);
        backend_api_chunk_free(ch);
    }
    backend_api_close(s);

    a = openai_script(o, "refusal", &second, &refusals, &s);
    CHECK(refusals == 2 && second == 0);
    CHECK(backend_api_chunk_get_string(a, "/refusal", &text, NULL) == BACKEND_API_STATUS_OK && strcmp(text, "I can't help with that.") == 0);
    backend_api_chunk_free(a);
    backend_api_close(s);

    /* A tool round: the follow-up keeps the tool calls, without a user message. */
    a = openai_script(o, "agent", &second, &refusals, &s);
    backend_api_request *r = make_request("test_openai", "\"agent\"");
    backend_api_request *next = NULL;
    CHECK(backend_api_request_follow_up(r, s, NULL, &next, NULL) == BACKEND_API_STATUS_OK);
    CHECK(backend_api_request_add_tool_result(next, "call_w1", "{\"forecast\": \"sunny\"}", NULL) == BACKEND_API_STATUS_OK);
    const char *body = json_of(next);
    CHECK(strstr(body, "\"tool_calls\":[{\"function\":{\"arguments\":\"{\\\"city\\\": \\\"Paris\\\"}\",\"name\":\"get_weather\"},\"id\":\"call_w1\",\"type\":\"function\"}]"));
    CHECK(strstr(body, "{\"content\":\"{\\\"forecast\\\": \\\"sunny\\\"}\",\"role\":\"tool\",\"tool_call_id\":\"call_w1\"}]"));
    backend_api_string_free(body);
    backend_api_error *e = NULL;
    CHECK(invalid(backend_api_request_add_tool_result(next, "", "x", &e), &e, "tool call id is empty"));
    CHECK(invalid(backend_api_request_add_tool_result(next, NULL, "x", &e), &e, "tool_call_id is NULL"));
    CHECK(invalid(backend_api_request_add_tool_result(next, "id", NULL, &e), &e, "content is NULL"));
    CHECK(invalid(backend_api_request_add_tool_result(NULL, "id", "x", &e), &e, "request is NULL"));
    backend_api_request_free(next);
    backend_api_request_free(r);
    backend_api_chunk_free(a);
    backend_api_close(s);
    backend_api_client_free(o);
    backend_api_client_free(c);
}

/* Generated media: listed by the answer, fetched into memory and into a file;
 * providers and typed models. */
static void test_media_providers_models(void) {
    backend_api_client *c = client_for(url);
    backend_api_stream *s = open_stream(c, "test_media", "true");
    backend_api_chunk *ch = NULL;
    while (backend_api_next(s, -1, &ch, NULL) == BACKEND_API_STATUS_OK) backend_api_chunk_free(ch);
    backend_api_chunk *answer = NULL;
    CHECK(backend_api_stream_answer(s, &answer, NULL) == BACKEND_API_STATUS_OK);
    backend_api_close(s);
    CHECK(backend_api_answer_media_count(answer) == 1);
    backend_api_media_kind kind = BACKEND_API_MEDIA_KIND_MAX_ENUM;
    const char *media_url = NULL, *alt = NULL;
    char want[256];
    snprintf(want, sizeof want, "%s/media/test-dot.png", url);
    CHECK(backend_api_answer_medium(answer, 0, &kind, &media_url, &alt, NULL) == BACKEND_API_STATUS_OK);
    CHECK(kind == BACKEND_API_MEDIA_KIND_IMAGE && media_url && strcmp(media_url, want) == 0);
    CHECK(alt && strcmp(alt, "a test dot") == 0);
    CHECK(backend_api_answer_medium(answer, 1, &kind, &media_url, &alt, NULL) == BACKEND_API_STATUS_NOT_FOUND);
    CHECK(backend_api_answer_media_count(NULL) == 0);
    backend_api_chunk *content = NULL;
    const char *plain = "{\"type\":\"content\",\"content\":\"x\",\"urls\":[\"/media/a.png\"]}";
    CHECK(backend_api_chunk_parse(plain, strlen(plain), &content, NULL) == BACKEND_API_STATUS_OK);
    CHECK(backend_api_answer_media_count(content) == 0);
    backend_api_error *not_answer = NULL;
    CHECK(invalid(backend_api_answer_medium(content, 0, &kind, &media_url, &alt, &not_answer), &not_answer, "not an answer chunk"));
    CHECK(invalid(backend_api_answer_medium(answer, 0, NULL, &media_url, &alt, &not_answer), &not_answer, "kind_out is NULL"));
    backend_api_chunk_free(content);

    uint8_t *data = NULL;
    size_t len = 0;
    const char *type = NULL;
    CHECK(backend_api_media_fetch(c, NULL, media_url, NULL, 0, &data, &len, &type, NULL) == BACKEND_API_STATUS_OK);
    CHECK(data && len > 8 && memcmp(data, "\x89PNG", 4) == 0 && type && strcmp(type, "image/png") == 0);
    backend_api_bytes_free(data, len);
    backend_api_string_free(type);
    /* Relative as g4f sends it, over the limit: LIMIT. */
    backend_api_error *e = NULL;
    CHECK(backend_api_media_fetch(c, NULL, "/media/test-dot.png", NULL, 4, &data, &len, NULL, &e) == BACKEND_API_STATUS_LIMIT);
    backend_api_error_free(e);
    /* Into a file; a failed download leaves none. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/backend-api-abi-media-%d.png", (int)getpid());
    uint64_t written = 0;
    CHECK(backend_api_media_save(c, NULL, media_url, path, NULL, 0, &written, NULL, NULL) == BACKEND_API_STATUS_OK && written == len);
    FILE *f = fopen(path, "rb");
    char head[4] = {0};
    CHECK(f && fread(head, 1, 4, f) == 4 && memcmp(head, "\x89PNG", 4) == 0);
    if (f) fclose(f);
    remove(path);
    CHECK(backend_api_media_save(c, NULL, "/media/absent.png", path, NULL, 0, &written, NULL, &e) == BACKEND_API_STATUS_HTTP);
    backend_api_error_free(e);
    CHECK(fopen(path, "rb") == NULL);
    CHECK(invalid(backend_api_media_fetch(c, NULL, NULL, NULL, 0, &data, &len, NULL, &e), &e, "url is NULL"));
    CHECK(invalid(backend_api_media_fetch(c, NULL, media_url, NULL, 0, NULL, &len, NULL, &e), &e, "data_out is NULL"));
    backend_api_bytes_free(NULL, 0);
    backend_api_chunk_free(answer);

    const char *json = NULL;
    CHECK(backend_api_providers(c, NULL, &json, NULL, NULL) == BACKEND_API_STATUS_OK && strstr(json, "\"name\":\"TestBackend\""));
    backend_api_string_free(json);
    backend_api_model_list *models = NULL;
    CHECK(backend_api_model_list_fetch(c, "TestBackend", NULL, &models, NULL) == BACKEND_API_STATUS_OK);
    CHECK(backend_api_model_list_count(models) == 1);
    const char *id = NULL, *provider = NULL;
    uint32_t caps = 99, known = 0;
    CHECK(backend_api_model_list_get(models, 0, &id, &provider, &caps, &known) == BACKEND_API_STATUS_OK);
    CHECK(id && strcmp(id, "test-model") == 0 && provider && strcmp(provider, "TestBackend") == 0);
    CHECK(caps == 0 && (known & BACKEND_API_CAPABILITY_VISION) && !(known & BACKEND_API_CAPABILITY_TOOLS));
    CHECK(backend_api_model_list_get(models, 1, &id, NULL, NULL, NULL) == BACKEND_API_STATUS_NOT_FOUND);
    backend_api_model_list_free(models);
    backend_api_model_list_free(NULL);
    backend_api_client_free(c);
}

int main(int argc, char **argv) {
    url = backend_url(argc, argv);
    test_version_and_names();
    test_bad_arguments();
    test_canned_answer();
    test_errors();
    test_cancel_and_close();
    test_models();
    test_follow_up_answer_and_clone();
    test_choices_refusals_tools_headers();
    test_media_providers_models();
    return finish();
}
