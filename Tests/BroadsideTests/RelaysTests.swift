import Foundation
import Testing
import TestSupport

/// A campaign spread over several relays (a profile's `relays:`), against real servers on
/// loopback: Postfix's smtp-sink and the scripted SMTP server. What each server received
/// is counted at the server, never taken from Broadside's own records alone.
@Suite("Several relays")
struct RelaysTests {
    /// A profile `tier` with these relays (YAML lines of each, indented under `- `).
    static func config(_ dir: TemporaryDirectory, relays: [String], extra: String = "") throws -> String {
        let entries = relays.map { relay in
            relay.split(separator: "\n").enumerated().map { $0.offset == 0 ? "      - \($0.element)" : "        \($0.element)" }.joined(separator: "\n")
        }.joined(separator: "\n")
        return try dir.write("broadside.yaml", "profiles:\n  tier:\n\(extra.isEmpty ? "" : extra.split(separator: "\n").map { "    \($0)\n" }.joined())    relays:\n\(entries)\n")
    }

    static func recipients(_ server: SMTPTestServer) throws -> [String] { try server.received().map { $0.rcpt_tos[0] } }

    static func report(_ campaign: TestCampaign, config: String) throws -> [String: Any] {
        let result = try Command.broadside(["report", "c", "--db", campaign.db, "--format", "json"])
        return try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
    }

    static func relayFigures(_ report: [String: Any]) -> [String: [String: Any]] {
        let relays = report["relays"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: relays.map { ($0["relay"] as? String ?? "?", $0) })
    }

    @Test func threeRelaysWeighted311ShareTenThousandMessagesByTheirWeights() throws {
        let heavy = try SMTPSink(), light = try SMTPSink(), scripted = try SMTPTestServer()
        let campaign = try TestCampaign(count: 10_000)
        let config = try Self.config(campaign.dir, relays: [
            "name: heavy\nsmtp: \(heavy.url)\nweight: 3\nconnections: 4",
            "name: light\nsmtp: \(light.url)\nweight: 1\nconnections: 2",
            "name: scripted\nsmtp: \(scripted.url)\nweight: 1\nconnections: 2",
        ])
        let result = try campaign.send(["--config", config, "--profile", "tier"])
        #expect(result.status == 0, "\(result.stderr)")
        let received = ["heavy": try heavy.recipients(), "light": try light.recipients(), "scripted": try Self.recipients(scripted)]
        let all = received.values.flatMap { $0 }
        #expect(all.count == 10_000, "every message arrived once: \(received.mapValues(\.count))")
        #expect(Set(all).count == 10_000, "no recipient twice")
        for (relay, share) in ["heavy": 0.6, "light": 0.2, "scripted": 0.2] {
            let measured = Double(received[relay]?.count ?? 0) / 10_000
            #expect(abs(measured - share) <= share * 0.05, "\(relay): \(measured) of the messages, weight says \(share)")
        }
        // Broadside's own record agrees with the servers.
        let figures = Self.relayFigures(try Self.report(campaign, config: config))
        for (relay, messages) in received {
            #expect(figures[relay]?["accepted"] as? Int == messages.count, "\(relay): \(figures[relay] ?? [:])")
            #expect((figures[relay]?["reply_p50_s"] as? Double).map { $0 > 0 && $0 < 1 } == true, "a reply time is measured")
        }
    }

