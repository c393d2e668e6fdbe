# backend-api: build, install and test the C library and its C++ wrapper (GNU make).
#
#   make                                  release build: libbackend_api.so and .a
#   make install PREFIX=/usr/local        libraries, headers, pkg-config and CMake files
#   make install PREFIX=/usr DESTDIR=pkg  staged install, for packagers
#   make uninstall PREFIX=...             removes what install put there
#   make check                            C++ wrapper, quick starts and demo against the test backend
#   make check-install                    install into a temporary prefix and build consumers there
#
# Variables: PREFIX (/usr/local), DESTDIR, LIBDIR ($(PREFIX)/lib), INCLUDEDIR
# ($(PREFIX)/include), PKGCONFIGDIR ($(LIBDIR)/pkgconfig), CMAKEDIR
# ($(LIBDIR)/cmake/backend_api), CARGO (cargo), CARGO_TARGET_DIR (./target),
# CC, CXX, INSTALL.
#
# ABI policy: while the version is 0.x every minor version may break the ABI, so the
# soname is libbackend_api.so.0.MINOR; from 1.0 on it is libbackend_api.so.MAJOR.
# build.rs gives the library that soname; install checks it and lays out
# libbackend_api.so.X.Y.Z (the file), libbackend_api.so.<soname version> and
# libbackend_api.so (links).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

CARGO ?= cargo
CC ?= cc
CXX ?= c++
INSTALL ?= install
PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CMAKEDIR ?= $(LIBDIR)/cmake/backend_api

# The repository (this Makefile's directory), so `make -f path/Makefile` works too.
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

CARGO_TARGET_DIR ?= $(ROOT)/target
override CARGO_TARGET_DIR := $(abspath $(CARGO_TARGET_DIR))
export CARGO_TARGET_DIR
RELEASE := $(CARGO_TARGET_DIR)/release

# The version, from the [package] section of Cargo.toml.
VERSION := $(shell sed -n 's/^version *= *"\([0-9][0-9.]*\)".*/\1/p' $(ROOT)/Cargo.toml | head -n 1)
ifneq ($(words $(subst ., ,$(VERSION))),3)
$(error could not read a version X.Y.Z from Cargo.toml (got "$(VERSION)"))
endif
MAJOR := $(word 1,$(subst ., ,$(VERSION)))
MINOR := $(word 2,$(subst ., ,$(VERSION)))
ABI := $(if $(filter 0,$(MAJOR)),0.$(MINOR),$(MAJOR))
SONAME := libbackend_api.so.$(ABI)
REALNAME := libbackend_api.so.$(VERSION)

# Rust's native libraries for static linking, as rustc prints them.
NATIVE_LIBS_FILE := $(RELEASE)/backend_api.native-static-libs

# pkg-config paths relative to ${prefix} when they lie below it (relocatable with --define-prefix).
PC_LIBDIR := $(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))
PC_INCLUDEDIR := $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))

.PHONY: all build install uninstall check check-install

all: build

# `cargo rustc` with `--print native-static-libs` builds the cdylib and the staticlib
# like `cargo build --release` and also says which system libraries the staticlib
# needs (cargo replays that note when nothing had to be rebuilt).
build:
	@mkdir -p $(RELEASE)
	$(CARGO) rustc --release --lib --manifest-path $(ROOT)/Cargo.toml -- --print native-static-libs \
		2>&1 | tee $(RELEASE)/backend_api.build.log
	@libs=$$(sed -n 's/^note: native-static-libs: //p' $(RELEASE)/backend_api.build.log | tail -n 1); \
	if [ -z "$$libs" ]; then echo "make: rustc did not print native-static-libs" >&2; exit 1; fi; \
	echo "$$libs" > $(NATIVE_LIBS_FILE); echo "native static libs: $$libs"

