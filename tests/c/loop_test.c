/* Beyond the peers, from C: 100 streams driven from one thread with poll() on their
 * descriptors, the assembled answer and follow-up request, statistics, retries and
 * the log callback. Usage: loop_test BACKEND_URL. Last line: "N passed, M failed". */
#include "backend_api.h"
#include "check.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREAMS 100

static const char *url;


struct slot {
    backend_api_stream *s;
    ptrdiff_t fd;
    int want, got, done;
    char text[256];
};

static void test_poll_loop(void) {
    backend_api_client *c = client_for(url);
    static struct slot slots[STREAMS];
    for (int i = 0; i < STREAMS; i++) {
        char n[16], delay[16];
        snprintf(n, sizeof n, "%d", 3 + i % 7);
        snprintf(delay, sizeof delay, "%d", i % 3 * 5);
        const char *fields[][2] = {{"test_chunks", n}, {"test_delay_ms", delay}, {NULL, NULL}};
        backend_api_request *r = request_with(fields);
        slots[i].want = 3 + i % 7;
        CHECK(backend_api_open(c, r, &slots[i].s, NULL) == BACKEND_API_STATUS_OK);
        backend_api_request_free(r);
        CHECK(backend_api_stream_fd(slots[i].s, &slots[i].fd, NULL) == BACKEND_API_STATUS_OK);
        ptrdiff_t again = -1;
        CHECK(backend_api_stream_fd(slots[i].s, &again, NULL) == BACKEND_API_STATUS_OK && again == slots[i].fd);
    }
    int open = STREAMS, rounds = 0;
    struct pollfd pfd[STREAMS];
    int index[STREAMS];
    while (open > 0 && rounds < 100000) {
        int n = 0;
        for (int i = 0; i < STREAMS; i++) {
            if (slots[i].done) continue;
            pfd[n].fd = (int)slots[i].fd;
            pfd[n].events = POLLIN;
            index[n++] = i;
        }
        int ready = poll(pfd, n, 5000);
        CHECK(ready > 0);
        if (ready <= 0) break;
        for (int k = 0; k < n; k++) {
            if (!(pfd[k].revents & POLLIN)) continue;
            struct slot *sl = &slots[index[k]];
            backend_api_chunk *ch;
            backend_api_status st;
            while ((st = backend_api_next(sl->s, 0, &ch, NULL)) == BACKEND_API_STATUS_OK) {
                if (backend_api_chunk_kind(ch) == BACKEND_API_KIND_CONTENT) {
                    sl->got++;
                    strncat(sl->text, backend_api_chunk_text(ch, NULL), sizeof sl->text - strlen(sl->text) - 1);
                }
                backend_api_chunk_free(ch);
            }
            if (st == BACKEND_API_STATUS_AGAIN) continue;
            CHECK(st == BACKEND_API_STATUS_END);
            sl->done = 1;
            open--;
        }
        rounds++;
    }
    int complete = 0;
    for (int i = 0; i < STREAMS; i++) {
        complete += slots[i].done && slots[i].got == slots[i].want;
        backend_api_chunk *answer = NULL;
        const char *content = NULL;
        CHECK(backend_api_stream_answer(slots[i].s, &answer, NULL) == BACKEND_API_STATUS_OK);
        CHECK(backend_api_chunk_kind(answer) == BACKEND_API_KIND_ANSWER);
        CHECK(backend_api_chunk_field(answer, "content", &content, NULL) == BACKEND_API_STATUS_OK);
        CHECK(content && strcmp(content, slots[i].text) == 0);
        backend_api_chunk_free(answer);
        backend_api_close(slots[i].s);
    }
    printf("poll loop: %d of %d streams complete in %d rounds, one thread\n", complete, STREAMS, rounds);
    CHECK(complete == STREAMS);
    backend_api_client_free(c);
}

