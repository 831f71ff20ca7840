#!/usr/bin/env bash
# A distant relay (issue 16): 1,000 messages through a loopback proxy that delays every
# chunk by 10 ms each way, with 8 connections, beside Postfix's smtp-source through the
# same proxy with the same connections; then the connections each would need to reach
# 1,000 messages/s. libcurl pipelines nothing, so a message costs about four round trips.
set -euo pipefail
broadside=$1
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
free_port() { /usr/bin/python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1]);s.close()"; }
wait_for() { for _ in $(seq 100); do /usr/bin/python3 -c "import socket,sys;socket.create_connection(('127.0.0.1',int(sys.argv[1])),1)" "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "nothing listens on $1" >&2; exit 3; }
messages=${LATENCY_BENCH_MESSAGES:-1000}
connections=8
delay_ms=10

sink=$(free_port)
smtp-sink -u nobody "127.0.0.1:$sink" 1000 & pids+=($!); disown
proxy=$(free_port)
/usr/bin/python3 - "$proxy" "$sink" "$delay_ms" <<'PY' & pids+=($!); disown
# Every chunk reaches the other side delay_ms after it left, in order, in both directions.
import asyncio, sys
listen, target, delay = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) / 1000
async def pipe(reader, writer):
    queue = asyncio.Queue()
    async def later():
        while True:
            due, data = await queue.get()
            if data is None:
                writer.close(); return
            await asyncio.sleep(max(0, due - asyncio.get_running_loop().time()))
            writer.write(data); await writer.drain()
    task = asyncio.create_task(later())
    while True:
        data = await reader.read(65536)
        await queue.put((asyncio.get_running_loop().time() + delay, data or None))
        if not data: break
    await task
async def handle(client_reader, client_writer):
    server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
    await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer), return_exceptions=True)
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with server: await server.serve_forever()
asyncio.run(main())
PY
wait_for "$sink"; wait_for "$proxy"

/usr/bin/python3 -c "
import sys
with open(sys.argv[1], 'w') as f:
    f.write('email,first_name\n')
    for i in range($messages): f.write(f'user{i}@example{i % 50}.com,Name{i}\n')
" "$work/list.csv"
body=$(/usr/bin/python3 -c "print(''.join(f'Line {n} of the newsletter body, long enough to look like real prose for a reader.\n' for n in range(22)))")
printf 'From: News <news@example.com>\nTo: {{ first_name }} <{{ email }}>\nSubject: Hello {{ first_name }}\n\n%s\n' "$body" > "$work/t.txt"
"$broadside" import "$work/list.csv" --list l --db "$work/b.sqlite" > /dev/null

echo "latency: $messages messages of 2 KB, $connections connections, through a proxy adding ${delay_ms} ms each way (20 ms a round trip)"
start=$(date +%s.%N)
smtp-source -d -s "$connections" -m "$messages" -l 2048 -f news@example.com -t user@example.com "127.0.0.1:$proxy" > /dev/null
source_s=$(echo "$(date +%s.%N) - $start" | bc -l)
start=$(date +%s.%N)
"$broadside" send --template "$work/t.txt" --list l --campaign c --smtp "smtp://127.0.0.1:$proxy" --connections "$connections" \
    --messages-per-connection 1000 --db "$work/b.sqlite" --json > "$work/send.json"
ours_s=$(echo "$(date +%s.%N) - $start" | bc -l)
accepted=$(/usr/bin/python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['accepted'])" "$work/send.json")
[ "$accepted" -eq "$messages" ] || { echo "  only $accepted of $messages accepted" >&2; exit 1; }
source_rate=$(echo "$messages / $source_s" | bc -l)
ours_rate=$(echo "$messages / $ours_s" | bc -l)
need() { /usr/bin/python3 -c "import math,sys;print(math.ceil(1000 / (float(sys.argv[1]) / $connections)))" "$1"; }
printf '  %-44s %7.1f messages/s, %5.1f a connection -> %s connections for 1,000/s\n' "smtp-source (reference)" "$source_rate" "$(echo "$source_rate / $connections" | bc -l)" "$(need "$source_rate")"
printf '  %-44s %7.1f messages/s, %5.1f a connection -> %s connections for 1,000/s  (%.2f x smtp-source)\n' "broadside send (whole pipeline, SQLite)" "$ours_rate" "$(echo "$ours_rate / $connections" | bc -l)" "$(need "$ours_rate")" "$(echo "$ours_rate / $source_rate" | bc -l)"
printf '  a round trip is %d ms: one connection can do at most %.1f messages/s at four round trips a message\n' "$((2 * delay_ms))" "$(echo "1000 / (4 * 2 * $delay_ms)" | bc -l)"
