#!/usr/bin/python3
"""The reference: the straightforward Python import of the same CSV (csv module, sqlite3,
one transaction, an upsert per row) — what a script written for the job does."""
import csv
import re
import sqlite3
import sys
import time

path, db = sys.argv[1], sys.argv[2]
valid = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
start = time.time()
con = sqlite3.connect(db)
con.execute("PRAGMA journal_mode=WAL")
con.execute("PRAGMA synchronous=NORMAL")
con.execute("CREATE TABLE IF NOT EXISTS contacts (id INTEGER PRIMARY KEY, address TEXT UNIQUE, fields TEXT)")
rows = rejected = 0
with open(path, newline="", encoding="utf-8-sig") as f, con:
    reader = csv.DictReader(f)
    for row in reader:
        rows += 1
        email = row["email"].strip()
        if not valid.match(email):
            rejected += 1
            continue
        con.execute("INSERT INTO contacts (address, fields) VALUES (?, ?) ON CONFLICT(address) DO UPDATE SET fields = excluded.fields",
                    (email.lower(), repr(row)))
con.close()
print(f"{rows} {time.time() - start:.2f}")
