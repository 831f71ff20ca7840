import Foundation

/// The PDFs of a campaign's document attachments (`letter.docx as "Letter.pdf"`), made
/// ahead of sending in a folder beside the database, one file per message and attachment,
/// so that memory stays flat however many there are and a message is never rendered
/// without its PDF. A PDF already made (by a run that was stopped) is used again, so a
/// retry or a resume attaches the same document. Files go once their message is done.
public final class PreparedPDFs: @unchecked Sendable {
    public let folder: String
    private let converter: PDFConverter

    public init(folder: String, converter: PDFConverter) throws {
        self.folder = folder
        self.converter = converter
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    /// The folder for a campaign: beside the database file, found through its real path.
    public static func folder(database: String, campaign: Int64) -> String {
        let real = URL(fileURLWithPath: database).resolvingSymlinksInPath().path
        return "\(real)-documents-\(campaign)"
    }

    /// LibreOffice processes side by side.
    var processes: Int { converter.processes }

    func path(message: Int64, attachment: Int) -> String {
        (folder as NSString).appendingPathComponent("\(message)-\(attachment).pdf")
    }

    public func pdf(message: Int64, attachment: Int) -> [UInt8]? {
        FileManager.default.contents(atPath: path(message: message, attachment: attachment)).map { [UInt8]($0) }
    }

    /// Makes the PDFs not made yet, in batches through the converter's processes. Returns
    /// the messages whose PDF could not be made, with why (each is sent later, never without it).
    func make(_ documents: [(message: Int64, attachment: Int, docx: [UInt8])]) -> [Int64: String] {
        var pending: [String: Int64] = [:]
        var failures: [Int64: String] = [:]
        for document in documents where !FileManager.default.fileExists(atPath: path(message: document.message, attachment: document.attachment)) {
            let source = (folder as NSString).appendingPathComponent("\(document.message)-\(document.attachment).docx")
            guard FileManager.default.createFile(atPath: source, contents: Data(document.docx)) else {
                failures[document.message] = "cannot write \(source)"
                continue
            }
            pending[source] = document.message
        }
        guard !pending.isEmpty else { return failures }
        // Made in a folder of their own and moved into place whole: a file under its final
        // name is always a finished PDF, even after a kill -9 in the middle of a batch.
        let staging = (folder as NSString).appendingPathComponent(".converting")
        try? FileManager.default.removeItem(atPath: staging)
        let failed = converter.convert(pending.keys.sorted(), into: staging)
        for (source, message) in pending {
            try? FileManager.default.removeItem(atPath: source)
            if let why = failed[source] {
                failures[message] = "the PDF could not be made: \(why)"
                continue
            }
            let made = PDFConverter.pdf(for: source, in: staging)
            if rename(made, (folder as NSString).appendingPathComponent(((source as NSString).lastPathComponent as NSString).deletingPathExtension + ".pdf")) != 0 {
                failures[message] = "the PDF could not be moved into \(folder)"
            }
        }
        try? FileManager.default.removeItem(atPath: staging)
        return failures
    }

    /// The messages that have PDFs here.
    func messages() -> Set<Int64> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return Set(names.filter { !$0.hasPrefix(".") }.compactMap { $0.split(separator: "-").first.flatMap { Int64($0) } })
    }

    func remove(message: Int64) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names where name.hasPrefix("\(message)-") { try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent(name)) }
    }

    /// Removes the folder when nothing is left in it.
    func removeIfEmpty() {
        if ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).isEmpty { try? FileManager.default.removeItem(atPath: folder) }
    }
}

extension PreparedPDFs {
    /// Removes the folder and what is in it (the PDFs of a preview or a test message).
    public func discard() {
        try? FileManager.default.removeItem(atPath: folder)
    }
}

extension PersonalMessage {
    /// This renderer with the PDF attachments of these few messages made now, in a folder
    /// of their own (preview and `send --test`; a campaign makes them batch by batch as it
    /// sends). Unchanged, with no folder, when the template attaches no PDF.
    public func makingPDFs(for messages: [(id: Int64, fields: [String: String])]) throws -> (renderer: PersonalMessage, pdfs: PreparedPDFs?) {
        guard attachesPDFs else { return (self, nil) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("broadside-pdfs-\(UUID().uuidString)").path
        let prepared = try PreparedPDFs(folder: folder, converter: try PDFConverter())
        var documents: [(message: Int64, attachment: Int, docx: [UInt8])] = []
        for message in messages {
            guard let made = try? documentsForPDF(fields: message.fields) else { continue }
            documents += made.map { (message.id, $0.attachment, $0.docx) }
        }
        let failures = prepared.make(documents)
        if let failure = failures.first {
            prepared.discard()
            throw BroadsideError.environment(failure.value)
        }
        return (PersonalMessage(template: template, extras: extras, files: files, pdfs: .prepared(prepared)), prepared)
    }
}
