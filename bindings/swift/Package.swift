// swift-tools-version:6.0
// The Swift binding of backend-api. Swift 6 language mode: strict concurrency checking.
//
// The package links the native library `libbackend_api` (built with `cargo build`);
// tell SwiftPM where it is with `-Xlinker -L<dir>` (see README.md).
import PackageDescription

let package = Package(
    name: "BackendAPI",
    platforms: [.macOS(.v13), .iOS(.v16)],
    products: [
        .library(name: "BackendAPI", targets: ["BackendAPI"]),
    ],
    targets: [
        // The C header (include/backend_api.h of the repository) through a module map.
        .systemLibrary(name: "CBackendAPI", path: "Sources/CBackendAPI"),
        .target(name: "BackendAPI", dependencies: ["CBackendAPI"]),
        .testTarget(name: "BackendAPITests", dependencies: ["BackendAPI"]),
    ],
    swiftLanguageModes: [.v6]
)
