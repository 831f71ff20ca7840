import Foundation

/// Where the time comes from: seconds since 1970. Injected so that tests can drive it.
public protocol WallClock: Sendable {
    func now() -> Double
}

public struct SystemClock: WallClock {
    public init() {}

    public func now() -> Double { Date().timeIntervalSince1970 }
}
