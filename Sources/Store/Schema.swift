import GRDB

/// The database schema, one migration at a time. Never edit a shipped migration:
/// add the next one.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: contacts, lists, campaigns, messages, events, suppressions, bounces") { db in
            try db.execute(sql: """
                CREATE TABLE lists (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    columns TEXT NOT NULL DEFAULT '[]',      -- JSON array: the merge fields, in file order
                    email_column TEXT NOT NULL DEFAULT 'email',
                    last_import_id INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                );

                -- One row per mailbox, unique by normalised address.
                CREATE TABLE contacts (
                    id INTEGER PRIMARY KEY,
                    address TEXT NOT NULL UNIQUE,             -- normalised: local part lowercased, ASCII domain
                    smtp_address TEXT,                        -- RCPT TO form (domain as A-labels); NULL: the same as address
                    display_address TEXT,                     -- as written (Unicode domain kept); NULL: the same as smtp_address
                    needs_smtputf8 INTEGER NOT NULL DEFAULT 0,
                    fields TEXT NOT NULL DEFAULT '{}',        -- JSON object: merge fields by column
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                );

                CREATE TABLE list_members (
                    list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
                    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
                    line INTEGER,                             -- line of the CSV it last came from
                    import_id INTEGER NOT NULL DEFAULT 0,     -- the import that last saw it (duplicates within a file)
                    added_at REAL NOT NULL,
                    PRIMARY KEY (list_id, contact_id)
                ) WITHOUT ROWID;

                CREATE TABLE suppressions (
                    address TEXT PRIMARY KEY,                 -- normalised, as contacts.address
                    reason TEXT NOT NULL,
                    source TEXT NOT NULL,                     -- manual, import, bounce, complaint, one-click, …
                    campaign_id INTEGER REFERENCES campaigns(id) ON DELETE SET NULL,
                    created_at REAL NOT NULL
                );

                -- A campaign is a template snapshot + a list + the settings it started with.
                CREATE TABLE campaigns (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    list_id INTEGER NOT NULL REFERENCES lists(id),
                    template_path TEXT NOT NULL,
                    template_source TEXT NOT NULL,
                    template_hash TEXT NOT NULL,
                    settings TEXT NOT NULL DEFAULT '{}',      -- JSON, never a secret
                    profile TEXT NOT NULL DEFAULT '',         -- the sending profile: daily caps count across its campaigns
                    status TEXT NOT NULL DEFAULT 'active',    -- active, paused, finished
                    status_reason TEXT,
                    created_at REAL NOT NULL,
                    started_at REAL,
                    finished_at REAL
                );

                -- One row per (campaign, recipient): the state machine of the design brief.
                CREATE TABLE messages (
                    id INTEGER PRIMARY KEY,
                    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
                    contact_id INTEGER NOT NULL REFERENCES contacts(id),
                    recipient TEXT NOT NULL,                  -- RCPT TO
                    message_id TEXT NOT NULL UNIQUE,          -- the Message-ID, kept across retries
                    return_path TEXT NOT NULL,                -- MAIL FROM, kept across retries
                    state TEXT NOT NULL DEFAULT 'queued',
                    attempts INTEGER NOT NULL DEFAULT 0,
                    first_attempt_at REAL,
                    last_attempt_at REAL,
                    next_attempt_at REAL,
                    smtp_code INTEGER,
                    enhanced_status TEXT,
                    reply TEXT,
                    reason TEXT,
                    connection INTEGER,
                    updated_at REAL NOT NULL,
                    UNIQUE (campaign_id, contact_id)
                );
                CREATE INDEX messages_by_state ON messages(campaign_id, state, next_attempt_at);

                -- Every attempt and every later change (bounce, recovery, retry): reports are queries over these.
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY,
                    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
                    campaign_id INTEGER NOT NULL,
                    at REAL NOT NULL,
                    state TEXT NOT NULL,
                    smtp_code INTEGER,
                    enhanced_status TEXT,
                    reply TEXT,
                    reason TEXT,
                    connection INTEGER
                );
                CREATE INDEX events_by_message ON events(message_id);
                CREATE INDEX events_by_campaign ON events(campaign_id, at);

                -- Bounce messages (DSNs) as parsed; kept even when they match no message.
                CREATE TABLE bounces (
                    id INTEGER PRIMARY KEY,
                    received_at REAL NOT NULL,
                    source TEXT NOT NULL,                     -- file path or imap://…;UID=n
                    fingerprint TEXT NOT NULL UNIQUE,         -- so the same bounce is recorded once
                    message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
                    recipient TEXT,
                    action TEXT,
                    status TEXT,
                    reply_code INTEGER,
                    reason TEXT,
                    hard INTEGER,
                    diagnostic TEXT
                );
                CREATE INDEX bounces_by_message ON bounces(message_id);

                -- Where `bounces fetch` stopped in each IMAP mailbox.
                CREATE TABLE mailbox_cursors (
                    mailbox TEXT PRIMARY KEY,
                    uid_validity INTEGER NOT NULL,
                    last_uid INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2: merge data per list membership, frozen per campaign; campaign files; dry runs") { db in
            try db.execute(sql: """
                -- A row's fields belong to the list it was imported into: another list's import never changes them.
                ALTER TABLE list_members ADD COLUMN fields TEXT NOT NULL DEFAULT '{}';
                UPDATE list_members SET fields = (SELECT c.fields FROM contacts c WHERE c.id = list_members.contact_id);

                -- What each recipient's message is merged from, frozen when the campaign is created.
                -- Existing campaigns freeze what they would have sent: the contact's fields of today.
                ALTER TABLE messages ADD COLUMN fields TEXT NOT NULL DEFAULT '{}';
                UPDATE messages SET fields = (SELECT c.fields FROM contacts c WHERE c.id = messages.contact_id);

                -- A dry run is a campaign of its own kind: a real send of the same name replaces it.
                ALTER TABLE campaigns ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0;
                -- 1: the files the template uses were frozen into campaign_files (campaigns before v2 read the disk).
                ALTER TABLE campaigns ADD COLUMN files_frozen INTEGER NOT NULL DEFAULT 0;

                -- Attachments and inline images by content, stored once however many campaigns use them.
                CREATE TABLE files (
                    sha256 TEXT PRIMARY KEY,
                    data BLOB NOT NULL
                );
                CREATE TABLE campaign_files (
                    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
                    key TEXT NOT NULL,                        -- template/NAME or attachments/NAME: where the template looks
                    path TEXT NOT NULL,                       -- the file it was read from, for "changed since" notes
                    sha256 TEXT NOT NULL REFERENCES files(sha256),
                    PRIMARY KEY (campaign_id, key)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v3: the database's own identity, which signed tokens are bound to") { db in
            // A random id per database, so that a token signed for one database (an unsubscribe
            // link, a VERP return path) means nothing to another with the same secret. A database
            // that already has campaigns keeps the empty id: the links it has sent keep working.
            let hasCampaigns = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM campaigns)") ?? false
            try db.execute(sql: "CREATE TABLE database_identity (id TEXT NOT NULL)")
            try db.execute(sql: "INSERT INTO database_identity (id) VALUES (\(hasCampaigns ? "''" : "lower(hex(randomblob(16)))"))")
        }
        migrator.registerMigration("v4: imports staged in a list of their own, published at the end") { db in
            try db.execute(sql: """
                -- A list being imported: written in short transactions under a hidden name, then
                -- renamed to (or merged into) the list it is for in one short transaction at the end.
                ALTER TABLE lists ADD COLUMN staging_for TEXT;
                -- The importing process: a staging list whose process is gone was left by a crash.
                ALTER TABLE lists ADD COLUMN staging_pid INTEGER;
                """)
        }
        migrator.registerMigration("v5: people who asked to be forgotten, kept only as a hash") { db in
            try db.execute(sql: """
                -- The SHA-256 of a forgotten address that was suppressed: imported again, it is
                -- suppressed again. Nothing else of the person is kept.
                CREATE TABLE forgotten (hash TEXT PRIMARY KEY, created_at REAL NOT NULL);
                """)
        }
        migrator.registerMigration("v6: copies of sent messages appended to the sender's Sent folder") { db in
            try db.execute(sql: """
                -- 'appending' is written before the IMAP APPEND, 'appended' after it: a crash
                -- between the two leaves 'appending', and the next run looks for the message in
                -- the folder (by its Message-ID) before appending it, so each is there once.
                CREATE TABLE sent_copies (
                    message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
                    state TEXT NOT NULL CHECK (state IN ('appending', 'appended')),
                    at REAL NOT NULL
                );
                """)
        }
        migrator.registerMigration("v7: opens and clicks through serve, and replies") { db in
            try db.execute(sql: """
                -- One row per request for a tracked link or open image: no IP address, the
                -- user agent only as a family or the machine rule that matched it.
                CREATE TABLE tracking_events (
                    id INTEGER PRIMARY KEY,
                    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
                    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL CHECK (kind IN ('click', 'open')),
                    link INTEGER,
                    at REAL NOT NULL,
                    machine INTEGER NOT NULL,
                    agent TEXT NOT NULL
                );
                CREATE INDEX tracking_by_message ON tracking_events(message_id);

                -- What each message's recipient did, kept up to date by the trigger below as
                -- requests are recorded, so that a report of millions of requests reads one
                -- row per recipient who did anything (README, "The report", for the figures).
                CREATE TABLE engagement (
                    message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
                    campaign_id INTEGER NOT NULL,
                    opens INTEGER NOT NULL DEFAULT 0,              -- requests, people and machines
                    clicks INTEGER NOT NULL DEFAULT 0,
                    machine_requests INTEGER NOT NULL DEFAULT 0,
                    person_open INTEGER NOT NULL DEFAULT 0,        -- 1 once a person fetched the image
                    person_click INTEGER NOT NULL DEFAULT 0,
                    machine_open INTEGER NOT NULL DEFAULT 0,
                    machine_click INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX engagement_by_campaign ON engagement(campaign_id);
                CREATE TABLE link_engagement (
                    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
                    link INTEGER NOT NULL,
                    campaign_id INTEGER NOT NULL,
                    clicks INTEGER NOT NULL DEFAULT 0,             -- by people
                    machine_requests INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (message_id, link)
                ) WITHOUT ROWID;
                CREATE INDEX link_engagement_by_campaign ON link_engagement(campaign_id, link);
                CREATE TABLE machine_requests (
                    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
                    rule TEXT NOT NULL,
                    requests INTEGER NOT NULL,
                    PRIMARY KEY (campaign_id, rule)
                ) WITHOUT ROWID;
                CREATE TRIGGER tracking_tally AFTER INSERT ON tracking_events BEGIN
                    INSERT INTO engagement (message_id, campaign_id, opens, clicks, machine_requests,
                                            person_open, person_click, machine_open, machine_click)
                    VALUES (NEW.message_id, NEW.campaign_id, NEW.kind = 'open', NEW.kind = 'click', NEW.machine,
                            NEW.kind = 'open' AND NOT NEW.machine, NEW.kind = 'click' AND NOT NEW.machine,
                            NEW.kind = 'open' AND NEW.machine, NEW.kind = 'click' AND NEW.machine)
                    ON CONFLICT (message_id) DO UPDATE SET
                        opens = opens + excluded.opens, clicks = clicks + excluded.clicks,
                        machine_requests = machine_requests + excluded.machine_requests,
                        person_open = max(person_open, excluded.person_open), person_click = max(person_click, excluded.person_click),
                        machine_open = max(machine_open, excluded.machine_open), machine_click = max(machine_click, excluded.machine_click);
                    INSERT INTO link_engagement (message_id, link, campaign_id, clicks, machine_requests)
                    SELECT NEW.message_id, NEW.link, NEW.campaign_id, NOT NEW.machine, NEW.machine WHERE NEW.kind = 'click'
                    ON CONFLICT (message_id, link) DO UPDATE SET
                        clicks = clicks + excluded.clicks, machine_requests = machine_requests + excluded.machine_requests;
                    INSERT INTO machine_requests (campaign_id, rule, requests) SELECT NEW.campaign_id, NEW.agent, 1 WHERE NEW.machine
                    ON CONFLICT (campaign_id, rule) DO UPDATE SET requests = requests + 1;
                END;

                -- A message that names one of ours in In-Reply-To or References.
                CREATE TABLE replies (
                    id INTEGER PRIMARY KEY,
                    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
                    at REAL NOT NULL,
                    automatic INTEGER NOT NULL,        -- RFC 3834 auto-reply (out of office …)
                    source TEXT NOT NULL UNIQUE        -- the reply's own Message-ID (or a hash): each counted once
                );
                CREATE INDEX replies_by_message ON replies(message_id);
                """)
        }
        migrator.registerMigration("v8: several relays per campaign") { db in
            try db.execute(sql: """
                -- The relay an attempt went through (NULL: the campaign's one server) and how
                -- long the server took to answer the end of DATA.
                ALTER TABLE events ADD COLUMN relay TEXT;
                ALTER TABLE events ADD COLUMN reply_seconds REAL;

                -- A relay out of rotation (resting, or left out for the run), from when until when.
                CREATE TABLE relay_periods (
                    id INTEGER PRIMARY KEY,
                    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
                    relay TEXT NOT NULL,
                    out_at REAL NOT NULL,
                    back_at REAL,                      -- NULL while it is out
                    reason TEXT NOT NULL
                );
                CREATE INDEX relay_periods_by_campaign ON relay_periods(campaign_id, relay);
                """)
        }
        return migrator
    }
}
