/* What the C test programs share: the CHECK counter and the closing line. */
#ifndef BACKEND_API_TEST_CHECK_H
#define BACKEND_API_TEST_CHECK_H

#include "backend_api.h"

#include <stdio.h>
#include <stdlib.h>

static int passed, failed;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                  \
    } while (0)

/* The backend URL from argv[1], or exit 2 with a usage line. */
static const char *backend_url(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s BACKEND_URL\n", argv[0]);
        exit(2);
    }
    return argv[1];
}

/* A client of `url` that ignores the environment's proxies; aborts on failure. */
static backend_api_client *client_for(const char *url) {
    backend_api_client *c = NULL;
    if (backend_api_client_new(url, &c, NULL) != BACKEND_API_STATUS_OK) abort();
    if (backend_api_client_set_proxy(c, NULL, NULL) != BACKEND_API_STATUS_OK) abort();
    return c;
}

/* A request with one user message and extra fields {name, JSON text}, ended by
 * {NULL, NULL} (`fields_json` may be NULL). */
static backend_api_request *request_with(const char *fields_json[][2]) {
    backend_api_request *r = backend_api_request_new();
    backend_api_request_set_model(r, "test-model", NULL);
    backend_api_request_add_message(r, "user", "hi", NULL);
    for (int i = 0; fields_json && fields_json[i][0]; i++)
        backend_api_request_set_field_json(r, fields_json[i][0], fields_json[i][1], NULL);
    return r;
}

/* Prints "N passed, M failed" and returns the exit status. */
static int finish(void) {
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#endif
