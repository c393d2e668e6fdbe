// swift-tools-version:6.0
// The drain benchmark of the Swift binding: streams one answer of N chunks from the
// test backend through `for try await` and exits 0 only when all N arrived. See
// bench/drain.sh and the binding's README ("Benchmark").
import PackageDescription

let package = Package(
    name: "BackendAPIBench",
    platforms: [.macOS(.v13)],
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "backend-api-drain",
            dependencies: [.product(name: "BackendAPI", package: "swift")],
            path: "Sources/Drain"),
    ],
    swiftLanguageModes: [.v6]
)
