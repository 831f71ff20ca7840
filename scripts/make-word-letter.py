#!/usr/bin/env python3
"""Writes a .docx letter the way Word writes its XML, for tests and the example template.

usage: make-word-letter.py OUT.docx [--pages N] [--plain]

--plain writes a letter with ten {{ placeholders }} only (for the benchmark beside
python-docx-template, which reads no Word merge fields).

What Word does and this reproduces:
- a {{ placeholder }} typed once but stored over three runs with different formatting,
  a w:proofErr and a bookmark between them;
- a complex MERGEFIELD (w:fldChar begin / w:instrText / separate / result / end) with its
  instruction split over two w:instrText runs, and a w:fldSimple MERGEFIELD with a switch;
- an IF field with a nested MERGEFIELD;
- a header with a field, a table whose row repeats per item, and the mail-merge data
  source link in settings.xml that Word keeps for a main document.
"""
import sys
import zipfile

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" ' \
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def run(text, props=""):
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<w:r w:rsidR="00A1B2C3">{"<w:rPr>" + props + "</w:rPr>" if props else ""}<w:t{space}>{text}</w:t></w:r>'


def para(*runs, style=None):
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f'<w:p w:rsidR="00A1B2C3" w:rsidRDefault="00A1B2C3">{ppr}{"".join(runs)}</w:p>'


def complex_field(instruction_parts, result, props="<w:b/>"):
    begin = '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
    instr = "".join(f'<w:r><w:instrText xml:space="preserve">{p}</w:instrText></w:r>' for p in instruction_parts)
    sep = '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
    res = f'<w:r><w:rPr>{props}</w:rPr><w:t>{result}</w:t></w:r>'
    end = '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    return begin + instr + sep + res + end


def if_field():
    # IF { MERGEFIELD plan } = "pro" "Thank you for choosing Pro." "Have a look at Pro."
    return ('<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
            '<w:r><w:instrText xml:space="preserve"> IF </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
            '<w:r><w:instrText xml:space="preserve"> MERGEFIELD plan </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
            '<w:r><w:t>«plan»</w:t></w:r>'
            '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
            '<w:r><w:instrText xml:space="preserve"> = "pro" "Thank you for choosing Pro." "Have a look at Pro." </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
            '<w:r><w:t>Have a look at Pro.</w:t></w:r>'
            '<w:r><w:fldChar w:fldCharType="end"/></w:r>')


def document(pages):
    body = [
        para(run("Dear "),
             # {{ first_name }} over three runs: "{{ fir" bold, proofErr, "st_na" italic, bookmark, "me }}" plain
             run("{{ fir", "<w:b/>"), '<w:proofErr w:type="spellStart"/>', run("st_na", "<w:i/>"),
             '<w:proofErr w:type="spellEnd"/><w:bookmarkStart w:id="0" w:name="n"/><w:bookmarkEnd w:id="0"/>',
             run("me }}"), run(",")),
        para(run("Your customer number is "),
             complex_field([" MERGEFIELD  customer", "_id \\* MERGEFORMAT "], "«customer_id»"), run(".")),
        para(run("We will write to you at "),
             '<w:fldSimple w:instr=" MERGEFIELD city \\* Upper "><w:r><w:rPr><w:i/></w:rPr><w:t>«city»</w:t></w:r></w:fldSimple>',
             run(".")),
        para(if_field()),
        para(run("{% if vip %}")),
        para(run("As a valued member you get early access.")),
        para(run("{% endif %}")),
        '<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tblGrid><w:gridCol w:w="4000"/></w:tblGrid>'
        '<w:tr><w:tc><w:tcPr><w:tcW w:w="4000" w:type="dxa"/></w:tcPr>' + para(run("Item")) + '</w:tc></w:tr>'
        '<w:tr><w:tc><w:tcPr><w:tcW w:w="4000" w:type="dxa"/></w:tcPr>'
        + para(run("{% for item in items %}"), run("{{ item }}", "<w:b/>"), run("{% endfor %}")) + '</w:tc></w:tr></w:tbl>',
        para(run("Address: {{ address }}")),
        # Switches: a date picture, a number picture, text before a value that is there.
        para(run("Joined "), complex_field([" MERGEFIELD joined \\@ \"d MMMM yyyy\" "], "«joined»", ""),
             run(", balance "), complex_field([" MERGEFIELD balance \\# \"#,##0.00\" "], "«balance»", ""),
             complex_field([' MERGEFIELD note \\b " – note: " '], "«note»", ""), run(".")),
        # A text box (drawing), with a field in its own paragraphs.
        para('<w:r><w:lastRenderedPageBreak/><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml" style="width:200pt;height:40pt">'
             '<v:textbox><w:txbxContent>' + para(run("Box for {{ city }}")) + '</w:txbxContent></v:textbox></v:shape></w:pict></w:r>'),
        para(run("Kind regards,")),
        para(run("The Broadside team"), '<w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr><w:footnoteReference w:id="1"/></w:r>'),
    ]
    filler = "This letter is long enough to run over more than one page, as a real letter does. " * 6
    for page in range(1, pages):
        body.append('<w:p><w:r><w:br w:type="page"/></w:r></w:p>')
        for _ in range(12):
            body.append(para(run(filler)))
    sect = ('<w:sectPr><w:headerReference w:type="default" r:id="rIdHeader"/><w:footerReference w:type="default" r:id="rIdFooter"/>'
            '<w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" '
            'w:header="708" w:footer="708" w:gutter="0"/></w:sectPr>')
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document {W}><w:body>{"".join(body)}{sect}</w:body></w:document>'


