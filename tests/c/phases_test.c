/* The phase matrix: every phase of a request (slow name resolution, a connect that
 * never completes, a TLS handshake that stalls, headers that never come, headers
 * then silence, bytes that never complete a chunk, keep-alive comments only, a
 * stall mid-body, a consumer that pauses; and on a connection reused from an
 * earlier complete answer of the same client: a body never read, headers that
 * never come, headers then silence) x every way to wait (next(-1), next(T),
 * a poll loop with backend_api_stream_timeout_ms, a poll loop with -1, a model
 * listing) x every action (nothing: the timeout must fire; cancel from another
 * thread; close). Each cell: the call returns within its bound with the right
 * status, and the process's threads and descriptors are back to the baseline soon
 * after the end. The servers run in a child process, so the threads and
 * descriptors counted are the library's.
 *
 * Prints one line per cell and a closing "N passed, M failed". A cell that hangs
 * past its watchdog is a failure (its thread is abandoned). */
#define _GNU_SOURCE
#include "check.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 800   /* CONNECT, HEADERS and IDLE of the client */
#define ACTION_AT_MS 300 /* when a cancel or close comes */
#define MARGIN_MS 2500   /* slack for a shared, noisy machine */
#define SETTLE_MS 250    /* longest wait for threads and descriptors to settle */
#define RESOLVE_SLEEP_S 2
#define PAUSE_CHUNKS 400 /* about 400 KiB: fills the 128 KiB queue */
#define POOL_THREADS 4
#define MAX_STRAYS 32 /* threads running lookups given up, beside the pool */

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* "slow.test" takes RESOLVE_SLEEP_S in the system's resolver, "slow8.test" 8 s:
 * this program's getaddrinfo is the one the library calls; other names resolve
 * as usual. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res) {
    if (node && (strcmp(node, "slow.test") == 0 || strcmp(node, "slow8.test") == 0)) {
        sleep(strcmp(node, "slow.test") == 0 ? RESOLVE_SLEEP_S : 8);
        return EAI_NONAME;
    }
    int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **) =
        (int (*)(const char *, const char *, const struct addrinfo *, struct addrinfo **))dlsym(
            RTLD_NEXT, "getaddrinfo");
    return real(node, service, hints, res);
}

static int count_dir(const char *path) {
    DIR *d = opendir(path);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}
static int threads_now(void) { return count_dir("/proc/self/task"); }
static int fds_now(void) { return count_dir("/proc/self/fd"); }

/* ---- the servers (child process) ---- */

enum phase {
    P_CONNECT, P_TLS, P_NO_HEADERS, P_SILENT, P_PARTIAL, P_KEEPALIVE, P_MIDBODY, P_PAUSE,
    P_NOREAD, P_SOCKS, P_SOCKS_CONNECT, P_RESOLVE, P_REUSED_SEND, P_REUSED_HEADERS,
    P_REUSED_BODY, P_COUNT
};
static const char *phase_names[P_COUNT] = {
    "connect never completes", "TLS handshake stalls", "headers never come",
    "headers then silence", "bytes never complete a chunk", "keep-alive comments only",
    "stall mid-body", "consumer pauses", "body never read (4 MiB)", "SOCKS5, then silence",
    "SOCKS5 connect never ends", "slow name resolution", "reused: body never read",
    "reused: headers never come", "reused: headers, silence",
};
#define P_REUSED P_REUSED_SEND /* the first of the phases on a reused connection */

/* A phase on a reused connection behaves as this one once the connection served
 * its first, complete answer. */
static enum phase base_phase(enum phase p) {
    switch (p) {
    case P_REUSED_SEND: return P_NOREAD;
    case P_REUSED_HEADERS: return P_NO_HEADERS;
    case P_REUSED_BODY: return P_SILENT;
    default: return p;
    }
}
/* Servers outside the matrix: a 503 with Retry-After: 1 every other request
 * (then an answer), a 503 with Retry-After: 1 always, an HTTP proxy answering
 * 407, one answering 502, one closing at once. */
enum extra { X_RETRY, X_BUSY, X_PROXY407, X_PROXY502, X_PROXYCLOSE, X_COUNT };
static int extra_ports[X_COUNT];
static int *retry_count; /* shared with the server process */
static int *reused_count; /* requests on a connection after its first: shared too */
#define NOREAD_BYTES (4 << 20)

