/* Unit test of cli/markdown.c, built and run by tests/cli/run.py: the rendering of
 * known lines, and that it does not depend on how the text is cut into pieces (the
 * same output for every cut of the text in two, and byte by byte). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

void say(const char *fmt, ...) { (void)fmt; } /* markdown.c's helpers never say anything here */

static int failures;

/* `text` fed in pieces of `piece` bytes (0: one cut at `cut`), rendered into a string. */
static char *render(const char *text, bool color, size_t piece, size_t cut) {
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    struct markdown m;
    markdown_init(&m, f, color);
    size_t n = strlen(text);
    if (piece == 0) {
        markdown_feed(&m, text, cut);
        markdown_feed(&m, text + cut, n - cut);
    } else {
        for (size_t k = 0; k < n; k += piece) markdown_feed(&m, text + k, n - k < piece ? n - k : piece);
    }
    markdown_flush(&m);
    markdown_free(&m);
    fclose(f);
    return out;
}

static void expect(const char *name, const char *text, bool color, const char *want) {
    char *got = render(text, color, 0, 0);
    if (strcmp(got, want) != 0) {
        printf("FAIL %s\n  got  %s\n  want %s\n", name, got, want);
        failures++;
    }
    free(got);
}

int main(void) {
    safe_text_init(false);
    expect("heading", "# Title\n", true, "\033[1;4;35mTitle\033[0m\n");
    expect("heading without colour: bold", "## Sub\n", false, "\033[1mSub\033[0m\n");
    expect("bold, emphasis, code", "a **b** *c* `d`\n", true,
           "a \033[1mb\033[22m \033[3mc\033[23m \033[36md\033[39m\n");
    expect("code without colour keeps its backticks", "x `y`\n", false, "x `y`\n");
    expect("a link", "[t](http://h/p)\n", true, "\033]8;;http://h/p\033\\\033[4mt\033[24m\033]8;;\033\\\n");
    expect("a link without colour", "[t](http://h/p)\n", false, "t <http://h/p>\n");
    expect("a link whose URL holds a control character: no OSC 8", "[t](http://h/\033p)\n", true,
           "t <http://h/\033p>\n"); /* not a terminal here: put_text passes it; run.py checks a terminal */
    expect("a bullet", "- item\n", false, "• item\n");
    expect("fenced code, its language kept", "```sh\nls *x*\n```\n", false, "```sh\nls *x*\n```\n");
    expect("snake_case stays", "a_b_c\n", false, "a_b_c\n");
    expect("a lone star stays", "2 * 3\n", false, "2 * 3\n");
    expect("an unclosed mark is text at the line's end", "**open\n", false, "**open\n");
    expect("a rule", "---\n", false, "────────────────────────────────\n");
    expect("the last line without a newline", "**b**", false, "\033[1mb\033[22m");
    const char *doc = "# T\nSome **bold** and *it* `c` [l](https://e/x).\n- a **b**\n> q *e*\n```py\nx = 1 * 2\n```\n"
                      "---\nplain_text end";
    for (int color = 0; color < 2; color++) {
        char *whole = render(doc, color, 0, 0);
        for (size_t cut = 0; cut <= strlen(doc); cut++) {
            char *two = render(doc, color, 0, cut);
            if (strcmp(two, whole) != 0) {
                printf("FAIL cut at %zu (colour %d) renders otherwise:\n%s\n---\n%s\n", cut, color, two, whole);
                failures++;
            }
            free(two);
        }
        char *bytes = render(doc, color, 1, 0);
        if (strcmp(bytes, whole) != 0) {
            printf("FAIL byte by byte (colour %d) renders otherwise\n", color);
            failures++;
        }
        free(bytes);
        free(whole);
    }
    printf("markdown: %d failed\n", failures);
    return failures != 0;
}