FOOTER = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:ftr {W}>'
          + para(run("Customer "), run("{{ custo"), '<w:proofErr w:type="gramStart"/>', run("mer_id }}", "<w:i/>")) + '</w:ftr>')

FOOTNOTES = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:footnotes {W}>'
             '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
             '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>'
             '<w:footnote w:id="1">' + para(run("Written for {{ first"), run("_name }} on request.")) + '</w:footnote></w:footnotes>')

HEADER = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:hdr {W}>'
          + para(run("Letter for "), complex_field([" MERGEFIELD last_name "], "«last_name»", "")) + '</w:hdr>')

SETTINGS = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:settings {W}>'
            '<w:zoom w:percent="100"/><w:mailMerge><w:mainDocumentType w:val="formLetters"/>'
            '<w:dataType w:val="textFile"/><w:query w:val="SELECT * FROM contacts.csv"/>'
            '<w:dataSource r:id="rIdSource"/></w:mailMerge><w:defaultTabStop w:val="708"/></w:settings>')

STYLES = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:styles {W}>'
          '<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Liberation Serif" w:hAnsi="Liberation Serif"/>'
          '<w:sz w:val="24"/></w:rPr></w:rPrDefault></w:docDefaults>'
          '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style></w:styles>')

CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                 '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 '<Default Extension="xml" ContentType="application/xml"/>'
                 '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                 '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>'
                 '<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>'
                 '<Override PartName="/word/header1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/>'
                 '<Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/>'
                 '<Override PartName="/word/footnotes.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/>'
                 '</Types>')

RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
        '</Relationships>')

DOC_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            '<Relationship Id="rIdSettings" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/>'
            '<Relationship Id="rIdHeader" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Target="header1.xml"/>'
            '<Relationship Id="rIdFooter" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer1.xml"/>'
            '<Relationship Id="rIdFootnotes" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes" Target="footnotes.xml"/>'
            '</Relationships>')

SETTINGS_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rIdSource" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/mailMergeSource" '
                 'Target="file:///C:/contacts.csv" TargetMode="External"/></Relationships>')


def plain_document(pages):
    """Ten {{ placeholders }} and nothing Word-specific: what python-docx-template reads too."""
    body = [
        para(run("{{ company }}")), para(run("{{ street }}")), para(run("{{ zip }} {{ city }}")), para(run("{{ country }}")),
        para(run("{{ date }}")),
        para(run("Dear "), run("{{ first_name }}", "<w:b/>"), run(" "), run("{{ last_name }}"), run(",")),
        para(run("Your customer number is {{ customer_id }} and your plan is {{ plan }}.")),
    ]
    filler = "This letter is long enough to run over more than one page, as a real letter does. " * 6
    for page in range(pages):
        if page:
            body.append('<w:p><w:r><w:br w:type="page"/></w:r></w:p>')
        for _ in range(10):
            body.append(para(run(filler)))
    body.append(para(run("Kind regards,")))
    sect = ('<w:sectPr><w:headerReference w:type="default" r:id="rIdHeader"/><w:pgSz w:w="11906" w:h="16838"/>'
            '<w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="708" w:footer="708" w:gutter="0"/></w:sectPr>')
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document {W}><w:body>{"".join(body)}{sect}</w:body></w:document>'


def main():
    out = sys.argv[1]
    pages = int(sys.argv[sys.argv.index("--pages") + 1]) if "--pages" in sys.argv else 1
    plain = "--plain" in sys.argv
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS)
        z.writestr("word/document.xml", plain_document(pages) if plain else document(pages))
        z.writestr("word/_rels/document.xml.rels", DOC_RELS)
        z.writestr("word/styles.xml", STYLES)
        z.writestr("word/settings.xml", SETTINGS)
        z.writestr("word/_rels/settings.xml.rels", SETTINGS_RELS)
        z.writestr("word/header1.xml", HEADER)
        z.writestr("word/footer1.xml", FOOTER)
        z.writestr("word/footnotes.xml", FOOTNOTES)


if __name__ == "__main__":
    main()
