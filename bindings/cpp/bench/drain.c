/* Drain benchmark, C baseline: streams one answer of N small content chunks from
 * the bundled test backend (request field test_chunks = N) through the plain C
 * loop (next with -1, the chunk's kind, chunk_free) and exits 0 only when all N
 * arrived. With --text it also reads each chunk's text, as the bindings do.
 *   Build: cc -O2 drain.c $(pkg-config --cflags --libs backend_api) -o drain_c
 *   Run:   ./drain_c [--text] http://127.0.0.1:PORT 1000000
 * Exit: 0 all N content chunks, 1 fewer or a failure (printed), 2 bad usage. */
#include <backend_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    int text = argc == 4 && strcmp(argv[1], "--text") == 0;
    argc -= text, argv += text;
    char *end = NULL;
    unsigned long long n = argc == 3 ? strtoull(argv[2], &end, 10) : 0;
    if (argc != 3 || *argv[2] == '\0' || *end != '\0') {
        fprintf(stderr, "usage: drain_c [--text] URL N\n");
        return 2;
    }
    size_t bytes = 0;
    backend_api_client *client = NULL;
    backend_api_request *request = backend_api_request_new();
    backend_api_stream *stream = NULL;
    backend_api_error *err = NULL;
    unsigned long long got = 0;
    int ended = 0;
    if (backend_api_client_new(argv[1], &client, &err) == BACKEND_API_STATUS_OK &&
        backend_api_request_add_message(request, "user", "drain", &err) == BACKEND_API_STATUS_OK &&
        backend_api_request_set_field_json(request, "test_chunks", argv[2], &err) == BACKEND_API_STATUS_OK &&
        backend_api_open(client, request, &stream, &err) == BACKEND_API_STATUS_OK) {
        for (;;) {
            backend_api_chunk *chunk = NULL;
            backend_api_status st = backend_api_next(stream, -1, &chunk, &err);
            if (st != BACKEND_API_STATUS_OK) {
                ended = st == BACKEND_API_STATUS_END;
                break;
            }
            got += backend_api_chunk_kind(chunk) == BACKEND_API_KIND_CONTENT;
            if (text) {
                size_t len = 0;
                if (backend_api_chunk_text(chunk, &len) != NULL) bytes += len;
            }
            backend_api_chunk_free(chunk);
        }
    }
    if (err != NULL) fprintf(stderr, "drain_c: %s\n", backend_api_error_message(err));
    backend_api_error_free(err);
    backend_api_close(stream);
    backend_api_request_free(request);
    backend_api_client_free(client);
    if (ended && got != n) fprintf(stderr, "drain_c: %llu of %llu chunks\n", got, n);
    if (text) printf("%zu bytes of text\n", bytes);
    return ended && got == n ? 0 : 1;
}
