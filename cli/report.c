/* Errors and the hints that fit them. The server's address is shown through the
 * library's own redaction rule (backend_api_redact_url: user:password@ hidden up to
 * the last '@' before the host), never as given. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The URL without user:password@, for messages. */
void url_for_display(const char *url, char *buf, size_t size) {
    if (backend_api_redact_url(url, buf, size, NULL) == BACKEND_API_STATUS_INVALID_ARGUMENT)
        snprintf(buf, size, "(the URL)");
}

/* g4f's "RetryProviderError: RetryProvider failed:\nA: Error: ...\nB: ..." (every
 * provider it tried failed) as one line: the providers tried and what to do. The
 * whole text is for -v. False when `text` is not that error. */
bool shorten_retry_error(const char *text, char *buf, size_t size) {
    static const char START[] = "RetryProviderError";
    if (text == NULL || strncmp(text, START, sizeof START - 1) != 0) return false;
    size_t n = (size_t)snprintf(buf, size, "every provider the server tried failed (");
    const char *line = strchr(text, '\n');
    for (bool first = true; line != NULL && n < size; first = false) {
        line++;
        size_t name = strcspn(line, ":\n");
        if (line[name] == ':')
            n += (size_t)snprintf(buf + n, size - n, "%s%.*s", first ? "" : ", ", (int)(name > 60 ? 60 : name), line);
        line = strchr(line, '\n');
    }
    if (n < size)
        snprintf(buf + n, size - n, "); choose one with -p PROVIDER (`backend-api --list-models` lists them), "
                                    "-v shows each one's error");
    return true;
}

/* The library's message without what the caller says already ("could not
 * connect: " after "cannot connect to HOST"). */
static const char *cause(const char *message, const char *said) {
    size_t n = strlen(said);
    return strncmp(message, said, n) == 0 ? message + n : message;
}

/* HOST:PORT of the URL (the scheme's port when none is given), for a failed connection. */
static void url_address(const char *url, char *buf, size_t size) {
    char shown[1024];
    url_for_display(url, shown, sizeof shown);
    const char *scheme_end = strstr(shown, "://");
    const char *host = scheme_end ? scheme_end + 3 : shown;
    if (strncmp(host, "***@", 4) == 0) host += 4; /* what redaction left of the credentials */
    size_t len = strcspn(host, "/?#");
    const char *bracket = memchr(host, ']', len);
    const char *after = bracket ? bracket : host;
    bool has_port = memchr(after, ':', len - (size_t)(after - host)) != NULL;
    const char *port = strncasecmp(shown, "https:", 6) == 0 ? "443" : "80";
    snprintf(buf, size, "%.*s%s%s", (int)len, host, has_port ? "" : ":", has_port ? "" : port);
}

static void hint_not_found(const struct where *w, const char *server_message) {
    const char *provider = w->o->value[O_PROVIDER];
    if ((server_message != NULL && strstr(server_message, "Provider not found") != NULL) ||
        (provider != NULL && w->o->given[O_LIST_MODELS])) {
        say("hint: the server has no provider \"%s\"; `backend-api --list-models` lists them",
            provider ? provider : "(none given)");
        return;
    }
    char shown[1024];
    url_for_display(w->o->url, shown, sizeof shown);
    if (openai(w->o)) {
        say("hint: nothing answers %s%s: is this an OpenAI-compatible server on the right port and base path?",
            shown, w->path);
        say("hint: give the base URL with its /v1 (http://HOST:1337/v1 for `g4f api`), or --protocol backend");
        return;
    }
    say("hint: nothing answers %s%s: is this a g4f server on the right port and base path?", shown, w->path);
    say("hint: give the base URL only (http://HOST:1337 for `g4f api`, http://HOST:8080 for `g4f gui`),"
        " without /v1 or /backend-api/v2");
    say("hint: a `g4f api` started with --no-gui has no /backend-api/v2: start it without --no-gui, or run `g4f gui`");
}