static const char HEAD[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                           "Connection: close\r\n\r\n";
static const char JSON_HEAD[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                "Connection: close\r\n\r\n";

static int send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads the request head; 1 for a GET (a model listing). */
static int read_head(int fd) {
    char buf[8192];
    size_t have = 0;
    while (have < sizeof buf - 1) {
        ssize_t r = recv(fd, buf + have, sizeof buf - 1 - have, 0);
        if (r <= 0) break;
        have += (size_t)r;
        buf[have] = 0;
        if (strstr(buf, "\r\n\r\n")) break;
    }
    return have >= 3 && memcmp(buf, "GET", 3) == 0;
}

/* Reads a whole request (its head and its Content-Length body) and answers it
 * completely, keeping the connection; -1 when the client went away. */
static int answer_keep_alive(int fd) {
    char buf[8192];
    size_t have = 0;
    char *end = NULL;
    while (!end && have < sizeof buf - 1) {
        ssize_t r = recv(fd, buf + have, sizeof buf - 1 - have, 0);
        if (r <= 0) return -1;
        have += (size_t)r;
        buf[have] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end) return -1;
    char *cl = strcasestr(buf, "content-length:");
    size_t body = cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
    size_t got = have - (size_t)(end + 4 - buf);
    while (got < body) {
        ssize_t r = recv(fd, buf, sizeof buf < body - got ? sizeof buf : body - got, 0);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    static const char one[] = "data: {\"type\":\"content\",\"content\":\"first\"}\n\n";
    char head[160];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     sizeof one - 1);
    if (send_all(fd, head, (size_t)n) < 0 || send_all(fd, one, sizeof one - 1) < 0) return -1;
    /* The next request, on this connection: counted once it arrives. */
    char c;
    if (recv(fd, &c, 1, MSG_PEEK) != 1) return -1;
    __sync_fetch_and_add(reused_count, 1);
    return 0;
}

/* Waits until the client goes away. */
static void until_closed(int fd) {
    char b[4096];
    while (recv(fd, b, sizeof b, 0) > 0) {
    }
}

static int recv_all(int fd, unsigned char *b, size_t n) {
    while (n > 0) {
        ssize_t r = recv(fd, b, n, 0);
        if (r <= 0) return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

/* A SOCKS5 proxy (no authentication, IPv4 and name targets) that relays to the
 * target until either side closes. */
static void serve_socks(int fd) {
    unsigned char b[512];
    if (recv_all(fd, b, 2) < 0 || recv_all(fd, b + 2, b[1]) < 0) return;
    send_all(fd, "\x05\x00", 2);
    if (recv_all(fd, b, 4) < 0) return;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (b[3] == 1) {
        if (recv_all(fd, b, 6) < 0) return;
        memcpy(&sa.sin_addr, b, 4);
        memcpy(&sa.sin_port, b + 4, 2);
    } else if (b[3] == 3) {
        if (recv_all(fd, b, 1) < 0 || recv_all(fd, b + 1, (size_t)b[0] + 2) < 0) return;
        memcpy(&sa.sin_port, b + 1 + b[0], 2);
    } else {
        return;
    }
    int up = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(up, (struct sockaddr *)&sa, sizeof sa) != 0) {
        send_all(fd, "\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00", 10);
        return;
    }
    send_all(fd, "\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x00", 10);
    struct pollfd pf[2] = {{fd, POLLIN, 0}, {up, POLLIN, 0}};
    char buf[16384];
    for (;;) {
        if (poll(pf, 2, -1) < 0) continue;
        for (int i = 0; i < 2; i++) {
            if (!pf[i].revents) continue;
            ssize_t r = recv(pf[i].fd, buf, sizeof buf, 0);
            if (r <= 0 || send_all(pf[1 - i].fd, buf, (size_t)r) < 0) return;
        }
    }
}

static void serve_extra(enum extra x, int fd) {
    static const char BUSY[] = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                               "Content-Length: 0\r\nConnection: close\r\n\r\n";
    read_head(fd);
    switch (x) {
    case X_RETRY:
        if (__sync_fetch_and_add(retry_count, 1) % 2 == 0) {
            send_all(fd, BUSY, sizeof BUSY - 1);
        } else {
            const char one[] = "data: {\"type\":\"content\",\"content\":\"after\"}\n\n";
            send_all(fd, HEAD, sizeof HEAD - 1);
            send_all(fd, one, sizeof one - 1);
            shutdown(fd, SHUT_WR);
        }
        break;
    case X_BUSY:
        send_all(fd, BUSY, sizeof BUSY - 1);
        break;
    case X_PROXY407: {
        const char r[] = "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n";
        send_all(fd, r, sizeof r - 1);
        break;
    }
    case X_PROXY502: {
        const char r[] = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";
        send_all(fd, r, sizeof r - 1);
        break;
    }
    default: /* X_PROXYCLOSE */
        close(fd);
        return;
    }
    until_closed(fd);
}

static void serve(enum phase p, int fd) {
    if (p >= P_REUSED) {
        if (answer_keep_alive(fd) < 0) return;
        p = base_phase(p);
    }
    if (p == P_TLS) { /* accepted, never a TLS byte */
        until_closed(fd);
        return;
    }
    if (p == P_SOCKS) {
        serve_socks(fd);
        return;
    }
    int get = read_head(fd);
    switch (p) {
    case P_NOREAD: /* the head read; the body never (a listing's GET: no answer either) */
        sleep(60);
        return;
    case P_NO_HEADERS:
        break;
    case P_SILENT:
        send_all(fd, HEAD, sizeof HEAD - 1);
        break;
    case P_PARTIAL:
        send_all(fd, HEAD, sizeof HEAD - 1);
        for (;;) { /* a chunk that never ends, a byte at a time */
            if (send_all(fd, "x", 1) < 0) return;
            sleep_ms(100);
        }
    case P_KEEPALIVE:
        send_all(fd, HEAD, sizeof HEAD - 1);
        for (;;) {
            if (send_all(fd, ": keep-alive\n\n", 14) < 0) return;
            sleep_ms(100);
        }
    case P_MIDBODY:
        send_all(fd, HEAD, sizeof HEAD - 1);
        {
            const char two[] = "data: {\"type\":\"content\",\"content\":\"a\"}\n\n"
                               "data: {\"type\":\"content\",\"content\":\"b\"}\n\n";
            send_all(fd, two, sizeof two - 1);
        }
        break;
    case P_PAUSE:
        if (get) {
            const char body[] = "{\"Pause\":[\"m\"]}";
            send_all(fd, JSON_HEAD, sizeof JSON_HEAD - 1);
            send_all(fd, body, sizeof body - 1);
            shutdown(fd, SHUT_WR);
            break;
        }
        send_all(fd, HEAD, sizeof HEAD - 1);
        {
            static char line[1100];
            int n = snprintf(line, sizeof line, "data: {\"type\":\"content\",\"content\":\"");
            memset(line + n, 'z', 1000);
            n += 1000;
            n += snprintf(line + n, sizeof line - (size_t)n, "\"}\n\n");
            for (int i = 0; i < PAUSE_CHUNKS; i++)
                if (send_all(fd, line, (size_t)n) < 0) return;
        }
        /* The end: a FIN, and the request's unread bytes drained, so the close is
         * not a reset that would drop what the client has not read yet. */
        shutdown(fd, SHUT_WR);
        break;
    default:
        break;
    }
    until_closed(fd);
}

static void server_loop(int *listeners, int *extras) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sa.sa_flags = SA_NOCLDWAIT;
    sigaction(SIGCHLD, &sa, NULL);
    struct pollfd fds[P_COUNT + X_COUNT];
    for (;;) {
        int n = 0;
        for (int p = 0; p < P_COUNT; p++)
            if (listeners[p] >= 0) fds[n++] = (struct pollfd){listeners[p], POLLIN, 0};
        for (int x = 0; x < X_COUNT; x++) fds[n++] = (struct pollfd){extras[x], POLLIN, 0};
        if (poll(fds, (nfds_t)n, -1) < 0) continue;
        for (int i = 0; i < n; i++) {
            if (!(fds[i].revents & POLLIN)) continue;
            int c = accept(fds[i].fd, NULL, NULL);
            if (c < 0) continue;
            enum phase p = P_COUNT;
            for (int q = 0; q < P_COUNT; q++)
                if (listeners[q] == fds[i].fd) p = (enum phase)q;
            int x = X_COUNT;
            for (int q = 0; q < X_COUNT; q++)
                if (extras[q] == fds[i].fd) x = q;
            if (fork() == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (x < X_COUNT)
                    serve_extra((enum extra)x, c);
                else
                    serve(p, c);
                _exit(0);
            }
            close(c);
        }
    }
}

static int listen_on(int backlog, int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, backlog) != 0) {
        perror("listen");
        exit(2);
    }
    socklen_t l = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &l);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* ---- the cells ---- */

enum wait { W_NEXT_BLOCK, W_NEXT_TIMED, W_POLL_DEADLINE, W_POLL_INFINITE, W_LISTING, W_COUNT };
static const char *wait_names[W_COUNT] = {"next(-1)", "next(50)", "poll(timeout_ms)",
                                          "poll(-1)", "model listing"};
enum action { A_NOTHING, A_CANCEL, A_CLOSE, A_COUNT };
static const char *action_names[A_COUNT] = {"nothing", "cancel", "close"};

