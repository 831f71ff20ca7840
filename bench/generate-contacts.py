#!/usr/bin/python3
"""Writes a recipients CSV of N rows and 6 columns (about 90 bytes a row): generate-contacts.py N FILE"""
import random
import sys

rows, path = int(sys.argv[1]), sys.argv[2]
random.seed(7)
first = ["Ada", "Grace", "Alan", "Katherine", "Margaret", "Dennis", "Barbara", "Edsger", "Radia", "Linus", "王", "李", "Zoë", "José"]
cities = ["London", "Paris", "北京", "São Paulo", "New York", "Zürich"]
with open(path, "w", encoding="utf-8", newline="") as f:
    f.write("email,first_name,last_name,company,city,plan\r\n")
    for i in range(rows):
        name = random.choice(first)
        local = name.lower() if name.isascii() else "x"
        f.write(f"user{i}.{local}@example{i % 500}.com,{name},Surname{i},\"Company {i % 1000}, Inc.\",{random.choice(cities)},{random.choice(['free', 'pro', 'team'])}\r\n")
