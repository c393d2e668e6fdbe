// swift-tools-version:6.0
// The drain benchmark of the Swift binding: streams one answer of N chunks from the
// test backend through `for try await` and exits 0 only when all N arrived. See
// bench/drain.sh and the binding's README ("Benchmark").
import Foundation
import PackageDescription

/// The repository's root (three folders up), whose package identity is its folder's name.
let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "BackendAPIBench",
    platforms: [.macOS(.v13)],
    dependencies: [.package(path: "../../..")],  // the repository's root, where Package.swift is
    targets: [
        .executableTarget(
            name: "backend-api-drain",
            dependencies: [.product(name: "BackendAPI", package: root.lastPathComponent.lowercased())],
            path: "Sources/Drain"),
    ],
    swiftLanguageModes: [.v6]
)
