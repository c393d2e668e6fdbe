#!/usr/bin/env bash
# Checks that the code blocks of a README still quote the files they claim to.
# A block is claimed by the line before its opening fence:
#     <!-- quote: tests/install/consumer.c -->            the whole file
#     <!-- quote: bindings/cpp/examples/tour.cpp#request -->  the lines between
#                                "// [request]" and "// [/request]", dedented
# Paths are relative to the repository. Usage: readme_snippets.sh README.md
# Prints one "ok"/"FAIL" line per quote; exits 1 when any differs or none is found.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
README=$1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Split the README's quoted blocks into files: WORK/N.spec (what) and WORK/N.block (code).
awk -v dir="$WORK" '
    /^<!-- quote: .* -->$/ { spec = $3; want = 1; next }
    want == 1 && /^```/     { n++; print spec > (dir "/" n ".spec"); close(dir "/" n ".spec");
                              out = dir "/" n ".block"; printf "" > out; inside = 1; want = 0; next }
    want == 1               { want = 0 }
    inside && /^```$/       { inside = 0; close(out); next }
    inside                  { print >> out }
' "$README"

# Prints a region of a file, without its common indentation.
region() { # file, name
    awk -v name="$2" '
        index($0, "// [/" name "]") { inside = 0 }
        inside { lines[n++] = $0 }
        index($0, "// [" name "]") { inside = 1 }
        END {
            min = -1
            for (i = 0; i < n; i++) if (lines[i] ~ /[^ ]/) {
                match(lines[i], /^ */); if (min < 0 || RLENGTH < min) min = RLENGTH
            }
            for (i = 0; i < n; i++) print (min > 0 ? substr(lines[i], min + 1) : lines[i])
        }
    ' "$1"
}

found=0 bad=0
for spec_file in "$WORK"/*.spec; do
    [ -e "$spec_file" ] || break
    found=$((found + 1))
    spec=$(cat "$spec_file")
    block=${spec_file%.spec}.block
    path=${spec%%#*}
    if [ ! -f "$ROOT/$path" ]; then echo "  FAIL README quotes $spec: no such file"; bad=$((bad + 1)); continue; fi
    if [ "$path" = "$spec" ]; then cp "$ROOT/$path" "$WORK/want"; else region "$ROOT/$path" "${spec#*#}" > "$WORK/want"; fi
    if [ ! -s "$WORK/want" ]; then echo "  FAIL README quotes $spec: region not found"; bad=$((bad + 1)); continue; fi
    if diff -u "$WORK/want" "$block" > "$WORK/diff"; then echo "  ok   README quotes $spec as it is"; else
        echo "  FAIL README quotes $spec, but they differ (- file, + README):"; sed 's/^/       /' "$WORK/diff"
        bad=$((bad + 1))
    fi
done
[ "$found" -gt 0 ] || { echo "  FAIL no quoted blocks found in $README"; exit 1; }
[ "$bad" = 0 ]
