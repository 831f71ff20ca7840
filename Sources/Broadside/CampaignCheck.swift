import Engine
import Foundation
import Messages
import Store
import Templates

/// `broadside check`: renders every message of a list without sending, and lists
/// every problem with its row.
public enum CampaignCheck {
    public struct Problem: Sendable, Codable, Equatable {
        /// The CSV line of the recipient.
        public var line: Int
        public var recipient: String
        public var problem: String
    }

    public struct Result: Sendable, Codable {
        public var template: String
        public var list: String
        public var messages: Int
        public var problems: [Problem]
        /// Problems beyond those listed (the list is capped).
        public var more: Int
    }

    /// Recipients checked together, in parallel.
    static let checkBatch = 2048

    /// Messages above this size are refused by most providers (Gmail and Outlook: 25 MB after encoding).
    public static let maximumMessageBytes = 25 * 1024 * 1024

    /// `progress`: messages checked and the list's size, after each batch.
    public static func run(template: CampaignTemplate, list: String, store: Store, now: Double, extras: MessageExtras = MessageExtras(),
                           listLimit: Int = 1000, progress: ((_ checked: Int, _ of: Int) -> Void)? = nil) throws -> Result {
        guard let summary = try store.list(named: list) else {
            throw BroadsideError.input("there is no list '\(list)'; import one with: broadside import FILE.csv --list \(list)")
        }
        try template.checkFields(against: summary.columns)
        try extras.checkLinks(in: template)
        let renderer = PersonalMessage(template: template, extras: extras)
        // A field printed where an empty value shows: not guarded by a default, nor by a condition that tests it.
        let required = Set(template.message.fieldReferences.filter { $0.isPrinted && !$0.isOptional && !$0.isGuarded }.map { FieldName.key($0.name) })
        let headerFields = Set(template.message.headers.flatMap(\.value.fieldReferences).map { FieldName.key($0.name) })
        var result = Result(template: template.path, list: list, messages: 0, problems: [], more: 0)
        func report(_ member: ListMember, _ problems: [String]) {
            for problem in problems {
                if result.problems.count < listLimit {
                    result.problems.append(Problem(line: member.line, recipient: member.displayAddress, problem: problem))
                } else {
                    result.more += 1
                }
            }
        }
        /// One recipient's problems; pure, so that recipients are checked on every core at once.
        @Sendable func problems(of member: ListMember) -> [String] {
            var found: [String] = []
            for (column, value) in member.fields {
                let key = FieldName.key(column)
                if required.contains(key) && value.isEmpty {
                    found.append("'\(column)' is empty and the template prints it without a default")
                }
                if headerFields.contains(key) && value.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
                    found.append("'\(column)' holds a line break and feeds a header; it would be sent as a space")
                }
            }
            do {
                let content = try renderer.content(fields: member.fields, recipient: member.smtpAddress, messageID: "check@localhost", date: Int64(now))
                let data = MessageComposer.compose(content)
                try PersonalMessage.checkLineLengths(data)
                if data.count > maximumMessageBytes {
                    found.append("the message is \(data.count / 1_048_576) MB; providers refuse messages over 25 MB")
                }
            } catch {
                found.append("\(error)")
            }
            return found
        }
        // Members are read in batches on this thread and checked in parallel; problems keep the list's order.
        var batch: [ListMember] = []
        batch.reserveCapacity(Self.checkBatch)
        func checkTheBatch() {
            let found = Locked([[String]](repeating: [], count: batch.count))
            let members = batch
            let parts = min(members.count, ProcessInfo.processInfo.activeProcessorCount * 4)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                for index in stride(from: part, to: members.count, by: parts) {
                    let problems = problems(of: members[index])
                    if !problems.isEmpty { found.withLock { $0[index] = problems } }
                }
            }
            let all = found.withLock { $0 }
            for (member, problems) in zip(members, all) where !problems.isEmpty { report(member, problems) }
            result.messages += members.count
            batch.removeAll(keepingCapacity: true)
            progress?(result.messages, summary.members)
        }
        try store.forEachMember(of: list) { member in
            batch.append(member)
            if batch.count == Self.checkBatch { checkTheBatch() }
        }
        if !batch.isEmpty { checkTheBatch() }
        return result
    }
}
