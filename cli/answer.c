/* One answer: opens the stream, prints its chunks as they come while polling the
 * stream's descriptor and the signal pipe, and finishes the turn. */
#include "cli.h"

#include <stdint.h>

/* Cancels the answer in flight. Called by the loop that also closes the stream, so
 * the stream's own cancel is the right call (a canceller serves other threads). */
static void cancel_answer(backend_api_stream *stream) { backend_api_cancel(stream); }

/* The poll timeout: the library's (idle and total timeouts), shortened to turn the spinner. */
static int poll_timeout(const struct printer *p, backend_api_stream *stream) {
    int64_t ms = backend_api_stream_timeout_ms(stream);
    int spin = p->spinner && p->waiting ? 100 : -1;
    if (ms < 0 || ms > INT32_MAX) return spin;
    return spin >= 0 && spin < ms ? spin : (int)ms;
}

/* Streams the answer to `req`: prints it, and on success leaves the stream in
 * *out (for the conversation to keep). Returns the turn's exit status. */
int stream_answer(const struct options *o, backend_api_client *client, const backend_api_request *req,
                  backend_api_stream **out) {
    const struct where w = {o, openai(o) ? "/chat/completions" : "/backend-api/v2/conversation"};
    backend_api_stream *stream = NULL;
    backend_api_error *err = NULL;
    ptrdiff_t fd = -1; /* a file descriptor here (a SOCKET on Windows) */
    if (backend_api_open(client, req, &stream, &err) != BACKEND_API_STATUS_OK ||
        backend_api_stream_fd(stream, &fd, &err) != BACKEND_API_STATUS_OK) {
        report("cannot start the request", err, &w);
        backend_api_close(stream);
        return EXIT_STREAM;
    }
    struct printer p;
    printer_init(&p, o);
    spinner_draw(&p);
    backend_api_status st;
    for (;;) {
        backend_api_chunk *chunk = NULL;
        st = backend_api_next(stream, 0, &chunk, &err);
        if (st == BACKEND_API_STATUS_OK) {
            print_chunk(&p, chunk);
            backend_api_chunk_free(chunk);
            continue;
        }
        if (st != BACKEND_API_STATUS_AGAIN) break;
        wait_for(fd, poll_timeout(&p, stream));
        if (got_sigint || got_term) cancel_answer(stream); /* next() then returns CANCELLED */
        spinner_draw(&p);
    }
    int rc = finish_turn(&p, stream, st, err, &w);
    if (rc == EXIT_DONE) beyond_text(o, client, req, stream);
    if (rc == EXIT_DONE)
        *out = stream;
    else
        backend_api_close(stream);
    return rc;
}
