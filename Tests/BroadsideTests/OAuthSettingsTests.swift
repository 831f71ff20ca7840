@testable import Broadside
import Delivery
import Foundation
import Testing
@testable import Transport

/// The pure parts of the OAuth sign-in: endpoints, scopes, token freshness, answers.
@Suite("OAuth 2 settings")
struct OAuthSettingsTests {
    @Test func microsoftEndpointsFollowTheTenantAndTheNationalCloud() {
        var settings = OAuthSettings(provider: .microsoft, flow: .device)
        #expect(settings.endpoints.token == "https://login.microsoftonline.com/organizations/oauth2/v2.0/token")
        settings.tenant = "contoso.onmicrosoft.com"
        settings.authority = "https://login.microsoftonline.us/"
        #expect(settings.endpoints.device == "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/devicecode")
        #expect(settings.endpoints.revoke == nil)
        #expect(OAuthSettings(provider: .google, flow: .browser).endpoints.authorize == "https://accounts.google.com/o/oauth2/v2/auth")
    }

    @Test func scopesAskForIMAPOnlyWhenTheProfileUsesIt() {
        let device = OAuthSettings(provider: .microsoft, flow: .device)
        #expect(device.scopes(imap: false) == ["https://outlook.office.com/SMTP.Send", "offline_access"])
        #expect(device.scopes(imap: true) == ["https://outlook.office.com/SMTP.Send", "https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"])
        #expect(OAuthSettings(provider: .microsoft, flow: .application).scopes(imap: true) == ["https://outlook.office365.com/.default"])
        #expect(OAuthSettings(provider: .google, flow: .serviceAccount).scopes(imap: false) == ["https://mail.google.com/"])
    }

    @Test func aTokenIsRenewedBeforeItLapses() {
        let hour = HeldToken(value: "t", obtainedAt: 0, expiresAt: 3600)
        #expect(hour.isFresh(at: 3500))
        #expect(!hour.isFresh(at: 3541), "renewed a minute before an hour's token ends")
        let short = HeldToken(value: "t", obtainedAt: 0, expiresAt: 3)
        #expect(short.isFresh(at: 2.5))
        #expect(!short.isFresh(at: 2.8), "a tenth of a short life")
    }

    @Test func anAnswerIsReadAndARefusalKeepsItsCode() throws {
        let body = Array(#"{"access_token":"a","expires_in":"3599","refresh_token":"r","scope":"x y"}"#.utf8)
        let answer = try TokenEndpoint.read(status: 200, body: body, from: "u")
        #expect(answer == TokenAnswer(accessToken: "a", refreshToken: "r", expiresIn: 3599, scope: "x y", idToken: nil))
        #expect(throws: OAuthRefusal.self) {
            try TokenEndpoint.read(status: 400, body: Array(#"{"error":"invalid_grant","error_description":"AADSTS70008"}"#.utf8), from: "u")
        }
        // An id_token's claims, unverified, name the account for display only.
        let claims = Data(#"{"preferred_username":"news@contoso.com"}"#.utf8).base64EncodedString()
        #expect(TokenAnswer(accessToken: "a", expiresIn: 1, idToken: "e30.\(claims).sig").account == "news@contoso.com")
    }

    @Test func aSignInNeverGoesOverPlainHTTPBeyondThisMachine() throws {
        try HTTPForm.checkSecure("https://login.microsoftonline.com/x")
        try HTTPForm.checkSecure("http://127.0.0.1:8080/token")
        #expect(throws: TransportError.self) { try HTTPForm.checkSecure("http://login.example.com/token") }
        #expect(throws: TransportError.self) { try HTTPForm.checkSecure("http://127.evil.example/token") }
        #expect(HTTPForm.encode([("scope", "https://a/b c+d"), ("é", "&=")]) == "scope=https%3A%2F%2Fa%2Fb%20c%2Bd&%C3%A9=%26%3D")
    }
}
