#!/usr/bin/python3
"""Writes the import fixtures: real-world CSV quirks, in their real encodings. Run from this folder."""

def write(name, text, encoding="utf-8", bom=b""):
    with open(name, "wb") as f:
        f.write(bom + text.encode(encoding))

# Excel (German locale): BOM, semicolons, CRLF, decimal commas.
write("excel-de-bom-semicolon.csv",
      "E-Mail;Vorname;Nachname;Stadt;Betrag\r\n"
      "jürgen@example.de;Jürgen;Müller;Köln;1,50\r\n"
      "anna.schmidt@example.de;Anna;Schmidt;München;12,00\r\n"
      "\"lena@example.at\";Lena;\"Gruber; Jr.\";Wien;3,75\r\n"
      "max@example.ch;Max;Weiß;Zürich;0,99\r\n", bom=b"\xef\xbb\xbf")

# Google Sheets: UTF-8 without BOM, CRLF, quotes only where needed, a blank address.
write("google-sheets.csv",
      "Email Address,Name,Company,Notes\r\n"
      "ada@example.com,Ada Lovelace,\"Analytical Engines, Ltd\",\"said \"\"hello\"\"\"\r\n"
      "grace@example.org,Grace Hopper,Navy,\r\n"
      ",No Address,Nowhere,missing\r\n"
      "alan@example.net,Alan Turing,Bletchley,\r\n"
      "katherine@example.com,Katherine Johnson,NASA,\r\n")

# Outlook contacts export: every field quoted, Windows-1252, a contact without an address.
write("outlook-contacts.csv",
      "\"First Name\",\"Middle Name\",\"Last Name\",\"Company\",\"E-mail Address\",\"E-mail 2 Address\",\"Business Phone\"\r\n"
      "\"José\",\"\",\"García\",\"Café Olé\",\"jose@example.es\",\"\",\"+34 600 000 000\"\r\n"
      "\"Zoë\",\"\",\"Brontë\",\"\",\"zoe@example.co.uk\",\"zoe.b@example.co.uk\",\"\"\r\n"
      "\"Nobody\",\"\",\"Known\",\"\",\"\",\"\",\"\"\r\n", encoding="cp1252")

# Chinese Excel: GB18030 (a superset of GBK), Chinese headers and names.
write("gb18030-chinese.csv",
      "邮箱,姓名,城市\r\n"
      "wang.lei@example.cn,王磊,北京\r\n"
      "li.na@example.cn,李娜,上海\r\n"
      "zhang.wei@example.cn,张伟,广州\r\n", encoding="gb18030")

# Excel "Unicode text": UTF-16 LE with BOM, tabs.
write("excel-unicode-text.txt",
      "email\tname\tcity\r\n"
      "wang@example.cn\t王磊\t北京\r\n"
      "sato@example.jp\t佐藤\t東京\r\n"
      "kim@example.kr\t김\t서울\r\n", encoding="utf-16-le", bom=b"\xff\xfe")

# Quoted multi-line postal addresses; the bad address starts on line 7 and must be reported so.
write("multiline-addresses.csv",
      "email,name,postal_address\n"
      "ada@example.com,Ada,\"12 St James's Square\nLondon\nSW1Y 4JH\"\n"
      "grace@example.org,Grace,\"1 Navy Way\nArlington, VA\"\n"
      "not-an-address,Bob,\"nowhere\"\n"
      "alan@example.net,Alan,\"Bletchley Park\nMilton Keynes\"\n")

# Ragged rows: too few and too many fields.
write("ragged.csv",
      "email,first_name,last_name\n"
      "a@example.com,A,Alpha\n"
      "b@example.com,B\n"
      "c@example.com,C,Gamma,extra\n"
      "d@example.com,D,Delta\n")

# The same mailbox written four ways: one contact, three duplicates.
write("duplicates-case.csv",
      "email,name\n"
      "Ada.Lovelace@Example.com,Ada\n"
      "ada.lovelace@example.COM,Ada again\n"
      "ADA.LOVELACE@EXAMPLE.COM,ADA\n"
      " ada.lovelace@example.com ,Ada with spaces\n"
      "grace@example.org,Grace\n")

# Internationalised domains and a non-ASCII local part (needs SMTPUTF8).
write("idn.csv",
      "email,name\n"
      "info@bücher.example,Bücher\n"
      "info@xn--bcher-kva.example,Same mailbox in A-labels\n"
      "用户@例子.中国,Chinese local part\n"
      "kontakt@müller.de,Müller\n")
