#!/usr/bin/env bash
# Unsubscribe benchmark (issue 8): wrk POSTs one-click unsubscribes (RFC 8058) at
# `broadside serve` on loopback; at least 5,000 a second, and afterwards every address
# whose link was POSTed is in the suppression list. Beside it, on the same database and
# the same wrk, a minimal Python http.server doing the same INSERT.
set -euo pipefail
broadside=$1
messages=${SERVE_BENCH_MESSAGES:-20000}
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
export BROADSIDE_SECRET=bench-secret-not-for-production
db="$work/s.sqlite"
"$broadside" suppress remove nobody@example.invalid --db "$db" > /dev/null   # a writing command creates the schema (lists only reads)
/usr/bin/python3 - "$db" "$messages" "$work/paths.txt" <<'PY'
import hashlib, hmac, os, sqlite3, sys
db, n, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = sqlite3.connect(db)
c.execute("PRAGMA journal_mode=WAL")
c.executescript(f"""
INSERT INTO lists (id, name, created_at, updated_at) VALUES (1, 'bench', 0, 0);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
INSERT INTO contacts (id, address, fields, created_at, updated_at) SELECT i, 'user' || i || '@example.com', '{{}}', 0, 0 FROM n;
INSERT INTO campaigns (id, name, list_id, template_path, template_source, template_hash, created_at, started_at)
VALUES (1, 'bench', 1, 't.txt', 'From: a@example.com', '0', 1790000000, 1790000000);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
INSERT INTO messages (id, campaign_id, contact_id, recipient, message_id, return_path, state, attempts, updated_at)
SELECT i, 1, i, 'user' || i || '@example.com', 'b.' || i || '@example.com', 'a@example.com', 'accepted', 1, 0 FROM n;
""")
c.commit()
# The links the messages carried: C.M.TAG, TAG the first 8 bytes of HMAC-SHA256 keyed by the
# secret bound to the database's identity (see Sources/Signing).
identity = c.execute("SELECT id FROM database_identity").fetchone()[0]
secret = os.environ["BROADSIDE_SECRET"].encode() + ((b"\0" + identity.encode()) if identity else b"")
with open(paths, "w") as f:
    for m in range(1, n + 1):
        tag = hmac.new(secret, f"unsubscribe:1.{m}".encode(), hashlib.sha256).digest()[:8].hex()
        f.write(f"/u/1.{m}.{tag}\n")
