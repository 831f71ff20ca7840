import Engine
import Foundation

/// Where a profile's OAuth 2 tokens live: `$XDG_CONFIG_HOME/broadside/tokens/PROFILE.json`
/// (else `~/.config/…`), readable by its owner only (0600, in a 0700 folder), written
/// whole to a new file and renamed over the old one, so a crash leaves the old tokens or
/// the new ones, never half of each. Refresh tokens are secrets: they live here and
/// nowhere else (not the database, the in-flight log, the output or a command line).
public struct TokenFile: Sendable {
    /// What is kept between runs.
    public struct Tokens: Codable, Sendable, Equatable {
        public var provider: String
        public var flow: String
        /// The signed-in account, as the identity platform named it (else the profile's user).
        public var account: String?
        public var scopes: [String]
        public var refreshToken: String?
        public var accessToken: String?
        /// Seconds since 1970.
        public var expiresAt: Double?
        public var signedInAt: Double
        public var renewedAt: Double?

        public init(provider: String, flow: String, account: String?, scopes: [String], signedInAt: Double) {
            self.provider = provider
            self.flow = flow
            self.account = account
            self.scopes = scopes
            self.signedInAt = signedInAt
        }

        enum CodingKeys: String, CodingKey {
            case provider, flow, account, scopes
            case refreshToken = "refresh_token", accessToken = "access_token", expiresAt = "expires_at"
            case signedInAt = "signed_in_at", renewedAt = "renewed_at"
        }
    }

    public let url: URL

    public init(url: URL) {
        self.url = url
    }

    /// The profile's file under the user's configuration folder.
    public init(profile: String, environment: [String: String]) throws {
        guard !profile.isEmpty, !profile.contains("/"), !profile.hasPrefix("."), !profile.contains("\0") else {
            throw BroadsideError.input("the profile name '\(profile)' cannot name a token file")
        }
        url = Self.folder(environment: environment).appendingPathComponent("\(profile).json")
    }

    public static func folder(environment: [String: String]) -> URL {
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "\(environment["HOME"] ?? NSHomeDirectory())/.config"
        return URL(fileURLWithPath: base).appendingPathComponent("broadside/tokens")
    }

    /// The tokens, or nil when there is no file (never signed in, or signed out).
    public func read() throws -> Tokens? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        // Like ssh with a private key: a token file others can read is not used.
        if info.st_mode & 0o077 != 0 {
            throw BroadsideError.environment("\(url.path) can be read by other users; make it private (chmod 600 \(url.path)) or sign in again")
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw BroadsideError.environment("cannot read \(url.path)")
        }
        do {
            return try JSONDecoder().decode(Tokens.self, from: data)
        } catch {
            throw BroadsideError.environment("\(url.path) is not a token file Broadside wrote; remove it and sign in again (broadside auth login)")
        }
    }

    /// Writes `tokens` in place of the file's content: a new 0600 file, flushed, renamed over.
    public func write(_ tokens: Tokens) throws {
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(tokens)
        let staged = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        let fd = open(staged.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BroadsideError.environment("cannot write \(staged.path): \(String(cString: strerror(errno)))") }
        // The mode is set again: an existing staged file keeps its old mode through O_CREAT.
        fchmod(fd, 0o600)
        let written = data.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == data.count, synced, rename(staged.path, url.path) == 0 else {
            unlink(staged.path)
            throw BroadsideError.environment("cannot write \(url.path): \(String(cString: strerror(errno)))")
        }
        let dir = open(folder.path, O_RDONLY | O_DIRECTORY)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    /// Runs `work` holding an exclusive lock (flock) on `PROFILE.json.lock` beside the file:
    /// one renewal at a time across processes.
    public func whileLocked<T>(_ work: () throws -> T) throws -> T {
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let fd = open(url.path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BroadsideError.environment("cannot lock \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw BroadsideError.environment("cannot lock \(url.path): \(String(cString: strerror(errno)))") }
        }
        return try work()
    }

    /// Removes the file; false when there was none.
    @discardableResult
    public func remove() throws -> Bool {
        try? FileManager.default.removeItem(atPath: url.path + ".lock")
        guard FileManager.default.fileExists(atPath: url.path) else { return false }
        try FileManager.default.removeItem(at: url)
        return true
    }
}
