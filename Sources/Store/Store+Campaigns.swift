import Delivery
import Foundation
import GRDB

/// What a campaign is created from.
public struct CampaignDraft: Sendable {
    public var name: String
    public var listName: String
    public var templatePath: String
    public var templateSource: String
    public var templateHash: String
    /// JSON; never holds a secret.
    public var settings: String
    /// Every recipient's Message-ID is this, its contact number, then `messageIDSuffix`
    /// (the rule is the library's: `MessageIDs`).
    public var messageIDPrefix: String
    public var messageIDSuffix: String
    /// MAIL FROM for every message.
    public var returnPath: String
    /// The sending profile (or the SMTP URL without one): rolling caps count across its campaigns.
    public var profile: String
    /// A dry run (`send --dry-run`): a real send of the same name replaces it.
    public var dryRun = false
    /// The files the template reads (attachments, inline images), frozen by content.
    public var files: [CampaignFile] = []
    /// The list's version the recipients' messages were checked against: creation is
    /// refused if an import changed the list since.
    public var listVersion: Int64?

    public init(name: String, listName: String, templatePath: String, templateSource: String, templateHash: String,
                settings: String, messageIDPrefix: String, messageIDSuffix: String, returnPath: String, profile: String) {
        self.profile = profile
        self.name = name
        self.listName = listName
        self.templatePath = templatePath
        self.templateSource = templateSource
        self.templateHash = templateHash
        self.settings = settings
        self.messageIDPrefix = messageIDPrefix
        self.messageIDSuffix = messageIDSuffix
        self.returnPath = returnPath
    }
}

/// A campaign as stored.
public struct CampaignRecord: Sendable, Equatable {
    public enum Status: String, Sendable, Codable {
        case active, paused, finished
    }

    public var id: Int64
    public var name: String
    public var listName: String
    public var templatePath: String
    public var templateSource: String
    public var templateHash: String
    public var settings: String
    public var status: Status
    public var statusReason: String?
    public var createdAt: Double
    public var startedAt: Double?
    public var finishedAt: Double?
    public var dryRun: Bool
    /// The files its template reads were frozen when it was created (campaigns made
    /// before that read them from the disk).
    public var filesFrozen: Bool
}

/// A file a campaign's template reads, frozen by content when the campaign is created.
public struct CampaignFile: Sendable, Equatable {
    /// Where the template looks for it: `template/NAME` or `attachments/NAME`.
    public var key: String
    /// The file it was read from.
    public var path: String
    /// SHA-256 of its content, in hex.
    public var sha256: String

    public init(key: String, path: String, sha256: String) {
        self.key = key
        self.path = path
        self.sha256 = sha256
    }
}

