#!/usr/bin/env bash
# Install (or reuse) the Swift 6 toolchain for the Swift binding's tests, and the tools of the
# clean-machine test, in one Debian 13 (trixie) chroot without Rust (.ci/install-chroot.sh):
#   swiftlang, libc6-dev     Swift 6.0.3 (Debian 12 has no Swift; without libc6-dev Foundation
#                            does not build)
#   gcc g++ make cmake pkgconf golang-go
#                            what a user of the C library has (tests/clean-machine/run.sh)
# Cached at ${BACKEND_API_CACHE:-$HOME/.cache/backend-api}/swift-chroot (about 3.5 GB). Prints
# the chroot's path as the LAST stdout line. Run commands in it with scripts/in-chroot.sh.
set -euo pipefail
exec "$(dirname "$0")/install-chroot.sh" swift-chroot --check '/usr/libexec/swift/bin/swift --version' \
    swiftlang libc6-dev gcc g++ make cmake pkgconf golang-go
