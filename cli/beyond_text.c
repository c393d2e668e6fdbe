/* What an answer brings besides its text, said after it: the tool calls the model
 * asked for (name and arguments), a refusal, and generated media (images, audio,
 * video): their URLs, or with --save-media DIR each saved there (through the
 * library's backend_api_media_save: a failed download leaves no file) and where.
 * On standard error, the server's text neutralised on a terminal. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* The string at `pointer` in `c`, or `fallback`. Owned by the chunk. */
static const char *string_at(const backend_api_chunk *c, const char *pointer, const char *fallback) {
    const char *v = NULL;
    return backend_api_chunk_get_string(c, pointer, &v, NULL) == BACKEND_API_STATUS_OK ? v : fallback;
}

static void put_err(const char *text) { put_text(stderr, text, strlen(text)); }

/* "[tool call: NAME ARGUMENTS]" for each call of the answer. */
static void show_tool_calls(const backend_api_chunk *answer) {
    size_t n = 0;
    backend_api_chunk_get_count(answer, "/tool_calls", &n);
    for (size_t i = 0; i < n; i++) {
        char name[64], arguments[64];
        snprintf(name, sizeof name, "/tool_calls/%zu/function/name", i);
        snprintf(arguments, sizeof arguments, "/tool_calls/%zu/function/arguments", i);
        fputs("[tool call: ", stderr);
        put_err(string_at(answer, name, "(no name)"));
        fputc(' ', stderr);
        put_err(string_at(answer, arguments, "{}"));
        fputs("]\n", stderr);
    }
}

/* A file name for the medium at `index`: the URL's last part when it is a plain
 * name, else media-N with the extension of its kind. Never a path elsewhere. */
static void file_name(const char *url, size_t index, backend_api_media_kind kind, char *buf, size_t size) {
    const char *end = url + strcspn(url, "?#"), *start = end;
    while (start > url && start[-1] != '/') start--;
    size_t len = (size_t)(end - start);
    bool plain = strncmp(url, "data:", 5) != 0 && len > 0 && len < 100 && start[0] != '.';
    for (size_t k = 0; plain && k < len; k++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", start[k]) != NULL;
    if (plain)
        snprintf(buf, size, "%.*s", (int)len, start);
    else
        snprintf(buf, size, "media-%zu.%s", index + 1,
                 kind == BACKEND_API_MEDIA_KIND_AUDIO   ? "mp3"
                 : kind == BACKEND_API_MEDIA_KIND_VIDEO ? "mp4"
                                                        : "png");
}

/* Each generated medium: its URL, or saved into o's --save-media folder (a failure
 * said, the answer still complete). */
static void show_media(const struct options *o, const backend_api_client *client, const backend_api_request *req,
                       const backend_api_chunk *answer) {
    for (size_t i = 0; i < backend_api_answer_media_count(answer); i++) {
        backend_api_media_kind kind = BACKEND_API_MEDIA_KIND_IMAGE;
        const char *url = NULL;
        if (backend_api_answer_medium(answer, i, &kind, &url, NULL, NULL) != BACKEND_API_STATUS_OK) continue;
        const char *what = kind == BACKEND_API_MEDIA_KIND_AUDIO   ? "audio"
                           : kind == BACKEND_API_MEDIA_KIND_VIDEO ? "video"
                                                                  : "image";
        if (o->value[O_SAVE_MEDIA] == NULL) {
            fprintf(stderr, "[%s: ", what);
            if (strncmp(url, "data:", 5) == 0)
                fputs("inline data; --save-media DIR saves it", stderr);
            else
                put_err(url);
            fputs("]\n", stderr);
            continue;
        }
        char name[128], path[1200];
        file_name(url, i, kind, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", o->value[O_SAVE_MEDIA], name);
        uint64_t len = 0;
        backend_api_error *err = NULL;
        if (backend_api_media_save(client, req, url, path, NULL, 0, &len, NULL, &err) == BACKEND_API_STATUS_OK) {
            fprintf(stderr, "[%s saved: ", what);
            put_err(path);
            fprintf(stderr, " (%llu bytes)]\n", (unsigned long long)len);
        } else {
            say("cannot save the %s in %s: %s", what, path, backend_api_error_message(err));
        }
        backend_api_error_free(err);
    }
}

/* After a complete answer: its tool calls, refusal and media. */
void beyond_text(const struct options *o, const backend_api_client *client, const backend_api_request *req,
                 const backend_api_stream *stream) {
    backend_api_chunk *answer = NULL;
    if (backend_api_stream_answer(stream, &answer, NULL) != BACKEND_API_STATUS_OK) return;
    show_tool_calls(answer);
    const char *refusal = string_at(answer, "/refusal", NULL);
    if (refusal != NULL && refusal[0] != '\0') say("the model refused to answer (its words are above)");
    show_media(o, client, req, answer);
    backend_api_chunk_free(answer);
}
