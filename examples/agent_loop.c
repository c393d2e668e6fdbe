/* An agent loop over the C API: the model asks for a tool, the program runs it
 * and sends the result back, until the model answers in text.
 *
 *   agent_loop BASE_URL [backend|openai] [MODEL] [FIELD=JSON ...]
 *
 * e.g. against `g4f api`: agent_loop http://127.0.0.1:1337/v1 openai gpt-4o
 *
 * Each round streams the answer (its text as it comes), reads the assembled
 * answer's tool calls through the JSON Pointer getters, runs each call
 * (get_weather, a stand-in for real work), adds its result with
 * backend_api_request_add_tool_result to the follow-up request made with
 * backend_api_request_follow_up(request, stream, NULL, ...) (no user message),
 * and streams again. Prints the transcript; exits 0 once the model answered in
 * text, 1 on an error or after MAX_ROUNDS rounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_api.h"

#define MAX_ROUNDS 4

static const char *TOOLS =
    "[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\","
    " \"description\": \"The weather forecast of a city\","
    " \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}},"
    " \"required\": [\"city\"]}}}]";

static int fail(const char *what, backend_api_error *err) {
    fprintf(stderr, "agent_loop: %s: %s\n", what, err ? backend_api_error_message(err) : "failed");
    backend_api_error_free(err);
    return 1;
}

/* The tool: the weather of the city its JSON arguments name, as JSON text into
 * `out`. The arguments are parsed with the library (a JSON object as a chunk). */
static void get_weather(const char *arguments, char *out, size_t size) {
    backend_api_chunk *args = NULL;
    const char *city = "somewhere";
    if (backend_api_chunk_parse(arguments, strlen(arguments), &args, NULL) == BACKEND_API_STATUS_OK)
        backend_api_chunk_get_string(args, "/city", &city, NULL);
    snprintf(out, size, "{\"city\": \"%s\", \"forecast\": \"sunny, 21 C\"}", city);
    backend_api_chunk_free(args);
}

/* Streams one round: prints the text as it comes. */
static int stream_round(backend_api_client *client, backend_api_request *request,
                        backend_api_stream **out) {
    backend_api_error *err = NULL;
    if (backend_api_open(client, request, out, &err) != BACKEND_API_STATUS_OK)
        return fail("open", err);
    int printed = 0;
    for (;;) {
        backend_api_chunk *chunk = NULL;
        backend_api_status st = backend_api_next(*out, -1, &chunk, &err);
        if (st == BACKEND_API_STATUS_END) break;
        if (st != BACKEND_API_STATUS_OK) return fail("next", err);
        backend_api_kind kind = backend_api_chunk_kind(chunk);
        if (kind == BACKEND_API_KIND_CONTENT && backend_api_chunk_choice(chunk) == 0) {
            const char *text = backend_api_chunk_text(chunk, NULL);
            if (text && *text) {
                if (!printed) fputs("assistant: ", stdout);
                fputs(text, stdout);
                printed = 1;
            }
        } else if (kind == BACKEND_API_KIND_ERROR || kind == BACKEND_API_KIND_AUTH) {
            fprintf(stderr, "agent_loop: the server: %s\n", backend_api_chunk_text(chunk, NULL));
            backend_api_chunk_free(chunk);
            return 1;
        }
        backend_api_chunk_free(chunk);
    }
    if (printed) fputs("\n", stdout);
    return 0;
}

/* Runs the tool calls of `answer` and adds their results to `next`; the number
 * of calls into `*calls`. */
static int run_tools(const backend_api_chunk *answer, backend_api_request *next, size_t *calls) {
    *calls = 0;
    if (backend_api_chunk_get_count(answer, "/tool_calls", calls) != BACKEND_API_STATUS_OK)
        return 0; /* null: no tool calls */
    for (size_t i = 0; i < *calls; i++) {
        char p_id[64], p_name[64], p_args[64], result[256];
        snprintf(p_id, sizeof p_id, "/tool_calls/%zu/id", i);
        snprintf(p_name, sizeof p_name, "/tool_calls/%zu/function/name", i);
        snprintf(p_args, sizeof p_args, "/tool_calls/%zu/function/arguments", i);
        const char *id = NULL, *name = NULL, *args = "{}";
        if (backend_api_chunk_get_string(answer, p_id, &id, NULL) != BACKEND_API_STATUS_OK ||
            backend_api_chunk_get_string(answer, p_name, &name, NULL) != BACKEND_API_STATUS_OK)
            return fail("a tool call without an id or a name", NULL);
        backend_api_chunk_get_string(answer, p_args, &args, NULL);
        printf("assistant calls: %s(%s) [%s]\n", name, args, id);
        if (strcmp(name, "get_weather") == 0)
            get_weather(args, result, sizeof result);
        else
            snprintf(result, sizeof result, "{\"error\": \"no tool named %s\"}", name);
        printf("tool %s: %s\n", name, result);
        backend_api_error *err = NULL;
        if (backend_api_request_add_tool_result(next, id, result, &err) != BACKEND_API_STATUS_OK)
            return fail("add_tool_result", err);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s BASE_URL [backend|openai] [MODEL] [FIELD=JSON ...]\n", argv[0]);
        return 2;
    }
    backend_api_error *err = NULL;
    backend_api_client *client = NULL;
    if (backend_api_client_new(argv[1], &client, &err) != BACKEND_API_STATUS_OK)
        return fail("client", err);
    if (argc > 2 && strcmp(argv[2], "openai") == 0 &&
        backend_api_client_set_protocol(client, BACKEND_API_PROTOCOL_OPENAI, &err) != BACKEND_API_STATUS_OK)
        return fail("protocol", err);
    const char *question = "What is the weather in Paris?";
    backend_api_request *request = backend_api_request_new();
    if (backend_api_request_set_model(request, argc > 3 ? argv[3] : "test-model", &err) ||
        backend_api_request_add_message(request, "user", question, &err) ||
        backend_api_request_set_field_json(request, "tools", TOOLS, &err))
        return fail("request", err);
    for (int i = 4; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) return fail("a field is not FIELD=JSON", NULL);
        *eq = '\0';
        if (backend_api_request_set_field_json(request, argv[i], eq + 1, &err))
            return fail("field", err);
    }
    printf("user: %s\n", question);
    int status = 1;
    for (int round = 0; round < MAX_ROUNDS; round++) {
        backend_api_stream *stream = NULL;
        if (stream_round(client, request, &stream)) {
            backend_api_close(stream);
            break;
        }
        backend_api_chunk *answer = NULL;
        backend_api_request *next = NULL;
        size_t calls = 0;
        int bad = 1;
        if (backend_api_stream_answer(stream, &answer, &err) != BACKEND_API_STATUS_OK) {
            fail("answer", err);
        } else if (backend_api_request_follow_up(request, stream, NULL, &next, &err) != BACKEND_API_STATUS_OK) {
            fail("follow_up", err);
        } else if ((bad = run_tools(answer, next, &calls)) == 0 && calls == 0) {
            printf("done after %d round%s\n", round + 1, round ? "s" : "");
            status = 0;
        }
        backend_api_chunk_free(answer);
        backend_api_close(stream);
        backend_api_request_free(request);
        request = next;
        if (status == 0 || bad || !next) break;
    }
    backend_api_request_free(request);
    backend_api_client_free(client);
    return status;
}
