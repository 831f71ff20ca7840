#!/usr/bin/env bash
# Document benchmark (#13), release build, each figure beside its reference in the same run:
# - DOCX: `broadside merge` fills a two-page letter with ten fields for 5,000 list members
#   on one core (taskset), beside python-docx-template (docxtpl, PyPI, in a venv) filling
#   the same letter. Target: at least 2,000 documents/s.
# - PDF: `broadside merge --pdf` (its pool of LibreOffice processes, one per core, each fed
#   a batch) beside `soffice --headless --convert-to pdf` run by hand on the same number of
#   documents with the same number of processes. Target: at least 0.8 x the reference.
set -euo pipefail
broadside=$1
work=$(mktemp -d)
# The filled DOCX go to a tmpfs where there is one: on this machine's ext4, creating
# thousands of files costs more than making them (inode allocation), the same for both
# sides, and would hide what is measured here.
out=$( [ -w /dev/shm ] && mktemp -d -p /dev/shm || mktemp -d )
trap 'rm -rf "$work" "$out"' EXIT
now() { date +%s.%N; }

/usr/bin/python3 scripts/make-word-letter.py "$work/letter.docx" --pages 2 --plain
/usr/bin/python3 -c "
print('email,first_name,last_name,customer_id,city,plan,company,street,zip,country,date')
for i in range(5000): print(f'u{i}@example.com,First{i},Last{i},C-{i},City{i},pro,Company {i},{i} Main St,{10000+i},France,2026-11-{(i%28)+1:02d}')
" > "$work/list.csv"
"$broadside" import "$work/list.csv" --list bench --db "$work/b.sqlite" > /dev/null
echo "documents: a two-page letter with 10 fields (DOCX written to $( [ -w /dev/shm ] && echo tmpfs || echo disk ))"

start=$(now)
taskset -c 0 "$broadside" merge --template "$work/letter.docx" --list bench --out "$out/docx" --db "$work/b.sqlite" > /dev/null
end=$(now)
ours=$(echo "5000 / ($end - $start)" | bc -l)
printf '  %-40s %8.0f documents/s  (target at least 2,000)\n' "broadside merge, 5,000 DOCX, one core" "$ours"

venv=.build/venv-docxtpl
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import docxtpl" 2>/dev/null; then
    python3 -m venv "$venv" && "$venv/bin/pip" install -q docxtpl
fi
cat > "$work/docxtpl-fill.py" <<'PY'
import csv, sys, time
from docxtpl import DocxTemplate
rows = list(csv.DictReader(open(sys.argv[2], encoding="utf-8")))[:int(sys.argv[4])]
start = time.time()
for i, row in enumerate(rows):
    doc = DocxTemplate(sys.argv[1])
    doc.render(row)
    doc.save(f"{sys.argv[3]}/letter-{i}.docx")
print(len(rows) / (time.time() - start))
PY
mkdir -p "$out/docxtpl"
theirs=$(taskset -c 0 "$venv/bin/python" "$work/docxtpl-fill.py" "$work/letter.docx" "$work/list.csv" "$out/docxtpl" 200)
printf '  %-40s %8.0f documents/s  -> broadside %.0f x\n' "python-docx-template, 200 DOCX, one core" "$theirs" "$(echo "$ours / $theirs" | bc -l)"

