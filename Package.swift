// swift-tools-version:6.1
import PackageDescription

// The dependency direction follows the pipeline (README, "Layout"): pure stages
// (CSV, Addresses, Templates, Messages, Delivery) import no SQLite, no curl and no
// file system; IO lives at the edges (Store, Transport) and in the Broadside
// library that wires a campaign together for the thin `broadside` command.
let package = Package(
    name: "Broadside",
    // Built and tested on Linux (Debian). macOS 15 is the least the code's APIs need
    // (Synchronization.Mutex); nothing here builds or tests it there.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "broadside", targets: ["BroadsideCommand"]),
        .library(name: "Broadside", targets: ["Broadside"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/JohnSundell/Ink", from: "0.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        // libcurl, as Debian's libcurl4-openssl-dev installs it.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // Typed, non-variadic wrappers: curl_easy_setopt cannot be called from Swift.
        .target(name: "CurlShim", dependencies: ["CCurl"]),
        // zlib, as Debian's zlib1g-dev installs it: deflate for the document parts a merge rewrites.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Pure stages.
        .target(name: "CSV"),
        .target(name: "Addresses"),
        .target(name: "CivilDates"),
        .target(name: "Templates", dependencies: ["CivilDates"]),
        .target(name: "Messages", dependencies: ["Addresses", "CivilDates"]),
        .target(name: "Delivery"),
        .target(name: "Bounces", dependencies: ["Delivery"]),
        // Opens and clicks: the links a message's HTML has, and who fetched them (people or machines).
        .target(name: "Engagement"),
        // HMAC tokens (VERP return paths, unsubscribe links) and DKIM, on swift-crypto.
        .target(name: "Signing", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),

        // IO at the edges.
        // Word and OpenDocument templates filled per recipient (ZIP and XML read here, zlib for deflate).
        .target(name: "Documents", dependencies: ["Templates", "CZlib"]),
        .target(name: "Store", dependencies: [
            "Delivery", "Bounces",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
        ]),
        .target(name: "Transport", dependencies: ["Addresses", "Delivery", "CurlShim", "CCurl"]),
        // The delivery engine: claims, routes over relays, sends on a thread per connection,
        // records through the ledger and the in-flight log; the decisions it acts on are the
        // pure types of Delivery (RelayRotation, SendGate, AttemptDecision).
        .target(name: "Engine", dependencies: [
            "Addresses", "Delivery", "Signing", "Store",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // A campaign, wired together: import, send, report.
        .target(name: "Broadside", dependencies: [
            "CSV", "Addresses", "Templates", "Messages", "Delivery", "Bounces", "Signing", "Store", "Transport", "Documents", "Engagement",
            "Engine",
            .product(name: "Ink", package: "Ink"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `broadside serve`: one-click unsubscribe and the dashboard, on Hummingbird.
        .target(name: "Server", dependencies: [
            "Addresses", "Broadside", "Store", "Signing", "Templates", "Delivery", "Engagement",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "BroadsideCommand", dependencies: [
            "Broadside", "Documents", "Bounces", "Signing", "Store", "Delivery", "Transport", "Server", "Engine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // `make bench`: rendering and composing, measured alone.
        .executableTarget(name: "RenderBenchmark", dependencies: ["Broadside"], path: "Benchmarks/RenderBenchmark"),

        // Starts real servers (SMTP) on loopback ports for the tests.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "CSVTests", dependencies: ["CSV"]),
        .testTarget(name: "AddressesTests", dependencies: ["Addresses"]),
        .testTarget(name: "TemplatesTests", dependencies: ["Templates"]),
        .testTarget(name: "MessagesTests", dependencies: ["Messages", "TestSupport"]),
        .testTarget(name: "DeliveryTests", dependencies: ["Delivery"]),
        .testTarget(name: "EngagementTests", dependencies: ["Engagement"]),
        .testTarget(name: "BouncesTests", dependencies: ["Bounces", "TestSupport"]),
        .testTarget(name: "SigningTests", dependencies: ["Signing", "Messages", "Addresses", "TestSupport"]),
        .testTarget(name: "BroadsideTests", dependencies: ["Broadside", "Engine", "Store", "Transport", "Signing", "TestSupport"],
                    exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