static void hint_http(const struct where *w, const backend_api_error *err) {
    uint16_t code = backend_api_error_http_status(err);
    if (code == 404) {
        hint_not_found(w, backend_api_error_server_message(err));
    } else if (code == 401 || code == 403) {
        if (w->o->g4f_key == NULL)
            say("hint: a server started with `g4f api --g4f-api-key KEY` wants that key: set BACKEND_API_G4F_KEY "
                "(sent as the g4f-api-key header)");
        else
            say("hint: the server refused the key in BACKEND_API_G4F_KEY");
    } else if (code >= 300 && code < 400) {
        say("hint: redirects are not followed (the request would be sent again elsewhere); give the final URL");
    }
}

/* Whether a proxy from the environment may apply (the library reads these). */
static bool proxy_in_environment(void) {
    static const char *const names[] = {"ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"};
    for (size_t k = 0; k < sizeof names / sizeof *names; k++)
        if (getenv(names[k]) != NULL && getenv(names[k])[0] != '\0') return true;
    return false;
}

/* A connection that could not be made: names the address, and the proxy's part. */
static void report_connect(const char *what, const backend_api_error *err, const struct options *o) {
    char address[1024];
    url_address(o->url, address, sizeof address);
    bool proxied = o->value[O_PROXY] != NULL && strcmp(o->value[O_PROXY], "none") != 0;
    say("%s: cannot connect to %s%s: %s%s", what, address, proxied ? " through the proxy" : "",
        cause(backend_api_error_message(err), "could not connect: "), o->verbose ? " (CONNECT)" : "");
    if (proxied) {
        say("hint: is the proxy up? --proxy none goes direct");
    } else if (o->value[O_PROXY] == NULL && proxy_in_environment()) {
        say("hint: ALL_PROXY, HTTPS_PROXY or HTTP_PROXY is set, so the request may go through a proxy; "
            "--proxy none goes direct");
    } else if (o->url_defaulted) {
        say("hint: no server was given, so backend-api asked %s, where `g4f api` listens. Start one there "
            "(pip install -U 'g4f[api]'; g4f api), or give another: --url URL, $BACKEND_API_URL, or "
            "`url = URL` in ~/.config/backend-api/config", o->url);
    } else {
        say("hint: is the g4f server running there? `g4f api` listens on port 1337, `g4f gui` on 8080");
    }
}

/* Whether a TLS failure looks like a server that speaks plain HTTP. */
static bool plain_http_answer(const char *message) {
    static const char *const signs[] = {"InvalidContentType", "corrupt message", "wrong version number",
                                        "HTTP request"};
    for (size_t k = 0; k < sizeof signs / sizeof *signs; k++)
        if (message != NULL && strstr(message, signs[k]) != NULL) return true;
    return false;
}

/* Prints a library error with what was being done and a hint, the status's name
 * with -v; frees the error. */
void report(const char *what, backend_api_error *err, const struct where *w) {
    backend_api_status st = backend_api_error_status(err);
    char short_text[1024];
    const char *message = backend_api_error_message(err), *server = backend_api_error_server_message(err);
    if (st == BACKEND_API_STATUS_CONNECT) {
        report_connect(what, err, w->o);
    } else if (!w->o->verbose && shorten_retry_error(server, short_text, sizeof short_text)) {
        say("%s: HTTP %u: %s", what, (unsigned)backend_api_error_http_status(err), short_text);
    } else {
        char tag[64] = "";
        if (w->o->verbose) snprintf(tag, sizeof tag, " (%s)", backend_api_status_name(st));
        say("%s: %s%s", what, message, tag);
        if (st == BACKEND_API_STATUS_HTTP) hint_http(w, err);
        bool https = strncasecmp(w->o->url, "https:", 6) == 0;
        if (st == BACKEND_API_STATUS_TLS && plain_http_answer(backend_api_error_message(err)))
            say("hint: the server does not speak TLS on that port (it answered in plain HTTP): give the URL "
                "with http://");
        else if (st == BACKEND_API_STATUS_IO && https && w->o->value[O_PROXY] == NULL)
            say("hint: the connection closed during the TLS handshake: if the server speaks plain HTTP on "
                "that port (as `g4f api` does), give the URL with http://");
        else if (st == BACKEND_API_STATUS_TLS)
            say("hint: --cacert FILE trusts a private CA; --insecure skips the check (unsafe)");
    }
    backend_api_error_free(err);
}
