import Testing
@testable import Templates

private func render(_ source: String, _ fields: [String: String], escaping: Escaping = .none) throws -> String {
    try Template(source, file: "t.txt").render(MergeRecord(fields), escaping: escaping)
}

@Suite("Template language")
struct TemplateTests {
    @Test func printsFieldsByNameCaseInsensitively() throws {
        #expect(try render("Hello {{ first_name }}!", ["First Name": "Ada"]) == "Hello Ada!")
        #expect(try render("{{姓名}}", ["姓名": "王磊"]) == "王磊")
    }

    @Test func defaultFillsEmptyAndMissingValuesInBothSyntaxes() throws {
        #expect(try render(#"{{ name | default: "friend" }}"#, ["name": ""]) == "friend")
        #expect(try render(#"{{ name | default("friend") }}"#, [:]) == "friend")
        #expect(try render(#"{{ name | default: "friend" }}"#, ["name": "Ada"]) == "Ada")
    }

    @Test func appliesFilters() throws {
        #expect(try render("{{ n | upper }} {{ n | lower }} {{ t | title }} {{ s | trim }}", ["n": "Ada", "t": "ada LOVELACE", "s": "  x  "]) == "ADA ada Ada Lovelace x")
        #expect(try render("{{ a | number: 2 }} {{ b | number }}", ["a": "1234.5", "b": "-1234567"]) == "1,234.50 -1,234,567")
        #expect(try render(#"{{ d | date: "%d %B %Y" }}"#, ["d": "2026-03-09"]) == "09 March 2026")
        #expect(try render(#"{{ x | replace: "-", "/" }}"#, ["x": "a-b-c"]) == "a/b/c")
    }

    @Test func choosesTheFirstTrueBranch() throws {
        let source = #"{% if plan == "pro" %}P{% elif plan %}O{% else %}N{% endif %}"#
        #expect(try render(source, ["plan": "pro"]) == "P")
        #expect(try render(source, ["plan": "team"]) == "O")
        #expect(try render(source, ["plan": ""]) == "N")
        #expect(try render("{% if a and not b %}y{% endif %}", ["a": "1", "b": ""]) == "y")
        #expect(try render("{% if a or b %}y{% endif %}", ["a": "", "b": ""]) == "")
    }

    @Test func loopsOverTheItemsOfAField() throws {
        #expect(try render("{% for item in items %}[{{ item }}]{% endfor %}", ["items": "a; b;c"]) == "[a][b][c]")
    }

    @Test func dropsCommentsAndHonoursWhitespaceControl() throws {
        #expect(try render("a {# note #}b", [:]) == "a b")
        #expect(try render("a\n  {%- if x %}X{% endif -%}\n  b", ["x": "1"]) == "aXb")
    }

