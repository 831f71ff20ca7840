/// The environment stopped a run: the database's files, the in-flight log, the disk. The
/// command ends with exit 3 and this one line.
public struct EngineError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
