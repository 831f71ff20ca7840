import Foundation

/// A real IMAP server (Dovecot, Debian's dovecot-imapd) run from a folder of its own on
/// a loopback port, with one user whose Maildir the test fills.
public final class IMAPTestServer: @unchecked Sendable {
    public let port: Int
    public let user: String
    public let password = "imap-test-secret"
    public let directory: TemporaryDirectory
    private let process: Process

    public var url: String { "imap://127.0.0.1:\(port)/INBOX" }

    /// The user's Maildir: put messages in `new/`.
    public var maildir: URL { directory.url.appendingPathComponent("home/\(user)/Maildir") }

    /// `introspection`: sign-in is XOAUTH2 only, with a token this RFC 7662 endpoint
    /// (`http://ID:SECRET@host/introspect`) says is active for `user` (Dovecot's oauth2 passdb).
    public init(user: String = "bounces", introspection: String? = nil) throws {
        self.user = user
        directory = try TemporaryDirectory()
        let root = directory.url.path
        // The IMAP process runs as nobody: every folder on the way must be traversable.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root)
        for sub in ["run", "state", "home/\(user)/Maildir/new", "home/\(user)/Maildir/cur", "home/\(user)/Maildir/tmp"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(sub)", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        port = try freeLoopbackPort()
        let config = """
            protocols = imap
            listen = 127.0.0.1
            base_dir = \(root)/run
            state_dir = \(root)/state
            log_path = \(root)/dovecot.log
            ssl = no
            disable_plaintext_auth = no
            auth_mechanisms = \(introspection == nil ? "plain login" : "xoauth2 oauthbearer")
            passdb {
              \(introspection == nil ? "driver = static" : "driver = oauth2")
              \(introspection == nil ? "args = password=\(password)" : "mechanisms = xoauth2 oauthbearer\n  args = \(root)/oauth2.conf")
            }
            userdb {
              driver = static
              args = uid=nobody gid=nogroup home=\(root)/home/%u
            }
            # Messages stored exactly as given (CRLF), so a test can compare them byte for byte.
            mail_save_crlf = yes
            mail_location = maildir:\(root)/home/%u/Maildir
            service imap-login {
              inet_listener imap {
                port = \(port)
              }
              inet_listener imaps {
                port = 0
              }
              chroot =
            }
            service anvil {
              chroot =
            }
            """
        if let introspection {
            try directory.write("oauth2.conf", """
                introspection_mode = post
                introspection_url = \(introspection)
                username_attribute = username
                active_attribute = active
                active_value = true
                """)
        }
        let configPath = try directory.write("dovecot.conf", config)
        guard let process = try startListening("/usr/sbin/dovecot", ["-F", "-c", configPath], port: port) else {
            let log = (try? String(contentsOfFile: "\(root)/dovecot.log", encoding: .utf8)) ?? ""
            throw TestSupportError("Dovecot did not start (is dovecot-imapd installed?): \(log.suffix(500))")
        }
        self.process = process
    }

    /// Puts a message in the mailbox, as delivered and unread.
    public func deliver(_ message: String, name: String) throws {
        let file = maildir.appendingPathComponent("new/\(name)")
        try Data(message.utf8).write(to: file)
        _ = try Command.run(URL(fileURLWithPath: "/bin/chown"), ["-R", "nobody:nogroup", directory.url.appendingPathComponent("home").path])
    }

    /// A folder of the mailbox (Maildir++: `.NAME` beside `cur/`, `new/`, `tmp/`).
    public func makeFolder(_ name: String) throws {
        for sub in ["cur", "new", "tmp"] {
            try FileManager.default.createDirectory(at: maildir.appendingPathComponent(".\(name)/\(sub)"), withIntermediateDirectories: true)
        }
        _ = try Command.run(URL(fileURLWithPath: "/bin/chown"), ["-R", "nobody:nogroup", directory.url.appendingPathComponent("home").path])
    }

    /// The messages of a folder, as Dovecot stores them.
    public func messages(in folder: String) throws -> [Data] {
        let base = maildir.appendingPathComponent(".\(folder)")
        return try ["cur", "new"].flatMap { sub in
            try FileManager.default.contentsOfDirectory(atPath: base.appendingPathComponent(sub).path).map {
                try Data(contentsOf: base.appendingPathComponent("\(sub)/\($0)"))
            }
        }
    }

    /// File names in `cur/` (read messages carry `:2,S`).
    public func readMessages() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: maildir.appendingPathComponent("cur").path)
    }

    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        // Dovecot's children outlive a killed master; end those of this instance.
        _ = try? Command.run(URL(fileURLWithPath: "/usr/bin/pkill"), ["-9", "-f", directory.url.path])
    }

    deinit {
        stop()
    }
}

/// A loopback port nothing listens on now.
public func freeLoopbackPort() throws -> Int {
    let result = try Command.run(URL(fileURLWithPath: "/usr/bin/python3"),
                                 ["-c", "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1]);s.close()"])
    guard let port = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw TestSupportError("no free port") }
    return port
}

func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}
