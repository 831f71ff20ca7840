import Foundation
import Hummingbird
import Logging

/// One log line a request, with swift-log metadata: the route's pattern (`/u/{token}`,
/// never the token or an address), the status and the time taken.
struct RequestLog<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let status: Int
        do {
            let response = try await next(request, context)
            status = Int(response.status.code)
            log(request, context, status, started)
            return response
        } catch let error as HTTPResponseError {
            status = Int(error.status.code)
            log(request, context, status, started)
            throw error
        }
    }

    private func log(_ request: Request, _ context: Context, _ status: Int, _ started: ContinuousClock.Instant) {
        let elapsed = started.duration(to: .now)
        let microseconds = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        logger.info("request", metadata: [
            "method": "\(request.method.rawValue)",
            "route": "\(context.endpointPath ?? "unmatched")",
            "status": "\(status)",
            "µs": "\(microseconds)",
        ])
    }
}

/// The dashboard's routes show recipients' addresses: each request needs the access token
/// (or, with `--trust-loopback`, a loopback listener and no proxy in between).
struct DashboardAccess<Context: RequestContext>: RouterMiddleware {
    let server: UnsubscribeServer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard server.authorized(request) else {
            return UnsubscribeServer.page(status: .unauthorized, title: "Unauthorized", body: UnsubscribeServer.unauthorizedHelp)
        }
        return try await next(request, context)
    }
}

/// Reports read the database synchronously (a large campaign's report takes a while): they
/// run on threads of their own, so that the server's async tasks, and the unsubscribes they
/// answer, never wait behind them.
enum ReportQueue {
    private static let queue = DispatchQueue(label: "broadside.reports", attributes: .concurrent)

    static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work()) }
        }
    }
}
