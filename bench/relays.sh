#!/usr/bin/env bash
# Several relays (issue 16), release build, against Postfix's smtp-sink on loopback:
# 20,000 messages of about 2 KB through one relay with 12 connections, and through a
# profile of 3 relays with 4 connections each (weights 1:1:1), the same sink behind every
# relay so that only Broadside's work differs. Three runs of each, alternated; the medians
# are compared. Target: 3 relays x 4 at least 0.9 x one relay x 12.
set -euo pipefail
broadside=$1
work=$(mktemp -d)
sink_pid=""
cleanup() {
    [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])"; }

/usr/bin/python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
with open(f"{work}/20k.csv", "w") as f:
    f.write("email,first_name,city\n")
    for i in range(20000):
        f.write(f"user{i}@example{i % 50}.com,Name{i},City{i % 7}\n")
body = "".join(f"Line {n} of the newsletter body, long enough to look like real prose for a reader.\n" for n in range(22))
with open(f"{work}/t.txt", "w") as f:
    f.write(f"To: {{{{ first_name }}}} <{{{{ email }}}}>\nFrom: Bench <bench@example.com>\nSubject: Hello {{{{ first_name }}}} from {{{{ city }}}}\n\nDear {{{{ first_name }}}},\n{body}")
PY

port=$(free_port)
smtp-sink -u nobody -c "127.0.0.1:$port" 1000 > /dev/null 2>&1 &
sink_pid=$!
sleep 0.5
cat > "$work/broadside.yaml" <<YAML
profiles:
  one:
    smtp: smtp://127.0.0.1:$port
    connections: 12
  tier:
    relays:
      - {name: a, smtp: "smtp://127.0.0.1:$port", connections: 4}
      - {name: b, smtp: "smtp://127.0.0.1:$port", connections: 4}
      - {name: c, smtp: "smtp://127.0.0.1:$port", connections: 4}
YAML

# One run: a fresh database, the whole pipeline; prints messages/s.
run() {
    local profile=$1 n=$2 db="$work/$1-$2.sqlite"
    "$broadside" import "$work/20k.csv" --list bench --db "$db" > /dev/null
    local start end
    start=$(date +%s.%N)
    "$broadside" send --template "$work/t.txt" --list bench --campaign bench --config "$work/broadside.yaml" --profile "$profile" \
        --db "$db" --json > "$work/send.json"
    end=$(date +%s.%N)
    grep -q '"accepted":20000' "$work/send.json" || { echo "not every message was sent: $(cat "$work/send.json")" >&2; exit 1; }
    echo "20000 / ($end - $start)" | bc -l
}

echo "== relays: 20,000 messages of about 2 KB into one smtp-sink, three runs each, alternated"
one=(); tier=()
for n in 1 2 3; do
    one+=("$(run one "$n")")
    tier+=("$(run tier "$n")")
done
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
one_median=$(median "${one[@]}")
tier_median=$(median "${tier[@]}")
printf '  one relay, 12 connections                     %8.0f messages/s (runs: %s)\n' "$one_median" "$(printf '%.0f ' "${one[@]}")"
printf '  3 relays x 4 connections (weights 1:1:1)      %8.0f messages/s (runs: %s)\n' "$tier_median" "$(printf '%.0f ' "${tier[@]}")"
printf '  3 relays are %.2f x one relay (target at least 0.9 x)\n' "$(echo "$tier_median / $one_median" | bc -l)"
