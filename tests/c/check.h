/* What the C test programs share: the CHECK counter and the closing line. */
#ifndef BACKEND_API_TEST_CHECK_H
#define BACKEND_API_TEST_CHECK_H

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

/* Prints "N passed, M failed" and returns the exit status. */
static int finish(void) {
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#endif