static char urls[P_COUNT][64];
static char proxies[P_COUNT][64]; /* the SOCKS phases' proxy */

/* One complete stream on `c`. */
static void answer_once(backend_api_client *c) {
    backend_api_request *r = request_with(NULL);
    backend_api_stream *s = NULL;
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    backend_api_chunk *ch = NULL;
    backend_api_status st;
    while ((st = backend_api_next(s, -1, &ch, NULL)) == BACKEND_API_STATUS_OK)
        backend_api_chunk_free(ch);
    CHECK(st == BACKEND_API_STATUS_END);
    backend_api_close(s);
    backend_api_request_free(r);
}

/* The client of a phase, each of its timeouts `ms`. */
static backend_api_client *phase_client(enum phase p, int64_t ms) {
    backend_api_client *c = client_for(urls[p]);
    for (int k = 0; k < 3; k++) backend_api_client_set_timeout(c, (uint32_t)k, ms, NULL);
    if (proxies[p][0]) CHECK(backend_api_client_set_proxy(c, proxies[p], NULL) == BACKEND_API_STATUS_OK);
    if (p >= P_REUSED) answer_once(c); /* its connection is kept */
    return c;
}

/* The request of a phase: one whose body the socket buffers cannot hold when the
 * server never reads it. */
static backend_api_request *phase_request(enum phase p) {
    backend_api_request *r = request_with(NULL);
    if (base_phase(p) == P_NOREAD) {
        char *big = malloc(NOREAD_BYTES + 1);
        memset(big, 'b', NOREAD_BYTES);
        big[NOREAD_BYTES] = 0;
        backend_api_request_add_message(r, "user", big, NULL);
        free(big);
    }
    return r;
}

struct cell {
    enum phase phase;
    enum wait wait;
    enum action action;
    backend_api_client *client;
    backend_api_stream *stream;
    backend_api_canceller *canceller;
    /* results */
    backend_api_status status;
    int chunks;
    char message[256];
    double took_ms;
    double opened_at; /* when the stream or listing began: bounds count from here */
    /* watchdog */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
};

static void finish_next(struct cell *c, backend_api_status st, backend_api_error *e) {
    c->status = st;
    if (e) snprintf(c->message, sizeof c->message, "%s", backend_api_error_message(e));
    backend_api_error_free(e);
}

/* One next() and its bookkeeping; 1 while the stream goes on. */
static int step(struct cell *c, int64_t timeout, backend_api_status *st, backend_api_error **e) {
    backend_api_chunk *ch = NULL;
    *st = backend_api_next(c->stream, timeout, &ch, e);
    if (*st == BACKEND_API_STATUS_OK) {
        c->chunks++;
        backend_api_chunk_free(ch);
    }
    return *st == BACKEND_API_STATUS_OK || *st == BACKEND_API_STATUS_AGAIN;
}

static void wait_stream(struct cell *c) {
    double t0 = c->opened_at;
    backend_api_status st = BACKEND_API_STATUS_AGAIN;
    backend_api_error *e = NULL;
    /* With "close", the consumer waits its own way until the action, then closes. */
    int closing = c->action == A_CLOSE;
    if (c->phase == P_PAUSE) sleep_ms(2 * TIMEOUT_MS); /* the consumer pauses */
    if (closing && c->wait == W_NEXT_BLOCK) {
        sleep_ms(ACTION_AT_MS);
        return;
    }
    ptrdiff_t fd = -1;
    if (c->wait == W_POLL_DEADLINE || c->wait == W_POLL_INFINITE)
        CHECK(backend_api_stream_fd(c->stream, &fd, NULL) == BACKEND_API_STATUS_OK);
    for (;;) {
        if (closing && now_ms() - t0 >= ACTION_AT_MS) return;
        int more;
        switch (c->wait) {
        case W_NEXT_BLOCK:
            more = step(c, -1, &st, &e);
            break;
        case W_NEXT_TIMED:
            more = step(c, 50, &st, &e);
            break;
        default: {
            int64_t t = c->wait == W_POLL_DEADLINE ? backend_api_stream_timeout_ms(c->stream) : -1;
            if (closing && (t < 0 || t > 20)) t = 20;
            struct pollfd p = {(int)fd, POLLIN, 0};
            poll(&p, 1, (int)t);
            more = step(c, 0, &st, &e);
        }
        }
        if (!more) break;
    }
    finish_next(c, st, e);
}

static void wait_listing(struct cell *c) {
    const char *json = NULL;
    backend_api_error *e = NULL;
    backend_api_status st = backend_api_models(c->client, NULL, c->canceller, &json, NULL, &e);
    backend_api_string_free(json);
    finish_next(c, st, e);
}