# Fills in a template from pkg/: $(call subst_template,IN,OUT)
define subst_template
	libs=$$(cat $(NATIVE_LIBS_FILE)); \
	cmake_libs=$$(echo "$$libs" | sed 's/^-l//; s/ -l/;/g'); \
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(PC_LIBDIR)|g' -e 's|@INCLUDEDIR@|$(PC_INCLUDEDIR)|g' \
	    -e 's|@VERSION@|$(VERSION)|g' -e 's|@MAJOR@|$(MAJOR)|g' -e 's|@MINOR@|$(MINOR)|g' \
	    -e 's|@SONAME@|$(SONAME)|g' -e 's|@REALNAME@|$(REALNAME)|g' \
	    -e "s|@NATIVE_LIBS@|$$libs|g" -e "s|@CMAKE_NATIVE_LIBS@|$$cmake_libs|g" \
	    -e "s|@CMAKE_TO_LIBDIR@|$$(realpath -m --relative-to=$(CMAKEDIR) $(LIBDIR))|g" \
	    -e "s|@CMAKE_TO_INCLUDEDIR@|$$(realpath -m --relative-to=$(CMAKEDIR) $(INCLUDEDIR))|g" \
	    -e "s|@SIZEOF_VOID_P@|$$(( $$(getconf LONG_BIT) / 8 ))|g" \
	    $(1) > $(2)
endef

install: build
	@soname=$$(readelf -d $(RELEASE)/libbackend_api.so | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p'); \
	if [ "$$soname" != "$(SONAME)" ]; then \
		echo "make: $(RELEASE)/libbackend_api.so has soname '$$soname', expected $(SONAME) (see build.rs)" >&2; exit 1; fi
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(CMAKEDIR)
	$(INSTALL) -m 755 $(RELEASE)/libbackend_api.so $(DESTDIR)$(LIBDIR)/$(REALNAME)
	ln -sf $(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libbackend_api.so
	$(INSTALL) -m 644 $(RELEASE)/libbackend_api.a $(DESTDIR)$(LIBDIR)/libbackend_api.a
	$(INSTALL) -m 644 $(ROOT)/include/backend_api.h $(DESTDIR)$(INCLUDEDIR)/backend_api.h
	$(INSTALL) -m 644 $(ROOT)/bindings/cpp/include/backend_api.hpp $(DESTDIR)$(INCLUDEDIR)/backend_api.hpp
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(call subst_template,$(ROOT)/pkg/backend_api.pc.in,$$tmp/backend_api.pc); \
	$(call subst_template,$(ROOT)/pkg/backend_api-static.pc.in,$$tmp/backend_api-static.pc); \
	$(call subst_template,$(ROOT)/pkg/backend_apiConfig.cmake.in,$$tmp/backend_apiConfig.cmake); \
	$(call subst_template,$(ROOT)/pkg/backend_apiConfigVersion.cmake.in,$$tmp/backend_apiConfigVersion.cmake); \
	$(INSTALL) -m 644 $$tmp/backend_api.pc $$tmp/backend_api-static.pc $(DESTDIR)$(PKGCONFIGDIR)/; \
	$(INSTALL) -m 644 $$tmp/backend_apiConfig.cmake $$tmp/backend_apiConfigVersion.cmake $(DESTDIR)$(CMAKEDIR)/
	@echo "installed backend_api $(VERSION) (soname $(SONAME)) into $(DESTDIR)$(PREFIX)"

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libbackend_api.so \
	      $(DESTDIR)$(LIBDIR)/libbackend_api.a \
	      $(DESTDIR)$(INCLUDEDIR)/backend_api.h $(DESTDIR)$(INCLUDEDIR)/backend_api.hpp \
	      $(DESTDIR)$(PKGCONFIGDIR)/backend_api.pc $(DESTDIR)$(PKGCONFIGDIR)/backend_api-static.pc \
	      $(DESTDIR)$(CMAKEDIR)/backend_apiConfig.cmake $(DESTDIR)$(CMAKEDIR)/backend_apiConfigVersion.cmake
	-rmdir $(DESTDIR)$(CMAKEDIR) 2>/dev/null || true

check: build
	CC="$(CC)" CXX="$(CXX)" bash $(ROOT)/bindings/cpp/tests/run.sh

check-install:
	CC="$(CC)" CXX="$(CXX)" bash $(ROOT)/tests/install/run.sh
