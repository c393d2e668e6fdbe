//go:build !backend_api_static && !backend_api_nopkgconfig

package backendapi

// Default linking: through pkg-config, from backend_api.pc (installed with the
// library: the release archive, the .deb or `make install`), found on the system's
// pkg-config path or PKG_CONFIG_PATH. Other routes: -tags backend_api_static (the
// static archive) or -tags backend_api_nopkgconfig (no pkg-config). See README.md.

// #cgo pkg-config: backend_api
import "C"
