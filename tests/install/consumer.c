/* C quick start: stream one answer from a g4f server and print it.
 * Build: cc consumer.c $(pkg-config --cflags --libs backend_api) -o consumer
 * Run:   ./consumer http://127.0.0.1:8080 "Hello!" */
#include <backend_api.h>
#include <stdio.h>

int main(int argc, char **argv) {
    const char *url = argc > 1 ? argv[1] : "http://127.0.0.1:8080";
    const char *question = argc > 2 ? argv[2] : "Hello!";
    backend_api_client *client = NULL;
    backend_api_request *request = NULL;
    backend_api_stream *stream = NULL;
    backend_api_error *err = NULL;
    int rc = 1;

    /* Every call that can fail returns a status; on failure `err` owns the details. */
    if (backend_api_client_new(url, &client, &err) != BACKEND_API_STATUS_OK) goto done;
    request = backend_api_request_new();
    if (backend_api_request_set_model(request, "", &err) != BACKEND_API_STATUS_OK) goto done;
    if (backend_api_request_add_message(request, "user", question, &err) != BACKEND_API_STATUS_OK) goto done;
    /* Returns at once; the answer streams in on a background thread. */
    if (backend_api_open(client, request, &stream, &err) != BACKEND_API_STATUS_OK) goto done;

    for (;;) {
        backend_api_chunk *chunk = NULL;
        backend_api_status status = backend_api_next(stream, -1, &chunk, &err); /* -1: wait */
        if (status == BACKEND_API_STATUS_END) { /* the answer is complete */
            rc = 0;
            break;
        }
        if (status != BACKEND_API_STATUS_OK) break; /* failed (err is set) or cancelled */
        size_t len = 0;
        const char *text = backend_api_chunk_text(chunk, &len); /* owned by the chunk */
        switch (backend_api_chunk_kind(chunk)) {
        case BACKEND_API_KIND_CONTENT:
            fwrite(text, 1, len, stdout);
            fflush(stdout);
            break;
        case BACKEND_API_KIND_ERROR: /* in-stream error: the answer ends */
        case BACKEND_API_KIND_AUTH:
            fprintf(stderr, "\nserver error: %s\n", text ? text : "(no message)");
            rc = 3;
            break;
        default: /* provider, usage, finish, reasoning, ... */
            break;
        }
        backend_api_chunk_free(chunk);
        if (rc == 3) goto done;
    }
    putchar('\n');

done:
    if (err != NULL)
        fprintf(stderr, "error (%s): %s\n", backend_api_status_name(backend_api_error_status(err)),
                backend_api_error_message(err));
    backend_api_error_free(err); /* every free accepts NULL */
    backend_api_close(stream);
    backend_api_request_free(request);
    backend_api_client_free(client);
    return rc;
}
