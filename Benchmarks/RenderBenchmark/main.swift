import Broadside
import Foundation

// Renders and composes `count` messages from a template for in-memory rows, on one
// thread, as the sender's producer does, and prints messages per second.
// Usage: RenderBenchmark TEMPLATE COUNT
let arguments = CommandLine.arguments
guard arguments.count == 3, let count = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: RenderBenchmark TEMPLATE COUNT\n".utf8))
    exit(2)
}
do {
    let template = try CampaignTemplate.load(path: arguments[1])
    let renderer = PersonalMessage(template: template)
    let plans = ["free", "pro", "team"]
    let rows = (0..<1000).map { i in
        ["email": "user\(i)@example\(i % 97).com", "first_name": "Name\(i)", "last_name": "Surname\(i)", "city": "City\(i % 13)", "plan": plans[i % 3]]
    }
    var bytes = 0
    let start = Date()
    for index in 0..<count {
        let row = rows[index % rows.count]
        let message = try renderer.outgoing(id: Int64(index), campaign: 1, fields: row, recipient: row["email"] ?? "",
                                            messageID: "bench.\(index)@example.com", returnPath: "news@example.com", date: 1_795_000_000)
        bytes += message.data.count
    }
    let elapsed = Date().timeIntervalSince(start)
    print(String(format: "%.0f %.3f %d", Double(count) / elapsed, elapsed, bytes / count))
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(1)
}
