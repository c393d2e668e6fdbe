/* The core's promises seen from C (built with -fshort-enums): a slow name
 * resolution counts against CONNECT and never holds up close; close never waits on
 * a log callback blocked on the closing thread's lock, and destroy runs once;
 * cancellers outlive their stream; a listing can be cancelled; the stats struct
 * grows safely; the version number; 32-bit enums; the event-loop descriptor.
 * Usage: promises_test BACKEND_URL. Last line: "N passed, M failed".
 * A hang is caught by alarm(): the program dies instead of passing. */
#define _GNU_SOURCE
#include "check.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(backend_api_status) == 4, "enums stay 32 bits under -fshort-enums");
_Static_assert(sizeof(backend_api_kind) == 4, "enums stay 32 bits under -fshort-enums");
_Static_assert(sizeof(backend_api_log_level) == 4, "enums stay 32 bits under -fshort-enums");
_Static_assert(sizeof(backend_api_timeout) == 4, "enums stay 32 bits under -fshort-enums");

static const char *url;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A resolver that takes 8 s for "slow.test": this program's getaddrinfo is the one
 * the library calls (an executable's definition comes first); others resolve as usual. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res) {
    if (node && strcmp(node, "slow.test") == 0) {
        sleep(8);
        return EAI_NONAME;
    }
    int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **) =
        (int (*)(const char *, const char *, const struct addrinfo *, struct addrinfo **))dlsym(
            RTLD_NEXT, "getaddrinfo");
    return real(node, service, hints, res);
}

static void test_slow_resolution(void) {
    backend_api_client *c = client_for("http://slow.test:8080");
    CHECK(backend_api_client_set_timeout(c, BACKEND_API_TIMEOUT_CONNECT, 1000, NULL) == BACKEND_API_STATUS_OK);
    backend_api_request *r = request_with(NULL);
    backend_api_stream *s = NULL;
    backend_api_chunk *ch = NULL;
    backend_api_error *e = NULL;
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    backend_api_status st = backend_api_next(s, 4000, &ch, &e);
    printf("slow resolver, CONNECT 1000 ms: next(4000) = %s: %s\n", backend_api_status_name(st),
           backend_api_error_message(e));
    CHECK(st == BACKEND_API_STATUS_TIMED_OUT);
    backend_api_error_free(e);
    backend_api_close(s);

    /* Close while the name is resolving returns at once. */
    CHECK(backend_api_client_set_timeout(c, BACKEND_API_TIMEOUT_CONNECT, 30000, NULL) == BACKEND_API_STATUS_OK);
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    sleep_ms(200);
    double t0 = now_ms();
    backend_api_close(s);
    double took = now_ms() - t0;
    printf("close during name resolution: %.3f ms\n", took);
    CHECK(took < 5000);
    backend_api_request_free(r);
    backend_api_client_free(c);
}

/* A log sink that takes a lock: the test holds it while closing. */
struct sink {
    pthread_mutex_t lock;
    atomic_int records, entered, destroyed;
};

static void on_log(void *user_data, backend_api_log_level level, const char *message) {
    (void)level, (void)message;
    struct sink *k = user_data;
    atomic_fetch_add(&k->records, 1);
    atomic_store(&k->entered, 1);
    pthread_mutex_lock(&k->lock);
    pthread_mutex_unlock(&k->lock);
}

static void on_destroy(void *user_data) {
    struct sink *k = user_data;
    atomic_fetch_add(&k->destroyed, 1);
}

