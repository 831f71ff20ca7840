import ArgumentParser

struct BroadsideCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broadside",
        abstract: "Bulk mail merge: one personalised, individually addressed message per recipient, sent through SMTP and recorded in SQLite.",
        version: "0.1.0",
        subcommands: [
            InitCommand.self, ImportCommand.self, ListsCommand.self, CheckCommand.self, PreviewCommand.self, MergeCommand.self, SendCommand.self,
            CampaignsCommand.self, PauseCommand.self, ResumeCommand.self, RetryCommand.self, ReportCommand.self,
            SuppressCommand.self, BouncesCommand.self, ForgetCommand.self, ServeCommand.self, AuthCommand.self,
        ]
    )
}
