#!/usr/bin/env bash
# Report benchmark (issue 7): a generated campaign of 1,000,000 messages and 2,000,000
# events in a Broadside database; `report --format json` must finish in at most 2 s.
# Beside it, the same totals counted by a plain `SELECT state, count(*)` in Python's sqlite3.
set -euo pipefail
broadside=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/r.sqlite"
"$broadside" suppress remove nobody@example.invalid --db "$db" > /dev/null   # a writing command creates the schema (lists only reads)
/usr/bin/python3 - "$db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA journal_mode=WAL")
c.executescript("""
INSERT INTO lists (id, name, created_at, updated_at) VALUES (1, 'bench', 0, 0);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
INSERT INTO contacts (id, address, fields, created_at, updated_at)
SELECT i, 'user' || i || '@example' || (i % 500) || '.com', '{}', 0, 0 FROM n;
INSERT INTO campaigns (id, name, list_id, template_path, template_source, template_hash, created_at, started_at)
VALUES (1, 'bench', 1, 't.txt', 'From: a@example.com', '0', 1790000000, 1790000000);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
INSERT INTO messages (id, campaign_id, contact_id, recipient, message_id, return_path, state, attempts, first_attempt_at,
                      last_attempt_at, smtp_code, enhanced_status, reply, reason, updated_at)
SELECT i, 1, i, 'user' || i || '@example' || (i % 500) || '.com', 'b.' || i || '@example.com', 'a@example.com',
       CASE WHEN i % 50 = 0 THEN 'failed' WHEN i % 31 = 0 THEN 'deferred' WHEN i % 97 = 0 THEN 'bounced' ELSE 'accepted' END,
       1 + (i % 7 = 0), 1790000000 + i / 300.0, 1790000000 + i / 300.0,
       CASE WHEN i % 50 = 0 THEN 550 WHEN i % 31 = 0 THEN 451 ELSE 250 END,
       CASE WHEN i % 50 = 0 THEN '5.1.1' WHEN i % 31 = 0 THEN '4.3.0' ELSE '2.0.0' END,
       CASE WHEN i % 50 = 0 THEN '550 5.1.1 user unknown' WHEN i % 31 = 0 THEN '451 4.3.0 try later' ELSE '250 2.0.0 Ok: queued as ' || i END,
       CASE WHEN i % 50 = 0 THEN 'userunknown' WHEN i % 31 = 0 THEN 'onhold' WHEN i % 97 = 0 THEN 'mailboxfull' END,
       1790000000 + i / 300.0
FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
INSERT INTO events (message_id, campaign_id, at, state, smtp_code, reply)
SELECT i, 1, 1790000000 + i / 300.0, 'deferred', 451, '451 4.3.0 try later' FROM n
UNION ALL
SELECT i, 1, 1790000000 + i / 300.0 + 1, CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'accepted' END, 250, '250 2.0.0 Ok' FROM n;
""")
c.commit()
c.close()
PY
echo "report: a campaign of $(/usr/bin/python3 -c "import sqlite3,sys;c=sqlite3.connect(sys.argv[1]);print(c.execute('select count(*) from messages').fetchone()[0], 'messages,', c.execute('select count(*) from events').fetchone()[0], 'events')" "$db")"
start=$(date +%s.%N)
"$broadside" report bench --format json --db "$db" > "$work/report.json"
elapsed=$(echo "$(date +%s.%N) - $start" | bc -l)
start=$(date +%s.%N)
/usr/bin/python3 -c "import sqlite3,sys;c=sqlite3.connect(sys.argv[1]);c.execute('SELECT state, count(*) FROM messages WHERE campaign_id = 1 GROUP BY state').fetchall()" "$db"
reference=$(echo "$(date +%s.%N) - $start" | bc -l)
printf '  %-44s %6.2f s (target at most 2 s)\n' "broadside report --format json (every figure)" "$elapsed"
printf '  %-44s %6.2f s\n' "Python sqlite3: totals by state only" "$reference"

# With opens and clicks (issue 14): 2,000,000 tracking events on the same campaign (people
# and machines, three links); the report must take at most twice as long as without them.
/usr/bin/python3 - "$db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("""
UPDATE campaigns SET settings = '{"connections":4,"track":["clicks","opens"],"publicURL":"https://news.example.com"}' WHERE id = 1;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000)
INSERT INTO tracking_events (campaign_id, message_id, kind, link, at, machine, agent)
SELECT 1, 1 + (i * 7919) % 1000000, CASE WHEN i % 4 = 0 THEN 'click' ELSE 'open' END, CASE WHEN i % 4 = 0 THEN i % 3 END,
       1790003600 + i / 100.0, i % 5 = 0, CASE WHEN i % 5 = 0 THEN 'Apple Mail Privacy Protection' ELSE 'Chrome' END FROM n;
""")
c.commit()
PY
start=$(date +%s.%N)
"$broadside" report bench --format json --db "$db" > "$work/report-tracked.json"
tracked=$(echo "$(date +%s.%N) - $start" | bc -l)
printf '  %-44s %6.2f s, %.2f x the report without them (target at most 2 x)\n' "the same with 2,000,000 opens and clicks" "$tracked" "$(echo "$tracked / $elapsed" | bc -l)"
/usr/bin/python3 -c "
import json,sys
e = json.load(open(sys.argv[1]))['engagement']
print('    unique opens %d, unique clicks %d, machine requests %d, links %d' % (e['unique_opens'], e['unique_clicks'], e['machines']['requests'], len(e['links'])))
" "$work/report-tracked.json"
