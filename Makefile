# backend-api: build, install and test the C library and its C++ wrapper (GNU make).
#
#   make                                  builds with cargo (release) and stages a complete
#                                         installation tree in target/stage (scripts/stage.sh)
#   make install PREFIX=/usr/local        copies the staged tree; never builds, so it runs as a
#                                         user (root) without Rust
#   make install PREFIX=/usr DESTDIR=pkg  staged install, for packagers
#   make uninstall PREFIX=...             removes what install put there
#   make check                            C++ wrapper, quick starts and demo against the test backend
#   make check-install                    install into a temporary prefix and build consumers there
#
# Variables: PREFIX (/usr/local), DESTDIR, STAGE ($(CARGO_TARGET_DIR)/stage),
# CARGO_TARGET_DIR (./target), CC, CXX, GLIBC (empty: link against this machine's glibc;
# a version such as 2.28: link against it with zig, the release's build, which
# scripts/release.sh then reuses; scripts/test.sh sets it).
#
# The layout under PREFIX: lib/ (libbackend_api.so.X.Y.Z with its soname and development
# links, libbackend_api.a, pkgconfig/, cmake/backend_api/), include/ (backend_api.h,
# backend_api.hpp), bin/backend-api, share/ (man page, completions). For another library
# folder (lib64, lib/<multiarch>), copy the staged lib/ there and fix the prefix of the
# pkg-config files, as `install` does.
#
# ABI policy: while the version is 0.x every minor version may break the ABI, so the
# soname is libbackend_api.so.0.MINOR; from 1.0 on it is libbackend_api.so.MAJOR.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := all

CC ?= cc
CXX ?= c++
PREFIX ?= /usr/local
DESTDIR ?=
GLIBC ?=

# The repository (this Makefile's directory), so `make -f path/Makefile` works too.
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

CARGO_TARGET_DIR ?= $(ROOT)/target
override CARGO_TARGET_DIR := $(abspath $(CARGO_TARGET_DIR))
export CARGO_TARGET_DIR
STAGE ?= $(CARGO_TARGET_DIR)/stage
DEST := $(DESTDIR)$(PREFIX)

.PHONY: all build install uninstall check check-install

all: build

build:
	$(ROOT)/scripts/stage.sh $(STAGE)$(if $(GLIBC), --glibc $(GLIBC))

# Copies the staged tree (symbolic links kept) and writes PREFIX into the pkg-config files.
install:
	@if [ ! -f $(STAGE)/lib/pkgconfig/backend_api.pc ]; then \
		echo "make install: nothing staged in $(STAGE); run \`make\` first (it needs Rust; install does not)" >&2; exit 1; fi
	mkdir -p $(DEST)
	cp -R -P $(STAGE)/. $(DEST)/
	sed -i 's|^prefix=.*|prefix=$(PREFIX)|' $(DEST)/lib/pkgconfig/backend_api.pc $(DEST)/lib/pkgconfig/backend_api-static.pc
	@echo "installed $$(sed -n 's/^Version: //p' $(STAGE)/lib/pkgconfig/backend_api.pc) into $(DEST)"

# Removes every file the staged tree holds, then the folders only we use.
uninstall:
	@if [ ! -d $(STAGE) ]; then echo "make uninstall: no staged tree in $(STAGE) to list the files" >&2; exit 1; fi
	cd $(STAGE) && find . ! -type d -printf '$(DEST)/%P\n' | xargs rm -f
	-rmdir $(DEST)/lib/cmake/backend_api 2>/dev/null || true

check: build
	CC="$(CC)" CXX="$(CXX)" STAGE="$(STAGE)" bash $(ROOT)/bindings/cpp/tests/run.sh

check-install:
	CC="$(CC)" CXX="$(CXX)" bash $(ROOT)/tests/install/run.sh
