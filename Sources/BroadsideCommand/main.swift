import ArgumentParser
import Foundation

// Exit codes (README, "A short tour"): 0 success; 1 the work ran but something in it failed; 2 the
// input or the command line is wrong; 3 the environment is wrong; 130 interrupted.
// A parent that spawned us from a thread may have left SIGINT and SIGTERM blocked;
// `send` relies on them to pause cleanly.
var signals = sigset_t()
sigemptyset(&signals)
sigaddset(&signals, SIGINT)
sigaddset(&signals, SIGTERM)
pthread_sigmask(SIG_UNBLOCK, &signals, nil)

do {
    var command = try BroadsideCLI.parseAsRoot()
    // The one long-running server; named so the call cannot resolve to the synchronous
    // default `run()` that prints help.
    if let serve = command as? ServeCommand {
        try await serve.run()
    } else {
        try command.run()
    }
} catch {
    exit(ExitStatus.report(error))
}