    @Test func escapesValuesNotTemplateTextInHTML() throws {
        #expect(try render("<b>{{ n }}</b>", ["n": "<script>alert(1)</script> & \"q\""], escaping: .html)
                == "<b>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;</b>")
    }

    @Test func strictCheckNamesTheFieldItsPlaceAndTheColumns() throws {
        let template = try Template("Hi\n  {{ frist_name }}", file: "welcome.txt")
        do {
            try template.checkFields(against: ["email", "first_name"])
            Issue.record("a misspelled field must be refused")
        } catch {
            #expect(error.location == SourceLocation(file: "welcome.txt", line: 2, column: 6))
            #expect(error.message.contains("frist_name"))
            #expect(error.message.contains("email, first_name"))
        }
    }

    @Test func defaultMakesAFieldOptional() throws {
        try Template(#"{{ nickname | default: "x" }}"#, file: "t").checkFields(against: ["email"])
        try Template("{% for i in items %}{{ i }}{% endfor %}", file: "t").checkFields(against: ["items"])
    }

    @Test(arguments: [
        ("{{ name", "never closed"), ("{% if x %}a", "never closed"), ("{% endif %}", "no opening tag"),
        ("{{ x | shout }}", "unknown filter 'shout'"), ("{% while x %}", "unknown tag"), (#"{{ x | default }}"#, "takes 1"),
        (#"{{ "open }}"#, "never closed"),
    ])
    func refusesBrokenTemplatesWithAReason(source: String, reason: String) {
        do {
            _ = try Template(source, file: "t")
            Issue.record("'\(source)' must not compile")
        } catch {
            #expect(error.message.contains(reason), "\(error)")
        }
    }
}

@Suite("Message template file")
struct MessageTemplateTests {
    @Test func splitsHeadersFromTheBodyAndKeepsAttachmentsOut() throws {
        let source = "From: News <news@example.com>\r\nSubject: Hi {{ name }}\r\nAttachment: {{ invoice }}\r\nAttachment: terms.pdf\r\nContent-Type: text/html\r\n\r\n<p>Dear {{ name }}</p>\r\n"
        let template = try MessageTemplate(source: source, file: "t.eml")
        #expect(template.headers.map(\.name) == ["From", "Subject"])
        #expect(template.attachments.count == 2)
        #expect(template.format == .html)
        #expect(try template.body.render(MergeRecord(["name": "Ada"])) == "<p>Dear Ada</p>\n")
    }

    @Test func locatesFieldsInHeadersByLineAndColumn() throws {
        let template = try MessageTemplate(source: "From: a@example.com\nSubject: Hi {{ nmae }}\n\nbody", file: "t.eml")
        #expect(throws: TemplateError.self) { try template.checkFields(against: ["name"]) }
        do { try template.checkFields(against: ["name"]) } catch {
            #expect(error.location.line == 2)
            #expect(error.location.column == 16)
        }
    }

    @Test func foldedHeaderLinesAreJoined() throws {
        let template = try MessageTemplate(source: "From: a@example.com\nSubject: one\n two\n\nbody", file: "t")
        #expect(try template.headers[1].value.render(MergeRecord([:])) == "one two")
    }

    @Test func requiresAFromHeader() {
        #expect(throws: TemplateError.self) { _ = try MessageTemplate(source: "Subject: x\n\nbody", file: "t") }
    }
}

@Suite("Dates as spreadsheets write them")
struct DateFilterTests {
    @Test(arguments: ["2026-11-30", "2026/11/30", "30.11.2026", "20261130", "46356", "46356.75", "2026-11-30T09:15:00", "2026/11/30 09:15"])
    func readsTheDatesSpreadsheetsWrite(_ value: String) throws {
        #expect(try render(#"{{ d | date: "%d %B %Y" }}"#, ["d": value]) == "30 November 2026")
    }

    /// `11/30/2026` is month/day in one country and nonsense in another: its format is given.
    @Test func aSlashedDateNeedsItsInputFormat() throws {
        #expect(try render(#"{{ d | date: "%d %B %Y", "%m/%d/%Y" }}"#, ["d": "11/30/2026"]) == "30 November 2026")
        #expect(try render(#"{{ d | date("%e %b %y", "%d/%m/%Y") }}"#, ["d": "30/11/2026"]) == "30 Nov 26")
        do {
            _ = try render(#"{{ d | date: "%d %B %Y" }}"#, ["d": "11/30/2026"])
            Issue.record("an ambiguous date must be refused")
        } catch {
            #expect("\(error)".contains("day/month or month/day") && "\(error)".contains("%m/%d/%Y"), "\(error)")
        }
    }

    @Test(arguments: ["30 Nov", "2026-02-30", "31.04.2026", "tomorrow"])
    func saysWhichValueItCouldNotRead(_ value: String) {
        do {
            _ = try render(#"{{ d | date: "%d %B %Y" }}"#, ["d": value])
            Issue.record("'\(value)' must be refused")
        } catch {
            #expect("\(error)".contains("'\(value)'"), "\(error)")
        }
    }
}
