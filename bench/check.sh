#!/usr/bin/env bash
# check benchmark (issue 12): `broadside check` renders every message of a 100,000-recipient
# list (text + HTML template, 6 fields, a guarded field) and reports problems; target at
# most 3 s. Beside it, Jinja2 alone rendering the same two parts for the same rows in
# Python (no MIME, no checks), measured in the same run.
set -euo pipefail
broadside=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/generate-contacts.py 100000 "$work/l.csv"
mkdir -p "$work/tpl"
para="Our newsletter brings you the news of the month, with articles on mail, merge and the delivery of both."
{
    printf 'From: News <news@example.com>\nTo: {{ first_name }} {{ last_name }} <{{ email }}>\nSubject: {{ first_name }}, your {{ plan }} news\n\n'
    printf 'Dear {{ first_name }} {{ last_name }},\n\n'
    for _ in $(seq 12); do printf '%s\n' "$para"; done
    printf '{%% if city %%}Readers in {{ city }}.{%% endif %%}\nYour plan: {{ plan }} at {{ company }}.\n'
} > "$work/tpl/message.txt"
{
    printf '<html><body><h1>Dear {{ first_name }} {{ last_name }}</h1>\n'
    for _ in $(seq 12); do printf '<p>%s</p>\n' "$para"; done
    printf '<p>{%% if city %%}Readers in {{ city }}.{%% endif %%} Your plan: <b>{{ plan }}</b>.</p></body></html>\n'
} > "$work/tpl/message.html"
"$broadside" import "$work/l.csv" --list bench --db "$work/b.sqlite" > /dev/null

start=$(date +%s.%N)
"$broadside" check --template "$work/tpl" --list bench --db "$work/b.sqlite" > "$work/check.txt" || true
end=$(date +%s.%N)
tail -1 "$work/check.txt" | grep -q "100000 messages checked" || { echo "check did not check 100,000 messages: $(tail -3 "$work/check.txt")"; exit 1; }
seconds=$(echo "$end - $start" | bc -l)

reference=$(/usr/bin/python3 - "$work" <<'PY'
import csv, sys, time
from jinja2 import Environment
work = sys.argv[1]
env = Environment(autoescape=False)
text = open(f"{work}/tpl/message.txt").read().split("\n\n", 1)[1]
html = Environment(autoescape=True).from_string(open(f"{work}/tpl/message.html").read())
text = env.from_string(text)
start = time.time()
with open(f"{work}/l.csv", encoding="utf-8", newline="") as f:
    for row in csv.DictReader(f):
        text.render(**row)
        html.render(**row)
print(time.time() - start)
PY
)
printf 'check: 100,000 recipients, text + HTML template\n'
printf '  broadside check (render, MIME, every rule)  %6.2f s   (target at most 3 s)\n' "$seconds"
printf '  Jinja2 rendering the two parts (reference)  %6.2f s   broadside takes %.2f x its time\n' "$reference" "$(echo "$seconds / $reference" | bc -l)"
