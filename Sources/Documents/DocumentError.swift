/// A document template that cannot be used, or a merge that cannot be made, with what to do.
public struct DocumentError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
