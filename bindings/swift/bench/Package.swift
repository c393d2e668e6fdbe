// swift-tools-version:6.0
// The drain benchmark of the Swift binding: streams one answer of N chunks from the
// test backend through `for try await` and exits 0 only when all N arrived. See
// bench/drain.sh and the binding's README ("Benchmark").
import PackageDescription

// The dependency is the repository's root, three folders up; SwiftPM names a path
// dependency after its folder (lowercased), whatever the checkout is called.
let repo = Context.packageDirectory.split(separator: "/").dropLast(3).last.map { $0.lowercased() } ?? "backend-api"

let package = Package(
    name: "BackendAPIBench",
    platforms: [.macOS(.v13)],
    dependencies: [.package(path: "../../..")],
    targets: [
        .executableTarget(
            name: "backend-api-drain",
            dependencies: [.product(name: "BackendAPI", package: repo)],
            path: "Sources/Drain"),
    ],
    swiftLanguageModes: [.v6]
)
