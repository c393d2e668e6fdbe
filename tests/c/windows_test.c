/* What differs on Windows, compiled with mingw-w64 and run under Wine by scripts/cross.sh
 * (beside abi_test.c) against the bundled test backend:
 *   - the event-loop descriptor is a SOCKET that WSAPoll waits on: against a one-shot server
 *     of this program's own that holds the answer until the client has waited, so the wait
 *     times out while the answer is held and wakes when it comes, whatever the timing;
 *   - a media file named by a Windows path (drive letter, backslashes) is read and sent;
 *   - proxies come from the environment (HTTP_PROXY, read when the client is made);
 *   - TLS: with its CA given, a server with a private certificate is trusted; without it,
 *     not (the platform's verifier), when argv[2] names such a server.
 * Usage: windows_test.exe BACKEND_URL [HTTPS_URL CA_FILE]. Last line "N passed, M failed". */
#include <winsock2.h>
#include <windows.h>

#include "backend_api.h"
#include "check.h"

#include <stdint.h>
#include <string.h>

/* A listening socket on 127.0.0.1 (any port, written to `port`). */
static SOCKET listen_loopback(int *port) {
    SOCKET l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int len = sizeof a;
    CHECK(l != INVALID_SOCKET && bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 1) == 0 &&
          getsockname(l, (struct sockaddr *)&a, &len) == 0);
    *port = ntohs(a.sin_port);
    return l;
}

/* Reads a request's head and its body (by Content-Length), so closing never resets it. */
static void read_request(SOCKET c) {
    char buf[16384];
    int have = 0;
    char *end = NULL;
    while (!end) {
        int n = recv(c, buf + have, (int)sizeof buf - 1 - have, 0);
        CHECK(n > 0);
        if (n <= 0) return;
        have += n;
        buf[have] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    long body = 0;
    for (char *line = buf; line && line < end; line = strstr(line, "\r\n"), line = line ? line + 2 : NULL)
        if (_strnicmp(line, "content-length:", 15) == 0) body = strtol(line + 15, NULL, 10);
    for (long left = body - (long)(buf + have - (end + 4)); left > 0;) {
        int n = recv(c, buf, (int)sizeof buf, 0);
        CHECK(n > 0);
        if (n <= 0) return;
        left -= n;
    }
}

/* Reads `s` to its end with next(0) between WSAPoll waits on its descriptor; returns the
 * final status and appends the text of content chunks to `text` (size `cap`). */
static backend_api_status drain_with_wsapoll(backend_api_stream *s, char *text, size_t cap, int *polls) {
    ptrdiff_t fd = -1;
    CHECK(backend_api_stream_fd(s, &fd, NULL) == BACKEND_API_STATUS_OK && fd >= 0);
    for (;;) {
        backend_api_chunk *ch = NULL;
        backend_api_status st = backend_api_next(s, 0, &ch, NULL);
        if (st == BACKEND_API_STATUS_OK) {
            const char *t = backend_api_chunk_text(ch, NULL);
            if (t && backend_api_chunk_kind(ch) == BACKEND_API_KIND_CONTENT && strlen(text) + strlen(t) < cap)
                strcat(text, t);
            backend_api_chunk_free(ch);
            continue;
        }
        if (st != BACKEND_API_STATUS_AGAIN) return st;
        WSAPOLLFD p = {(SOCKET)fd, POLLRDNORM, 0};
        int64_t ms = backend_api_stream_timeout_ms(s);
        int n = WSAPoll(&p, 1, ms < 0 || ms > 10000 ? 10000 : (INT)ms);
        if (n < 0) return BACKEND_API_STATUS_INTERNAL;
        (*polls)++;
    }
}

static void test_event_loop_socket(void) {
    int port = 0;
    SOCKET server = listen_loopback(&port);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    backend_api_client *c = client_for(url);
    backend_api_request *r = request_with(NULL);
    backend_api_stream *s = NULL;
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    SOCKET conn = accept(server, NULL, NULL);
    CHECK(conn != INVALID_SOCKET);
    read_request(conn);
    ptrdiff_t fd = -1;
    CHECK(backend_api_stream_fd(s, &fd, NULL) == BACKEND_API_STATUS_OK && fd >= 0);
    /* The answer is held: nothing to read, and a wait on the descriptor times out. */
    backend_api_chunk *ch = NULL;
    CHECK(backend_api_next(s, 0, &ch, NULL) == BACKEND_API_STATUS_AGAIN);
    WSAPOLLFD p = {(SOCKET)fd, POLLRDNORM, 0};
    CHECK(WSAPoll(&p, 1, 200) == 0);
    static const char answer[] =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
        "event: content\ndata: {\"type\": \"content\", \"content\": \"held answer\"}\n\n"
        "event: finish\ndata: {\"type\": \"finish\", \"finish\": {\"reason\": \"stop\"}}\n\n";
    CHECK(send(conn, answer, (int)sizeof answer - 1, 0) == (int)sizeof answer - 1);
    closesocket(conn);
    closesocket(server);
    /* Now the answer wakes the wait. */
    p.revents = 0;
    int woke = WSAPoll(&p, 1, 10000);
    CHECK(woke == 1 && (p.revents & POLLRDNORM));
    char text[4096] = "";
    int polls = 0;
    CHECK(drain_with_wsapoll(s, text, sizeof text, &polls) == BACKEND_API_STATUS_END);
    CHECK(strcmp(text, "held answer") == 0);
    printf("WSAPoll on the stream's socket: timed out while the server held the answer, woke when it came "
           "(%d more waits), answer \"%.40s\"\n", polls, text);
    backend_api_close(s);
    backend_api_request_free(r);
    backend_api_client_free(c);
}

static void test_media_file_path(const char *url) {
    char dir[MAX_PATH], path[MAX_PATH];
    CHECK(GetTempPathA(sizeof dir, dir) > 0);
    snprintf(path, sizeof path, "%sbackend api pixel.png", dir); /* C:\...\Temp\..., a space */
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0};
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(png, 1, sizeof png, f) == sizeof png);
    if (f) fclose(f);

    backend_api_client *c = client_for(url);
    const char *fields[][2] = {{"test_echo", "true"}, {NULL, NULL}};
    backend_api_request *r = request_with(fields);
    backend_api_error *e = NULL;
    CHECK(backend_api_request_add_media_file(r, path, &e) == BACKEND_API_STATUS_OK);
    if (e) fprintf(stderr, "media: %s\n", backend_api_error_message(e));
    backend_api_error_free(e);
    backend_api_stream *s = NULL;
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    char text[65536] = "";
    int polls = 0;
    CHECK(drain_with_wsapoll(s, text, sizeof text, &polls) == BACKEND_API_STATUS_END);
    CHECK(strstr(text, "data:image/png;base64,") != NULL);
    CHECK(strstr(text, "\"backend api pixel.png\"") != NULL);
    printf("media file %s sent as a data URI\n", path);
    backend_api_close(s);
    backend_api_request_free(r);
    backend_api_client_free(c);
    DeleteFileA(path);
}

