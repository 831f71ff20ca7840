import Addresses
import Foundation
import Store

/// Creates a campaign from a template and a list, or finds the one already started
/// under that name, which keeps its own template snapshot and list.
public enum CampaignSetup {
    public struct Prepared: Sendable {
        public var campaign: CampaignRecord
        public var template: CampaignTemplate
        /// True when this call created it.
        public var created: Bool
        /// Set when the template file no longer matches the campaign's snapshot.
        public var templateChanged: Bool
    }

    /// The campaign `name`: resumed if it exists (same snapshot, same list), created otherwise.
    public static func prepare(name: String, templatePath: String?, listName: String?, settings: CampaignSettings,
                               store: Store, now: Double) throws -> Prepared {
        if let existing = try store.campaign(named: name) {
            if let listName, listName != existing.listName {
                throw BroadsideError.input("campaign '\(name)' was started with list '\(existing.listName)', not '\(listName)'; choose another campaign name")
            }
            let template = try CampaignTemplate(source: existing.templateSource, path: existing.templatePath)
            try store.updateSettings(settings.json, profile: settings.profileKey, of: existing.id)
            var changed = false
            if let templatePath, let current = try? CampaignTemplate.load(path: templatePath) {
                changed = current.hash != existing.templateHash
            }
            return Prepared(campaign: existing, template: template, created: false, templateChanged: changed)
        }
        guard let templatePath else { throw BroadsideError.input("campaign '\(name)' does not exist yet: give --template and --list to create it") }
        guard let listName else { throw BroadsideError.input("campaign '\(name)' does not exist yet: give --list to create it") }
        let template = try CampaignTemplate.load(path: templatePath)
        guard let list = try store.list(named: listName) else {
            throw BroadsideError.input("there is no list '\(listName)'; import one with: broadside import FILE.csv --list \(listName)")
        }
        guard list.members > 0 else { throw BroadsideError.input("list '\(listName)' is empty") }
        try template.checkFields(against: list.columns)

        var firstFields: [String: String] = [:]
        try store.forEachMember(of: listName, limit: 1) { firstFields = $0.fields }
        let sender: Mailbox
        do {
            sender = try PersonalMessage(template: template).sender(for: firstFields)
        } catch {
            throw BroadsideError.input("\(templatePath): \(error)")
        }
        let draft = CampaignDraft(name: name, listName: listName, templatePath: templatePath, templateSource: template.source,
                                  templateHash: template.hash, settings: settings.json, messageIDDomain: sender.address.asciiDomain,
                                  returnPath: sender.address.smtpForm, profile: settings.profileKey)
        let campaign: CampaignRecord
        do {
            campaign = try store.createCampaign(draft, now: now, token: token())
        } catch let error as StoreError where error.kind == .invalidRequest {
            throw BroadsideError.input(error.message)
        }
        return Prepared(campaign: campaign, template: template, created: true, templateChanged: false)
    }

    /// A random prefix that makes every Message-ID of the campaign unique in the world.
    static func token() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<16).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }
}
