// ZoneFileTests: master-file directives, inherited fields, $INCLUDE, $GENERATE and error positions.

import Foundation
import SwiftletTestSupport
import Testing

@testable import Pipeline

/// What the in-memory `readFile` of these tests throws for a path it does not hold.
private struct MissingFile: Error, CustomStringConvertible {
    var description: String { "no such file" }
}

/// One malformed zone and the exact error it must give.
struct ZoneFileErrorCase: Sendable, CustomStringConvertible {
    var description: String
    var text: String
    var line: Int
    var column: Int
    var message: String
}

@Suite struct ZoneFileTests {
    static let path = "zones/example.org.zone"
    /// Reads an included file from disk (the zone plugin's reader, with its own error words, is tested there).
    static let disk: @Sendable (String) throws -> String = { path in
        guard FileManager.default.fileExists(atPath: path) else { throw MissingFile() }
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    /// Parses `text` as the zone example.org. at `path`, with `files` as the only files `$INCLUDE` can read.
    func parse(
        _ text: String,
        origin: String = "example.org.",
        defaultTTL: UInt32? = nil,
        files: [String: String] = [:]
    ) throws(ZoneFileError) -> [Record] {
        try ZoneFile.parse(text: text, path: ZoneFileTests.path, origin: name(origin), defaultTTL: defaultTTL) {
            guard let text = files[$0] else { throw MissingFile() }
            return text
        }
    }

    func failure(_ line: Int, _ column: Int, _ message: String, file: String = ZoneFileTests.path) -> ZoneFileError {
        ZoneFileError(file: file, line: line, column: column, message: message)
    }

    // MARK: Directives

    @Test func originDirectiveSetsTheOriginRelativeToTheCurrentOne() throws {
        let records = try self.parse(
            """
            $TTL 300
            $ORIGIN example.net.
            www A 192.0.2.1
            $ORIGIN sub
            host A 192.0.2.2
            $origin example.org.
            @ A 192.0.2.3
            """
        )
        #expect(
            records == [
                rr("www.example.net. 300 IN A 192.0.2.1"),
                rr("host.sub.example.net. 300 IN A 192.0.2.2"),
                rr("example.org. 300 IN A 192.0.2.3"),
            ]
        )
    }

    @Test func ttlDirectiveAndRecordTTLsAcceptUnits() throws {
        let records = try self.parse(
            """
            $TTL 1h30m
            a A 192.0.2.1
            b 1w2d A 192.0.2.2
            c 2H IN A 192.0.2.3
            d IN 45s A 192.0.2.4
            """
        )
        #expect(records.map(\.ttl) == [5400, 777_600, 7200, 45])
    }

    @Test func ttlIsExplicitThenDollarTTLThenLastExplicitThenDefault() throws {
        let records = try self.parse(
            """
            a 120 A 192.0.2.1
            b A 192.0.2.2
            $TTL 600
            c A 192.0.2.3
            d 60 A 192.0.2.4
            e A 192.0.2.5
            """,
            defaultTTL: 900
        )
        #expect(records.map(\.ttl) == [120, 120, 600, 60, 600])
        let fallback = try self.parse("a A 192.0.2.1\nb 60 A 192.0.2.2\nc A 192.0.2.3\n", defaultTTL: 900)
        #expect(fallback.map(\.ttl) == [900, 60, 60])
    }