static void test_timeout_hint(void) {
    backend_api_client *c = client_for(url);
    backend_api_client_set_timeout(c, BACKEND_API_TIMEOUT_IDLE, 300, NULL);
    const char *fields[][2] = {{"test_fault", "\"stall\""}, {NULL, NULL}};
    backend_api_request *r = request_with(fields);
    backend_api_stream *s = NULL;
    backend_api_open(c, r, &s, NULL);
    ptrdiff_t fd = -1;
    backend_api_stream_fd(s, &fd, NULL);
    backend_api_status st = BACKEND_API_STATUS_AGAIN;
    backend_api_error *e = NULL;
    int deadlines = 0;
    for (int i = 0; i < 1000 && (st == BACKEND_API_STATUS_AGAIN || st == BACKEND_API_STATUS_OK); i++) {
        /* -1 until the response headers: the idle clock runs from then on; never 0
         * (the stream's thread ends the stream when it runs out). */
        int64_t wait = backend_api_stream_timeout_ms(s);
        CHECK(wait == -1 || (wait >= 1 && wait <= 300));
        deadlines += wait >= 0;
        struct pollfd p = {(int)fd, POLLIN, 0};
        poll(&p, 1, (int)wait);
        backend_api_chunk *ch = NULL;
        st = backend_api_next(s, 0, &ch, &e);
        if (st == BACKEND_API_STATUS_OK) backend_api_chunk_free(ch);
    }
    CHECK(st == BACKEND_API_STATUS_TIMED_OUT);
    CHECK(deadlines > 0);
    CHECK(e && strstr(backend_api_error_message(e), "idle timeout"));
    backend_api_error_free(e);
    backend_api_close(s);
    backend_api_request_free(r);
    backend_api_client_set_timeout(c, BACKEND_API_TIMEOUT_IDLE, 0, NULL);
    s = NULL;
    r = request_with(NULL);
    backend_api_open(c, r, &s, NULL);
    CHECK(backend_api_stream_timeout_ms(s) == -1); /* no idle, no total */
    backend_api_close(s);
    backend_api_request_free(r);
    backend_api_client_free(c);
}

struct log_sink {
    int records, posts, leaks;
};

static void on_log(void *user_data, backend_api_log_level level, const char *message) {
    struct log_sink *sink = user_data;
    sink->records++;
    if (level == BACKEND_API_LOG_LEVEL_INFO && strncmp(message, "POST ", 5) == 0) sink->posts++;
    if (strstr(message, "sk-C-MARKER")) sink->leaks++;
}

