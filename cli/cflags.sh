# The command-line client's sources and compiler flags, in one place: cli/build.sh
# (static, against target/), scripts/stage.sh (shared, the installed tree) and
# scripts/release.sh (the musl and Windows clients) read this file (`. cli/cflags.sh`
# from the repository root's scripts). CLI_SOURCES are for POSIX systems;
# CLI_WINDOWS_SOURCES replace their platform files (cli/platform.h) for Windows.
# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this
CLI_CFLAGS=(-std=c11 -Wall -Wextra -Werror -Wpedantic -Wshadow)
CLI_COMMON_SOURCES=(help.c options.c config.c say.c safe_text.c buffer.c client.c report.c markdown.c output.c answer.c
    beyond_text.c attach.c conversation.c store.c logs.c models.c chat.c backend-api.c)
CLI_SOURCES=("${CLI_COMMON_SOURCES[@]}" platform_posix.c lineedit.c)
CLI_WINDOWS_SOURCES=("${CLI_COMMON_SOURCES[@]}" platform_windows.c lineedit_windows.c)
