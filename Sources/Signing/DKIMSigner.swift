import _CryptoExtras
import Crypto
import Foundation

/// DKIM signatures (RFC 6376, relaxed/relaxed) with rsa-sha256 (2048-bit keys) or
/// ed25519-sha256 (RFC 8463), from a PEM private key.
public struct DKIMSigner: Sendable {
    public enum Algorithm: String, Sendable {
        case rsaSHA256 = "rsa-sha256"
        case ed25519SHA256 = "ed25519-sha256"
    }

    public struct KeyError: Error, CustomStringConvertible {
        public var description: String
    }

    public let domain: String
    public let selector: String
    public let algorithm: Algorithm
    /// The headers signed when present (and in this order).
    public static let signedHeaders = ["from", "to", "subject", "date", "message-id", "mime-version", "content-type",
                                       "list-unsubscribe", "list-unsubscribe-post", "reply-to"]
    /// Kept as PEM: swift-crypto's key types are not Sendable.
    private let pem: String

    public init(domain: String, selector: String, pem: String) throws(KeyError) {
        self.domain = domain.lowercased()
        self.selector = selector
        self.pem = pem
        if (try? _RSA.Signing.PrivateKey(pemRepresentation: pem)) != nil {
            algorithm = .rsaSHA256
        } else if (try? Self.ed25519Key(pem)) != nil {
            algorithm = .ed25519SHA256
        } else {
            throw KeyError(description: "the DKIM key is neither an RSA nor an Ed25519 private key in PEM form")
        }
        if algorithm == .rsaSHA256, let key = try? _RSA.Signing.PrivateKey(pemRepresentation: pem), key.keySizeInBits < 2048 {
            throw KeyError(description: "the DKIM RSA key has \(key.keySizeInBits) bits; use 2048 or more")
        }
    }

    /// The `DKIM-Signature:` header line (folded, ending in CRLF) to put before `message`.
    public func signatureHeader(for message: [UInt8], time: Int64) throws -> [UInt8] {
        let (headers, body) = Self.split(message)
        let bodyHash = Data(SHA256.hash(data: Self.relaxedBody(body))).base64EncodedString()
        var signed: [(name: String, value: String)] = []
        for name in Self.signedHeaders {
            // The last instance of a header is the one a verifier takes first.
            if let header = headers.last(where: { $0.name.lowercased() == name }) { signed.append(header) }
        }
        let tags = "v=1; a=\(algorithm.rawValue); c=relaxed/relaxed; d=\(domain); s=\(selector); t=\(time); h=\(signed.map { $0.name.lowercased() }.joined(separator: ":")); bh=\(bodyHash); b="
        // Fold first, then sign the relaxed form of the folded header: the verifier sees it folded.
        let folded = Self.fold(tags, firstLineUsed: "DKIM-Signature: ".count)
        var data = signed.map { Self.relaxedHeader($0.name, $0.value) + "\r\n" }.joined()
        data += Self.relaxedHeader("DKIM-Signature", folded)
        let signature = try sign(Array(data.utf8)).base64EncodedString()
        var chunks: [String] = []
        var rest = Substring(signature)
        while !rest.isEmpty {
            chunks.append(String(rest.prefix(72)))
            rest = rest.dropFirst(72)
        }
        // The b= value, with the whitespace around it, is left out when verifying.
        return Array(("DKIM-Signature: " + folded + chunks.map { "\r\n\t" + $0 }.joined() + "\r\n").utf8)
    }

    private func sign(_ data: [UInt8]) throws -> Data {
        switch algorithm {
        case .rsaSHA256:
            let key = try _RSA.Signing.PrivateKey(pemRepresentation: pem)
            return try key.signature(for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5).rawRepresentation
        case .ed25519SHA256:
            // RFC 8463: Ed25519 signs the SHA-256 hash of the data.
            return try Self.ed25519Key(pem).signature(for: Data(SHA256.hash(data: data)))
        }
    }

    /// The raw key from a PKCS#8 PEM: its last 32 bytes.
    static func ed25519Key(_ pem: String) throws -> Curve25519.Signing.PrivateKey {
        let base64 = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard pem.contains("BEGIN PRIVATE KEY"), let der = Data(base64Encoded: base64), der.count == 48 else {
            throw KeyError(description: "not an Ed25519 PKCS#8 key")
        }
        return try Curve25519.Signing.PrivateKey(rawRepresentation: der.suffix(32))
    }

    // MARK: relaxed canonicalization (RFC 6376 3.4.2 and 3.4.4)

    static func relaxedHeader(_ name: String, _ value: String) -> String {
        name.lowercased().trimmingCharacters(in: .whitespaces) + ":" + collapse(value.replacing("\r\n", with: "")).trimmingCharacters(in: .whitespaces)
    }

    static func relaxedBody(_ body: [UInt8]) -> [UInt8] {
        var lines = String(decoding: body, as: UTF8.self).components(separatedBy: "\r\n")
        if lines.last == "" { lines.removeLast() }
        lines = lines.map { line in
            var collapsed = collapse(line)
            while collapsed.hasSuffix(" ") { collapsed.removeLast() }
            return collapsed
        }
        while lines.last == "" { lines.removeLast() }
        return lines.isEmpty ? [] : Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    private static func collapse(_ text: String) -> String {
        var output = ""
        var inSpace = false
        for character in text {
            if character == " " || character == "\t" {
                if !inSpace { output.append(" ") }
                inSpace = true
            } else {
                output.append(character)
                inSpace = false
            }
        }
        return output
    }

    /// Headers (unfolded) and body of a CRLF message.
    static func split(_ message: [UInt8]) -> ([(name: String, value: String)], [UInt8]) {
        let text = String(decoding: message, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return ([], []) }
        var headers: [(name: String, value: String)] = []
        for line in text[..<end.lowerBound].components(separatedBy: "\r\n") {
            if line.hasPrefix(" ") || line.hasPrefix("\t"), !headers.isEmpty {
                headers[headers.count - 1].value += "\r\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        return (headers, Array(text[end.upperBound...].utf8))
    }

    /// The tags folded at their separators (and `h=` at its colons) within 76 characters.
    static func fold(_ tags: String, firstLineUsed: Int) -> String {
        var atoms: [String] = []
        for (index, tag) in tags.components(separatedBy: "; ").enumerated() {
            let separator = index == 0 ? "" : " "
            if tag.hasPrefix("h="), tag.count > 60 {
                let names = tag.components(separatedBy: ":")
                for (n, name) in names.enumerated() {
                    atoms.append((n == 0 ? separator : "") + name + (n < names.count - 1 ? ":" : ";"))
                }
            } else {
                atoms.append(separator + tag + (tag == "b=" ? "" : ";"))
            }
        }
        var lines: [String] = []
        var current = ""
        var used = firstLineUsed
        for atom in atoms {
            if used + current.count + atom.count > 76, !current.isEmpty {
                lines.append(current)
                current = atom.hasPrefix(" ") ? String(atom.dropFirst()) : atom
                used = 1
            } else {
                current += atom
            }
        }
        lines.append(current)
        return lines.joined(separator: "\r\n\t")
    }
}
