# The command-line client's sources and compiler flags, in one place: cli/build.sh
# (static, against target/) and scripts/stage.sh (shared, the installed tree) both
# read this file (`. cli/cflags.sh` from the repository root's scripts).
# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this
CLI_CFLAGS=(-std=c11 -Wall -Wextra -Werror -Wpedantic -Wshadow)
CLI_SOURCES=(help.c options.c config.c signals.c say.c safe_text.c buffer.c client.c report.c markdown.c output.c answer.c beyond_text.c attach.c
    conversation.c store.c logs.c models.c lineedit.c chat.c backend-api.c)
