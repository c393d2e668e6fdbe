//go:build backend_api_pkgconfig && !backend_api_static

package backendapi

// Linking through pkg-config (build with -tags backend_api_pkgconfig): the flags
// come from backend_api.pc (installed by `make install`), found on
// PKG_CONFIG_PATH. See README.md.

// #cgo pkg-config: backend_api
import "C"
