//go:build !backend_api_shared && !backend_api_nopkgconfig

package backendapi

// Default linking: static, through pkg-config, from backend_api-static.pc
// (installed with the library: the release archive, the .deb or `make install`),
// found on the system's pkg-config path or PKG_CONFIG_PATH. It links
// libbackend_api.a itself: one self-contained program that starts wherever the
// library was installed, with no LD_LIBRARY_PATH or run path (as wasmtime-go
// does). -tags backend_api_static says the same. Other routes:
// -tags backend_api_shared (the shared library) or -tags backend_api_nopkgconfig
// (no pkg-config). See README.md.

// #cgo pkg-config: backend_api-static
import "C"
