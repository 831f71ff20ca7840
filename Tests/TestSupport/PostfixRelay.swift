import Foundation

/// A real Postfix (Debian's `postfix`), an instance of its own run from a temporary
/// folder: it listens on a loopback port, queues what it takes and relays it to
/// `relayhost`, as a company's local relay would in front of a provider.
public final class PostfixRelay: @unchecked Sendable {
    public let port: Int
    public let directory: TemporaryDirectory
    private var config: String { directory.path("etc") }

    public var url: String { "smtp://127.0.0.1:\(port)" }

    public init(relayTo relayPort: Int) throws {
        directory = try TemporaryDirectory()
        port = try freeLoopbackPort()
        let root = directory.url.path
        for sub in ["etc", "queue", "data"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(sub)", withIntermediateDirectories: true)
        }
        // Postfix checks every folder up to its queue: it must not be writable by others.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root)
        _ = try Command.run(URL(fileURLWithPath: "/bin/chown"), ["postfix", "\(root)/data"])
        try directory.write("etc/main.cf", """
            compatibility_level = 3.6
            queue_directory = \(root)/queue
            data_directory = \(root)/data
            mail_owner = postfix
            setgid_group = postdrop
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            myhostname = relay.broadside.test
            mydestination =
            alias_maps =
            alias_database =
            mynetworks = 127.0.0.0/8
            relayhost = [127.0.0.1]:\(relayPort)
            smtp_tls_security_level = none
            smtpd_tls_security_level = none
            smtputf8_enable = yes
            smtp_destination_concurrency_limit = 8
            default_destination_concurrency_limit = 8
            smtpd_client_connection_count_limit = 0
            smtpd_client_message_rate_limit = 0
            message_size_limit = 52428800
            """)
        try directory.write("etc/master.cf", """
            127.0.0.1:\(port) inet n - n - - smtpd
            pickup    unix n - n 60 1 pickup
            cleanup   unix n - n - 0 cleanup
            qmgr      unix n - n 300 1 qmgr
            rewrite   unix - - n - - trivial-rewrite
            bounce    unix - - n - 0 bounce
            defer     unix - - n - 0 bounce
            trace     unix - - n - 0 bounce
            verify    unix - - n - 1 verify
            flush     unix n - n 1000? 0 flush
            proxymap  unix - - n - - proxymap
            smtp      unix - - n - - smtp
            relay     unix - - n - - smtp
            showq     unix n - n - - showq
            error     unix - - n - - error
            retry     unix - - n - - error
            discard   unix - - n - - discard
            local     unix - n n - - local
            virtual   unix - n n - - virtual
            lmtp      unix - - n - - lmtp
            anvil     unix - - n - 1 anvil
            scache    unix - - n - 1 scache
            """)
        // The queue's folders, owned as Postfix wants them.
        // (Run without pipes: post-install starts helpers that keep its output open.)
        let install = Process()
        install.executableURL = URL(fileURLWithPath: "/usr/lib/postfix/sbin/post-install")
        install.arguments = ["config_directory=\(config)", "queue_directory=\(root)/queue", "data_directory=\(root)/data",
                             "command_directory=/usr/sbin", "daemon_directory=/usr/lib/postfix/sbin", "meta_directory=/etc/postfix",
                             "shlib_directory=/usr/lib/postfix", "create-missing"]
        install.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        install.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        install.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try install.run()
        install.waitUntilExit()
        guard install.terminationStatus == 0 else { throw TestSupportError("Postfix's post-install failed (is postfix installed?)") }
        // Postfix's master on its own, detached (`postfix start` would ask for the folder to be
        // listed in the system's configuration first; a master that is this process's child
        // kept its command runner from seeing other children end).
        let started = try Command.run(URL(fileURLWithPath: "/bin/sh"),
                                      ["-c", "setsid /usr/lib/postfix/sbin/master -d -c '\(config)' </dev/null >/dev/null 2>&1 &"])
        guard started.status == 0 else { throw TestSupportError("cannot start Postfix's master: \(started.stderr)") }
        for _ in 0..<100 {
            if canConnect(port: port) { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        stop()
        throw TestSupportError("Postfix did not listen on \(port)")
    }

    /// Messages still in Postfix's queue.
    public func queued() throws -> Int {
        let listing = try Command.run(URL(fileURLWithPath: "/usr/sbin/postqueue"), ["-c", config, "-j"])
        return listing.stdout.split(separator: "\n").count
    }

    /// Waits until the queue is empty (everything relayed), up to `seconds`.
    public func drain(within seconds: Double) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try queued() == 0 { return true }
            _ = try? Command.run(URL(fileURLWithPath: "/usr/sbin/postqueue"), ["-c", config, "-f"])
            Thread.sleep(forTimeInterval: 0.3)
        }
        return false
    }

    /// Stops the master (its children, smtpd, qmgr and smtp, end when it does).
    public func stop() {
        _ = try? Command.run(URL(fileURLWithPath: "/usr/bin/pkill"), ["-9", "-f", "master -d -c \(config)"])
    }

    deinit { stop() }
}
