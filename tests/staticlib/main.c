/* One program, two Rust static libraries: libbackend_api.a and tests/staticlib/other.
 * Prints the library version and uses both; exit 0 when both answer as expected. */
#include <backend_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int64_t other_rust_greeting_len(const char *name);

int main(void) {
    backend_api_client *client = NULL;
    backend_api_error *err = NULL;
    if (backend_api_client_new("http://127.0.0.1:9", &client, &err) != BACKEND_API_STATUS_OK) {
        fprintf(stderr, "client_new: %s\n", backend_api_error_message(err));
        backend_api_error_free(err);
        return 1;
    }
    backend_api_client_free(client);
    int64_t n = other_rust_greeting_len("hello");
    const char *v = backend_api_version();
    printf("backend_api %s, other library %lld\n", v, (long long)n);
    return n == (int64_t)strlen("hello, from another Rust library") && v[0] != '\0' ? 0 : 1;
}
