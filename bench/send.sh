#!/usr/bin/env bash
# Delivery benchmarks (issue 5), release build, all against servers on loopback:
#  1. throughput: 20,000 recipients, a 2 KB template with 3 fields, 8 connections, no rate
#     limit, the whole pipeline with SQLite recording, into Postfix's smtp-sink; beside
#     Postfix's own smtp-source and the Python mailmerge tool (PyPI) on the same sink.
#     Targets: at least 0.4 x smtp-source, at least 10 x mailmerge.
#  2. rate accuracy: --rate 200/s for 10 s, timestamps taken at the sink (the scriptable
#     aiosmtpd server): within 3% of 200/s, no 1-second window over the limit + burst.
#  3. memory: peak RSS while sending 200,000 messages (target at most 100 MB), beside 50,000.
set -euo pipefail
broadside=$1
work=$(mktemp -d)
sink_pid=""
server_pid=""
cleanup() {
    [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])"; }
rate() { echo "$1 / $2" | bc -l; }

# The same list and template for every tool: 3 fields, about 2 KB rendered.
/usr/bin/python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
def write_list(path, n):
    with open(path, "w") as f:
        f.write("email,first_name,city\n")
        for i in range(n):
            f.write(f"user{i}@example{i % 50}.com,Name{i},City{i % 7}\n")
write_list(f"{work}/20k.csv", 20000)
write_list(f"{work}/2k.csv", 2000)
write_list(f"{work}/50k.csv", 50000)
write_list(f"{work}/200k.csv", 200000)
body = "".join(f"Line {n} of the newsletter body, long enough to look like real prose for a reader.\n" for n in range(22))
for name, to in (("broadside.txt", "{{ first_name }} <{{ email }}>"), ("mailmerge.txt", "{{ email }}")):
    with open(f"{work}/{name}", "w") as f:
        f.write(f"TO: {to}\nFROM: Bench <bench@example.com>\nSUBJECT: Hello {{{{ first_name }}}} from {{{{ city }}}}\n\nDear {{{{ first_name }}}},\n{body}")
PY

echo "== throughput: 20,000 messages of about 2 KB, 8 connections, into smtp-sink"
port=$(free_port)
smtp-sink -u nobody -c "127.0.0.1:$port" 1000 > /dev/null 2>&1 &
sink_pid=$!
sleep 0.5

start=$(date +%s.%N)
smtp-source -d -s 8 -m 20000 -l 2048 -f bench@example.com -t user@example.com "127.0.0.1:$port"
source_rate=$(rate 20000 "$(echo "$(date +%s.%N) - $start" | bc -l)")

"$broadside" import "$work/20k.csv" --list bench --db "$work/b.sqlite" > /dev/null
start=$(date +%s.%N)
"$broadside" send --template "$work/broadside.txt" --list bench --campaign bench --smtp "smtp://127.0.0.1:$port" \
    --connections 8 --db "$work/b.sqlite" --json > "$work/send.json"
broadside_rate=$(rate 20000 "$(echo "$(date +%s.%N) - $start" | bc -l)")
grep -q '"accepted":20000' "$work/send.json" || { echo "broadside did not send every message: $(cat "$work/send.json")"; exit 1; }

if true; then
    /usr/bin/python3 -m venv "$work/venv" > /dev/null
    "$work/venv/bin/pip" install -q mailmerge > /dev/null
    mailmerge="$work/venv/bin/mailmerge"
fi
printf '[smtp_server]\nhost = 127.0.0.1\nport = %s\n' "$port" > "$work/mailmerge.conf"
start=$(date +%s.%N)
"$mailmerge" --template "$work/mailmerge.txt" --database "$work/20k.csv" --config "$work/mailmerge.conf" \
    --no-dry-run --no-limit --output-format raw > /dev/null
mailmerge_rate=$(rate 20000 "$(echo "$(date +%s.%N) - $start" | bc -l)")

printf '  %-44s %8.0f messages/s\n' "Postfix smtp-source (reference)" "$source_rate"
printf '  %-44s %8.0f messages/s   %.2f x smtp-source (target 0.40)\n' "broadside (render, MIME, SQLite, libcurl)" "$broadside_rate" "$(rate "$broadside_rate" "$source_rate")"
printf '  %-44s %8.0f messages/s   broadside is %.1f x mailmerge (target 10)\n' "Python mailmerge (PyPI)" "$mailmerge_rate" "$(rate "$broadside_rate" "$mailmerge_rate")"

echo "== rate accuracy: --rate 200/s for 10 s, timestamps at the sink"
/usr/bin/python3 scripts/smtp-test-server.py --record "$work/received.jsonl" > "$work/server.out" 2>/dev/null &
server_pid=$!
for _ in $(seq 50); do grep -q '^PORT' "$work/server.out" 2>/dev/null && break; sleep 0.1; done
server_port=$(awk '/^PORT/ {print $2}' "$work/server.out")
"$broadside" import "$work/2k.csv" --list rate --db "$work/r.sqlite" > /dev/null
"$broadside" send --template "$work/broadside.txt" --list rate --campaign rate --smtp "smtp://127.0.0.1:$server_port" \
    --connections 4 --rate 200/s --db "$work/r.sqlite" --json > /dev/null
/usr/bin/python3 - "$work/received.jsonl" <<'PY'
import json, sys
times = sorted(json.loads(line)["at"] for line in open(sys.argv[1]))
achieved = (len(times) - 1) / (times[-1] - times[0])
worst, j = 0, 0
for i, t in enumerate(times):
    while times[j] <= t - 1.0:
        j += 1
    worst = max(worst, i - j + 1)
print(f"  {len(times)} messages in {times[-1] - times[0]:.2f} s: {achieved:.1f}/s, {abs(achieved - 200) / 2:.1f}% from 200/s (target within 3%)")
print(f"  busiest 1-second window at the sink: {worst} messages (limit 200 + burst 1)")
PY

echo "== memory: peak RSS while sending into smtp-sink"
for n in 50k 200k; do
    "$broadside" import "$work/$n.csv" --list "m$n" --db "$work/m$n.sqlite" > /dev/null
    /usr/bin/time -f "%M %e" -o "$work/time" "$broadside" send --template "$work/broadside.txt" --list "m$n" --campaign m \
        --smtp "smtp://127.0.0.1:$port" --connections 8 --db "$work/m$n.sqlite" --json > "$work/m.json"
    read -r rss wall < "$work/time"
    printf '  %-8s messages: peak RSS %4d MB (target at most 100 MB), %.1f s\n' "$n" $((rss / 1024)) "$wall"
done