static void *run_wait(void *arg) {
    struct cell *c = arg;
    if (c->wait == W_LISTING) {
        c->opened_at = now_ms();
        wait_listing(c);
    } else {
        wait_stream(c);
    }
    c->took_ms = now_ms() - c->opened_at;
    pthread_mutex_lock(&c->mu);
    c->done = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void *cancel_later(void *arg) {
    sleep_ms(ACTION_AT_MS);
    backend_api_canceller_cancel(arg);
    return NULL;
}

static int base_threads, base_fds;
static double worst_settle_ms, worst_close_ms;
static int hung;

/* Waits until threads and descriptors are back to the baseline (plus `extra`
 * threads); the time it took, or -1. */
static double settle_within(int extra_threads, double bound_ms) {
    double t0 = now_ms();
    while (now_ms() - t0 < bound_ms) {
        if (threads_now() <= base_threads + extra_threads && fds_now() <= base_fds)
            return now_ms() - t0;
        sleep_ms(2);
    }
    return -1;
}

static double settle(int extra_threads) { return settle_within(extra_threads, SETTLE_MS); }

static void run_cell(backend_api_client *client, enum phase p, enum wait w, enum action a) {
    static struct cell cells[P_COUNT * W_COUNT * A_COUNT];
    static int used;
    struct cell *c = &cells[used++];
    memset(c, 0, sizeof *c);
    c->phase = p, c->wait = w, c->action = a, c->client = client;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->status = BACKEND_API_STATUS_AGAIN;
    int reused_before = __sync_fetch_and_add(reused_count, 0);

    backend_api_client *cl = NULL;
    if (w == W_LISTING) {
        cl = phase_client(p, TIMEOUT_MS);
        c->client = cl;
        c->canceller = backend_api_canceller_new();
    } else {
        backend_api_client *base = phase_client(p, TIMEOUT_MS);
        backend_api_request *r = phase_request(p);
        c->opened_at = now_ms();
        CHECK(backend_api_open(base, r, &c->stream, NULL) == BACKEND_API_STATUS_OK);
        backend_api_request_free(r);
        backend_api_client_free(base);
        backend_api_stream_canceller(c->stream, &c->canceller, NULL);
    }
    pthread_t waiter, canceller;
    pthread_create(&waiter, NULL, run_wait, c);
    int cancelling = a == A_CANCEL;
    if (cancelling) pthread_create(&canceller, NULL, cancel_later, c->canceller);

    /* The watchdog: far above every bound; a cell past it hangs. */
    double bound = (p == P_PAUSE ? 2 * TIMEOUT_MS : 0) + TIMEOUT_MS + MARGIN_MS;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    long extra = (long)(bound + 3000);
    until.tv_sec += extra / 1000;
    until.tv_nsec += (extra % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&c->mu);
    while (!c->done && pthread_cond_timedwait(&c->cv, &c->mu, &until) == 0) {
    }
    int done = c->done;
    pthread_mutex_unlock(&c->mu);
    if (cancelling) pthread_join(canceller, NULL);
    if (!done) {
        failed++;
        hung++;
        printf("HANG %-30s %-17s %-8s (> %.0f ms; abandoned)\n", phase_names[p], wait_names[w],
               action_names[a], bound + 3000);
        fflush(stdout);
        /* Its thread still runs and nothing of it may be freed: what it holds is
         * the new baseline for the cells after it. */
        sleep_ms(SETTLE_MS);
        base_threads = threads_now();
        base_fds = fds_now();
        return;
    }
    pthread_join(waiter, NULL);

    /* What each cell must give, and within what. */
    backend_api_status want;
    double limit;
    int listing_done = w == W_LISTING && p == P_PAUSE; /* a complete listing */
    if (a == A_CLOSE && w != W_LISTING) {
        want = BACKEND_API_STATUS_AGAIN; /* closed before an end */
        limit = ACTION_AT_MS + (p == P_PAUSE ? 2 * TIMEOUT_MS : 0) + MARGIN_MS;
    } else if (listing_done) {
        want = BACKEND_API_STATUS_OK;
        limit = TIMEOUT_MS + MARGIN_MS;
    } else if (a == A_CANCEL) {
        want = BACKEND_API_STATUS_CANCELLED;
        limit = (p == P_PAUSE && w != W_LISTING ? 2 * TIMEOUT_MS : ACTION_AT_MS) + MARGIN_MS;
    } else if (p == P_PAUSE) {
        want = BACKEND_API_STATUS_END;
        limit = 2 * TIMEOUT_MS + MARGIN_MS;
    } else {
        want = BACKEND_API_STATUS_TIMED_OUT;
        limit = TIMEOUT_MS + MARGIN_MS;
    }
    int skip = a == A_CLOSE && w == W_LISTING; /* a listing has no close */
    int ok = skip || (c->status == want && c->took_ms <= limit);
    if (!skip && want == BACKEND_API_STATUS_TIMED_OUT && c->took_ms < TIMEOUT_MS * 0.9) ok = 0;
    if (!skip && p == P_PAUSE && a == A_NOTHING && w != W_LISTING && c->chunks != PAUSE_CHUNKS)
        ok = 0;
    if (!skip && p == P_MIDBODY && a == A_NOTHING && w != W_LISTING && c->chunks != 2) ok = 0;

    /* Headers came on the kept connection: the stream's stats say it was reused. */
    if (p == P_REUSED_BODY && c->stream) {
        backend_api_stats stats = {.size = sizeof stats};
        CHECK(backend_api_stream_stats(c->stream, &stats) == BACKEND_API_STATUS_OK);
        if (!stats.reused_connection) {
            ok = 0;
            snprintf(c->message, sizeof c->message, "stats: not a reused connection");
        }
    }
    double closed_at = now_ms();
    if (c->stream) backend_api_close(c->stream);
    double close_ms = now_ms() - closed_at;
    backend_api_canceller_free(c->canceller);
    backend_api_client_free(cl);
    /* A lookup under way holds a pool thread (never the stream) until the
     * system's resolver answers. */
    /* The 4 MiB body is built (CPU work, no wait) before a cancel can be seen:
     * 0.3-0.9 s in a debug build on a loaded 2-core machine, so 3 s here; a
     * thread that never ends still fails. */
    double settled = settle_within(p == P_RESOLVE ? POOL_THREADS : 0,
                                   base_phase(p) == P_NOREAD ? 12 * SETTLE_MS : SETTLE_MS);
    if (settled < 0) ok = 0;
    /* A phase on a reused connection: the cell's request went over the kept one
     * (a cancel or close may come before the 4 MiB request is built and sent). */
    int sent = !(base_phase(p) == P_NOREAD && w != W_LISTING && a != A_NOTHING);
    if (!skip && sent && p >= P_REUSED &&
        __sync_fetch_and_add(reused_count, 0) != reused_before + 1) {
        ok = 0;
        snprintf(c->message, sizeof c->message, "the request did not reuse the connection");
    }
    if (settled > worst_settle_ms) worst_settle_ms = settled;
    if (close_ms > worst_close_ms) worst_close_ms = close_ms;
    CHECK(ok);
    printf("%-4s %-28s %-16s %-7s %-9s %7.1f ms (bound %4.0f) close %5.2f ms, settled %6.1f ms%s%s\n",
           skip ? "n/a" : ok ? "ok" : "FAIL", phase_names[p], wait_names[w], action_names[a],
           backend_api_status_name(c->status), c->took_ms, limit, close_ms, settled,
           c->message[0] ? "  " : "", c->message);
    fflush(stdout);
}


/* ---- resources under many closes, and limits ---- */

static backend_api_client *client_with(const char *url, int64_t connect_ms, int64_t idle_ms) {
    backend_api_client *c = client_for(url);
    backend_api_client_set_timeout(c, BACKEND_API_TIMEOUT_CONNECT, connect_ms, NULL);
    backend_api_client_set_timeout(c, BACKEND_API_TIMEOUT_IDLE, idle_ms, NULL);
    return c;
}

/* Opens and closes `n` streams to `url`, each after `after_ms`. */
static void open_and_close(const char *url, int n, long after_ms) {
    backend_api_client *c = client_with(url, 30000, 300000);
    backend_api_request *r = request_with(NULL);
    for (int i = 0; i < n; i++) {
        backend_api_stream *s = NULL;
        if (backend_api_open(c, r, &s, NULL) != BACKEND_API_STATUS_OK) {
            CHECK(!"open failed");
            break;
        }
        if (after_ms) sleep_ms(after_ms);
        backend_api_close(s);
    }
    backend_api_request_free(r);
    backend_api_client_free(c);
}

static void closes_while_connecting(void) {
    double t0 = now_ms();
    open_and_close(urls[P_CONNECT], 2000, 1);
    double opened = now_ms() - t0;
    sleep_ms(5000);
    int t = threads_now(), f = fds_now();
    printf("2000 closes while connecting (CONNECT 30 s) in %.0f ms; 5 s later: %d threads, %d "
           "descriptors (baseline %d, %d)\n",
           opened, t, f, base_threads, base_fds);
    CHECK(t <= base_threads && f <= base_fds);
}

static void closes_while_resolving(void) {
    open_and_close("http://slow8.test:8080", 500, 0);
    sleep_ms(2000);
    int t = threads_now();
    printf("500 closes with an 8 s resolver; 2 s later: %d threads (baseline %d, resolver pool "
           "at most %d, lookups given up at most %d more)\n",
           t, base_threads, POOL_THREADS, MAX_STRAYS);
    CHECK(t <= base_threads + POOL_THREADS + MAX_STRAYS);
}

struct timed_next {
    backend_api_stream *s;
    backend_api_status st;
    int done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void *next_forever(void *arg) {
    struct timed_next *t = arg;
    backend_api_chunk *ch = NULL;
    backend_api_status st;
    while ((st = backend_api_next(t->s, -1, &ch, NULL)) == BACKEND_API_STATUS_OK)
        backend_api_chunk_free(ch);
    pthread_mutex_lock(&t->mu);
    t->st = st, t->done = 1;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

static void silence_after_headers(void) {
    backend_api_client *c = client_with(urls[P_SILENT], 30000, 1500);
    backend_api_request *r = request_with(NULL);
    static struct timed_next t; /* static: a hung thread may still use it */
    t.mu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
    t.cv = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
    CHECK(backend_api_open(c, r, &t.s, NULL) == BACKEND_API_STATUS_OK);
    double t0 = now_ms();
    pthread_t th;
    pthread_create(&th, NULL, next_forever, &t);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&t.mu);
    while (!t.done && pthread_cond_timedwait(&t.cv, &t.mu, &until) == 0) {
    }
    int done = t.done;
    pthread_mutex_unlock(&t.mu);
    if (!done) {
        printf("headers then silence, IDLE 1.5 s, next(-1) right after open: no return in 20 s\n");
        CHECK(!"next(-1) hangs");
        return;
    }
    pthread_join(th, NULL);
    printf("headers then silence, IDLE 1.5 s, next(-1) right after open: %s after %.0f ms\n",
           backend_api_status_name(t.st), now_ms() - t0);
    CHECK(t.st == BACKEND_API_STATUS_TIMED_OUT && now_ms() - t0 < 1500 + MARGIN_MS);
    backend_api_close(t.s);
    backend_api_request_free(r);
    backend_api_client_free(c);
}

/* In a child allowed few threads (RLIMIT_NPROC, as an unprivileged user): open
 * fails with LIMIT when no thread can start, and nothing reaches stderr. */
static void no_thread_left(void) {
    int err_pipe[2];
    if (pipe(err_pipe) != 0) return;
    fflush(stdout); /* the child must not print what the parent has buffered */
    pid_t pid = fork();
    if (pid == 0) {
        dup2(err_pipe[1], 2);
        close(err_pipe[0]);
        if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(5);
        struct rlimit lim = {40, 40};
        if (setrlimit(RLIMIT_NPROC, &lim) != 0) _exit(6);
        backend_api_client *c = client_with(urls[P_CONNECT], 30000, 300000);
        backend_api_request *r = request_with(NULL);
        static backend_api_stream *open_ones[3000];
        int n = 0, code = 3;
        for (; n < 3000; n++) {
            backend_api_error *e = NULL;
            backend_api_status st = backend_api_open(c, r, &open_ones[n], &e);
            if (st != BACKEND_API_STATUS_OK) {
                const char *m = backend_api_error_message(e);
                code = st == BACKEND_API_STATUS_LIMIT && strstr(m, "thread") ? 0 : 4;
                printf("open #%d: %s: %s\n", n + 1, backend_api_status_name(st), m);
                backend_api_error_free(e);
                break;
            }
        }
        for (int i = 0; i < n; i++) backend_api_close(open_ones[i]);
        backend_api_request_free(r);
        backend_api_client_free(c);
        fflush(stdout);
        _exit(code);
    }
    close(err_pipe[1]);
    char buf[4096];
    size_t got = 0;
    ssize_t k;
    while ((k = read(err_pipe[0], buf + got, sizeof buf - 1 - got)) > 0 && got < sizeof buf - 1)
        got += (size_t)k;
    while (read(err_pipe[0], buf, 0) > 0) {
    }
    buf[got] = 0;
    close(err_pipe[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    int exited = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    printf("at most 40 threads: the child exited %d; %zu bytes on its stderr%s%.200s\n", exited,
           got, got ? ": " : "", buf);
    CHECK(exited == 0 && got == 0);
}

/* ---- edges 0.3.0 got wrong, one function each: a Retry-After past IDLE, SOCKS
 * and TOTAL, proxy refusals, big records, descriptors, fork, opens during
 * shutdown, lookups given up ---- */

static char extra_url[X_COUNT][64];

/* A stream's next status, waiting at most `ms`; chunks counted in `*chunks`. */
static backend_api_status drain(backend_api_stream *s, int64_t ms, int *chunks,
                                backend_api_error **e) {
    backend_api_status st;
    backend_api_chunk *ch = NULL;
    double until = now_ms() + (double)ms;
    for (;;) {
        int64_t left = (int64_t)(until - now_ms());
        if (left <= 0) return BACKEND_API_STATUS_AGAIN;
        st = backend_api_next(s, left, &ch, e);
        if (st != BACKEND_API_STATUS_OK) return st;
        if (chunks) (*chunks)++;
        backend_api_chunk_free(ch);
    }
}

/* 3. A Retry-After longer than IDLE: the wait is its own state, the retry is
 * sent, and when no retry is left the last answer's error is reported. */
static void retry_after_longer_than_idle(void) {
    backend_api_client *c = client_with(extra_url[X_RETRY], 5000, 500);
    backend_api_client_set_retries(c, 2, 100, 5000, NULL);
    backend_api_request *r = request_with(NULL);
    backend_api_stream *s = NULL;
    *retry_count = 0;
    double t0 = now_ms();
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    sleep_ms(300);
    int64_t during = backend_api_stream_timeout_ms(s);
    int chunks = 0;
    backend_api_error *e = NULL;
    backend_api_status st = drain(s, 10000, &chunks, &e);
    backend_api_stats stats = {.size = sizeof stats};
    backend_api_stream_stats(s, &stats);
    printf("503 Retry-After: 1, IDLE 500 ms, 2 retries: %s after %.0f ms, %d chunks, %u retries, "
           "%d requests; stream_timeout_ms %lld at 300 ms%s%s\n",
           backend_api_status_name(st), now_ms() - t0, chunks, stats.retries, *retry_count,
           (long long)during, e ? ": " : "", e ? backend_api_error_message(e) : "");
    CHECK(st == BACKEND_API_STATUS_END && chunks == 1 && stats.retries == 1 && *retry_count == 2);
    CHECK(during > 500 && during <= 1000); /* the time to the retry, not IDLE's */
    backend_api_error_free(e);
    backend_api_close(s);
    backend_api_client_free(c);

    c = client_with(extra_url[X_BUSY], 5000, 500);
    backend_api_client_set_retries(c, 1, 100, 5000, NULL);
    e = NULL;
    t0 = now_ms();
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    st = drain(s, 10000, NULL, &e);
    backend_api_stream_stats(s, &stats);
    printf("503 Retry-After: 1 always, IDLE 500 ms, 1 retry: %s (HTTP %u) after %.0f ms, %u "
           "retries%s%s\n",
           backend_api_status_name(st), backend_api_error_http_status(e), now_ms() - t0,
           stats.retries, e ? ": " : "", e ? backend_api_error_message(e) : "");
    CHECK(st == BACKEND_API_STATUS_HTTP && backend_api_error_http_status(e) == 503 &&
          stats.retries == 1);
    backend_api_error_free(e);
    backend_api_close(s);
    backend_api_client_free(c);
    backend_api_request_free(r);
}

/* 2. Through SOCKS the TOTAL timeout holds too: an endless stream of keep-alive
 * comments, TOTAL 1.5 s. */
static void socks_total(void) {
    backend_api_client *c = client_with(urls[P_KEEPALIVE], 5000, 30000);
    CHECK(backend_api_client_set_proxy(c, proxies[P_SOCKS], NULL) == BACKEND_API_STATUS_OK);
    backend_api_client_set_timeout(c, BACKEND_API_TIMEOUT_TOTAL, 1500, NULL);
    backend_api_request *r = request_with(NULL);
    backend_api_stream *s = NULL;
    backend_api_error *e = NULL;
    double t0 = now_ms();
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    backend_api_status st = drain(s, 10000, NULL, &e);
    double took = now_ms() - t0;
    printf("endless keep-alives through SOCKS5, TOTAL 1.5 s: %s after %.0f ms%s%s\n",
           backend_api_status_name(st), took, e ? ": " : "", e ? backend_api_error_message(e) : "");
    CHECK(st == BACKEND_API_STATUS_TIMED_OUT && took >= 1400 && took < 1500 + MARGIN_MS);
    backend_api_error_free(e);
    backend_api_close(s);
    backend_api_request_free(r);
    backend_api_client_free(c);
}

/* 8. Proxy refusals are CONNECT, with the proxy's status, and retried. */
static void proxy_refusals(void) {
    static const struct { enum extra x; unsigned code; } cases[] = {
        {X_PROXY407, 407}, {X_PROXY502, 502}, {X_PROXYCLOSE, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        backend_api_client *c = client_with(urls[P_MIDBODY], 5000, 5000);
        char proxy[64];
        snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", extra_ports[cases[i].x]);
        CHECK(backend_api_client_set_proxy(c, proxy, NULL) == BACKEND_API_STATUS_OK);
        backend_api_client_set_retries(c, 1, 50, 100, NULL);
        backend_api_request *r = request_with(NULL);
        backend_api_stream *s = NULL;
        backend_api_error *e = NULL;
        CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
        backend_api_status st = drain(s, 10000, NULL, &e);
        backend_api_stats stats = {.size = sizeof stats};
        backend_api_stream_stats(s, &stats);
        printf("HTTP proxy answering %u: %s (status %u), %u retries: %s\n", cases[i].code,
               backend_api_status_name(st), backend_api_error_http_status(e), stats.retries,
               e ? backend_api_error_message(e) : "");
        CHECK(st == BACKEND_API_STATUS_CONNECT && stats.retries == 1 &&
              backend_api_error_http_status(e) == cases[i].code);
        backend_api_error_free(e);
        backend_api_close(s);
        backend_api_request_free(r);
        backend_api_client_free(c);
    }
}

/* 7. No log record starts after close returned, with 8 MiB records. */
static volatile int records_started;
static void count_record(void *u, backend_api_log_level l, const char *m) {
    (void)u, (void)l, (void)m;
    __sync_fetch_and_add(&records_started, 1);
}
static void big_records_after_close(void) {
    backend_api_client *c = client_with(urls[P_SILENT], 5000, 5000);
    size_t n = 8 << 20;
    char *big = malloc(n + 1);
    memset(big, 'v', n);
    big[n] = 0;
    CHECK(backend_api_client_add_header(c, "X-Big", big, NULL) == BACKEND_API_STATUS_OK);
    free(big);
    backend_api_client_set_log(c, count_record, NULL, NULL, BACKEND_API_LOG_LEVEL_DEBUG, NULL);
    backend_api_request *r = request_with(NULL);
    int late = 0;
    for (int i = 0; i < 40; i++) {
        backend_api_stream *s = NULL;
        CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
        sleep_ms(i % 8);
        backend_api_close(s);
        int at_close = records_started;
        sleep_ms(60);
        if (records_started != at_close) late++;
    }
    printf("40 closes with 8 MiB debug records: %d with a record started after close\n", late);
    CHECK(late == 0);
    backend_api_request_free(r);
    backend_api_client_free(c);
}

/* 9. Out of descriptors is LIMIT; a canceller kept after close holds none. */
static void descriptors(void) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        backend_api_client *c = client_with(urls[P_SILENT], 5000, 5000);
        backend_api_request *r = request_with(NULL);
        backend_api_stream *s = NULL;
        backend_api_open(c, r, &s, NULL);
        while (dup(0) >= 0) {
        }
        ptrdiff_t fd = -1;
        backend_api_error *e = NULL;
        backend_api_status st = backend_api_stream_fd(s, &fd, &e);
        printf("stream_fd with no descriptor left: %s: %s\n", backend_api_status_name(st),
               e ? backend_api_error_message(e) : "");
        fflush(stdout);
        _exit(st == BACKEND_API_STATUS_LIMIT ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    int before = fds_now();
    backend_api_client *c = client_with(urls[P_SILENT], 30000, 30000);
    backend_api_request *r = request_with(NULL);
    static backend_api_stream *ss[200];
    static backend_api_canceller *cs[200];
    for (int i = 0; i < 200; i++) CHECK(backend_api_open(c, r, &ss[i], NULL) == BACKEND_API_STATUS_OK);
    sleep_ms(500); /* every stream waits for its headers */
    int open_fds = fds_now() - before;
    for (int i = 0; i < 200; i++) {
        backend_api_stream_canceller(ss[i], &cs[i], NULL);
        backend_api_close(ss[i]);
    }
    settle(0);
    int kept = fds_now() - before;
    printf("200 streams waiting for headers: +%d descriptors; closed, cancellers kept: +%d\n",
           open_fds, kept);
    CHECK(open_fds <= 200 + 2 && kept <= 2);
    for (int i = 0; i < 200; i++) backend_api_canceller_free(cs[i]);
    backend_api_request_free(r);
    backend_api_client_free(c);
}

/* 32.4: one descriptor a stream: 1000 streams under a limit of 1500 more than in use. */
static void one_descriptor_a_stream(void) {
    int port;
    int quiet = listen_on(4096, &port); /* the kernel completes connects; nobody answers */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int base = fds_now();
        struct rlimit lim = {(rlim_t)base + 1500, (rlim_t)base + 1500};
        setrlimit(RLIMIT_NOFILE, &lim);
        backend_api_client *c = client_with(url, 30000, 30000);
        backend_api_request *r = request_with(NULL);
        static backend_api_stream *ss[1000];
        int failed_open = 0, failed = 0;
        for (int i = 0; i < 1000; i++)
            if (backend_api_open(c, r, &ss[i], NULL) != BACKEND_API_STATUS_OK) ss[i] = NULL, failed_open++;
        sleep_ms(3000);
        int used = fds_now() - base;
        for (int i = 0; i < 1000; i++) {
            backend_api_chunk *ch = NULL;
            if (ss[i] && backend_api_next(ss[i], 0, &ch, NULL) != BACKEND_API_STATUS_AGAIN) failed++;
        }
        printf("1000 streams, descriptor limit %d above the %d in use: %d failed to open, %d "
               "failed, %d descriptors\n",
               1500, base, failed_open, failed, used);
        fflush(stdout);
        for (int i = 0; i < 1000; i++) backend_api_close(ss[i]);
        _exit(failed_open == 0 && failed == 0 ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    close(quiet);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* 5. fork: the child's close and shutdown leave the parent's stream alone, its
 * shutdown returns, and a lookup in flight at fork does not stop it resolving. */
static void fork_child(void) {
    backend_api_client *c = client_with(urls[P_KEEPALIVE], 5000, 30000);
    backend_api_request *r = request_with(NULL);
    backend_api_stream *s = NULL, *slow[POOL_THREADS];
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    backend_api_client *sc = client_with("http://slow.test:8080", 30000, 30000);
    for (int i = 0; i < POOL_THREADS; i++) /* every pool thread in getaddrinfo at the fork */
        backend_api_open(sc, r, &slow[i], NULL);
    /* A connection kept by the parent, whose server answers a second request on it
     * with headers then silence. */
    backend_api_client *kc = client_with(urls[P_REUSED_BODY], 5000, 1000);
    /* Kept past the child's run (its stream to localhost takes IDLE, 5 s). */
    CHECK(backend_api_client_set_keep_alive(kc, 4, 60000, NULL) == BACKEND_API_STATUS_OK);
    CHECK(backend_api_client_set_keep_alive(kc, 4, -1, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT);
    answer_once(kc);
    sleep_ms(400);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20);
        backend_api_close(s);
        double t0 = now_ms();
        backend_api_status st = backend_api_shutdown(3000);
        double took = now_ms() - t0;
        char url[64];
        snprintf(url, sizeof url, "http://localhost:%s", strrchr(urls[P_MIDBODY], ':') + 1);
        backend_api_client *lc = client_with(url, 5000, 5000);
        backend_api_stream *ls = NULL;
        int chunks = 0;
        backend_api_open(lc, r, &ls, NULL);
        backend_api_status got = drain(ls, 6000, &chunks, NULL);
        /* The inherited client: a connection of the child's own, never the parent's. */
        backend_api_stream *ks = NULL;
        int kchunks = 0;
        backend_api_open(kc, r, &ks, NULL);
        backend_api_status kept = drain(ks, 6000, &kchunks, NULL);
        printf("child: close and shutdown(3000): %s in %.0f ms; a stream to localhost: %d chunks "
               "(%s); on the inherited client: %d chunks (%s)\n",
               backend_api_status_name(st), took, chunks, backend_api_status_name(got), kchunks,
               backend_api_status_name(kept));
        fflush(stdout);
        _exit(st == BACKEND_API_STATUS_OK && chunks == 2 && kept == BACKEND_API_STATUS_END &&
                      kchunks == 1
                  ? 0
                  : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    backend_api_error *e = NULL;
    backend_api_status st = drain(s, 500, NULL, &e);
    printf("parent: its stream after the child closed it: %s%s%s\n", backend_api_status_name(st),
           e ? ": " : "", e ? backend_api_error_message(e) : "");
    CHECK(st == BACKEND_API_STATUS_AGAIN);
    backend_api_error_free(e);
    /* The parent's kept connection is untouched by the child: its second request
     * goes over it (headers, then the silence IDLE ends). */
    backend_api_stream *ks = NULL;
    CHECK(backend_api_open(kc, r, &ks, NULL) == BACKEND_API_STATUS_OK);
    backend_api_status kept = drain(ks, 6000, NULL, NULL);
    backend_api_stats stats = {.size = sizeof stats};
    backend_api_stream_stats(ks, &stats);
    printf("parent: its kept connection after the child: %s, reused %d\n",
           backend_api_status_name(kept), stats.reused_connection);
    CHECK(kept == BACKEND_API_STATUS_TIMED_OUT && stats.reused_connection);
    backend_api_close(ks);
    backend_api_client_free(kc);
    backend_api_close(s);
    for (int i = 0; i < POOL_THREADS; i++) backend_api_close(slow[i]);
    backend_api_client_free(sc);
    backend_api_client_free(c);
    backend_api_request_free(r);
}

/* 6. shutdown(-1) does not wait for a stream opened after it began. */
struct shut { double took; backend_api_status st; };
static void *shutdown_forever(void *arg) {
    struct shut *sh = arg;
    double t0 = now_ms();
    sh->st = backend_api_shutdown(-1);
    sh->took = now_ms() - t0;
    return NULL;
}
static void opens_during_shutdown(void) {
    backend_api_client *sc = client_with("http://slow.test:8080", 30000, 30000);
    backend_api_request *r = request_with(NULL);
    backend_api_stream *slow = NULL, *late = NULL;
    backend_api_open(sc, r, &slow, NULL); /* a lookup of 2 s: shutdown waits for it */
    sleep_ms(100);
    static struct shut sh;
    pthread_t th;
    pthread_create(&th, NULL, shutdown_forever, &sh);
    sleep_ms(200);
    backend_api_client *c = client_for(urls[P_NO_HEADERS]);
    backend_api_client_set_timeout(c, BACKEND_API_TIMEOUT_HEADERS, 20000, NULL);
    CHECK(backend_api_open(c, r, &late, NULL) == BACKEND_API_STATUS_OK);
    backend_api_status late_st = drain(late, 25000, NULL, NULL);
    pthread_join(th, NULL);
    printf("shutdown(-1) with a 2 s lookup, a stream (HEADERS 20 s) opened 200 ms later: %s "
           "after %.0f ms; the late stream: %s\n",
           backend_api_status_name(sh.st), sh.took, backend_api_status_name(late_st));
    CHECK(sh.st == BACKEND_API_STATUS_OK && sh.took < RESOLVE_SLEEP_S * 1000 + MARGIN_MS);
    CHECK(late_st == BACKEND_API_STATUS_CANCELLED);
    backend_api_close(late);
    backend_api_close(slow);
    backend_api_client_free(c);
    backend_api_client_free(sc);
    backend_api_request_free(r);
}

/* 4. Lookups given up do not starve other names. */
static void given_up_lookups(void) {
    backend_api_client *sc = client_with("http://slow8.test:8080", 30000, 30000);
    backend_api_request *r = request_with(NULL);
    for (int i = 0; i < POOL_THREADS; i++) {
        backend_api_stream *x = NULL;
        backend_api_open(sc, r, &x, NULL);
        sleep_ms(20);
        backend_api_close(x);
    }
    char url[64];
    snprintf(url, sizeof url, "http://localhost:%s", strrchr(urls[P_MIDBODY], ':') + 1);
    backend_api_client *c = client_with(url, 3000, 5000);
    backend_api_stream *s = NULL;
    int chunks = 0;
    double t0 = now_ms();
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    backend_api_chunk *ch = NULL;
    backend_api_status st = backend_api_next(s, 10000, &ch, NULL);
    if (st == BACKEND_API_STATUS_OK) chunks++, backend_api_chunk_free(ch);
    double took = now_ms() - t0;
    printf("4 closed streams with an 8 s lookup, then localhost (CONNECT 3 s): %s after %.0f ms\n",
           backend_api_status_name(st), took);
    CHECK(st == BACKEND_API_STATUS_OK && took < 2000);
    backend_api_close(s);
    backend_api_client_free(c);
    backend_api_client_free(sc);
    backend_api_request_free(r);
}

int main(int argc, char **argv) {
    (void)backend_url(argc, argv); /* the loopback backend is not needed here */
    signal(SIGPIPE, SIG_IGN);
    int listeners[P_COUNT], ports[P_COUNT], extras[X_COUNT];
    for (int p = 0; p < P_COUNT; p++) listeners[p] = -1;
    for (int p = P_TLS; p <= P_SOCKS; p++) listeners[p] = listen_on(64, &ports[p]);
    for (int p = P_REUSED; p < P_COUNT; p++) listeners[p] = listen_on(64, &ports[p]);
    for (int x = 0; x < X_COUNT; x++) extras[x] = listen_on(64, &extra_ports[x]);
    retry_count = mmap(NULL, sizeof *retry_count, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    reused_count = mmap(NULL, sizeof *reused_count, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t child = fork();
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        server_loop(listeners, extras);
        _exit(0);
    }
    for (int p = P_TLS; p <= P_SOCKS; p++) close(listeners[p]);
    for (int p = P_REUSED; p < P_COUNT; p++) close(listeners[p]);
    for (int x = 0; x < X_COUNT; x++) close(extras[x]);
    for (int p = P_TLS; p <= P_NOREAD; p++)
        snprintf(urls[p], sizeof urls[p], "%s://127.0.0.1:%d", p == P_TLS ? "https" : "http",
                 ports[p]);
    /* Through SOCKS5: the silent server, by a proxy that relays or by one whose
     * connect never completes. */
    snprintf(urls[P_SOCKS], sizeof urls[P_SOCKS], "%s", urls[P_SILENT]);
    snprintf(urls[P_SOCKS_CONNECT], sizeof urls[P_SOCKS_CONNECT], "%s", urls[P_SILENT]);
    snprintf(proxies[P_SOCKS], sizeof proxies[P_SOCKS], "socks5://127.0.0.1:%d", ports[P_SOCKS]);
    /* A listener whose accept queue is full: a connect to it never completes. */
    int connect_port;
    int full = listen_on(0, &connect_port);
    int fillers[64], nfill = 0;
    snprintf(urls[P_CONNECT], sizeof urls[P_CONNECT], "http://127.0.0.1:%d", connect_port);
    snprintf(proxies[P_SOCKS_CONNECT], sizeof proxies[P_SOCKS_CONNECT], "socks5://127.0.0.1:%d",
             connect_port);
    for (; nfill < 64; nfill++) {
        int f = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)connect_port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        connect(f, (struct sockaddr *)&sa, sizeof sa);
        struct pollfd pf = {f, POLLOUT, 0};
        fillers[nfill] = f;
        if (poll(&pf, 1, 300) == 0) {
            nfill++;
            break; /* this one hangs: the queue is full */
        }
    }
    snprintf(urls[P_RESOLVE], sizeof urls[P_RESOLVE], "http://slow.test:8080");
    for (int p = P_REUSED; p < P_COUNT; p++)
        snprintf(urls[p], sizeof urls[p], "http://127.0.0.1:%d", ports[p]);

    base_threads = threads_now();
    base_fds = fds_now();
    printf("baseline: %d threads, %d descriptors; timeouts %d ms, action at %d ms\n", base_threads,
           base_fds, TIMEOUT_MS, ACTION_AT_MS);
    double t0 = now_ms();
    /* PHASES_FROM=n: the matrix from phase n on (0 when unset; P_COUNT skips it). */
    const char *from = getenv("PHASES_FROM");
    for (int p = from ? atoi(from) : 0; p < P_COUNT; p++)
        for (int w = 0; w < W_COUNT; w++)
            for (int a = 0; a < A_COUNT; a++)
                run_cell(NULL, (enum phase)p, (enum wait)w, (enum action)a);
    printf("matrix: %d cells in %.1f s; %d hung; slowest close %.2f ms, slowest settle %.1f ms\n",
           P_COUNT * W_COUNT * A_COUNT, (now_ms() - t0) / 1e3, hung, worst_close_ms,
           worst_settle_ms);
    for (int x = 0; x < X_COUNT; x++)
        snprintf(extra_url[x], sizeof extra_url[x], "http://127.0.0.1:%d", extra_ports[x]);
    silence_after_headers();
    retry_after_longer_than_idle();
    socks_total();
    proxy_refusals();
    big_records_after_close();
    descriptors();
    closes_while_connecting(); /* after it, no thread of the library runs: fork is safe */
    no_thread_left();
    one_descriptor_a_stream();
    fork_child();
    opens_during_shutdown();
    closes_while_resolving();
#if BACKEND_API_VERSION_NUM >= 0x000300
    /* The resolver pool still holds lookups the system's resolver has not
     * answered: shutdown waits for them, and then nothing of the library runs. */
    double s0 = now_ms();
    backend_api_status st = backend_api_shutdown(15000);
    printf("shutdown: %s after %.1f ms; threads %d (baseline %d)\n", backend_api_status_name(st),
           now_ms() - s0, threads_now(), base_threads);
    CHECK(st == BACKEND_API_STATUS_OK);
    CHECK(hung > 0 || threads_now() == base_threads);
    given_up_lookups();
#endif
    for (int i = 0; i < nfill; i++) close(fillers[i]);
    close(full);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    int status = finish();
    fflush(stdout);
    _exit(status); /* abandoned cells may still run: no exit handlers */
}