extension Store {
    /// Creates the campaign and one queued message per list member, in one transaction,
    /// freezing each member's fields and the content of `draft.files` (read through
    /// `contents`, which throws if a file changed since it was checked). Members on the
    /// suppression list are `skipped` from the start. A dry run of the same name is
    /// replaced; a real campaign of that name is never replaced.
    public func createCampaign(_ draft: CampaignDraft, now: Double,
                               contents: (CampaignFile) throws -> [UInt8] = { _ in [] }) throws -> CampaignRecord {
        try write { db in
            guard let list = try Row.fetchOne(db, sql: "SELECT id, last_import_id FROM lists WHERE name = ?", arguments: [draft.listName]) else {
                throw StoreError(kind: .invalidRequest, "there is no list '\(draft.listName)'; import one with: broadside import FILE.csv --list \(draft.listName)")
            }
            let listID: Int64 = list["id"]
            if let version = draft.listVersion, version != list["last_import_id"] {
                throw StoreError(kind: .invalidRequest, "list '\(draft.listName)' changed while the campaign was being checked (an import ran); send again")
            }
            if let existing = try Row.fetchOne(db, sql: "SELECT id, dry_run FROM campaigns WHERE name = ?", arguments: [draft.name]) {
                guard existing["dry_run"] as Bool else {
                    throw StoreError(kind: .invalidRequest, "campaign '\(draft.name)' already exists")
                }
                try db.execute(sql: "DELETE FROM campaigns WHERE id = ?", arguments: [existing["id"] as Int64])
            }
            try db.execute(sql: """
                INSERT INTO campaigns (name, list_id, template_path, template_source, template_hash, settings, profile, created_at,
                                       dry_run, files_frozen)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
                """, arguments: [draft.name, listID, draft.templatePath, draft.templateSource, draft.templateHash, draft.settings,
                                 draft.profile, now, draft.dryRun])
            let campaignID = db.lastInsertedRowID
            let known = try db.makeStatement(sql: "SELECT 1 FROM files WHERE sha256 = ?")
            let keep = try db.makeStatement(sql: "INSERT INTO files (sha256, data) VALUES (?, ?)")
            let link = try db.makeStatement(sql: "INSERT INTO campaign_files (campaign_id, key, path, sha256) VALUES (?, ?, ?, ?)")
            for file in draft.files {
                if try Bool.fetchOne(known, arguments: [file.sha256]) != true {
                    try keep.execute(arguments: [file.sha256, Data(try contents(file))])
                }
                try link.execute(arguments: [campaignID, file.key, file.path, file.sha256])
            }
            try db.execute(sql: """
                INSERT INTO messages (campaign_id, contact_id, recipient, message_id, return_path, state, reason, updated_at, fields)
                SELECT ?, c.id, coalesce(c.smtp_address, c.address), ? || c.id || ?, ?,
                       CASE WHEN s.address IS NULL THEN 'queued' ELSE 'skipped' END,
                       CASE WHEN s.address IS NULL THEN NULL ELSE 'suppressed: ' || s.reason END, ?, m.fields
                FROM list_members m JOIN contacts c ON c.id = m.contact_id
                LEFT JOIN suppressions s ON s.address = c.address
                WHERE m.list_id = ?
                ORDER BY m.line, c.id
                """, arguments: [campaignID, draft.messageIDPrefix, draft.messageIDSuffix, draft.returnPath, now, listID])
            try db.execute(sql: """
                INSERT INTO events (message_id, campaign_id, at, state, reason)
                SELECT id, campaign_id, ?, 'skipped', reason FROM messages WHERE campaign_id = ? AND state = 'skipped'
                """, arguments: [now, campaignID])
            guard let record = try Self.fetchCampaign(db, name: draft.name) else {
                throw StoreError(kind: .unavailable, "campaign '\(draft.name)' vanished as it was created")
            }
            return record
        }
    }

    public func campaign(named name: String) throws -> CampaignRecord? {
        try read { db in try Self.fetchCampaign(db, name: name) }
    }

