//go:build !backend_api_pkgconfig && !backend_api_static

package backendapi

// Default linking: the header from this repository's include/ folder (add your own
// with CGO_CFLAGS=-I<dir> when the module lives elsewhere) and -lbackend_api, found
// through CGO_LDFLAGS=-L<libdir> or the system's library path. See README.md.

// #cgo CFLAGS: -I${SRCDIR}/../../include
// #cgo LDFLAGS: -lbackend_api
import "C"
