//go:build backend_api_static

package backendapi

// Static linking through pkg-config (build with -tags backend_api_static): the
// flags come from backend_api-static.pc (installed with the library), which links
// libbackend_api.a itself. See README.md.

// #cgo pkg-config: backend_api-static
import "C"
