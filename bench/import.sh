#!/usr/bin/env bash
# Import benchmark (issue 3): a generated 1,000,000-row, 6-column CSV into a new list,
# release build. Prints wall time, rows/s and peak RSS, beside a reference import of
# the same file by a plain Python script, and a 250,000-row run to show that memory
# does not grow with the file, and SQLite's own .import of the same file. Targets for
# 1,000,000 rows: at most 2.0 x the sqlite3 shell's time (#17) and 150 MB.
set -euo pipefail
broadside=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 bench/generate-contacts.py 1000000 "$work/1m.csv"
python3 bench/generate-contacts.py 250000 "$work/250k.csv"
echo "import: $(du -m "$work/1m.csv" | cut -f1) MB CSV of 1,000,000 rows, 6 columns"

run() { # FILE ROWS LABEL [TARGET]
    rm -f "$work"/b.sqlite*
    /usr/bin/time -f "%e %M" -o "$work/time" "$broadside" import "$1" --list bench --db "$work/b.sqlite" --json > "$work/out.json"
    read -r wall rss < "$work/time"
    grep -q "\"imported\":$2" "$work/out.json" || { echo "import did not import $2 rows: $(cat "$work/out.json")"; exit 1; }
    printf '  %-28s %6.2f s  %9.0f rows/s  peak RSS %4d MB%s\n' "$3" "$wall" "$(echo "$2 / $wall" | bc -l)" $((rss / 1024)) "${4:-}"
}
run "$work/250k.csv" 250000 "broadside, 250,000 rows"
run "$work/1m.csv" 1000000 "broadside, 1,000,000 rows" "   (target at most 150 MB)"

broadside_1m=$wall

rm -f "$work"/r.sqlite*
/usr/bin/time -f "%e %M" -o "$work/time" /usr/bin/python3 bench/reference-import.py "$work/1m.csv" "$work/r.sqlite" > /dev/null
read -r wall rss < "$work/time"
printf '  %-28s %6.2f s  %9.0f rows/s  peak RSS %4d MB\n' "Python csv+sqlite3 script" "$wall" "$(echo "1000000 / $wall" | bc -l)" $((rss / 1024))

# SQLite's own CSV import (C, no validation, no index, one plain table): the floor.
rm -f "$work"/s.sqlite*
/usr/bin/time -f "%e %M" -o "$work/time" sqlite3 "$work/s.sqlite" ".mode csv" ".import $work/1m.csv contacts"
read -r wall rss < "$work/time"
printf '  %-28s %6.2f s  %9.0f rows/s  peak RSS %4d MB\n' "sqlite3 shell .import" "$wall" "$(echo "1000000 / $wall" | bc -l)" $((rss / 1024))
printf '  broadside / sqlite3 .import: %.2f x   (target at most 2.0 x)\n' "$(echo "$broadside_1m / $wall" | bc -l)"

# Wide files (issue 18): time must grow with the number of columns, not with its square.
wide() { # COLUMNS
    python3 -c "
import sys
n = int(sys.argv[1])
print('email,' + ','.join('c%d' % i for i in range(n)))
for r in range(3): print('u%d@example.com,' % r + ','.join('v%d' % i for i in range(n)))
" "$1" > "$work/wide.csv"
    rm -f "$work"/w.sqlite*
    local start end
    start=$(date +%s.%N)
    "$broadside" import "$work/wide.csv" --list wide --db "$work/w.sqlite" > /dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}
w50=$(wide 50000)
w100=$(wide 100000)
printf '  %-28s %6.2f s\n  %-28s %6.2f s   %.1f x the time for 2 x the columns (target at most 3: linear)\n' \
    "3 rows of 50,000 columns" "$w50" "3 rows of 100,000 columns" "$w100" "$(echo "$w100 / $w50" | bc -l)"
