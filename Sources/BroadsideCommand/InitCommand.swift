import ArgumentParser
import Broadside
import Foundation

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a starter broadside.yaml, a template and a sample CSV into DIR (default: here); never overwrites.")

    @Argument(help: "The folder to write into.") var directory: String = "."

    static let configurationFile = """
        # Broadside configuration. Secrets never live here: a profile names the
        # environment variable (or the command) that holds a password.
        profiles:
          relay:                                  # your own relay, e.g. Postfix on port 587
            smtp: smtp://relay.example.com:587
            user: news@example.com
            password_env: RELAY_PASSWORD
            connections: 4
            rate: [20/s, 50000/day]
          workspace:                              # Google Workspace: 2,000 messages a day
            preset: google-workspace
            user: news@example.com
            password_env: GMAIL_APP_PASSWORD
            # verp_domain: bounces.example.com     # signed return paths (needs BROADSIDE_SECRET)
            # unsubscribe_url: https://news.example.com/u/
            # dkim_key_file: /etc/broadside/dkim.pem
            # dkim_selector: news2026
            # bounce_mailbox: imaps://imap.example.com/INBOX
            # bounce_user: bounces@example.com
            # bounce_password_env: BOUNCE_PASSWORD  # or bounce_password_command: pass show bounces
            # track: [clicks, opens]               # through `broadside serve` at public_url (needs BROADSIDE_SECRET)
            # public_url: https://news.example.com
          # office:                               # Exchange Online without a password (OAuth 2)
          #   preset: exchange-online
          #   user: news@contoso.com
          #   oauth:                              # then: broadside auth login --profile office
          #     client_id: 11111111-2222-3333-4444-555555555555
          #     tenant: contoso.onmicrosoft.com
          #   sent_folder: imaps://outlook.office365.com/Sent%20Items   # a copy of each message sent (relays that keep none)
          # tier:                                 # several relays share each campaign, by weight, with failover
          #   user: news@example.com
          #   password_env: RELAY_PASSWORD        # each relay may have its own user and password_env
          #   relays:
          #     - {name: a, smtp: "smtp://10.0.0.11:25", weight: 3, connections: 8}
          #     - {name: b, smtp: "smtp://10.0.0.12:25", weight: 1, connections: 4, rate: 20000/day}

        # Limits per recipient domain, for every profile.
        domain_limits:
          qq.com: [20/min, 1000/day]
          163.com: [20/min, 1000/day]

        # When bounces and complaints suppress an address.
        suppression:
          hard_bounces: true
          complaints: true
          soft_bounces: 3
          soft_window: 30d

        """

    static let template = """
        From: Example News <news@example.com>
        To: {{ first_name }} <{{ email }}>
        Subject: Hello {{ first_name }}

        Dear {{ first_name | default: "reader" }},

        {% if plan == "pro" -%}
        Thank you for being a Pro member.
        {% else -%}
        Thank you for reading.
        {% endif %}
        Best regards,
        Example News

        """

    static let contacts = """
        email,first_name,plan
        ada@example.com,Ada,pro
        grace@example.org,Grace,free

        """

    func run() throws {
        let files = FileManager.default
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var written: [String] = []
        for (name, text) in [("broadside.yaml", Self.configurationFile), ("template.txt", Self.template), ("contacts.csv", Self.contacts)] {
            let path = (directory as NSString).appendingPathComponent(name)
            if files.fileExists(atPath: path) {
                Output.note("\(path) exists; left as it is")
                continue
            }
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            written.append(path)
        }
        for path in written { Output.line("wrote \(path)") }
        Output.line("Next: broadside import contacts.csv --list first && broadside preview --template template.txt --list first")
    }
}
