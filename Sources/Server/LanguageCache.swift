import Foundation

/// Each campaign's language, looked up once: a campaign's template never changes.
final class LanguageCache: @unchecked Sendable {
    private let lock = NSLock()
    private var languages: [Int64: UnsubscribeServer.Language] = [:]

    func language(of campaign: Int64, _ find: () -> UnsubscribeServer.Language) -> UnsubscribeServer.Language {
        if let known = lock.withLock({ languages[campaign] }) { return known }
        let language = find()
        lock.withLock { languages[campaign] = language }
        return language
    }
}
