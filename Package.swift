// swift-tools-version:6.0
// The Swift binding of backend-api (sources in bindings/swift). SwiftPM takes packages from a
// repository's root, hence this file here. Swift 6 language mode: strict concurrency checking.
//
// The package links the native library `libbackend_api`, found through pkg-config
// (backend_api.pc, installed with the library by the release archive, the .deb or
// `make install`); without pkg-config, pass `-Xlinker -L<libdir>` (see bindings/swift/README.md).
import PackageDescription

let package = Package(
    name: "BackendAPI",
    platforms: [.macOS(.v13), .iOS(.v16)],
    products: [
        .library(name: "BackendAPI", targets: ["BackendAPI"]),
    ],
    targets: [
        // The C API: the module map (inside this package) names include/backend_api.h, the
        // header the binding is written against; pkg-config supplies the linker flags.
        .systemLibrary(
            name: "CBackendAPI",
            path: "bindings/swift/Sources/CBackendAPI",
            pkgConfig: "backend_api",
            providers: [
                .apt(["backend-api"]),   // the .deb of scripts/release.sh
                .brew(["backend-api"]),  // no formula is published yet
            ]
        ),
        .target(name: "BackendAPI", dependencies: ["CBackendAPI"], path: "bindings/swift/Sources/BackendAPI"),
        .testTarget(
            name: "BackendAPITests", dependencies: ["BackendAPI"], path: "bindings/swift/Tests/BackendAPITests"),
    ],
    swiftLanguageModes: [.v6]
)