static void test_close_beside_a_blocked_log_callback(void) {
    static struct sink k = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    backend_api_client *c = client_for(url);
    CHECK(backend_api_client_set_log(c, on_log, &k, on_destroy, BACKEND_API_LOG_LEVEL_TRACE, NULL) ==
          BACKEND_API_STATUS_OK);
    backend_api_request *r = request_with(NULL);
    backend_api_stream *s = NULL;
    pthread_mutex_lock(&k.lock);
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    while (!atomic_load(&k.entered)) sleep_ms(1);
    backend_api_close(s); /* the callback waits on k.lock, which this thread holds */
    backend_api_client_free(c);
    backend_api_request_free(r);
    CHECK(atomic_load(&k.destroyed) == 0); /* the stream's thread still holds the sink */
    pthread_mutex_unlock(&k.lock);
    for (int i = 0; i < 1000 && !atomic_load(&k.destroyed); i++) sleep_ms(10);
    CHECK(atomic_load(&k.destroyed) == 1);
    CHECK(atomic_load(&k.records) == 1); /* nothing after close began */

    /* A failed set_log keeps nothing and never calls destroy. */
    static struct sink unused = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    c = client_for(url);
    CHECK(backend_api_client_set_log(c, on_log, &unused, on_destroy, 99, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    backend_api_client_free(c);
    CHECK(atomic_load(&unused.destroyed) == 0);
}

static void *cancel_from_thread(void *arg) {
    backend_api_canceller_cancel(arg);
    return NULL;
}

static void test_cancellers(void) {
    backend_api_client *c = client_for(url);
    const char *stall[][2] = {{"test_fault", "\"stall\""}, {NULL, NULL}};
    backend_api_request *r = request_with(stall);
    backend_api_canceller *k = (backend_api_canceller *)0x1;
    CHECK(backend_api_stream_canceller(NULL, &k, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT && k == (void *)0x1);

    /* Cancel through a canceller wakes next; after close the canceller still works. */
    backend_api_stream *s = NULL;
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    CHECK(backend_api_stream_canceller(s, &k, NULL) == BACKEND_API_STATUS_OK && k);
    pthread_t t;
    pthread_create(&t, NULL, cancel_from_thread, k);
    backend_api_chunk *ch = NULL;
    backend_api_status st;
    while ((st = backend_api_next(s, -1, &ch, NULL)) == BACKEND_API_STATUS_OK) backend_api_chunk_free(ch);
    pthread_join(t, NULL);
    CHECK(st == BACKEND_API_STATUS_CANCELLED);
    backend_api_close(s);
    backend_api_canceller_cancel(k);
    backend_api_canceller_cancel(k);
    backend_api_canceller_free(k);

    /* A thread cancelling while the owner closes: many times, no use after free. */
    for (int i = 0; i < 100; i++) {
        CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
        CHECK(backend_api_stream_canceller(s, &k, NULL) == BACKEND_API_STATUS_OK);
        pthread_create(&t, NULL, cancel_from_thread, k);
        backend_api_close(s);
        pthread_join(t, NULL);
        backend_api_canceller_free(k);
    }

    /* A cancel after END leaves END. */
    backend_api_request *plain = request_with(NULL);
    CHECK(backend_api_open(c, plain, &s, NULL) == BACKEND_API_STATUS_OK);
    while ((st = backend_api_next(s, -1, &ch, NULL)) == BACKEND_API_STATUS_OK) backend_api_chunk_free(ch);
    CHECK(st == BACKEND_API_STATUS_END);
    backend_api_cancel(s);
    CHECK(backend_api_next(s, 0, &ch, NULL) == BACKEND_API_STATUS_END);
    backend_api_close(s);

    /* A listing cancelled from another thread returns CANCELLED. */
    k = backend_api_canceller_new();
    CHECK(k != NULL);
    pthread_create(&t, NULL, cancel_from_thread, k);
    pthread_join(t, NULL);
    const char *json = (const char *)0x1;
    backend_api_error *e = NULL;
    CHECK(backend_api_models(c, NULL, k, &json, NULL, &e) == BACKEND_API_STATUS_CANCELLED);
    CHECK(json == (const char *)0x1 && backend_api_error_status(e) == BACKEND_API_STATUS_CANCELLED);
    backend_api_error_free(e);
    backend_api_canceller_free(k);
    backend_api_canceller_cancel(NULL);
    backend_api_canceller_free(NULL);
    backend_api_request_free(plain);
    backend_api_request_free(r);
    backend_api_client_free(c);
}

static void test_stats_version_and_descriptor(void) {
    CHECK(BACKEND_API_VERSION_NUM ==
          ((BACKEND_API_VERSION_MAJOR << 16) | (BACKEND_API_VERSION_MINOR << 8) | BACKEND_API_VERSION_PATCH));
    CHECK(backend_api_version_num() == BACKEND_API_VERSION_NUM);

    backend_api_client *c = client_for(url);
    backend_api_request *r = request_with(NULL);
    backend_api_stream *s = NULL;
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    ptrdiff_t fd = -1;
    CHECK(backend_api_stream_fd(s, &fd, NULL) == BACKEND_API_STATUS_OK && fd >= 0);
    CHECK(fcntl((int)fd, F_GETFL) & O_NONBLOCK);
    char path[64], link[128] = {0};
    snprintf(path, sizeof path, "/proc/self/fd/%d", (int)fd);
    CHECK(readlink(path, link, sizeof link - 1) > 0 && strstr(link, "eventfd") != NULL);
    /* Level-triggered: readable, and still readable until next takes what is there. */
    struct pollfd p = {(int)fd, POLLIN, 0};
    CHECK(poll(&p, 1, 10000) == 1);
    CHECK(poll(&p, 1, 0) == 1);
    backend_api_chunk *ch = NULL;
    backend_api_status st;
    while ((st = backend_api_next(s, -1, &ch, NULL)) == BACKEND_API_STATUS_OK) backend_api_chunk_free(ch);
    CHECK(st == BACKEND_API_STATUS_END);

    /* The caller says how big its struct is; nothing past it is written. */
    struct {
        backend_api_stats stats;
        unsigned char guard[16];
    } box;
    memset(&box, 0xAB, sizeof box);
    box.stats.size = 0;
    CHECK(backend_api_stream_stats(s, &box.stats) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    box.stats.size = sizeof box.stats;
    CHECK(backend_api_stream_stats(s, &box.stats) == BACKEND_API_STATUS_OK);
    CHECK(box.stats.size == sizeof box.stats && box.stats.ended && box.stats.chunks > 0);
    CHECK(box.stats.queued_bytes == 0);
    CHECK(box.guard[0] == 0xAB && box.guard[15] == 0xAB);
    /* A newer caller's bigger struct: the library writes what it knows and says so. */
    memset(&box, 0xAB, sizeof box);
    box.stats.size = sizeof box;
    CHECK(backend_api_stream_stats(s, &box.stats) == BACKEND_API_STATUS_OK);
    CHECK(box.stats.size == sizeof box.stats && box.guard[0] == 0xAB);
    /* The test backend closes every connection: nothing was reused. */
    CHECK(!box.stats.reused_connection);
    /* An older caller's struct, up to `queued_bytes` (before `reused_connection`):
     * the newer field is left alone. */
    memset(&box, 0xAB, sizeof box);
    box.stats.size = offsetof(backend_api_stats, reused_connection);
    CHECK(backend_api_stream_stats(s, &box.stats) == BACKEND_API_STATUS_OK);
    CHECK(box.stats.size == offsetof(backend_api_stats, reused_connection) && box.stats.ended);
    CHECK(*(unsigned char *)&box.stats.reused_connection == 0xAB);
    backend_api_close(s);
    backend_api_request_free(r);
    backend_api_client_free(c);
}

int main(int argc, char **argv) {
    url = backend_url(argc, argv);
    alarm(120);
    test_slow_resolution();
    test_close_beside_a_blocked_log_callback();
    test_cancellers();
    test_stats_version_and_descriptor();
    return finish();
}
