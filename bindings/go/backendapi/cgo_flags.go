package backendapi

// The C header this package is written against: its own copy in the module
// (backend_api.h, identical to the repository's include/backend_api.h; a test keeps
// them so), found before any installed header. Linking: cgo_pkgconfig.go.

// #cgo CFLAGS: -I${SRCDIR}
import "C"
