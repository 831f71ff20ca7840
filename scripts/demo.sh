#!/usr/bin/env bash
# The sample campaign end to end against a local SMTP server. Usage: demo.sh BROADSIDE DB
set -euo pipefail
broadside=$1
db=$2
work=$(dirname "$db")
rm -rf "$work" && mkdir -p "$work"

/usr/bin/python3 scripts/smtp-test-server.py --record "$work/received.jsonl" > "$work/server.out" 2> "$work/server.err" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q '^PORT' "$work/server.out" 2>/dev/null && break; sleep 0.1; done
port=$(awk '/^PORT/ {print $2}' "$work/server.out")
[ -n "$port" ] || { echo "the SMTP test server did not start:"; cat "$work/server.err"; exit 3; }
echo "== SMTP test server on 127.0.0.1:$port"

echo "== broadside import samples/contacts.csv --list demo"
"$broadside" import samples/contacts.csv --list demo --db "$db"
echo "== broadside check --template templates/welcome.txt --list demo"
"$broadside" check --template templates/welcome.txt --list demo --db "$db"
echo "== broadside send --template templates/welcome.txt --list demo --campaign demo --smtp smtp://127.0.0.1:$port"
"$broadside" send --template templates/welcome.txt --list demo --campaign demo --smtp "smtp://127.0.0.1:$port" --db "$db"
echo "== broadside report demo"
"$broadside" report demo --db "$db"
"$broadside" report demo --format html --out "$work/report.html" --db "$db"
echo
echo "The same report as a page: $work/report.html (self-contained; open it in a browser)."
echo
echo "The server received $(wc -l < "$work/received.jsonl") messages (one JSON line each in $work/received.jsonl)."