static void test_proxy_from_environment(const char *url) {
    /* A proxy that refuses connections: a client made now must go through it and fail. */
    CHECK(SetEnvironmentVariableA("HTTP_PROXY", "http://127.0.0.1:1"));
    backend_api_client *c = NULL;
    CHECK(backend_api_client_new(url, &c, NULL) == BACKEND_API_STATUS_OK);
    CHECK(SetEnvironmentVariableA("HTTP_PROXY", NULL));
    backend_api_request *r = request_with(NULL);
    backend_api_stream *s = NULL;
    backend_api_chunk *ch = NULL;
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    backend_api_status st = backend_api_next(s, 20000, &ch, NULL);
    CHECK(st == BACKEND_API_STATUS_CONNECT);
    printf("HTTP_PROXY from the environment was used: %s\n", backend_api_status_name(st));
    backend_api_close(s);
    backend_api_client_free(c);
    /* Made without it, the same client reaches the backend directly. */
    c = NULL;
    CHECK(backend_api_client_new(url, &c, NULL) == BACKEND_API_STATUS_OK);
    CHECK(backend_api_open(c, r, &s, NULL) == BACKEND_API_STATUS_OK);
    CHECK(backend_api_next(s, 20000, &ch, NULL) == BACKEND_API_STATUS_OK);
    backend_api_chunk_free(ch);
    backend_api_close(s);
    backend_api_request_free(r);
    backend_api_client_free(c);
}

/* GET the model listing over TLS: what matters is whether the handshake was trusted. */
static backend_api_status tls_models(const char *https_url, const char *ca_file) {
    backend_api_client *c = client_for(https_url);
    if (ca_file) CHECK(backend_api_client_set_ca_file(c, ca_file, NULL) == BACKEND_API_STATUS_OK);
    const char *json = NULL;
    backend_api_error *e = NULL;
    backend_api_status st = backend_api_models(c, NULL, NULL, &json, NULL, &e);
    printf("TLS %s its CA: %s%s%s\n", ca_file ? "with" : "without", backend_api_status_name(st), e ? ": " : "",
           e ? backend_api_error_message(e) : "");
    backend_api_string_free(json);
    backend_api_error_free(e);
    backend_api_client_free(c);
    return st;
}

int main(int argc, char **argv) {
    const char *url = backend_url(argc, argv);
    WSADATA wsa;
    CHECK(WSAStartup(MAKEWORD(2, 2), &wsa) == 0); /* this program's own server's sockets */
    test_event_loop_socket();
    test_media_file_path(url);
    test_proxy_from_environment(url);
    if (argc > 3) {
        CHECK(tls_models(argv[2], NULL) == BACKEND_API_STATUS_TLS);
        CHECK(tls_models(argv[2], argv[3]) != BACKEND_API_STATUS_TLS);
    }
    return finish();
}
