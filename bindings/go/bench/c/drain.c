/* The C twin of ../main.go: drains one answer of N content chunks (the test
 * backend's test_chunks) through backend_api_next and exits 0 only when all N
 * arrived. With -text it also reads each chunk's JSON and text, as the Go
 * binding copies them. Build: cc -O2 drain.c -I<repo>/include -L<libdir> -lbackend_api */
#include <backend_api.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    int text = argc > 1 && strcmp(argv[1], "-text") == 0;
    argv += text;
    argc -= text;
    if (argc != 3) {
        fprintf(stderr, "usage: drain [-text] BASE_URL N\n");
        return 2;
    }
    char *end;
    unsigned long long n = strtoull(argv[2], &end, 10);
    if (*end != '\0') {
        fprintf(stderr, "N must be a count\n");
        return 2;
    }
    backend_api_client *client = NULL;
    backend_api_error *err = NULL;
    if (backend_api_client_new(argv[1], &client, &err) != BACKEND_API_STATUS_OK ||
        backend_api_client_set_proxy(client, NULL, &err) != BACKEND_API_STATUS_OK) {
        fprintf(stderr, "%s\n", backend_api_error_message(err));
        return 1;
    }
    char chunks[32];
    snprintf(chunks, sizeof chunks, "%llu", n);
    backend_api_request *req = backend_api_request_new();
    backend_api_request_add_message(req, "user", "bench", NULL);
    backend_api_request_set_field_json(req, "test_chunks", chunks, NULL);
    backend_api_stream *stream = NULL;
    if (backend_api_open(client, req, &stream, &err) != BACKEND_API_STATUS_OK) {
        fprintf(stderr, "%s\n", backend_api_error_message(err));
        return 1;
    }
    unsigned long long got = 0;
    backend_api_chunk *chunk;
    backend_api_status st;
    while ((st = backend_api_next(stream, -1, &chunk, &err)) == BACKEND_API_STATUS_OK) {
        int ok = 1;
        if (text) {
            size_t len = 0;
            ok = backend_api_chunk_json(chunk, &len)[0] == '{' && backend_api_chunk_text(chunk, &len) != NULL;
        }
        if (backend_api_chunk_kind(chunk) == BACKEND_API_KIND_CONTENT && ok)
            got++;
        backend_api_chunk_free(chunk);
    }
    if (st != BACKEND_API_STATUS_END)
        fprintf(stderr, "%s: %s\n", backend_api_status_name(st), backend_api_error_message(err));
    backend_api_close(stream);
    backend_api_request_free(req);
    backend_api_client_free(client);
    if (got != n)
        fprintf(stderr, "received %llu content chunks of %llu\n", got, n);
    return st == BACKEND_API_STATUS_END && got == n ? 0 : 1;
}
