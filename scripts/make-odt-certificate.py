#!/usr/bin/env python3
"""Writes an OpenDocument (.odt) certificate the way LibreOffice writes its XML, for tests
and the example template.

usage: make-odt-certificate.py OUT.odt

It holds a {{ placeholder }} split over text:span elements with different styles, a
mail-merge database field (text:database-display), a user field (text:user-field-get),
an {% if %} paragraph, and a table row repeated per item.
"""
import sys
import zipfile

NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" office:version="1.3"')

CONTENT = f'''<?xml version="1.0" encoding="UTF-8"?>
<office:document-content {NS}><office:automatic-styles>
<style:style style:name="T1" style:family="text"><style:text-properties fo:font-weight="bold"/></style:style>
<style:style style:name="T2" style:family="text"><style:text-properties fo:font-style="italic"/></style:style>
</office:automatic-styles><office:body><office:text>
<text:user-field-decls><text:user-field-decl office:value-type="string" office:string-value="" text:name="course"/></text:user-field-decls>
<text:h text:outline-level="1">Certificate</text:h>
<text:p>This certifies that <text:span text:style-name="T1">{{{{ first</text:span><text:span text:style-name="T2">_name }}}}</text:span> <text:database-display text:table-name="contacts" text:table-type="table" text:column-name="last_name" text:database-name="contacts">&lt;last_name&gt;</text:database-display></text:p>
<text:p>completed the course <text:user-field-get text:name="course">course</text:user-field-get>.</text:p>
<text:p>{{% if honours %}}</text:p>
<text:p>With honours.</text:p>
<text:p>{{% endif %}}</text:p>
<table:table table:name="Modules"><table:table-column/>
<table:table-row><table:table-cell office:value-type="string"><text:p>Module</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell office:value-type="string"><text:p>{{% for module in modules %}}{{{{ module }}}}{{% endfor %}}</text:p></table:table-cell></table:table-row>
</table:table>
</office:text></office:body></office:document-content>
'''

STYLES = f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-styles {NS}><office:styles/></office:document-styles>\n'

MANIFEST = '''<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
'''


def main():
    with zipfile.ZipFile(sys.argv[1], "w") as z:
        # The mimetype comes first and is stored, as the format requires.
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", CONTENT, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("styles.xml", STYLES, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", MANIFEST, compress_type=zipfile.ZIP_DEFLATED)


if __name__ == "__main__":
    main()
