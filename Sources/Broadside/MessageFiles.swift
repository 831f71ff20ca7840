import Engine
import Foundation
import Signing
import Store

/// A file a template reads (an attachment, an inline image): where it lies on disk and
/// the key a campaign freezes it under (its place relative to the folder it was found
/// in, so that a resume from another working directory finds the same files).
public struct FileReference: Hashable, Sendable {
    /// `template/NAME` or `attachments/NAME`.
    public var key: String
    /// The resolved path on disk.
    public var path: String
}

/// Where a rendered message's files come from: the disk (check, preview, a campaign
/// being created) or a campaign's frozen snapshot (every message it sends).
public protocol MessageFiles: Sendable {
    /// The file's content, or nil when it does not exist.
    func contents(of file: FileReference) -> [UInt8]?
}

/// The files as they are on disk now.
public struct DiskFiles: MessageFiles {
    public init() {}

    public func contents(of file: FileReference) -> [UInt8]? {
        FileManager.default.contents(atPath: file.path).map { [UInt8]($0) }
    }
}

/// The disk, noting every file read and its hash: what a new campaign freezes.
final class RecordingFiles: MessageFiles, @unchecked Sendable {
    private let seen = Locked<[String: CampaignFile]>([:])

    func contents(of file: FileReference) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: file.path).map({ [UInt8]($0) }) else { return nil }
        seen.withLock { seen in
            if seen[file.key] == nil { seen[file.key] = CampaignFile(key: file.key, path: file.path, sha256: ContentHash.sha256(data)) }
        }
        return data
    }

    /// Every file read, by key.
    var files: [CampaignFile] { seen.withLock { $0.values.sorted { $0.key < $1.key } } }
}

/// A campaign's frozen files, read from the database. Small files that many messages
/// share (a logo, the terms) are kept in memory; one-per-recipient documents are not.
final class FrozenFiles: MessageFiles, @unchecked Sendable {
    private let store: Store
    private let campaignID: Int64
    private let cache = Locked<(files: [String: [UInt8]], bytes: Int)>(([:], 0))
    private static let cacheBytes = 32 * 1024 * 1024
    private static let cachedFileBytes = 1024 * 1024

    init(store: Store, campaignID: Int64) {
        self.store = store
        self.campaignID = campaignID
    }

    func contents(of file: FileReference) -> [UInt8]? {
        if let cached = cache.withLock({ $0.files[file.key] }) { return cached }
        guard let data = try? store.campaignFile(campaignID: campaignID, key: file.key) else { return nil }
        if data.count <= Self.cachedFileBytes {
            cache.withLock { cache in
                if cache.bytes + data.count <= Self.cacheBytes {
                    cache.files[file.key] = data
                    cache.bytes += data.count
                }
            }
        }
        return data
    }
}
