//go:build backend_api_nopkgconfig

package backendapi

// Linking without pkg-config (build with -tags backend_api_nopkgconfig): plain
// -lbackend_api, found in the system's library path or through
// CGO_LDFLAGS=-L<libdir>. See README.md.

// #cgo LDFLAGS: -lbackend_api
import "C"
