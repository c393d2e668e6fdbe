package backendapi

// The C header this package is written against: its own copy in the module
// (backend_api.h, identical to the repository's include/backend_api.h; a test keeps
// them so), found before any installed header: CPPFLAGS, because cgo puts the
// flags of `pkg-config --cflags` after #cgo CPPFLAGS but before #cgo CFLAGS (an
// -I in CFLAGS would lose to an installed header of another version). Linking:
// cgo_pkgconfig.go.

// #cgo CPPFLAGS: -I${SRCDIR}
import "C"
