#!/usr/bin/env bash
# Render benchmark (issue 4), release build: a 3 KB text + HTML template with 5 fields,
# rendered and composed into MIME on one core, beside the same messages made the way
# the popular Python mail-merge tool does it (Jinja2, then Python's email package).
# Target: at least 50,000 messages per second.
set -euo pipefail
bench=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tpl"
/usr/bin/python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
para = "Our newsletter brings you the news of the month, with articles on mail, merge and the delivery of both. "
text = ("From: News <news@example.com>\nTo: {{ first_name }} {{ last_name }} <{{ email }}>\nSubject: {{ first_name }}, your {{ plan }} news from {{ city }}\n\n"
        "Dear {{ first_name }} {{ last_name }},\n\n" + (para + "\n") * 12 + "\nYour plan: {{ plan }}; your city: {{ city }}.\n")
html = "<html><body><h1>Dear {{ first_name }} {{ last_name }}</h1>\n" + ("<p>" + para + "</p>\n") * 12 + "<p>Your plan: <b>{{ plan }}</b>; your city: {{ city }}.</p></body></html>\n"
open(f"{work}/tpl/message.txt", "w").write(text)
open(f"{work}/tpl/message.html", "w").write(html)
PY
echo "render: $(cat "$work/tpl/message.txt" "$work/tpl/message.html" | wc -c) bytes of template, 5 fields, text + HTML, one core"
read -r rate seconds size < <("$bench" "$work/tpl" 200000)
/usr/bin/python3 - "$work" 20000 > "$work/python.txt" <<'PY'
import sys, time
from email.message import EmailMessage
from jinja2 import Environment
work, count = sys.argv[1], int(sys.argv[2])
source = open(f"{work}/tpl/message.txt").read()
head, body = source.split("\n\n", 1)
env = Environment(autoescape=False)
headers = [(line.split(":", 1)[0], env.from_string(line.split(":", 1)[1].strip())) for line in head.splitlines()]
text = env.from_string(body)
html = Environment(autoescape=True).from_string(open(f"{work}/tpl/message.html").read())
plans = ["free", "pro", "team"]
rows = [dict(email=f"user{i}@example{i % 97}.com", first_name=f"Name{i}", last_name=f"Surname{i}", city=f"City{i % 13}", plan=plans[i % 3]) for i in range(1000)]
start = time.time()
size = 0
for i in range(count):
    row = rows[i % 1000]
    message = EmailMessage()
    for name, template in headers:
        message[name] = template.render(**row)
    message.set_content(text.render(**row))
    message.add_alternative(html.render(**row), subtype="html")
    size += len(message.as_bytes())
elapsed = time.time() - start
print(f"{count / elapsed:.0f} {elapsed:.3f} {size // count}")
PY
read -r prate pseconds psize < "$work/python.txt"
printf '  %-40s %8.0f messages/s (target 50,000), %d bytes each\n' "broadside (template + MIME)" "$rate" "$size"
printf '  %-40s %8.0f messages/s, %d bytes each\n' "Jinja2 + Python email (reference)" "$prate" "$psize"
printf '  broadside is %.1f x the reference\n' "$(echo "$rate / $prate" | bc -l)"
