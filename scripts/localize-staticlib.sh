#!/usr/bin/env bash
# Usage: scripts/localize-staticlib.sh IN.a OUT.a
#
# Rewrites a Rust static library so that only the C API (`backend_api_*`) stays global,
# as other Rust libraries with a C ABI ship theirs (see rust-lang/rust#104707):
#   1. all members are linked into one object (`ld -r --whole-archive`);
#   2. every other global symbol (Rust's std, `rust_eh_personality`, `__rust_alloc`,
#      compiler-builtins, ring, ...) becomes local (`objcopy --keep-global-symbol`);
#   3. each COMDAT group gets a name of our own: a linker keeps one group per name, so
#      another Rust library's `DW.ref.rust_eh_personality` group would otherwise be
#      dropped in favour of ours, whose symbol is now local, and its references fail;
#   4. the members' embedded LLVM bitcode (.llvmbc, .llvmcmd) and address-significance
#      tables go: they are never linked ("exclude" sections), and once concatenated by
#      `ld -r` they are invalid, which makes binutils' LLVM plugin abort ar, nm and ld;
#   5. Windows import-library members (dlltool's NAME.dllh.o, .dllsNNNNN.o, .dllt.o, from
#      raw-dylib imports) stay separate members, unchanged: the linker orders a DLL's
#      import table by those member names, and two import libraries may stub one function.
# Without this, a program linking two Rust static libraries fails with duplicate symbols.
# scripts/stage.sh calls it for every installation path (make, archive, .deb);
# tests/staticlib/run.sh tests it.
#
# ELF and COFF (mingw) archives; the tools follow the target: set LD, OBJCOPY, AR and
# READELF (default ld, objcopy, ar, readelf; x86_64-w64-mingw32-ld etc. for Windows).
# Mach-O is not handled (objcopy does not apply there).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 IN.a OUT.a" >&2; exit 2; }
in=$(realpath "$1")
out=$2
LD=${LD:-ld}
OBJCOPY=${OBJCOPY:-objcopy}
AR=${AR:-ar}
READELF=${READELF:-readelf}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
obj=$tmp/backend_api.o
IMPORT='\.dll[hst][0-9]*\.o$'
mapfile -t imports < <("$AR" t "$in" | grep -E "$IMPORT" || true)
objects=$in
if [ ${#imports[@]} -gt 0 ]; then
    objects=$tmp/objects.a
    cp "$in" "$objects"
    "$AR" d "$objects" "${imports[@]}"
    if "$AR" t "$objects" | grep -qE "$IMPORT"; then echo "$0: could not set the import members apart" >&2; exit 1; fi
    # Extract them, the nth member of a repeated name into folder n.
    printf '%s\n' "${imports[@]}" | sort | uniq -c | while read -r count name; do
        for ((i = 1; i <= count; i++)); do
            mkdir -p "$tmp/imports/$i"
            (cd "$tmp/imports/$i" && "$AR" xN "$i" "$in" "$name")
        done
    done
fi
"$LD" -r --whole-archive "$objects" -o "$obj"
"$OBJCOPY" --wildcard --keep-global-symbol='backend_api_*' \
    --remove-section=.llvmbc --remove-section=.llvmcmd --remove-section=.llvm_addrsig "$obj"
# COMDAT group signatures (ELF only; readelf prints none for COFF).
{ "$READELF" -g --wide "$obj" 2>/dev/null || true; } \
    | sed -n "s/^COMDAT group section \[ *[0-9]*\] \`[^']*' \[\(.*\)\] contains.*/\1/p" \
    | grep -v '^backend_api_' | awk '{print $1, "backend_api_private." $1}' > "$tmp/groups.txt" || true
if [ -s "$tmp/groups.txt" ]; then
    "$OBJCOPY" --redefine-syms="$tmp/groups.txt" "$obj"
fi
"$AR" rcsD "$tmp/out.a" "$obj"
if [ ${#imports[@]} -gt 0 ]; then
    find "$tmp/imports" -type f -print0 | sort -z | xargs -0 "$AR" qD "$tmp/out.a"
    "$AR" sD "$tmp/out.a"
fi
mv "$tmp/out.a" "$out"