# PDF: the same 40 documents both ways, as many LibreOffice processes as cores.
cores=$(nproc)
docs=200
mkdir -p "$work/made" "$work/ref"
made=("$out"/docx/*.docx)
cp "${made[@]:0:$docs}" "$work/made/"
# Warm both sides' profiles first (a profile's first use costs several seconds).
"$broadside" merge --template "$work/letter.docx" --list bench --out "$work/warm" --pdf --limit "$cores" --db "$work/b.sqlite" > /dev/null
for p in $(seq 0 $((cores - 1))); do
    soffice -env:UserInstallation="file://$work/profile-$p" --headless --norestore --convert-to pdf --outdir "$work/warmref" "${made[0]}" > /dev/null 2>&1
done
start=$(now)
"$broadside" merge --template "$work/letter.docx" --list bench --out "$work/pdf" --pdf --limit $docs --db "$work/b.sqlite" > /dev/null
end=$(now)
ours=$(echo "$docs / ($end - $start)" | bc -l)
start=$(now)
files=("$work"/made/*.docx)
for p in $(seq 0 $((cores - 1))); do
    batch=()
    for ((i = p; i < ${#files[@]}; i += cores)); do batch+=("${files[$i]}"); done
    soffice -env:UserInstallation="file://$work/profile-$p" --headless --norestore --convert-to pdf --outdir "$work/ref" "${batch[@]}" > /dev/null 2>&1 &
done
wait
end=$(now)
theirs=$(echo "$docs / ($end - $start)" | bc -l)
[ "$(ls "$work/pdf" | wc -l)" = "$docs" ] && [ "$(ls "$work/ref" | wc -l)" = "$docs" ] || { echo "PDF count wrong"; exit 1; }
printf '  %-40s %8.1f documents/s\n' "broadside merge --pdf, $docs, $cores processes" "$ours"
printf '  %-40s %8.1f documents/s  -> broadside %.2f x (target at least 0.8)\n' "soffice --convert-to pdf, $cores processes" "$theirs" "$(echo "$ours / $theirs" | bc -l)"

# A campaign of 1,000 recipients, each with their own PDF letter, into Postfix's smtp-sink.
port=$(/usr/bin/python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
smtp-sink -u nobody -c "127.0.0.1:$port" 1000 > /dev/null 2>&1 & sink=$!
trap 'kill $sink 2>/dev/null; rm -rf "$work" "$out"' EXIT
sleep 0.5
/usr/bin/python3 -c "
print('email,first_name,last_name,customer_id,city,plan,company,street,zip,country,date')
for i in range(1000): print(f'p{i}@example.com,First{i},Last{i},C-{i},City{i},pro,Company {i},{i} Main St,{10000+i},France,2026-11-{(i%28)+1:02d}')
" > "$work/1k.csv"
"$broadside" import "$work/1k.csv" --list pdf --db "$work/c.sqlite" > /dev/null
cp "$work/letter.docx" "$work/campaign-letter.docx"
printf 'From: Office <office@example.com>\nSubject: Your letter, {{ first_name }}\nAttachment: campaign-letter.docx as "Letter {{ last_name }}.pdf"\n\nYour letter is attached.\n' > "$work/pdf.txt"
start=$(now)
"$broadside" send --template "$work/pdf.txt" --list pdf --campaign pdf --smtp "smtp://127.0.0.1:$port" \
    --connections 4 --db "$work/c.sqlite" --json > "$work/send.json" &
pid=$!
# Broadside's own peak (its high-water mark), apart from the LibreOffice processes it starts.
peak=0
while kill -0 $pid 2>/dev/null; do
    hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
    [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
    sleep 0.1
done
wait $pid
end=$(now)
echo "$peak" > "$work/rss"
grep -q '"accepted":1000' "$work/send.json" || { echo "the PDF campaign did not send 1,000: $(cat "$work/send.json")"; exit 1; }
total=$(echo "$end - $start" | bc -l)
# Overlap: the first message accepted long before the last PDF was made.
first=$(sqlite3 "$work/c.sqlite" "SELECT min(e.at) - c.started_at FROM events e JOIN campaigns c ON c.id = e.campaign_id WHERE e.state = 'accepted'")
printf '  %-40s %8.1f documents/s, %.1f messages/s, broadside peak RSS %d MB (target at most 200)\n' "campaign of 1,000 with a PDF each" \
    "$(echo "1000 / $total" | bc -l)" "$(echo "1000 / $total" | bc -l)" $(( $(cat "$work/rss") / 1024 ))
printf '  %-40s first message accepted %.1f s after the start, the last at %.1f s: sending overlapped conversion\n' "" "$first" "$total"