PY
cat > "$work/post.lua" <<'EOF_LUA'
-- Thread i POSTs links i, i+T, i+2T, … (T threads), wrapping; done() says how many
-- distinct links were POSTed, so the script can check each one was suppressed.
local paths = {}
for line in io.lines(os.getenv("PATHS")) do paths[#paths + 1] = line end
local T = tonumber(os.getenv("THREADS"))
local all = {}
function setup(thread) thread:set("id", #all); table.insert(all, thread) end
function init(args) counter = 0 end
wrk.method = "POST"
wrk.body = "List-Unsubscribe=One-Click"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
function request()
  local i = (id + counter * T) % #paths
  counter = counter + 1
  return wrk.format(nil, paths[i + 1])
end
function done(summary, latency, requests)
  local covered = 0
  for _, thread in ipairs(all) do
    local own = math.floor((#paths - 1 - thread:get("id")) / T) + 1
    covered = covered + math.min(thread:get("counter"), own)
  end
  io.write(string.format("COVERED %d\n", covered))
end
EOF_LUA
# The reference both comparisons run, on the same database and wrk: what one would write
# in Python, a threaded http.server with no token check and no rendering. POST /u/…: one
# INSERT into the suppression list. GET /c/…: look the message up, INSERT the click, redirect.
cat > "$work/reference.py" <<'PY'
import json, sqlite3, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
db, port = sys.argv[1], int(sys.argv[2])
local = threading.local()
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 65536                 # one write an answer, so delayed ACKs do not stall it
    disable_nagle_algorithm = True
    def log_message(self, *args): pass
    def db(self):
        if not hasattr(local, "c"):
            local.c = sqlite3.connect(db, timeout=30, isolation_level=None); local.c.execute("PRAGMA synchronous=NORMAL")
        return local.c
    def answer(self, status=200, location=None, body=b"ok"):
        self.send_response(status)
        if location: self.send_header("Location", location)
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        if not self.path.startswith("/c/"):
            return self.answer()
        m = int(self.path.split(".")[1])
        fields = json.loads(self.db().execute("SELECT fields FROM messages WHERE id = ?", (m,)).fetchone()[0])
        self.db().execute("INSERT INTO tracking_events (campaign_id, message_id, kind, link, at, machine, agent) VALUES (2, ?, 'click', 0, ?, 0, 'Chrome')", (m, time.time()))
        self.answer(302, "https://shop.example/order?id=" + fields["id"], b"")
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        m = int(self.path.split(".")[1])
        self.db().execute("INSERT INTO suppressions (address, reason, source, campaign_id, created_at) SELECT recipient, 'unsubscribed', 'one-click', 1, 0 FROM messages WHERE id = ? ON CONFLICT(address) DO NOTHING", (m,))
        self.answer()
ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
PY

free_port() { /usr/bin/python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1]);s.close()"; }
wait_for() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; echo "server on $1 did not start" >&2; exit 3; }
suppressed() { /usr/bin/python3 -c "import sqlite3,sys;print(sqlite3.connect(sys.argv[1]).execute('select count(*) from suppressions').fetchone()[0])" "$db"; }
run_wrk() { PATHS="$work/paths.txt" THREADS=2 wrk -t2 -c32 -d"${SERVE_BENCH_SECONDS:-8}s" --latency -s "$work/post.lua" "http://127.0.0.1:$1" | sed 's/^/    /'; }

port=$(free_port)
"$broadside" serve --db "$db" --listen "127.0.0.1:$port" 2> "$work/serve.log" & pids+=($!); disown
wait_for "$port"
echo "serve: $messages messages' links POSTed one-click by wrk (2 threads, 32 connections) at broadside serve"
run_wrk "$port" | tee "$work/wrk.out" | grep -v COVERED
kill -9 "${pids[-1]}"
covered=$(awk '/COVERED/ {print $2}' "$work/wrk.out")
[ "$covered" -eq "$messages" ] || { echo "  wrk reached $covered of $messages links; give it longer (SERVE_BENCH_SECONDS)" >&2; exit 1; }
ours=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
printf '  %-44s %8.0f POSTs/s (target at least 5,000)\n' "broadside serve" "$ours"
got=$(suppressed)
echo "  suppressed afterwards: $got of the $covered addresses whose links were POSTed"
[ "$got" -eq "$covered" ] || { echo "  LOST UNSUBSCRIBES" >&2; exit 1; }
grep -q "method=POST.*route=/u/{token}.*status=200" "$work/serve.log" && ! grep -q "@example.com" "$work/serve.log" && echo "  serve.log: $(wc -l < "$work/serve.log") lines, one a request, no address or token"

/usr/bin/python3 -c "import sqlite3,sys;c=sqlite3.connect(sys.argv[1]);c.execute('delete from suppressions');c.commit()" "$db"
port=$(free_port)
/usr/bin/python3 "$work/reference.py" "$db" "$port" 2>/dev/null & pids+=($!); disown
wait_for "$port"
echo "  reference: Python ThreadingHTTPServer + sqlite3, same database, same wrk"
run_wrk "$port" | tee "$work/reference.out" | grep -v COVERED
reference=$(awk '/Requests\/sec/ {print $2}' "$work/reference.out")
printf '  %-44s %8.0f POSTs/s; broadside is %.1f x\n' "Python http.server + sqlite3 (reference)" "$reference" "$(echo "$ours / $reference" | bc -l)"

# Click redirects (issue 14): wrk GETs the messages' tracked links; serve finds each
# destination from the frozen template and fields, answers 302 and records the click in
# batches. At least 10,000 a second; afterwards every answered request is recorded once.
# The reference, on the same database and wrk: Python http.server looking the message up,
# redirecting and INSERTing one row a request.
/usr/bin/python3 - "$db" "$messages" "$work/clicks.txt" <<'PY'
import hashlib, hmac, json, os, sqlite3, sys
db, n, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = sqlite3.connect(db)
settings = json.dumps({"connections": 4, "track": ["clicks"], "publicURL": "http://127.0.0.1"})
template = 'From: a@example.com\nSubject: s\nContent-Type: text/html\n\n<p><a href="https://shop.example/order?id={{ id }}">your order</a></p>\n'
c.execute("""INSERT INTO campaigns (id, name, list_id, template_path, template_source, template_hash, settings, created_at, started_at)
             VALUES (2, 'clicks', 1, 't.html', ?, '1', ?, 1790000000, 1790000000)""", (template, settings))
c.execute(f"""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
  INSERT INTO messages (id, campaign_id, contact_id, recipient, message_id, return_path, state, attempts, updated_at, fields)
  SELECT {n} + i, 2, i, 'user' || i || '@example.com', 'c.' || i || '@example.com', 'a@example.com', 'accepted', 1, 0, '{{"id":"' || i || '"}}' FROM n""")
c.commit()
identity = c.execute("SELECT id FROM database_identity").fetchone()[0]
secret = os.environ["BROADSIDE_SECRET"].encode() + ((b"\0" + identity.encode()) if identity else b"")
with open(paths, "w") as f:
    for m in range(n + 1, 2 * n + 1):
        tag = hmac.new(secret, f"click:2.{m}.0".encode(), hashlib.sha256).digest()[:8].hex()
        f.write(f"/c/2.{m}.0.{tag}\n")
PY
sed -e 's/^wrk.method = "POST"/wrk.method = "GET"/' -e '/^wrk.body/d' -e '/^wrk.headers\["Content-Type"\]/d' "$work/post.lua" > "$work/get.lua"
run_clicks() { PATHS="$work/clicks.txt" THREADS=2 wrk -t2 -c32 -d"${SERVE_BENCH_SECONDS:-8}s" --latency -s "$work/get.lua" -H "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0" "http://127.0.0.1:$1" | sed 's/^/    /'; }
recorded() { /usr/bin/python3 -c "import sqlite3,sys;print(sqlite3.connect(sys.argv[1]).execute('select count(*) from tracking_events').fetchone()[0])" "$db"; }

port=$(free_port)
"$broadside" serve --db "$db" --listen "127.0.0.1:$port" 2> "$work/clicks.log" & serve_pid=$!; pids+=($serve_pid); disown
wait_for "$port"
echo
echo "serve: $messages messages' tracked links clicked by wrk (2 threads, 32 connections) at broadside serve"
run_clicks "$port" | tee "$work/clicks.out" | grep -v COVERED
kill -TERM "$serve_pid"; for _ in $(seq 100); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
clicks=$(awk '/Requests\/sec/ {print $2}' "$work/clicks.out")
answered=$(grep -c 'route=/c/{token} status=302' "$work/clicks.log" || true)
completed=$(awk '/requests in/ {print $1}' "$work/clicks.out")
got=$(recorded)
printf '  %-44s %8.0f redirects/s (target at least 10,000)\n' "broadside serve" "$clicks"
echo "  recorded afterwards: $got clicks; serve answered $answered with a redirect, wrk completed $completed"
[ "$got" -eq "$answered" ] && [ "$got" -ge "$completed" ] || { echo "  LOST OR DOUBLED CLICKS" >&2; exit 1; }

/usr/bin/python3 -c "import sqlite3,sys;c=sqlite3.connect(sys.argv[1]);c.execute('delete from tracking_events');c.commit()" "$db"
port=$(free_port)
/usr/bin/python3 "$work/reference.py" "$db" "$port" 2>/dev/null & pids+=($!); disown
wait_for "$port"
echo "  reference: Python ThreadingHTTPServer + sqlite3 (look up, redirect, INSERT), same database, same wrk"
run_clicks "$port" | tee "$work/clicks-reference.out" | grep -v COVERED
reference=$(awk '/Requests\/sec/ {print $2}' "$work/clicks-reference.out")
printf '  %-44s %8.0f redirects/s; broadside is %.1f x\n' "Python http.server + sqlite3 (reference)" "$reference" "$(echo "$clicks / $reference" | bc -l)"
