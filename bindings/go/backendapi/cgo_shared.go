//go:build backend_api_shared && !backend_api_nopkgconfig

package backendapi

// The shared library through pkg-config (build with -tags backend_api_shared):
// the flags come from backend_api.pc. The program then needs to find
// libbackend_api.so when it starts: installed in the system's library path, or a
// run path (CGO_LDFLAGS="-Wl,-rpath,<libdir>"), or LD_LIBRARY_PATH. See README.md.

// #cgo pkg-config: backend_api
import "C"
