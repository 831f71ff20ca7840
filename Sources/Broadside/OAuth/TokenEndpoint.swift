import Foundation
import Transport

/// What a token endpoint answers (RFC 6749 section 5): a token, or a refusal with its code.
public struct TokenAnswer: Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String?
    public var expiresIn: Double
    public var scope: String?
    /// OpenID Connect's id_token, read only for the account's name (never trusted for more).
    public var idToken: String?

    /// The account an id_token names (`preferred_username`, else `email`), unverified: for display.
    public var account: String? {
        guard let idToken else { return nil }
        let parts = idToken.split(separator: ".")
        guard parts.count >= 2 else { return nil }
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
              let claims = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return (claims["preferred_username"] as? String) ?? (claims["email"] as? String)
    }
}

/// A refusal from the identity platform: `invalid_grant` (a refresh token revoked or
/// expired), `authorization_pending`, `access_denied` …, with its description.
public struct OAuthRefusal: Error, Sendable, CustomStringConvertible {
    public var code: String
    public var detail: String?

    public var description: String { detail.map { "\(code): \($0)" } ?? code }

    /// The sign-in is gone for good: only signing in again brings it back.
    public var needsNewSignIn: Bool { ["invalid_grant", "interaction_required", "consent_required", "unauthorized_client"].contains(code) }
}

/// Posts grants to a token endpoint and reads the answers.
public enum TokenEndpoint {
    public static func request(_ url: String, fields: [(String, String)], caFile: String? = nil) throws -> TokenAnswer {
        let answer = try HTTPForm.post(url, fields: fields, caFile: caFile)
        return try read(status: answer.status, body: answer.body, from: url)
    }

    /// The answer's JSON, or the refusal it holds.
    static func read(status: Int, body: [UInt8], from url: String) throws -> TokenAnswer {
        let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        if let error = object?["error"] as? String {
            throw OAuthRefusal(code: error, detail: object?["error_description"] as? String)
        }
        guard status == 200, let object, let token = object["access_token"] as? String, !token.isEmpty else {
            let text = String(decoding: body.prefix(200), as: UTF8.self)
            throw BroadsideError.environment("\(url) answered HTTP \(status) without a token: \(text)")
        }
        return TokenAnswer(accessToken: token, refreshToken: object["refresh_token"] as? String,
                           expiresIn: number(object["expires_in"]) ?? 3600, scope: object["scope"] as? String,
                           idToken: object["id_token"] as? String)
    }

    /// A JSON number or a numeric string (some platforms send `"3599"`).
    static func number(_ value: Any?) -> Double? {
        (value as? Double) ?? (value as? Int).map(Double.init) ?? (value as? String).flatMap(Double.init)
    }

    /// JSON from an endpoint that is not the token endpoint (the device authorization endpoint).
    static func json(_ url: String, fields: [(String, String)], caFile: String?) throws -> [String: Any] {
        let answer = try HTTPForm.post(url, fields: fields, caFile: caFile)
        let object = (try? JSONSerialization.jsonObject(with: Data(answer.body))) as? [String: Any]
        if let error = object?["error"] as? String {
            throw OAuthRefusal(code: error, detail: object?["error_description"] as? String)
        }
        guard answer.status == 200, let object else {
            throw BroadsideError.environment("\(url) answered HTTP \(answer.status): \(String(decoding: answer.body.prefix(200), as: UTF8.self))")
        }
        return object
    }
}
