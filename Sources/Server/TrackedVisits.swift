import Broadside
import Engagement
import Foundation
import Signing
import Store

/// Where a tracked link goes: found again from the campaign's frozen template and the
/// recipient's frozen fields (rendered as the message was), never from the request. Each
/// message's links are kept once found (a bounded cache), so a click costs a lookup.
final class LinkBook: @unchecked Sendable {
    struct Message: Sendable {
        var links: [String]
        /// The text part's links, numbered from `TextLinks.firstNumber`.
        var textLinks: [String]
        var acceptedAt: Double?

        /// The destination of link `number`, in the part the number says.
        func destination(_ number: Int) -> String? {
            if number >= TextLinks.firstNumber {
                let index = number - TextLinks.firstNumber
                return index < textLinks.count ? textLinks[index] : nil
            }
            return number < links.count ? links[number] : nil
        }
    }

    private let store: Store
    private let secret: String
    private let lock = NSLock()
    /// Guarded by `lock`.
    private var renderers: [Int64: PersonalMessage] = [:]
    private var messages: [Int64: Message] = [:]
    /// The last link fetched per message and when: a scanner fetches them all at once.
    private var lastLink: [Int64: (link: Int, at: Double)] = [:]
    private let capacity = 100_000
    private static let queue = DispatchQueue(label: "broadside.link-book", attributes: .concurrent)

    init(store: Store, secret: String) {
        self.store = store
        self.secret = secret
    }

    /// The message's links, from the cache or (off the async pool) from the database.
    func message(_ message: Int64, campaign: Int64) async -> Message? {
        if let known = lock.withLock({ messages[message] }) { return known }
        return await withCheckedContinuation { continuation in
            Self.queue.async { continuation.resume(returning: self.load(message, campaign: campaign)) }
        }
    }

    /// Seconds since another link of the message was fetched; remembers this one.
    func sinceOtherLink(message: Int64, link: Int, at now: Double) -> Double? {
        lock.withLock {
            defer {
                if lastLink.count > capacity { lastLink.removeAll(keepingCapacity: true) }
                lastLink[message] = (link, now)
            }
            guard let last = lastLink[message], last.link != link else { return nil }
            return now - last.at
        }
    }

    private func load(_ id: Int64, campaign: Int64) -> Message? {
        guard let tracked = try? store.trackedMessage(id, campaignID: campaign), let renderer = renderer(campaign) else { return nil }
        let bodies = try? renderer.untrackedBodies(fields: tracked.fields, campaign: campaign, message: id)
        let found = Message(links: bodies?.html.map { TrackedLinks.links(in: $0).map(\.url) } ?? [],
                            textLinks: bodies?.text.map { TextLinks.links(in: $0).map(\.url) } ?? [], acceptedAt: tracked.acceptedAt)
        lock.withLock {
            if messages.count >= capacity { messages.removeAll(keepingCapacity: true) }
            messages[id] = found
        }
        return found
    }

    /// The campaign's message maker as it sent (its unsubscribe links included: they are
    /// among the links that are counted); nil for a campaign that tracks nothing.
    private func renderer(_ campaign: Int64) -> PersonalMessage? {
        if let known = lock.withLock({ renderers[campaign] }) { return known }
        var made: PersonalMessage?
        if let record = try? store.campaign(id: campaign), let settings = try? CampaignSettings(json: record.settings),
           !(settings.track ?? []).isEmpty, let template = try? CampaignTemplate(source: record.templateSource, path: record.templatePath) {
            var extras = MessageExtras(unsubscribeURL: settings.unsubscribeURL, unsubscribeMailto: settings.unsubscribeMailto)
            if settings.unsubscribeURL != nil || settings.unsubscribeMailto != nil {
                extras.tokens = UnsubscribeToken(secret: secret, database: store.identity)
            }
            made = PersonalMessage(template: template, extras: extras)
        }
        // Only a campaign that tracks is remembered: one resumed later with --track is read again.
        if let made { lock.withLock { renderers[campaign] = made } }
        return made
    }
}

/// Records visits in batches on a thread of its own: a request is answered at once (a
/// redirect must not wait for a disk), and what arrives together is written in one
/// transaction. `close()` writes what is left.
final class VisitWriter: @unchecked Sendable {
    private let store: Store
    private let wake = NSCondition()
    /// Guarded by `wake`.
    private var pending: [TrackingVisit] = []
    private var closing = false
    private let done = DispatchSemaphore(value: 0)
    private let onError: @Sendable (String) -> Void

    init(store: Store, onError: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.onError = onError
        Thread { [self] in run() }.start()
    }

    func record(_ visit: TrackingVisit) {
        wake.withLock {
            pending.append(visit)
            if pending.count == 1 { wake.signal() }
        }
    }

    private func run() {
        while true {
            let (batch, last) = wake.withLock { () -> ([TrackingVisit], Bool) in
                while pending.isEmpty && !closing { wake.wait() }
                let batch = pending
                pending = []
                return (batch, closing)
            }
            var written = false
            while !written {
                do {
                    try store.recordVisits(batch)
                    written = true
                } catch {
                    // The database is busy or failing: keep the visits and try again.
                    onError("recording \(batch.count) visits failed, retrying: \(error)")
                    Thread.sleep(forTimeInterval: 0.2)
                }
            }
            if last && wake.withLock({ pending.isEmpty }) { break }
            // Let the next batch gather: one transaction every 20 ms at most, whatever the rate.
            if !last { Thread.sleep(forTimeInterval: 0.02) }
        }
        done.signal()
    }

    /// Writes what is pending and stops.
    func close() {
        wake.withLock {
            closing = true
            wake.signal()
        }
        done.wait()
    }
}