    @Test func ttlAndClassComeInEitherOrder() throws {
        let records = try self.parse(
            """
            a IN 300 A 192.0.2.1
            b 300 IN A 192.0.2.2
            c CLASS1 300 A 192.0.2.3
            d 300 A 192.0.2.4
            """
        )
        #expect(
            records == [
                rr("a.example.org. 300 IN A 192.0.2.1"), rr("b.example.org. 300 IN A 192.0.2.2"),
                rr("c.example.org. 300 IN A 192.0.2.3"), rr("d.example.org. 300 IN A 192.0.2.4"),
            ]
        )
    }

    // MARK: Names and inherited owners

    @Test func atRelativeAndAbsoluteNamesAndBlankOwners() throws {
        let records = try self.parse(
            """
            $TTL 300
            @ NS ns1
              NS ns2.example.net.
            www A 192.0.2.1
            \tAAAA 2001:db8::1
            mail.example.net. A 192.0.2.25
                MX 10 @
            alias CNAME www
            """
        )
        #expect(
            records.map(\.description) == [
                "example.org.\t300\tIN\tNS\tns1.example.org.",
                "example.org.\t300\tIN\tNS\tns2.example.net.",
                "www.example.org.\t300\tIN\tA\t192.0.2.1",
                "www.example.org.\t300\tIN\tAAAA\t2001:db8::1",
                "mail.example.net.\t300\tIN\tA\t192.0.2.25",
                "mail.example.net.\t300\tIN\tMX\t10 example.org.",
                "alias.example.org.\t300\tIN\tCNAME\twww.example.org.",
            ]
        )
    }

    @Test func decimalEscapesInNamesAndStrings() throws {
        let records = try self.parse(
            #"""
            $TTL 300
            a\046b A 192.0.2.1
            \065bc TXT "caf\195\169" "nul\000"
            """#
        )
        #expect(records.count == 2)
        #expect(
            records[0].name.labels.map { Array($0) } == [Array("a.b".utf8), Array("example".utf8), Array("org".utf8)]
        )
        #expect(records[0].description == "a\\.b.example.org.\t300\tIN\tA\t192.0.2.1")
        #expect(records[1].name.description == "Abc.example.org.")
        #expect(records[1].rdata == .txt([[0x63, 0x61, 0x66, 0xC3, 0xA9], [0x6E, 0x75, 0x6C, 0x00]]))
    }

    @Test func recordsOutsideTheOriginAreReturned() throws {
        let records = try self.parse("$TTL 300\nwww.example.net. A 192.0.2.1\n")
        #expect(records == [rr("www.example.net. 300 IN A 192.0.2.1")])
    }

    // MARK: Lexical forms

    @Test func parenthesesContinueAcrossLinesAndCommentsAreIgnored() throws {
        let records = try self.parse(
            """
            ; a whole-line comment
            $TTL 3600 ; after a directive
            @ IN SOA ns1 hostmaster ( ; after the parenthesis
                    2024010101 ; serial
                    2h         ; refresh
                    30m        ; retry
                    2w         ; expire
                    300 )      ; minimum

            www ( A
              192.0.2.1 ) ; closing
              A 192.0.2.2
            """
        )
        #expect(
            records == [
                rr(
                    "example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 2024010101 7200 1800 1209600 300"
                ),
                rr("www.example.org. 3600 IN A 192.0.2.1"),
                rr("www.example.org. 3600 IN A 192.0.2.2"),
            ]
        )
    }

    @Test func quotedStringsKeepBlanksSemicolonsParenthesesAndEscapes() throws {
        let records = try self.parse(
            #"""
            $TTL 300
            txt TXT "say \"hi\"" "semi;colon (paren)" "back\\slash" "tab\009" unquoted
            """#
        )
        let expected: [[UInt8]] = [
            Array(#"say "hi""#.utf8), Array("semi;colon (paren)".utf8), Array(#"back\slash"#.utf8),
            Array("tab\t".utf8), Array("unquoted".utf8),
        ]
        #expect(records == [Record(name: name("txt.example.org."), ttl: 300, rdata: .txt(expected))])
    }

    @Test func genericRDATAForUnknownAndKnownTypes() throws {
        let records = try self.parse(
            ##"""
            $TTL 300
            x TYPE65280 \# 4 0a000001
            y A \# 4 C0000201
            z TYPE65281 \# 0
            """##
        )
        #expect(
            records == [
                Record(name: name("x.example.org."), ttl: 300, rdata: .unknown(RecordType(65280), [0x0A, 0, 0, 1])),
                rr("y.example.org. 300 IN A 192.0.2.1"),
                Record(name: name("z.example.org."), ttl: 300, rdata: .unknown(RecordType(65281), [])),
            ]
        )
    }

    // MARK: $INCLUDE

    @Test func includeReadsRelativePathsWithItsOwnOriginAndLeaksNothingBack() throws {
        let files = [
            "zones/sub/hosts.inc": """
            $TTL 60
            host A 198.51.100.1
            $ORIGIN deeper.sub.example.org.
            x A 198.51.100.2
            $INCLUDE more.inc
            """,
            "zones/sub/more.inc": "m A 198.51.100.3\n",
            "zones/other.inc": "@ TXT \"included\"\n",
        ]
        let records = try self.parse(
            """
            $TTL 300
            www A 192.0.2.1
            $INCLUDE sub/hosts.inc sub
              A 192.0.2.2
            after A 192.0.2.3
            $INCLUDE "other.inc" ; comment
            """,
            files: files
        )
        #expect(
            records == [
                rr("www.example.org. 300 IN A 192.0.2.1"),
                rr("host.sub.example.org. 60 IN A 198.51.100.1"),
                rr("x.deeper.sub.example.org. 60 IN A 198.51.100.2"),
                rr("m.deeper.sub.example.org. 60 IN A 198.51.100.3"),
                rr("www.example.org. 300 IN A 192.0.2.2"),
                rr("after.example.org. 300 IN A 192.0.2.3"),
                rr("example.org. 300 IN TXT \"included\""),
            ]
        )
    }

    @Test func includeReadsFilesFromDiskRelativeToTheIncludingFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ZoneFileTests-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("sub"),
            withIntermediateDirectories: true
        )
        defer { try? FileManager.default.removeItem(at: directory) }
        try "$TTL 300\nhost A 192.0.2.7\n".write(
            to: directory.appendingPathComponent("sub/hosts.inc"),
            atomically: true,
            encoding: .utf8
        )
        let path = directory.path + "/example.org.zone"
        let records = try ZoneFile.parse(text: "$INCLUDE sub/hosts.inc\n", path: path, origin: name("example.org."), readFile: ZoneFileTests.disk)
        #expect(records == [rr("host.example.org. 300 IN A 192.0.2.7")])
        #expect(
            throws: self.failure(
                1,
                10,
                "cannot read '\(directory.path)/missing.inc': no such file",
                file: path
            )
        ) {
            try ZoneFile.parse(text: "$INCLUDE missing.inc\n", path: path, origin: name("example.org."), readFile: ZoneFileTests.disk)
        }
    }

    @Test func includePathsAreRelativeToTheIncludingFilesDirectory() {
        #expect(ZoneFile.resolve("sub/x.inc", relativeTo: "zones/example.org.zone") == "zones/sub/x.inc")
        #expect(ZoneFile.resolve("x.inc", relativeTo: "example.org.zone") == "x.inc")
        #expect(ZoneFile.resolve("/etc/x.inc", relativeTo: "zones/example.org.zone") == "/etc/x.inc")
        #expect(ZoneFile.resolve("./x.inc", relativeTo: "/srv//zones/a.zone") == "/srv/zones/x.inc")
        #expect(ZoneFile.resolve("../x.inc", relativeTo: "zones/a.zone") == "zones/../x.inc")
    }

    @Test func includeLoopIsRejected() {
        let files = ["zones/a.inc": "$TTL 300\n$INCLUDE example.org.zone\n", "zones/self.inc": "$INCLUDE self.inc\n"]
        #expect(
            throws: self.failure(
                2,
                10,
                "$INCLUDE loop: zones/example.org.zone -> zones/a.inc -> zones/example.org.zone",
                file: "zones/a.inc"
            )
        ) {
            try self.parse("$INCLUDE a.inc\n", files: files)
        }
        #expect(throws: self.failure(1, 10, "$INCLUDE loop: zones/self.inc -> zones/self.inc", file: "zones/self.inc"))
        {
            try self.parse("$INCLUDE self.inc\n", files: files)
        }
    }

    @Test func includeNestingIsLimitedToTenFiles() {
        var files: [String: String] = [:]
        for level in 1...12 { files["zones/f\(level).inc"] = "$INCLUDE f\(level + 1).inc\n" }
        #expect(throws: self.failure(1, 10, "$INCLUDE nested more than 10 files deep", file: "zones/f10.inc")) {
            try self.parse("$INCLUDE f1.inc\n", files: files)
        }
    }

    @Test func includeOfAMissingFileNamesItAndTheDirective() {
        #expect(throws: self.failure(2, 10, "cannot read 'zones/missing.inc': no such file")) {
            try self.parse("$TTL 300\n$INCLUDE missing.inc\n")
        }
    }

    @Test func errorsInsideAnIncludeNameTheIncludedFile() {
        let files = [
            "zones/bad.inc": "$TTL 300\nok A 192.0.2.1\nbad A 192.0.2\n", "zones/blank.inc": "  A 192.0.2.1\n",
        ]
        #expect(throws: self.failure(3, 7, "bad IPv4 address '192.0.2'", file: "zones/bad.inc")) {
            try self.parse("$INCLUDE bad.inc\n", files: files)
        }
        // An included file starts without a previous owner, as in BIND.
        #expect(
            throws: self.failure(
                1,
                1,
                "line starts with a blank but no owner name came before it",
                file: "zones/blank.inc"
            )
        ) {
            try self.parse("$TTL 300\nwww A 192.0.2.1\n$INCLUDE blank.inc\n", files: files)
        }
    }

    // MARK: $GENERATE

    @Test func generateReplacesDollarWithTheIterator() throws {
        let records = try self.parse(
            """
            $TTL 300
            www A 192.0.2.100
            $GENERATE 1-3 host$ A 192.0.2.$
              A 192.0.2.101
            """
        )
        #expect(
            records == [
                rr("www.example.org. 300 IN A 192.0.2.100"),
                rr("host1.example.org. 300 IN A 192.0.2.1"),
                rr("host2.example.org. 300 IN A 192.0.2.2"),
                rr("host3.example.org. 300 IN A 192.0.2.3"),
                rr("www.example.org. 300 IN A 192.0.2.101"),
            ]
        )
    }

    @Test func generateModifiersOffsetWidthAndBase() throws {
        let records = try self.parse(
            #"""
            $TTL 300
            $GENERATE 1-2 a${10,3,d} A 192.0.2.$
            $GENERATE 10-11 b${0,2,x} A 192.0.2.${0,0,d}
            $GENERATE 10-10 c${0,2,X}-${8,3,o} TXT "v$"
            $GENERATE 0-4/2 d$ 60 IN A 192.0.2.${1}
            $GENERATE 1024-1024 ${0,3,n} AAAA 2001:db8::${0,4,x}
            $GENERATE 1-1 f${-1} A 192.0.2.$
            $GENERATE 7-7 price\$$ TXT "\$$$$"
            """#
        )
        #expect(
            records.map(\.description) == [
                "a011.example.org.\t300\tIN\tA\t192.0.2.1",
                "a012.example.org.\t300\tIN\tA\t192.0.2.2",
                "b0a.example.org.\t300\tIN\tA\t192.0.2.10",
                "b0b.example.org.\t300\tIN\tA\t192.0.2.11",
                "c0A-022.example.org.\t300\tIN\tTXT\t\"v10\"",
                "d0.example.org.\t60\tIN\tA\t192.0.2.1",
                "d2.example.org.\t60\tIN\tA\t192.0.2.3",
                "d4.example.org.\t60\tIN\tA\t192.0.2.5",
                "0.0.4.example.org.\t300\tIN\tAAAA\t2001:db8::400",
                "f0.example.org.\t300\tIN\tA\t192.0.2.1",
                "price\\$7.example.org.\t300\tIN\tTXT\t\"$$7\"",
            ]
        )
    }

    @Test func generateNibbleModeFollowsBIND() {
        let nibbles = { (value: Int, width: Int) in
            String(decoding: ZoneFile.GenerateTemplate.nibbles(value, width: width, uppercase: false), as: UTF8.self)
        }
        #expect(nibbles(0x4A1, 0) == "1.a.4")
        #expect(nibbles(0x4A1, 5) == "1.a.4")
        #expect(nibbles(0x4A1, 7) == "1.a.4.0")
        #expect(nibbles(0, 0) == "0")
        #expect(nibbles(0, 4) == "0.0.")
        #expect(
            String(decoding: ZoneFile.GenerateTemplate.nibbles(0xAB, width: 0, uppercase: true), as: UTF8.self) == "B.A"
        )
    }

    @Test func generateSplitsAQuotedRhsAndAcceptsSeveralRhsTokens() throws {
        let records = try self.parse(
            """
            $TTL 300
            $GENERATE 1-2 @ MX "1$ mx$"
            $GENERATE 1-2 @ MX 2$ mx$
            """
        )
        #expect(
            records == [
                rr("example.org. 300 IN MX 11 mx1.example.org."),
                rr("example.org. 300 IN MX 12 mx2.example.org."),
                rr("example.org. 300 IN MX 21 mx1.example.org."),
                rr("example.org. 300 IN MX 22 mx2.example.org."),
            ]
        )
    }

    @Test func generateRejectsBadRangesModifiersAndValues() {
        #expect(throws: self.failure(1, 11, "bad $GENERATE range '3-1' (expected start-stop[/step])")) {
            try self.parse("$GENERATE 3-1 h$ A 192.0.2.$\n")
        }
        #expect(throws: self.failure(1, 11, "bad $GENERATE range '1-3/0' (expected start-stop[/step])")) {
            try self.parse("$GENERATE 1-3/0 h$ A 192.0.2.$\n")
        }
        #expect(throws: self.failure(1, 11, "$GENERATE range '0-65536' makes 65537 records (at most 65536)")) {
            try self.parse("$GENERATE 0-65536 h$ A 192.0.2.1\n")
        }
        #expect(
            throws: self.failure(
                1,
                15,
                "bad $GENERATE modifier in 'h${1,x}' (expected ${offset[,width[,base]]}, base one of doxXnN)"
            )
        ) {
            try self.parse("$GENERATE 1-2 h${1,x} A 192.0.2.1\n", defaultTTL: 300)
        }
        #expect(throws: self.failure(1, 15, "$GENERATE offset makes a negative value from 1 in 'h${-2}'")) {
            try self.parse("$GENERATE 1-2 h${-2} A 192.0.2.1\n", defaultTTL: 300)
        }
        #expect(throws: self.failure(2, 24, "bad IPv4 address '192.0.2.256'")) {
            try self.parse("$TTL 300\n$GENERATE 250-256 h$ A 192.0.2.$\n")
        }
    }

    // MARK: Errors

    static let errorCases: [ZoneFileErrorCase] = [
        // RDLENGTH is 16 bits: 300 strings of 255 octets take 76,800.
        ZoneFileErrorCase(
            description: "TXT longer than a record can carry",
            text: "$TTL 300\nwww TXT " + String(repeating: "\"" + String(repeating: "a", count: 255) + "\" ", count: 300)
                + "\n",
            line: 2,
            column: 5,
            message: "TXT RDATA of 76800 octets is longer than a record can carry (65535)"
        ),
        ZoneFileErrorCase(
            description: "RFC 3597 RDATA longer than a record can carry",
            text: "$TTL 300\nwww TYPE65280 \\# 70000 " + String(repeating: "ab", count: 70000) + "\n",
            line: 2,
            column: 5,
            message: "TYPE65280 RDATA of 70000 octets is longer than a record can carry (65535)"
        ),
        ZoneFileErrorCase(
            description: "SVCB longer than a record can carry",
            text: "$TTL 300\nsvc HTTPS 1 . key65000=\"" + String(repeating: "x", count: 66000) + "\"\n",
            line: 2,
            column: 5,
            message: "HTTPS RDATA of 66007 octets is longer than a record can carry (65535)"
        ),
        ZoneFileErrorCase(
            description: "bad address",
            text: "$TTL 300\nwww A 192.0.2\n",
            line: 2,
            column: 7,
            message: "bad IPv4 address '192.0.2'"
        ),
        ZoneFileErrorCase(
            description: "unknown type",
            text: "$TTL 300\nwww IN FOO 1\n",
            line: 2,
            column: 8,
            message: "unknown record type 'FOO'"
        ),
        ZoneFileErrorCase(
            description: "missing TTL",
            text: "www IN A 192.0.2.1\n",
            line: 1,
            column: 5,
            message: "no TTL given and no $TTL"
        ),
        ZoneFileErrorCase(
            description: "unknown directive",
            text: "$TTL 300\n$FOO bar\n",
            line: 2,
            column: 1,
            message: "unknown directive '$FOO'"
        ),
        ZoneFileErrorCase(
            description: "blank owner on the first record",
            text: "$TTL 300\n  A 192.0.2.1\n",
            line: 2,
            column: 1,
            message: "line starts with a blank but no owner name came before it"
        ),
        ZoneFileErrorCase(
            description: "class other than IN",
            text: "$TTL 300\nwww CH A 192.0.2.1\n",
            line: 2,
            column: 5,
            message: "class CH is not supported (only IN is served)"
        ),
        ZoneFileErrorCase(
            description: "unclosed parenthesis",
            text: "$TTL 300\n@ SOA ns1 host (\n 1 2 3 4 5\n",
            line: 2,
            column: 16,
            message: "unbalanced parentheses"
        ),
        ZoneFileErrorCase(
            description: "unopened parenthesis",
            text: "$TTL 300\nwww A 192.0.2.1 )\n",
            line: 2,
            column: 17,
            message: "unbalanced parentheses"
        ),
        ZoneFileErrorCase(
            description: "unterminated quote",
            text: "$TTL 300\nt TXT \"open\n",
            line: 2,
            column: 7,
            message: "unterminated quoted string"
        ),
        ZoneFileErrorCase(
            description: "missing RDATA",
            text: "$TTL 300\nwww A\n",
            line: 2,
            column: 6,
            message: "expected IPv4 address"
        ),
        ZoneFileErrorCase(
            description: "missing type",
            text: "$TTL 300\nwww\n",
            line: 2,
            column: 4,
            message: "expected record type"
        ),
        ZoneFileErrorCase(
            description: "meta type",
            text: "$TTL 300\nx OPT \\# 0\n",
            line: 2,
            column: 3,
            message: "type OPT is a meta type and cannot be in a zone file"
        ),
        ZoneFileErrorCase(
            description: "bad $TTL",
            text: "$TTL 1x\n",
            line: 1,
            column: 6,
            message: "bad TTL '1x'"
        ),
        ZoneFileErrorCase(
            description: "bad record TTL",
            text: "x 5q A 192.0.2.1\n",
            line: 1,
            column: 3,
            message: "bad TTL '5q'"
        ),
        ZoneFileErrorCase(
            description: "$ORIGIN without a name",
            text: "$ORIGIN\n",
            line: 1,
            column: 8,
            message: "expected domain name after $ORIGIN"
        ),
        ZoneFileErrorCase(
            description: "$ORIGIN with extra text",
            text: "$ORIGIN a. b.\n",
            line: 1,
            column: 12,
            message: "unexpected text 'b.'"
        ),
        ZoneFileErrorCase(
            description: "generic length mismatch",
            text: "$TTL 300\nx TYPE65280 \\# 3 0a00\n",
            line: 2,
            column: 18,
            message: "\\# length 3 does not match 2 octets of data"
        ),
    ]

    @Test(arguments: ZoneFileTests.errorCases)
    func malformedZoneGivesExactError(_ row: ZoneFileErrorCase) {
        #expect(throws: self.failure(row.line, row.column, row.message)) { try self.parse(row.text) }
    }

    @Test func errorDescriptionIsFileLineColumnMessage() {
        let error = self.failure(12, 21, "bad IPv4 address '192.0.2'")
        #expect(error.description == "zones/example.org.zone:12:21: bad IPv4 address '192.0.2'")
    }

    // MARK: Fixture

    @Test func fixtureZoneParses() throws {
        let url = fixturesDirectory.appendingPathComponent("zones/example.org.zone")
        let text = try String(contentsOf: url, encoding: .utf8)
        let records = try ZoneFile.parse(text: text, path: url.path, origin: name("example.org."), readFile: ZoneFileTests.disk)
        #expect(records.count == 64)
        #expect(
            records.first
                == rr(
                    "example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 2024010101 7200 3600 1209600 300"
                )
        )
        #expect(records.last == rr("ns.sub.example.org. 3600 IN AAAA 2001:db8::54"))
        #expect(records.filter { $0.type == .dnskey }.map(\.ttl) == [7200, 7200])
        #expect(
            records.contains(
                rr(
                    "_443._tcp.www.example.org. 3600 IN TLSA 3 1 1 "
                        + "3da96c6ab5552c39a217cdeb4761a207b1db4e429a7266f1f76eccca74149105"
                )
            )
        )
        #expect(
            records.contains(
                rr(#"example.org. 3600 IN TXT "first string" "say \"hi\"" "back\\slash" "caf\195\169" "bin\000\255""#)
            )
        )
        #expect(
            records.contains(
                Record(name: name("example.org."), ttl: 3600, rdata: .unknown(RecordType(65280), [0x0A, 0, 0, 1]))
            )
        )
        #expect(records.contains(rr("*.wild.example.org. 3600 IN A 192.0.2.99")))
    }
}
