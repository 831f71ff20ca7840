import Addresses
import Broadside
import Foundation
import Signing

/// Builds a campaign's unsubscribe links and DKIM signer from its settings; the secret
/// and the key are read now and kept in memory only.
enum MessageExtrasSetup {
    /// `database`: the identity of the campaign's database, which the tokens are bound to.
    static func make(_ settings: CampaignSettings, template: CampaignTemplate, database: String) throws -> MessageExtras {
        var extras = MessageExtras(unsubscribeURL: settings.unsubscribeURL, unsubscribeMailto: settings.unsubscribeMailto,
                                   attachmentsRoot: settings.attachmentsRoot)
        if let url = settings.unsubscribeURL, !url.hasPrefix("https://") && !url.hasPrefix("http://127.0.0.1") && !url.hasPrefix("http://localhost") {
            throw BroadsideError.input("--unsubscribe-url must be an https URL (one-click unsubscribe, RFC 8058), not '\(url)'")
        }
        if settings.unsubscribeURL != nil || settings.unsubscribeMailto != nil {
            extras.tokens = UnsubscribeToken(secret: try Secret.required(), database: database)
        }
        if let tracking = try tracking(settings, database: database) { extras.tracking = tracking }
        if let keyFile = settings.dkimKeyFile {
            guard let selector = settings.dkimSelector else { throw BroadsideError.input("--dkim-key needs --dkim-selector (the s= of the DNS record)") }
            guard let pem = try? String(contentsOfFile: keyFile, encoding: .utf8) else {
                throw BroadsideError.input("\(keyFile): cannot read the DKIM key")
            }
            guard let domain = settings.dkimDomain ?? (try? PersonalMessage(template: template).sender(for: [:]))?.address.asciiDomain else {
                throw BroadsideError.input("the From header depends on the list's fields; give the DKIM signing domain with --dkim-domain")
            }
            do {
                extras.dkim = try DKIMSigner(domain: domain, selector: selector, pem: pem)
            } catch {
                throw BroadsideError.input("\(keyFile): \(error)")
            }
        }
        return extras
    }

    /// `--track clicks,opens` with `--public-url`: checked whole before anything is sent.
    static func tracking(_ settings: CampaignSettings, database: String) throws -> MessageExtras.Tracking? {
        let kinds = settings.track ?? []
        guard !kinds.isEmpty else { return nil }
        if let unknown = kinds.first(where: { !["clicks", "opens", "text"].contains($0) }) {
            throw BroadsideError.input("--track takes clicks, opens and text (the text part's links too), comma-separated, not '\(unknown)'")
        }
        if kinds.contains("text"), !kinds.contains("clicks") {
            throw BroadsideError.input("--track text tracks the text part's links: it goes with clicks (--track clicks,text)")
        }
        guard let url = settings.publicURL else {
            throw BroadsideError.input("--track needs --public-url https://… (where broadside serve answers from the internet)")
        }
        guard let parts = URLComponents(string: url), let host = parts.host, parts.query == nil,
              parts.scheme == "https" || (parts.scheme == "http" && LoopbackHost.isLoopback(host)) else {
            throw BroadsideError.input("--public-url must be an https URL without a query (http only to this machine, for tests), not '\(url)'")
        }
        return MessageExtras.Tracking(publicURL: url, tokens: TrackingToken(secret: try Secret.required(), database: database),
                                      clicks: kinds.contains("clicks"), opens: kinds.contains("opens"), textLinks: kinds.contains("text"))
    }
}
