#!/usr/bin/env bash
# Runs INSIDE the cross chroot (tests/release/run.sh, on a throwaway overlay).
# Usage: inside-cross.sh WORK VERSION HTTP_URL HTTPS_URL
# WORK holds the aarch64 Linux archive, the Windows zip, and the test programs' sources.
#   aarch64-unknown-linux-gnu, run by qemu-aarch64 -L /usr/aarch64-linux-gnu (Debian's
#     libc6-arm64-cross): a C consumer built by aarch64-linux-gnu-gcc from the archive's
#     pkg-config files (shared and static), the C ABI test program (tests/c/abi_test.c), and
#     the archive's command-line client: one answer, --raw, --json, an HTTP error; the
#     client of the arm64 .deb, unpacked
#   x86_64-pc-windows-gnu, from the unpacked zip alone, run by Wine: a C consumer built by
#     MinGW from the zip's pkg-config file, the C++ wrapper's quick start, the C consumer
#     against the static library, the MSVC import library read by lld-link, and the zip's
#     command-line client: one answer (its prompt in Cyrillic: the arguments as UTF-8), a
#     pipe plus a prompt, --json, an HTTP error's exit status, a saved conversation
#     continued with -c and listed by `logs` (under %APPDATA%), and a chat typed in Russian
#     on Wine's console through a pseudo-terminal (script(1)): ReadConsoleW in, WriteConsoleW out;
#     Ctrl-C there cancelling an answer; the server's control characters shown, not obeyed
# Last line: "cross: N passed, M failed".
set -uo pipefail
WORK=$1 VERSION=$2 URL=$3 HTTPS_URL=$4
PASSED=0 FAILED=0
LOG=$(mktemp)
pass() { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }
check() { # description, command...: the command's output is shown indented
    local what=$1; shift
    if "$@" > "$LOG" 2>&1; then pass "$what"; else fail "$what"; fi
    tr -d '\r' < "$LOG" | sed 's/^/       /' | tail -n 12
}
answers() { # command..., prompt last: the output holds the test backend's echo of it
    local out prompt=${!#}
    out=$("$@" 2>&1 | tr -d '\r') && [[ $out == *"You said: $prompt"* ]] || { echo "output: $out"; return 1; }
    echo "$out" | head -n 4
}
B=$WORK/build
mkdir -p "$B"
cd "$WORK"

echo "== aarch64-unknown-linux-gnu under $(qemu-aarch64 --version | head -n 1)"
A=$WORK/aarch64
mkdir -p "$A"
tar -xzf "backend-api-$VERSION-aarch64-unknown-linux-gnu.tar.gz" -C "$A" --strip-components=1
QEMU=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
export PKG_CONFIG_PATH=$A/lib/pkgconfig
CC=aarch64-linux-gnu-gcc
# shellcheck disable=SC2046  # pkg-config output is meant to be split
{
    check "$CC consumer.c \$(pkg-config --cflags --libs backend_api)" \
        $CC -std=c99 -Wall -Wextra -Werror consumer.c -o "$B/consumer" $(pkg-config --cflags --libs backend_api)
    check "$CC consumer.c \$(pkg-config --static --cflags --libs backend_api-static)" \
        $CC -std=c99 -Wall -Wextra -Werror consumer.c -o "$B/consumer-static" $(pkg-config --static --cflags --libs backend_api-static)
}
check "the consumers are aarch64 programs" bash -c "readelf -h '$B/consumer' '$B/consumer-static' | tee /dev/stderr | grep -c 'Machine: *AArch64' | grep -qx 2"
check "qemu: C consumer (shared library) streams an answer" \
    answers env LD_LIBRARY_PATH="$A/lib" "${QEMU[@]}" "$B/consumer" "$URL" "arm64 C shared"
check "qemu: C consumer (static library) streams an answer" answers "${QEMU[@]}" "$B/consumer-static" "$URL" "arm64 C static"
check "$CC abi_test.c (the C ABI test program)" $CC -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -Wall -Wextra -Werror -pthread \
    -I"$A/include" -I. abi_test.c -o "$B/abi_test" -L"$A/lib" -Wl,-rpath,"$A/lib" -lbackend_api
abi() { "${QEMU[@]}" "$B/abi_test" "$URL" > "$B/abi.log" 2>&1; local rc=$?; tail -n 1 "$B/abi.log"; [ $rc = 0 ] && tail -n 1 "$B/abi.log" | grep -q ' passed, 0 failed$'; }
check "qemu: abi_test against the archive's libbackend_api.so" abi
CLI=("${QEMU[@]}" "$A/bin/backend-api" --url "$URL")
check "qemu: the client (finds its library through \$ORIGIN/../lib): one answer" answers "${CLI[@]}" "arm64 client"
raw() { # one JSON object a line, the answer's text split over "content" chunks
    "${CLI[@]}" --raw "arm64 raw" > "$B/raw" 2>&1 || return 1; head -n 3 "$B/raw"; echo "... $(wc -l < "$B/raw") lines"
    ! grep -qv '^{"type": *"[a-z_]*".*}$' "$B/raw" && [ "$(grep -c '^{"type": *"content"' "$B/raw")" -ge 3 ] &&
        [ "$(sed -n 's/^{"type": *"content", *"content": *"\(.*\)"}$/\1/p' "$B/raw" | tr -d '\n')" = \
          "Hello from the bundled offline backend! You said: arm64 raw" ]; }
check "qemu: the client --raw prints each chunk's JSON on a line" raw
json() { "${CLI[@]}" --json "arm64 json" > "$B/json" 2>&1 || return 1; cat "$B/json"
         [ "$(wc -l < "$B/json")" = 1 ] && grep -q '^{.*"content":"[^"]*You said: arm64 json' "$B/json"; }
check "qemu: the client --json prints one object" json
http_error() { "${CLI[@]}" --provider NoSuchProvider "arm64 error" > "$B/err" 2>&1; local rc=$?; cat "$B/err"; echo "exit status $rc"
               [ $rc != 0 ] && grep -q '404' "$B/err"; }
check "qemu: the client reports an HTTP error (404, unknown provider) with a failing status" http_error

D=$WORK/deb
deb() { # the arm64 .deb's files, unpacked (its dependency libc6:arm64 is not installable here)
    dpkg-deb -x "backend-api_${VERSION}-1_arm64.deb" "$D" && answers "${QEMU[@]}" "$D/usr/bin/backend-api" --url "$URL" "arm64 deb"
}
check "qemu: the arm64 .deb's client and library, unpacked with dpkg-deb -x, stream an answer" deb

echo "== x86_64-pc-windows-gnu under $(wine64 --version 2>/dev/null || /usr/lib/wine/wine64 --version)"
W=$WORK/windows
mkdir -p "$W"
check "unzip the Windows archive" unzip -q "backend-api-$VERSION-x86_64-pc-windows-gnu.zip" -d "$W"
Z=$W/backend-api-$VERSION-x86_64-pc-windows-gnu
check "the zip holds DLL, import libraries (MinGW, MSVC), static library, .def, headers, CMake and pkg-config files, docs" \
    bash -c "cd '$Z' && ls bin/backend_api.dll bin/backend-api.exe lib/libbackend_api.dll.a lib/backend_api.lib lib/libbackend_api.a lib/backend_api.def \
        include/backend_api.h include/backend_api.hpp lib/cmake/backend_api/backend_apiConfig.cmake \
        lib/cmake/backend_api/backend_apiConfigVersion.cmake lib/pkgconfig/backend_api.pc LICENSE README.md CHANGELOG.md"
export WINEDEBUG=-all WINEPREFIX=$WORK/wine
wine=/usr/lib/wine/wine64
[ -x "$wine" ] || wine=$(command -v wine)
export PKG_CONFIG_PATH=$Z/lib/pkgconfig
WCC=x86_64-w64-mingw32-gcc
mkdir -p "$B/win"
cp "$Z/bin/backend_api.dll" "$B/win/"   # next to the programs, where Windows looks first
# shellcheck disable=SC2046
{
    check "$WCC consumer.c \$(pkg-config --cflags --libs backend_api)" \
        $WCC -std=c99 -Wall -Wextra -Werror consumer.c -o "$B/win/consumer.exe" $(pkg-config --cflags --libs backend_api)
    check "$WCC consumer.c \$(pkg-config --static --cflags --libs backend_api) (libbackend_api.a)" \
        $WCC -std=c99 -Wall -Wextra -Werror consumer.c -o "$B/win/consumer-static.exe" -static \
        -I"$Z/include" "$Z/lib/libbackend_api.a" $(pkg-config --static --libs-only-l backend_api | sed 's/-lbackend_api//')
}
check "x86_64-w64-mingw32-g++ quickstart.cpp (the C++ wrapper's quick start) against libbackend_api.dll.a" \
    x86_64-w64-mingw32-g++ -std=c++17 -Wall -Wextra -Werror -I"$Z/include" quickstart.cpp -o "$B/win/quickstart.exe" \
    "$Z/lib/libbackend_api.dll.a" -static-libgcc -static-libstdc++
check "Wine: C consumer (DLL) streams an answer" answers "$wine" "$B/win/consumer.exe" "$URL" "windows C"
check "Wine: C consumer (static library) streams an answer" answers "$wine" "$B/win/consumer-static.exe" "$URL" "windows C static"
check "Wine: the C++ quick start streams an answer" answers "$wine" "$B/win/quickstart.exe" "$URL" "Hello!"
# The MSVC import library: lld-link (the MSVC-compatible linker) links a program against it
# alone (no MinGW import library, no C runtime), and Wine runs it: it calls the DLL.
cat > "$B/msvc.c" <<'C'
extern unsigned backend_api_version_num(void);
int entry(void) { return backend_api_version_num() == 0; }
C
msvc() {
    $WCC -O2 -ffreestanding -fno-asynchronous-unwind-tables -fno-stack-protector -c "$B/msvc.c" -o "$B/msvc.o" &&
    lld-link /nologo /out:"$B/win/msvc.exe" /entry:entry /subsystem:console /nodefaultlib "$B/msvc.o" "$Z/lib/backend_api.lib" &&
    x86_64-w64-mingw32-objdump -p "$B/win/msvc.exe" | grep -E 'DLL Name|backend_api_version_num' &&
    "$wine" "$B/win/msvc.exe"
}
check "lld-link links against backend_api.lib; Wine runs the program, which calls the DLL" msvc

# The command-line client as the zip has it, beside its DLL; standard input is not a console
# (a pipe or the null device), so each run is one answer, as in a script.
CLIENT=("$wine" "$Z/bin/backend-api.exe" --url "$URL")
check "Wine: the client (bin/backend-api.exe beside the DLL): one answer, the prompt in Cyrillic" \
    answers "${CLIENT[@]}" "Привет, мир: windows client" < /dev/null
piped() { # the piped text and the prompt are one message: the prompt, a blank line, the text
    local out
    out=$(printf 'piped line one\npiped line two\n' | "${CLIENT[@]}" "summarise" 2>&1 | tr -d '\r') || return 1
    echo "$out"
    [[ $out == *"You said: summarise"$'\n\n'"piped line one"$'\n'"piped line two"* ]]
}
check "Wine: the client takes a pipe and a prompt as one message" piped
win_json() { "${CLIENT[@]}" --json "windows json" > "$B/win-json" 2>&1 < /dev/null || return 1; cat "$B/win-json"
             [ "$(wc -l < "$B/win-json")" = 1 ] && grep -q '^{.*"content":"[^"]*You said: windows json' "$B/win-json"; }
check "Wine: the client --json prints one object" win_json
win_error() { "${CLIENT[@]}" --provider NoSuchProvider "windows error" > "$B/win-err" 2>&1 < /dev/null; local rc=$?
              cat "$B/win-err"; echo "exit status $rc"; [ $rc = 1 ] && grep -q '404' "$B/win-err"; }
check "Wine: the client reports an HTTP error (404, unknown provider) with exit status 1" win_error
continued() { # the first answer was saved under %APPDATA%; -c sends it with the next message
    "${CLIENT[@]}" "the first turn" > /dev/null 2>&1 < /dev/null || return 1
    local out
    out=$("${CLIENT[@]}" -c --field test_echo=true "the second turn" 2>&1 < /dev/null | tr -d '\r') || return 1
    echo "$out" | head -c 600; echo
    [[ $out == *'"the first turn"'*'"the second turn"'* ]] &&
        "$wine" "$Z/bin/backend-api.exe" logs < /dev/null | tr -d '\r' | tee /dev/stderr | grep -q 'the first turn'
}
check "Wine: a saved conversation goes on with -c, and logs lists it" continued
# The client on Wine's console, through a pseudo-terminal (script(1)); keys go in through a FIFO.
SCREEN=$B/screen KEYS=$B/keys CONSOLE_PID= K=
console_start() { # client arguments...
    rm -f "$KEYS"; mkfifo "$KEYS"; : > "$SCREEN"
    script -qfec "$wine $Z/bin/backend-api.exe --url $URL $*" /dev/null < "$KEYS" > "$SCREEN" 2>&1 &
    CONSOLE_PID=$!
    exec {K}> "$KEYS"
}
shown() { # the screen so far holds $1 (escape sequences, spaces and line ends left out: Wine's
          # console may draw a space as a cursor move, and wraps at 80 columns)
    local t
    for t in $(seq 1200); do
        sed 's/\x1b\[[?0-9;]*[a-zA-Z]//g' "$SCREEN" | tr -d ' \r\n' | grep -qF -- "$1" && return 0
        kill -0 "$CONSOLE_PID" 2> /dev/null || return 1
        sleep 0.1
    done
    return 1
}
keys() { printf '%b' "$1" >&"$K"; }
console_end() { # the client's exit status, expected $1; the screen's end shown
    local rc=0
    wait "$CONSOLE_PID" || rc=$?
    exec {K}>&-
    sed 's/\x1b\[[?0-9;]*[a-zA-Z]//g' "$SCREEN" | tr -d '\r' | tail -n 5
    echo "exit status $rc"
    [ "$rc" = "$1" ]
}
typed_chat() {
    console_start --render never --field test_echo=true
    { shown "leaves.>" && keys 'Привет, мир\r' && shown 'Yousaid:Привет,мир' && shown '"content":"Привет,мир"' &&
        keys '/quit\r'; } || kill "$CONSOLE_PID"
    console_end 0
}
check "Wine's console: a chat typed in Russian is sent and shown as typed (ReadConsoleW, WriteConsoleW); /quit leaves" typed_chat
ctrl_c() { # the answer stalls after its first words; Ctrl-C (the console's CTRL_C_EVENT) cancels it
    console_start --field test_fault='\"stall\"' cancel me
    { shown 'Yousaid:cancelme' && keys '\003' && shown 'cancelled'; } || kill "$CONSOLE_PID"
    console_end 130
}
check "Wine's console: Ctrl-C cancels the answer in flight (SetConsoleCtrlHandler), exit status 130" ctrl_c
hostile() { # the answer repeats the prompt, which holds a title-setting OSC: on a console it is shown, not obeyed
    console_start "--render never 'x$(printf '\033')]0;T$(printf '\007')y'"
    shown 'Yousaid:x^[]0;T^Gy' || kill "$CONSOLE_PID"
    console_end 0
}
check "Wine's console: the server's control characters are shown (^[ ^G), not sent to the console" hostile

# Wine's server outlives the programs by seconds and then writes the prefix in WORK: wait for
# it, or the host's cleanup of WORK races with it.
/usr/lib/wine/wineserver -w
rm -f "$LOG"
echo "cross: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