static void test_log_stats_retries_follow_up(void) {
    backend_api_client *c = client_for(url);
    struct log_sink sink = {0, 0, 0};
    CHECK(backend_api_client_set_log(c, on_log, &sink, NULL, BACKEND_API_LOG_LEVEL_DEBUG, NULL) == BACKEND_API_STATUS_OK);
    CHECK(backend_api_client_set_retries(c, 2, 10, 100, NULL) == BACKEND_API_STATUS_OK);
    CHECK(backend_api_client_add_header(c, "X-Api-Key", "sk-C-MARKER", NULL) == BACKEND_API_STATUS_OK);
    char key[64];
    snprintf(key, sizeof key, "\"c-retry-%p\"", (void *)&sink);
    const char *fields[][2] = {{"test_fail_key", key}, {"test_fail_times", "1"}, {"test_chunks", "4"}, {NULL, NULL}};
    backend_api_request *r = request_with(fields);
    backend_api_request_set_api_key(r, "sk-C-MARKER", BACKEND_API_KEY_BODY | BACKEND_API_KEY_BEARER, NULL);
    backend_api_stream *s = NULL;
    backend_api_open(c, r, &s, NULL);
    backend_api_chunk *ch;
    int n = 0;
    while (backend_api_next(s, -1, &ch, NULL) == BACKEND_API_STATUS_OK) {
        n++;
        backend_api_chunk_free(ch);
    }
    backend_api_stats st;
    memset(&st, 0xff, sizeof st);
    st.size = sizeof st;
    CHECK(backend_api_stream_stats(s, &st) == BACKEND_API_STATUS_OK);
    CHECK(st.retries == 1);
    CHECK(st.chunks == (uint64_t)n && st.delivered == (uint64_t)n && st.skipped == 0);
    CHECK(st.bytes > 100);
    CHECK(st.headers_us >= 0 && st.first_chunk_us >= st.headers_us && st.elapsed_us >= st.first_chunk_us);
    CHECK(st.ended);
    CHECK(backend_api_stream_timeout_ms(s) == -1); /* ended: no deadline left */
    CHECK(sink.posts == 2); /* the first attempt and the retry */
    CHECK(sink.records > sink.posts);
    CHECK(sink.leaks == 0);

    /* The follow-up request carries the conversation on. */
    backend_api_request *next = NULL;
    CHECK(backend_api_request_follow_up(r, s, "and then?", &next, NULL) == BACKEND_API_STATUS_OK);
    backend_api_request_set_field_json(next, "test_fail_key", "null", NULL);
    backend_api_request_set_field_json(next, "test_echo", "true", NULL);
    backend_api_stream *s2 = NULL;
    backend_api_open(c, next, &s2, NULL);
    int assistant = 0;
    while (backend_api_next(s2, -1, &ch, NULL) == BACKEND_API_STATUS_OK) {
        const char *t = backend_api_chunk_text(ch, NULL);
        if (t && strncmp(t, "ECHO:", 5) == 0)
            assistant = strstr(t, "{\"content\":\"part0 part1 part2 part3 \",\"role\":\"assistant\"}") != NULL &&
                        strstr(t, "and then?") != NULL;
        backend_api_chunk_free(ch);
    }
    CHECK(assistant);
    backend_api_close(s2);
    backend_api_request_free(next);
    backend_api_close(s);
    backend_api_request_free(r);

    /* Bad arguments. */
    CHECK(backend_api_client_set_retries(c, 1, 0, 10, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_client_set_retries(c, 1, 100, 10, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_client_set_retries(NULL, 0, 0, 0, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_client_set_assemble(NULL, false, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_client_set_log(NULL, NULL, NULL, NULL, 0, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_client_set_log(c, on_log, NULL, NULL, 0, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_client_set_log(c, on_log, NULL, NULL, 99, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    CHECK(backend_api_client_set_log(c, NULL, NULL, NULL, 0, NULL) == BACKEND_API_STATUS_OK); /* off: level ignored */
    ptrdiff_t fd = 7;
    CHECK(backend_api_stream_fd(NULL, &fd, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT && fd == 7);
    CHECK(backend_api_stream_timeout_ms(NULL) == -1);
    CHECK(backend_api_stream_stats(NULL, &st) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    backend_api_chunk *a = NULL;
    CHECK(backend_api_stream_answer(NULL, &a, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT && a == NULL);
    CHECK(backend_api_request_follow_up(NULL, NULL, "x", &next, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    backend_api_client_free(c);
}

/* A client without a callback: with BACKEND_API_LOG set, records go to stderr. */
static void test_env_logger(void) {
    backend_api_client *c = client_for(url);
    backend_api_request *r = request_with(NULL);
    backend_api_stream *s = NULL;
    backend_api_open(c, r, &s, NULL);
    backend_api_chunk *ch;
    while (backend_api_next(s, -1, &ch, NULL) == BACKEND_API_STATUS_OK) backend_api_chunk_free(ch);
    backend_api_close(s);
    backend_api_request_free(r);
    backend_api_client_free(c);
}

int main(int argc, char **argv) {
    url = backend_url(argc, argv);
    test_poll_loop();
    test_timeout_hint();
    test_log_stats_retries_follow_up();
    test_env_logger();
    return finish();
}
