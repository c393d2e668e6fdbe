/* Attachments (-a/--attach, --media, /attach in a conversation), each with the
 * message it was given for. A file goes as media when the library takes it (images
 * by their bytes, audio by their extension); as a video data: URI (mp4, mov, mkv,
 * encoded here: the library sniffs no video); or, when it is UTF-8 text, into the
 * message as context under its name, before the message (as `llm -f` puts a
 * fragment before the prompt). Anything else is refused, naming what is accepted. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { TEXT_MAX = 8 << 20, VIDEO_MAX = 20 << 20 };

static const char ACCEPTED[] = "images (jpeg, png, gif, webp), audio (mp3, wav, ogg, flac, m4a, opus, webm, aac), "
                               "video (mp4, mov, mkv) or UTF-8 text files";

/* The MIME type of a video file by its extension; NULL when it is not one. */
static const char *video_mime(const char *path) {
    static const char *const types[][2] = {{"mp4", "video/mp4"}, {"m4v", "video/mp4"}, {"mov", "video/quicktime"},
                                           {"mkv", "video/x-matroska"}};
    const char *dot = strrchr(base_name(path), '.');
    for (size_t k = 0; dot != NULL && k < sizeof types / sizeof *types; k++)
        if (strcasecmp(dot + 1, types[k][0]) == 0) return types[k][1];
    return NULL;
}

/* The whole file (a regular one, at most `max` bytes), malloc'd; NULL after saying why. */
static char *read_attachment(const char *path, size_t max, size_t *len) {
    struct file_facts facts;
    char *data = read_file(path, max, len, &facts);
    if (data != NULL) return data;
    if (errno == EINVAL && facts.not_regular != NULL)
        say("attachment %s: not a regular file (%s): attach %s", path, facts.not_regular, ACCEPTED);
    else if (errno == EFBIG)
        say("attachment %s: %lld bytes, more than the %zu MiB an attachment of this kind may have", path,
            facts.size, max >> 20);
    else
        say("attachment %s: %s", path, strerror(errno));
    return NULL;
}

/* Whether s is UTF-8 text: well-formed, no NUL, no control characters but tab, CR, LF, FF. */
static bool utf8_text(const unsigned char *s, size_t n) {
    for (size_t k = 0; k < n;) {
        unsigned c = s[k];
        size_t more = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 9;
        if (more == 9 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7f ||
            (more == 1 && c < 0xc2) || (more > 0 && k + more >= n))
            return false;
        for (size_t j = 1; j <= more; j++)
            if ((s[k + j] & 0xc0) != 0x80) return false;
        k += more + 1;
    }
    return true;
}

static void base64(struct buffer *b, const unsigned char *s, size_t n) {
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t k = 0; k < n; k += 3) {
        unsigned v = (unsigned)s[k] << 16 | (k + 1 < n ? (unsigned)s[k + 1] << 8 : 0) | (k + 2 < n ? s[k + 2] : 0);
        char q[4] = {A[v >> 18 & 63], A[v >> 12 & 63], k + 1 < n ? A[v >> 6 & 63] : '=', k + 2 < n ? A[v & 63] : '='};
        buffer_add(b, q, 4);
    }
}

/* A video as a data: URI. */
static int attach_video(backend_api_request *req, const char *path, const char *mime) {
    size_t len = 0;
    char *data = read_attachment(path, VIDEO_MAX, &len);
    if (data == NULL) return EXIT_USAGE;
    struct buffer uri = {0};
    buffer_adds(&uri, "data:");
    buffer_adds(&uri, mime);
    buffer_adds(&uri, ";base64,");
    base64(&uri, (const unsigned char *)data, len);
    free(data);
    backend_api_error *err = NULL;
    bool ok = !uri.failed &&
              backend_api_request_add_media_uri(req, uri.data, base_name(path), &err) == BACKEND_API_STATUS_OK;
    if (!ok) say("attachment %s: %s", path, err != NULL ? backend_api_error_message(err) : "out of memory");
    backend_api_error_free(err);
    buffer_free(&uri);
    return ok ? GO_ON : EXIT_USAGE;
}

/* A text file into `context`: <file name="NAME">, the text, </file>, a blank line. */
static int attach_text(struct buffer *context, const char *path) {
    size_t len = 0;
    char *data = read_attachment(path, TEXT_MAX, &len);
    if (data == NULL) return EXIT_USAGE;
    bool text = utf8_text((const unsigned char *)data, len);
    if (text) {
        buffer_adds(context, "<file name=\"");
        buffer_adds(context, base_name(path));
        buffer_adds(context, "\">\n");
        buffer_add(context, data, len);
        buffer_adds(context, len > 0 && data[len - 1] == '\n' ? "</file>\n\n" : "\n</file>\n\n");
    } else {
        say("attachment %s: neither media nor text: attach %s", path, ACCEPTED);
    }
    free(data);
    return text ? GO_ON : EXIT_USAGE;
}

/* Adds each of `paths` to the request (media) or to `context` (text, which the
 * caller puts before the message). Returns GO_ON or EXIT_USAGE after saying why. */
int attach_files(const struct list *paths, backend_api_request *req, struct buffer *context) {
    for (size_t k = 0; k < paths->n; k++) {
        const char *path = paths->items[k];
        backend_api_error *err = NULL;
        backend_api_status st = backend_api_request_add_media_file(req, path, &err);
        if (st == BACKEND_API_STATUS_OK) continue;
        if (st != BACKEND_API_STATUS_MEDIA) { /* too big, unreadable */
            say("attachment %s: %s", path, backend_api_error_message(err));
            backend_api_error_free(err);
            return EXIT_USAGE;
        }
        backend_api_error_free(err);
        const char *mime = video_mime(path);
        int rc = mime != NULL ? attach_video(req, path, mime) : attach_text(context, path);
        if (rc != GO_ON) return rc;
    }
    return GO_ON;
}
