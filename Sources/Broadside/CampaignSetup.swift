import Addresses
import Foundation
import Messages
import Signing
import Store

/// Creates a campaign from a template and a list, or finds the one already started
/// under that name, which keeps its own template snapshot, list, frozen fields and files.
///
/// In two steps, so that a send that refuses changes nothing: `plan` checks everything
/// and writes nothing; `start` writes (creates the campaign, or keeps a resumed one's
/// new settings).
public enum CampaignSetup {
    /// A send that has passed every check and not yet written anything.
    public struct Plan: Sendable {
        /// The campaign being resumed; nil when `start` creates it.
        public var existing: CampaignRecord?
        public var template: CampaignTemplate
        var draft: CampaignDraft?
        var settings: CampaignSettings
        /// Files of a resumed campaign that changed on disk since it was created (the campaign sends its snapshot).
        public var changedFiles: [String]
        /// Set when the template file no longer matches a resumed campaign's snapshot.
        public var templateChanged: Bool

        /// The list a new campaign is made from.
        public var listName: String? { existing?.listName ?? draft?.listName }

        /// Where the messages' files come from: a campaign's snapshot, or the disk for one not yet made.
        public func files(in store: Store) throws -> any MessageFiles {
            existing.map { CampaignSetup.files(of: $0, store: store) } ?? DiskFiles()
        }
    }

    public struct Prepared: Sendable {
        public var campaign: CampaignRecord
        public var template: CampaignTemplate
        /// Where its messages' attachments and images come from: the frozen snapshot.
        public var files: any MessageFiles
        /// True when this call created it.
        public var created: Bool
    }

    /// The template a send of campaign `name` renders: a resumed campaign's snapshot, or
    /// the file at `templatePath` for a new one.
    public static func template(name: String, templatePath: String?, existing: CampaignRecord?) throws -> CampaignTemplate {
        if let existing { return try CampaignTemplate(source: existing.templateSource, path: existing.templatePath) }
        guard let templatePath else { throw BroadsideError.input("campaign '\(name)' does not exist yet: give --template and --list to create it") }
        return try CampaignTemplate.load(path: templatePath)
    }

    /// Every check a send makes before it writes: the list, the template's fields, the
    /// sender, and the files the messages read (read and hashed now, frozen by `start`).
    public static func plan(name: String, templatePath: String?, listName: String?, existing: CampaignRecord?, template: CampaignTemplate,
                            extras: MessageExtras, settings: CampaignSettings, dryRun: Bool, store: Store) throws -> Plan {
        if let existing {
            if let listName, listName != existing.listName {
                throw BroadsideError.input("campaign '\(name)' was started with list '\(existing.listName)', not '\(listName)'; choose another campaign name")
            }
            var templateChanged = false
            if let current = try? CampaignTemplate.load(path: templatePath ?? existing.templatePath) {
                templateChanged = current.hash != existing.templateHash
            }
            return Plan(existing: existing, template: template, draft: nil, settings: settings,
                        changedFiles: try changedFiles(of: existing, store: store), templateChanged: templateChanged)
        }
        guard let templatePath else { throw BroadsideError.input("campaign '\(name)' does not exist yet: give --template and --list to create it") }
        guard let listName else { throw BroadsideError.input("campaign '\(name)' does not exist yet: give --list to create it") }
        guard let list = try store.list(named: listName) else {
            throw BroadsideError.input("there is no list '\(listName)'; import one with: broadside import FILE.csv --list \(listName)")
        }
        guard list.members > 0 else { throw BroadsideError.input("list '\(listName)' is empty") }
        try template.checkFields(against: list.columns)
        try extras.checkLinks(in: template)

        var firstFields: [String: String] = [:]
        try store.forEachMember(of: listName, limit: 1) { firstFields = $0.fields }
        let sender: Mailbox
        do {
            sender = try PersonalMessage(template: template).sender(for: firstFields)
        } catch {
            throw BroadsideError.input("\(templatePath): \(error)")
        }
        let ids = MessageIDs.random(domain: sender.address.asciiDomain)
        var draft = CampaignDraft(name: name, listName: listName, templatePath: templatePath, templateSource: template.source,
                                  templateHash: template.hash, settings: settings.json, messageIDPrefix: ids.prefix, messageIDSuffix: ids.suffix,
                                  returnPath: sender.address.smtpForm, profile: settings.profileKey)
        draft.dryRun = dryRun
        draft.listVersion = list.version
        draft.files = try filesRead(by: template, extras: extras, list: listName, store: store)
        return Plan(existing: nil, template: template, draft: draft, settings: settings, changedFiles: [], templateChanged: false)
    }

    /// Writes what `plan` checked: creates the campaign (freezing each recipient's fields
    /// and the files), or keeps the settings a resumed one now runs with.
    public static func start(_ plan: Plan, store: Store, now: Double) throws -> Prepared {
        if let existing = plan.existing {
            try store.updateSettings(plan.settings.json, profile: plan.settings.profileKey, of: existing.id)
            return Prepared(campaign: existing, template: plan.template, files: files(of: existing, store: store), created: false)
        }
        guard let draft = plan.draft else { throw BroadsideError.input("nothing to create") }
        let campaign: CampaignRecord
        do {
            campaign = try store.createCampaign(draft, now: now) { file in
                guard let data = FileManager.default.contents(atPath: file.path), ContentHash.sha256(data) == file.sha256 else {
                    throw BroadsideError.input("\(file.path) changed while the campaign was being created; send again")
                }
                return [UInt8](data)
            }
        } catch let error as StoreError where error.kind == .invalidRequest {
            throw BroadsideError.input(error.message)
        }
        return Prepared(campaign: campaign, template: plan.template, files: files(of: campaign, store: store), created: true)
    }

    /// Where a campaign's messages read their files: its snapshot, or for campaigns made
    /// before snapshots existed, the disk.
    static func files(of campaign: CampaignRecord, store: Store) -> any MessageFiles {
        campaign.filesFrozen ? FrozenFiles(store: store, campaignID: campaign.id) : DiskFiles()
    }

    /// Renders every member's message once, noting each file it reads. Only templates that
    /// can read a file pay for it: those with attachments or an image source.
    static func filesRead(by template: CampaignTemplate, extras: MessageExtras, list: String, store: Store) throws -> [CampaignFile] {
        guard !template.message.attachments.isEmpty || template.source.contains("src=") else { return [] }
        let recording = RecordingFiles()
        let renderer = PersonalMessage(template: template, extras: extras, files: recording)
        try store.forEachMember(of: list) { member in
            // A message that cannot be made fails when it is sent, with its reason, as it always has.
            _ = try? renderer.content(fields: member.fields, recipient: member.smtpAddress, messageID: "plan@localhost", date: 0)
        }
        return recording.files
    }

    /// The files of `campaign` whose content on disk is no longer what it froze.
    static func changedFiles(of campaign: CampaignRecord, store: Store) throws -> [String] {
        try store.campaignFiles(campaignID: campaign.id).compactMap { file in
            guard let data = FileManager.default.contents(atPath: file.path) else { return "\(file.path) (no longer there)" }
            return ContentHash.sha256(data) == file.sha256 ? nil : file.path
        }
    }
}