    public func campaigns() throws -> [CampaignRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "\(Self.campaignSelect) ORDER BY c.created_at, c.id").map(Self.campaign(from:))
        }
    }

    /// Keeps the settings a resumed campaign now runs with (a changed rate, connections, server).
    public func updateSettings(_ settings: String, profile: String, of campaignID: Int64) throws {
        try write { db in
            try db.execute(sql: "UPDATE campaigns SET settings = ?, profile = ? WHERE id = ?", arguments: [settings, profile, campaignID])
        }
    }

    /// Sets the campaign's status; `pause` from another terminal stops a running `send`.
    public func setStatus(_ status: CampaignRecord.Status, reason: String? = nil, of campaignID: Int64, now: Double) throws {
        try write { db in
            try db.execute(sql: """
                UPDATE campaigns SET status = ?, status_reason = ?,
                    started_at = CASE WHEN ? = 'active' THEN coalesce(started_at, ?) ELSE started_at END,
                    finished_at = CASE WHEN ? = 'finished' THEN coalesce(finished_at, ?) ELSE NULL END
                WHERE id = ?
                """, arguments: [status.rawValue, reason, status.rawValue, now, status.rawValue, now, campaignID])
        }
    }

    public func status(of campaignID: Int64) throws -> CampaignRecord.Status? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT status FROM campaigns WHERE id = ?", arguments: [campaignID]).flatMap(CampaignRecord.Status.init)
        }
    }

    /// How many messages are in each state.
    public func counts(of campaignID: Int64) throws -> [MessageState: Int] {
        try read { db in try Self.counts(db, campaignID: campaignID) }
    }

    /// Every campaign's counts by state, in one query (the dashboard's table).
    public func countsByCampaign() throws -> [Int64: [MessageState: Int]] {
        try read { db in
            var counts: [Int64: [MessageState: Int]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT campaign_id, state, count(*) AS n FROM messages GROUP BY campaign_id, state") {
                if let state = MessageState(rawValue: row["state"]) { counts[row["campaign_id"], default: [:]][state] = row["n"] }
            }
            return counts
        }
    }

    static func counts(_ db: Database, campaignID: Int64) throws -> [MessageState: Int] {
        var counts: [MessageState: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM messages WHERE campaign_id = ? GROUP BY state", arguments: [campaignID]) {
            if let state = MessageState(rawValue: row["state"]) { counts[state] = row["n"] }
        }
        return counts
    }

    static let campaignSelect = """
        SELECT c.id, c.name, l.name AS list_name, c.template_path, c.template_source, c.template_hash, c.settings,
               c.status, c.status_reason, c.created_at, c.started_at, c.finished_at, c.dry_run, c.files_frozen
        FROM campaigns c JOIN lists l ON l.id = c.list_id
        """

    static func fetchCampaign(_ db: Database, name: String) throws -> CampaignRecord? {
        try Row.fetchOne(db, sql: "\(campaignSelect) WHERE c.name = ?", arguments: [name]).map(campaign(from:))
    }

    static func campaign(from row: Row) -> CampaignRecord {
        CampaignRecord(id: row["id"], name: row["name"], listName: row["list_name"], templatePath: row["template_path"],
                       templateSource: row["template_source"], templateHash: row["template_hash"], settings: row["settings"],
                       status: CampaignRecord.Status(rawValue: row["status"]) ?? .active, statusReason: row["status_reason"],
                       createdAt: row["created_at"], startedAt: row["started_at"], finishedAt: row["finished_at"],
                       dryRun: row["dry_run"], filesFrozen: row["files_frozen"])
    }
}

extension Store {
    /// The content of a file frozen into a campaign, by the key its template looks it up by.
    public func campaignFile(campaignID: Int64, key: String) throws -> [UInt8]? {
        try read { db in
            try Data.fetchOne(db, sql: """
                SELECT f.data FROM campaign_files cf JOIN files f ON f.sha256 = cf.sha256 WHERE cf.campaign_id = ? AND cf.key = ?
                """, arguments: [campaignID, key]).map { [UInt8]($0) }
        }
    }

    /// The files frozen into a campaign, for telling which changed on disk since.
    public func campaignFiles(campaignID: Int64) throws -> [CampaignFile] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT key, path, sha256 FROM campaign_files WHERE campaign_id = ? ORDER BY key", arguments: [campaignID])
                .map { CampaignFile(key: $0["key"], path: $0["path"], sha256: $0["sha256"]) }
        }
    }
}

extension Store {
    /// Deletes a campaign with its messages, events and frozen files (a file another
    /// campaign uses stays). Bounces and suppressions it caused are kept, unlinked.
    public func deleteCampaign(id: Int64) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM events WHERE campaign_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM campaigns WHERE id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM files WHERE sha256 NOT IN (SELECT sha256 FROM campaign_files)")
        }
    }

    /// Renames a campaign; refused if the new name is taken.
    public func renameCampaign(id: Int64, to name: String) throws {
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM campaigns WHERE name = ?)", arguments: [name]) == true {
                throw StoreError(kind: .invalidRequest, "there is a campaign '\(name)' already; choose another name")
            }
            try db.execute(sql: "UPDATE campaigns SET name = ? WHERE id = ?", arguments: [name, id])
        }
    }
}

extension Store {
    /// The recipient and frozen fields of a campaign's `row`th message (1 = the first).
    public func frozenRecipient(campaignID: Int64, row: Int) throws -> (recipient: String, fields: [String: String])? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT recipient, fields FROM messages WHERE campaign_id = ? ORDER BY id LIMIT 1 OFFSET ?",
                             arguments: [campaignID, row - 1]).map { ($0["recipient"], FieldsJSON.decode($0["fields"]) ?? [:]) }
        }
    }
}
