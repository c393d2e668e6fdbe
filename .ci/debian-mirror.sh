#!/usr/bin/env bash
# Prints the machine's own Debian mirror (the archive URL its apt uses for Debian's main
# suites), read from its apt sources: the first `URIs:` of a deb822 stanza whose Suites
# name a release without a `-security` suffix (/etc/apt/sources.list.d/*.sources), else
# the first `deb` line of /etc/apt/sources.list. No built-in default: without a source it
# fails and says so. Used by .ci/install-go.sh and .ci/install-chroot.sh.
set -euo pipefail
mirror=$(awk '
    FNR == 1   { if (uri != "" && ok) { print uri; exit } uri = ""; ok = 0 }
    /^[ \t]*$/ { if (uri != "" && ok) { print uri; exit } uri = ""; ok = 0; next }
    /^URIs:/   { uri = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i !~ /-security$/) ok = 1 }
    END        { if (uri != "" && ok) print uri }
' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" && $0 !~ /-security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
        /etc/apt/sources.list)
fi
if [ -z "$mirror" ]; then
    echo "debian-mirror: this machine's apt has no Debian source (none in /etc/apt/sources.list.d/*.sources" \
         "or /etc/apt/sources.list); add the mirror you use, e.g. in /etc/apt/sources.list.d/debian.sources" >&2
    exit 1
fi
echo "$mirror"