    @Test func aRelayKilledMidCampaignHandsItsShareToTheOthersLosingAndDuplicatingNothing() throws {
        let first = try SMTPSink(), doomed = try SMTPSink(), scripted = try SMTPTestServer()
        let campaign = try TestCampaign(count: 3000)
        let config = try Self.config(campaign.dir, relays: [
            "name: first\nsmtp: \(first.url)\nconnections: 3",
            "name: doomed\nsmtp: \(doomed.url)\nconnections: 3",
            "name: scripted\nsmtp: \(scripted.url)\nconnections: 3",
        ], extra: "rate: 600/s")
        let run = try Command.startBroadside(campaign.sendArguments + ["--config", config, "--profile", "tier"], capturingOutput: true)
        // Kill it (SIGKILL, as a crashed server) once it has taken a share of the campaign.
        let deadline = Date().addingTimeInterval(20)
        while try doomed.recipients().count < 200 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        doomed.stop()
        let output = run.readOutput()
        #expect(run.wait() == 0, "\(output)")
        let states = try sqlite(campaign.db, "SELECT state, count(*) FROM messages GROUP BY state")
        let unknown = Int(try sqlite(campaign.db, "SELECT count(*) FROM messages WHERE state = 'unknown'").first ?? "") ?? -1
        #expect(unknown <= 3, "at most one unknown a connection of the killed relay: \(states)")
        #expect(try sqlite(campaign.db, "SELECT count(*) FROM messages WHERE state NOT IN ('accepted', 'unknown')") == ["0"],
                "nothing lost or left waiting: \(states)")
        let survivors = try first.recipients() + Self.recipients(scripted)
        let killed = try doomed.recipients()
        #expect(Set(survivors).count == survivors.count, "no recipient twice among the survivors")
        let accepted = Set(try sqlite(campaign.db, "SELECT recipient FROM messages WHERE state = 'accepted'"))
        let everyone = survivors + killed
        for recipient in accepted {
            // Accepted means received by exactly one server.
            if everyone.filter({ $0 == recipient }).count != 1 { Issue.record("\(recipient) received \(everyone.filter { $0 == recipient }.count) times") ; break }
        }
        #expect(killed.count >= 200 && killed.count < 1500, "the killed relay had a share, then none: \(killed.count)")
        #expect(survivors.count >= 3000 - killed.count - unknown, "its share moved to the others")
        // The report names the relay that went away and why.
        let figures = Self.relayFigures(try Self.report(campaign, config: config))
        let reasons = figures["doomed"]?["out_because"] as? [String] ?? []
        #expect(reasons.contains { $0.contains("not reached") }, "\(figures["doomed"] ?? [:])")
    }

    @Test func broadsideKilledMidCampaignOverTwoRelaysResumesSendingEachMessageOnce() throws {
        let east = try SMTPSink(), west = try SMTPSink()
        let campaign = try TestCampaign(count: 3000)
        let config = try Self.config(campaign.dir, relays: [
            "name: east\nsmtp: \(east.url)\nconnections: 2",
            "name: west\nsmtp: \(west.url)\nconnections: 2",
        ], extra: "rate: 1000/s")
        let run = try Command.startBroadside(campaign.sendArguments + ["--config", config, "--profile", "tier"])
        let deadline = Date().addingTimeInterval(20)
        while try east.recipients().count + west.recipients().count < 800 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        run.signal(SIGKILL)
        run.wait()
        // The campaign keeps its relays: resume sends the rest through them.
        let resumed = try Command.broadside(["resume", "c", "--db", campaign.db, "--config", config, "--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let unknown = Int(try sqlite(campaign.db, "SELECT count(*) FROM messages WHERE state = 'unknown'").first ?? "") ?? -1
        #expect(unknown <= 4, "at most one unknown a connection (4 over both relays): \(unknown)")
        #expect(try sqlite(campaign.db, "SELECT count(*) FROM messages WHERE state NOT IN ('accepted', 'unknown')") == ["0"])
        let received = try east.recipients() + west.recipients()
        let accepted = try sqlite(campaign.db, "SELECT recipient FROM messages WHERE state = 'accepted'")
        var times: [String: Int] = [:]
        for recipient in received { times[recipient, default: 0] += 1 }
        #expect(times.values.allSatisfy { $0 == 1 }, "nobody received two: \(times.filter { $0.value > 1 }.prefix(3))")
        #expect(accepted.allSatisfy { times[$0] == 1 }, "every accepted message was received")
        #expect(received.count >= 3000 - unknown)
        #expect(try sqlite(campaign.db, "SELECT count(*) FROM events WHERE relay IS NULL AND state = 'accepted'") == ["0"],
                "every attempt records its relay, those the crash left in the in-flight log too")
    }

    @Test func aRelayDownAtTheStartIsProbedAndCarriesItsShareOnceItAnswers() throws {
        let early = try SMTPSink()
        let latePort = try freeLoopbackPort()
        let campaign = try TestCampaign(count: 600)
        let config = try Self.config(campaign.dir, relays: [
            "name: early\nsmtp: \(early.url)\nconnections: 2",
            "name: late\nsmtp: smtp://127.0.0.1:\(latePort)\nconnections: 2",
        ], extra: "rate: 50/s")
        let run = try Command.startBroadside(campaign.sendArguments + ["--config", config, "--profile", "tier"], capturingOutput: true)
        Thread.sleep(forTimeInterval: 2.5)
        let late = try SMTPSink(port: latePort)
        let output = run.readOutput()
        #expect(run.wait() == 0, "\(output)")
        let carried = try late.recipients().count
        #expect(carried > 100, "once it answered it carried its share: \(carried)")
        #expect(try early.recipients().count + carried == 600)
        let figures = Self.relayFigures(try Self.report(campaign, config: config))
        let out = figures["late"]?["out_of_rotation_s"] as? Double ?? 0
        // Down from the check before the run until 2.5 s after the process started; back at a probe soon after.
        #expect(out >= 1 && out < 9, "out while it was down, then probed back: \(out) s")
    }

    @Test func aPeriodOutOfRotationThatACrashLeftOpenEndsAtTheDeadRunsLastEvent() throws {
        let sink = try SMTPSink()
        let campaign = try TestCampaign(count: 3)
        #expect(try campaign.send(["--smtp", sink.url]).status == 0)
        let last = try #require(try sqlite(campaign.db, "SELECT max(at) FROM events").first.flatMap(Double.init))
        // As a run killed while a relay rested would leave it: the period still open.
        _ = try sqlite(campaign.db, "INSERT INTO relay_periods (campaign_id, relay, out_at, reason) SELECT id, 'east', \(last - 10), 'not reached' FROM campaigns")
        Thread.sleep(forTimeInterval: 1.5)
        #expect(try Command.broadside(["resume", "c", "--db", campaign.db, "--json"]).status == 0)
        let end = try #require(try sqlite(campaign.db, "SELECT back_at FROM relay_periods").first.flatMap(Double.init))
        #expect(abs(end - last) < 0.001, "ended at the dead run's last event, not when the next run started: \(end - last) s later")
    }

    @Test func aRelayAnswering421ForThirtySecondsIsTakenOutAndComesBack() throws {
        let steady = try SMTPSink()
        let throttling = try SMTPTestServer(arguments: ["--throttle-for", "30"])
        let started = Date().timeIntervalSince1970
        let campaign = try TestCampaign(count: 2200)
        let config = try Self.config(campaign.dir, relays: [
            "name: steady\nsmtp: \(steady.url)\nconnections: 2",
            "name: throttling\nsmtp: \(throttling.url)\nconnections: 2",
        ], extra: "rate: 50/s\nthrottle_cooldown: 5s")
        let result = try campaign.send(["--config", config, "--profile", "tier"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try sqlite(campaign.db, "SELECT state, count(*) FROM messages GROUP BY state") == ["accepted|2200"])
        let late = try throttling.received()
        #expect(late.count > 100, "it came back and carried its share: \(late.count)")
        let firstAccepted = try #require(try sqlite(campaign.db, "SELECT min(at) FROM events WHERE relay = 'throttling' AND state = 'accepted'").first.flatMap(Double.init))
        #expect(firstAccepted >= started + 30, "nothing went through it while it answered 421")
        // Its 421s deferred messages that the other relay then carried in their turn, not at
        // their retry time (five minutes): each within the seconds of messages already waiting.
        let rerouted = try sqlite(campaign.db, """
            SELECT count(*), max(a.at - d.at) FROM events d JOIN events a ON a.message_id = d.message_id AND a.state = 'accepted'
            WHERE d.relay = 'throttling' AND d.smtp_code = 421
            """).first?.split(separator: "|") ?? []
        #expect(rerouted.count == 2 && Int(rerouted[0]) ?? 0 >= 3, "its probes met 421: \(rerouted)")
        #expect(rerouted.count == 2 && (Double(rerouted[1]) ?? 999) < 30, "rerouted, not left for the retry: \(rerouted)")
        let all = try steady.recipients() + late.map { $0.rcpt_tos[0] }
        #expect(all.count == 2200 && Set(all).count == 2200, "each recipient once")
        let figures = Self.relayFigures(try Self.report(campaign, config: config))
        let out = figures["throttling"]?["out_of_rotation_s"] as? Double ?? 0
        #expect(out >= 25 && out < 60, "out of rotation about as long as it throttled: \(out) s")
        #expect((figures["throttling"]?["out_because"] as? [String] ?? []).contains { $0.contains("421") })
        #expect(figures["steady"]?["out_of_rotation_s"] as? Double == 0)
    }

    @Test func aRelayWithAWrongPasswordIsLeftOutAndTheReportSaysWhy() throws {
        let open = try SMTPSink()
        let locked = try SMTPTestServer(arguments: ["--auth", "relay:right"])
        let campaign = try TestCampaign(count: 300)
        let config = try Self.config(campaign.dir, relays: [
            "name: open\nsmtp: \(open.url)",
            "name: locked\nsmtp: \(locked.url)\nuser: relay\npassword_env: LOCKED_PASSWORD\nweight: 5",
        ])
        let result = try campaign.send(["--config", config, "--profile", "tier"], environment: ["LOCKED_PASSWORD": "wrong"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"relays_out\":{\"locked\":\"the server requires sign-in"), "the run says which relay is out: \(result.stdout)")
        #expect(try open.recipients().count == 300)
        #expect(try locked.received().isEmpty)
        let figures = Self.relayFigures(try Self.report(campaign, config: config))
        let why = (figures["locked"]?["out_because"] as? [String] ?? []).joined()
        #expect(why.contains("sign-in") && why.contains("535"), "\(figures["locked"] ?? [:])")
        #expect(figures["locked"]?["attempts"] as? Int == 0)
        let table = try Command.broadside(["report", "c", "--db", campaign.db])
        #expect(table.stdout.contains("locked") && table.stdout.contains("requires sign-in"), "\(table.stdout)")
        // The page serve's dashboard links to is the same report: a row per relay with why.
        let page = try Command.broadside(["report", "c", "--db", campaign.db, "--format", "html"]).stdout
        #expect(page.contains("<h2 id=\"relays\">Relays</h2>") && page.contains("<tr><td>locked</td>"), "\(page.suffix(2000))")
    }

    @Test func theDashboardNamesTheRelaysOutOfRotationWhileACampaignSends() throws {
        let open = try SMTPSink()
        let locked = try SMTPTestServer(arguments: ["--auth", "relay:right"])
        let campaign = try TestCampaign(count: 200)
        let config = try Self.config(campaign.dir, relays: [
            "name: open\nsmtp: \(open.url)",
            "name: \"<i>locked</i>\"\nsmtp: \(locked.url)\nuser: relay\npassword_env: LOCKED_PASSWORD",
        ], extra: "rate: 20/s")
        let run = try Command.startBroadside(campaign.sendArguments + ["--config", config, "--profile", "tier"],
                                             environment: ["LOCKED_PASSWORD": "wrong"])
        let server = try ServeProcess(db: campaign.db, secret: Mailing.secret, log: campaign.dir.path("serve.log"), arguments: ["--trust-loopback"])
        var page = ""
        let deadline = Date().addingTimeInterval(15)
        while !page.contains("relays-out") && Date() < deadline {
            page = (try? server.get("/").body) ?? ""
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(page.contains("<td>&lt;i&gt;locked&lt;/i&gt;</td>"), "the relay, named as text: \(page.suffix(1500))")
        #expect(page.contains("requires sign-in"), "and why")
        #expect(run.wait() == 0)
        // Once the campaign is done, no relay is out of rotation in a campaign being sent.
        #expect(try !server.get("/").body.contains("relays-out"))
    }

    @Test func aRelayWhoseCertificateCannotBeVerifiedIsLeftOutAndNamed() throws {
        let dir = try TemporaryDirectory()
        let certificate = try SelfSignedCertificate(in: dir)
        let plain = try SMTPSink()
        let privateCA = try SMTPTestServer(arguments: ["--tls-cert", certificate.certificate, "--tls-key", certificate.key])
        let campaign = try TestCampaign(count: 50)
        let config = try Self.config(campaign.dir, relays: [
            "name: plain\nsmtp: \(plain.url)",
            "name: private-ca\nsmtp: \(privateCA.url)",   // no ca_file: its certificate is not trusted
        ])
        let result = try campaign.send(["--config", config, "--profile", "tier"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try plain.recipients().count == 50)
        #expect(try privateCA.received().isEmpty, "nothing goes over TLS that was not verified")
        #expect(result.stdout.contains("\"private-ca\":\"TLS with 127.0.0.1"), "left out with why: \(result.stdout)")
        #expect(try sqlite(campaign.db, "SELECT count(*) FROM events WHERE relay = 'private-ca'") == ["0"], "left out, never probed")
    }

    @Test func aRelayWhoseSendingIPIsBlocklistedIsRoutedAroundAndNamed() throws {
        let clean = try SMTPSink()
        let listed = try SMTPTestServer(arguments: ["--blocklisted"])
        let campaign = try TestCampaign(count: 200)
        let config = try Self.config(campaign.dir, relays: [
            "name: clean\nsmtp: \(clean.url)\nconnections: 2",
            "name: listed\nsmtp: \(listed.url)\nconnections: 1\nweight: 3",
        ])
        let result = try campaign.send(["--config", config, "--profile", "tier"])
        #expect(result.status == 0, "\(result.stderr)")
        // Its refusals were the relay's, not the recipients': every message went through the clean one, none failed.
        #expect(try sqlite(campaign.db, "SELECT state, count(*) FROM messages GROUP BY state") == ["accepted|200"])
        #expect(try clean.recipients().count == 200)
        #expect(try sqlite(campaign.db, "SELECT count(*) FROM events WHERE relay = 'listed' AND state = 'deferred' AND enhanced_status = '5.7.1'") == ["5"],
                "five refusals in a row, then left out")
        #expect(try sqlite(campaign.db, "SELECT count(*) FROM suppressions") == ["0"], "no recipient is held responsible")
        let figures = Self.relayFigures(try Self.report(campaign, config: config))
        let why = (figures["listed"]?["out_because"] as? [String] ?? []).joined()
        #expect(why.contains("refused the sender 5 times") && why.contains("zen.spamhaus.org"), "\(figures["listed"] ?? [:])")
    }

    @Test func aRelaysOwnDailyCapIsCountedFromTheDatabaseAcrossCampaignsWhileTheOthersCarryOn() throws {
        let small = try SMTPSink(), big = try SMTPSink()
        let campaign = try TestCampaign(count: 100)
        let config = try Self.config(campaign.dir, relays: [
            "name: small\nsmtp: \(small.url)\nrate: 10/day",
            "name: big\nsmtp: \(big.url)",
        ])
        let first = try campaign.send(["--config", config, "--profile", "tier"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try small.recipients().count == 10, "its cap, and not one more")
        #expect(try big.recipients().count == 90, "the rest went through the other relay")
        #expect(first.stdout.contains("\"relays_out\":{\"small\":\"its own limit (10/day) is reached"), "\(first.stdout)")
        // Another campaign of the same profile, another process: the cap still holds.
        let list = try campaign.dir.write("m.csv", "email,name\n" + (1...20).map { "m\($0)@example.com,M\($0)\n" }.joined())
        #expect(try Command.broadside(["import", list, "--list", "m", "--db", campaign.db]).status == 0)
        let second = try Command.broadside(["send", "--template", campaign.template, "--list", "m", "--campaign", "d", "--db", campaign.db,
                                            "--config", config, "--profile", "tier", "--json"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try small.recipients().count == 10)
        #expect(try big.recipients().count == 110)
    }

    @Test func aRecipientDomainsCapCountsEveryRelayTogether() throws {
        let east = try SMTPSink(), west = try SMTPSink()
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let rows = (1...6).map { "c\($0)@capped.example" } + (1...10).map { "o\($0)@other.example" }
        let list = try dir.write("l.csv", "email,name\n" + rows.map { "\($0),\($0)" }.joined(separator: "\n") + "\n")
        #expect(try Command.broadside(["import", list, "--list", "l", "--db", db]).status == 0)
        let template = try dir.write("t.txt", TestCampaign.template)
        let config = try dir.write("broadside.yaml", """
            domain_limits:
              capped.example: 3/day
            profiles:
              tier:
                relays:
                  - {name: east, smtp: "\(east.url)"}
                  - {name: west, smtp: "\(west.url)"}
            """)
        let result = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--db", db,
                                            "--config", config, "--profile", "tier", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let received = try east.recipients() + west.recipients()
        #expect(received.filter { $0.hasSuffix("@capped.example") }.count == 3, "3 a day over both relays: \(received)")
        #expect(received.filter { $0.hasSuffix("@other.example") }.count == 10)
        #expect(try sqlite(db, "SELECT count(*) FROM messages WHERE state = 'deferred' AND reason LIKE 'capped.example%'") == ["3"])
    }

    @Test func everyRelayDownAtTheStartRefusesTheRunNamingEachAndWritesNothing() throws {
        let campaign = try TestCampaign(count: 5)
        let config = try Self.config(campaign.dir, relays: [
            "name: east\nsmtp: smtp://127.0.0.1:\(try freeLoopbackPort())",
            "name: west\nsmtp: smtp://127.0.0.1:\(try freeLoopbackPort())",
        ])
        let result = try campaign.send(["--config", config, "--profile", "tier"])
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.contains("relay 'east'") && result.stderr.contains("relay 'west'"), "\(result.stderr)")
        #expect(try sqlite(campaign.db, "SELECT count(*) FROM campaigns") == ["0"], "no campaign created")
    }

    @Test func everyRelayLostMidCampaignPausesNamingEachAndExits3() throws {
        let east = try SMTPSink(), west = try SMTPSink()
        let campaign = try TestCampaign(count: 2000)
        let config = try Self.config(campaign.dir, relays: [
            "name: east\nsmtp: \(east.url)\nconnections: 2",
            "name: west\nsmtp: \(west.url)\nconnections: 2",
        ], extra: "rate: 200/s\nserver_lost_timeout: 2s")
        let run = try Command.startBroadside(campaign.sendArguments + ["--config", config, "--profile", "tier"], capturingOutput: true)
        let deadline = Date().addingTimeInterval(20)
        while try east.recipients().count + west.recipients().count < 300 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        east.stop()
        west.stop()
        let output = run.readOutput()
        #expect(run.wait() == 3, "\(output)")
        let status = try sqlite(campaign.db, "SELECT status, status_reason FROM campaigns").first ?? ""
        #expect(status.hasPrefix("paused|no relay is left"), "\(status)")
        #expect(status.contains("east: ") && status.contains("west: "), "each relay with its reason: \(status)")
        #expect(try sqlite(campaign.db, "SELECT count(*) FROM messages WHERE state IN ('claimed', 'awaiting_reply')") == ["0"])
    }

    @Test func aDomainKeptForARelayGoesOnlyThroughIt() throws {
        let general = try SMTPSink(), chinese = try SMTPTestServer()
        let dir = try TemporaryDirectory()
        let db = dir.path("b.sqlite")
        let rows = (1...40).map { "u\($0)@\($0 % 4 == 0 ? "qq.com" : "example.com")" }
        let list = try dir.write("l.csv", "email,name\n" + rows.map { "\($0),\($0)" }.joined(separator: "\n") + "\n")
        #expect(try Command.broadside(["import", list, "--list", "l", "--db", db]).status == 0)
        let template = try dir.write("t.txt", TestCampaign.template)
        let config = try Self.config(dir, relays: [
            "name: general\nsmtp: \(general.url)\nweight: 9",
            "name: cn\nsmtp: \(chinese.url)\ndomains: [QQ.com]",
        ])
        let result = try Command.broadside(["send", "--template", template, "--list", "l", "--campaign", "c", "--db", db,
                                            "--config", config, "--profile", "tier"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Set(try Self.recipients(chinese).map { String($0.split(separator: "@")[1]) }) == ["qq.com"])
        #expect(try Self.recipients(chinese).count == 10)
        #expect(try general.recipients().allSatisfy { $0.hasSuffix("@example.com") } && general.recipients().count == 30)
    }

    @Test func aMisspeltRelayKeyOrARelayWithoutNameIsRefusedBeforeAnythingIsWritten() throws {
        let campaign = try TestCampaign(count: 2)
        let misspelt = try Self.config(campaign.dir, relays: ["name: a\nsmtp: smtp://127.0.0.1:25\nwieght: 3"])
        let result = try campaign.send(["--config", misspelt, "--profile", "tier"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("'wieght' is not a key of a relay of profile 'tier'; did you mean 'weight'?"), "\(result.stderr)")
        let twice = try Self.config(campaign.dir, relays: ["name: a\nsmtp: smtp://127.0.0.1:25", "name: A\nsmtp: smtp://127.0.0.1:26"])
        let again = try campaign.send(["--config", twice, "--profile", "tier"])
        #expect(again.status == 2 && again.stderr.contains("relay names must be given once"), "\(again.stderr)")
        #expect(try sqlite(campaign.db, "SELECT count(*) FROM campaigns") == ["0"])
    }
}
