// MalformedPacketTests: each kind of broken packet gives its own WireError at the right offset, never a trap.

import Pipeline
import SwiftletTestSupport
import Testing

@Suite struct MalformedPacketTests {
    /// ID 1, RD, one question, no records.
    static let queryHeader = "0001 0100 0001 0000 0000 0000"
    /// `a.org. IN A`
    static let question = "01 61 03 6f 72 67 00 0001 0001"
    /// A response header with one question and one answer.
    static let answerHeader = "0001 8400 0001 0001 0000 0000"

    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var packet: String
        var error: WireError
    }

    static let cases: [Case] = [
        Case(
            description: "truncated header",
            packet: "0001 0100 00",
            error: .truncated(offset: 4, needed: 2, available: 1)
        ),
        Case(description: "empty packet", packet: "", error: .truncated(offset: 0, needed: 2, available: 0)),
        Case(
            description: "label of 64 octets",
            packet: queryHeader + "40" + String(repeating: "61", count: 64) + "00 0001 0001",
            error: .labelTooLong(offset: 12, length: 64)
        ),
        Case(
            description: "name over 255 octets",
            packet: queryHeader + String(repeating: "3f" + String(repeating: "61", count: 63), count: 4)
                + "00 0001 0001",
            error: .nameTooLong(offset: 12 + 192)
        ),
        Case(
            description: "pointer into itself",
            packet: queryHeader + "c00c 0001 0001",
            error: .pointerNotBackward(offset: 12, target: 12)
        ),
        Case(
            description: "forward pointer",
            packet: queryHeader + "c020 0001 0001" + String(repeating: "00", count: 24),
            error: .pointerNotBackward(offset: 12, target: 32)
        ),
        Case(
            description: "pointer loop through a label",
            packet: queryHeader + "01 61 c00c 0001 0001",
            error: .pointerNotBackward(offset: 14, target: 12)
        ),
        Case(
            description: "pointer cut by RDLENGTH",
            packet: answerHeader + question + "c00c 0002 0001 00000e10 0001 c0",
            error: .truncated(offset: 35, needed: 2, available: 1)
        ),
        Case(
            description: "question count beyond the packet",
            packet: "0001 0100 00ff 0000 0000 0000" + question,
            error: .countBeyondPacket(section: .question, count: 255, offset: 12)
        ),
        Case(
            description: "answer count beyond the packet",
            packet: "0001 8400 0000 0064 0000 0000" + "00 0001 0001 00000000 0000",
            error: .countBeyondPacket(section: .answer, count: 100, offset: 12)
        ),
        Case(
            description: "RDLENGTH beyond the packet",
            packet: answerHeader + question + "c00c 0001 0001 00000e10 0008 c0000201",
            error: .truncated(offset: 35, needed: 8, available: 4)
        ),
        Case(
            description: "A RDATA longer than an address",
            packet: answerHeader + question + "c00c 0001 0001 00000e10 0005 c000020100",
            error: .rdataLengthMismatch(offset: 35, type: .a, rdlength: 5, consumed: 4)
        ),
        Case(
            description: "MX RDATA shorter than its fields",
            packet: answerHeader + question + "c00c 000f 0001 00000e10 0001 00",
            error: .truncated(offset: 35, needed: 2, available: 1)
        ),
        Case(
            description: "name in RDATA runs past RDLENGTH",
            packet: answerHeader + question + "c00c 0002 0001 00000e10 0002 0161 00",
            error: .truncated(offset: 37, needed: 1, available: 0)
        ),
        Case(
            description: "OPT in the answer section",
            packet: answerHeader + question + "00 0029 04d0 00000000 0000",
            error: .badOPTPlacement(offset: 23)
        ),
        Case(
            description: "two OPT records",
            packet: "0001 0100 0001 0000 0000 0002" + question + "00 0029 04d0 00000000 0000"
                + "00 0029 04d0 00000000 0000",
            error: .badOPTPlacement(offset: 34)
        ),
        Case(
            description: "OPT not owned by the root",
            packet: "0001 0100 0001 0000 0000 0001" + question + "c00c 0029 04d0 00000000 0000",
            error: .badOPTPlacement(offset: 23)
        ),
        Case(
            description: "cookie option of 5 octets",
            packet: "0001 0100 0001 0000 0000 0001" + question + "00 0029 04d0 00000000 0009 000a 0005 0102030405",
            error: .invalidEDNSOption(offset: 34, code: 10)
        ),
        Case(
            description: "EDNS option overrunning OPT",
            packet: "0001 0100 0001 0000 0000 0001" + question + "00 0029 04d0 00000000 0004 000a 0008",
            error: .invalidEDNSOption(offset: 34, code: 10)
        ),
        Case(
            description: "trailing octets",
            packet: queryHeader + question + "ff",
            error: .trailingBytes(offset: 23, count: 1)
        ),
        Case(
            description: "empty TXT RDATA",
            packet: answerHeader + question + "c00c 0010 0001 00000e10 0000",
            error: .invalidRData(offset: 35, type: .txt, reason: .emptyTXT)
        ),
        Case(
            description: "SVCB keys out of order",
            packet: answerHeader + question + "c00c 0040 0001 00000e10 000d 0001 00 0003 0002 01bb 0001 0000",
            error: .svcOrder
        ),
    ]

    @Test(arguments: MalformedPacketTests.cases)
    func malformedPacketGivesItsError(_ row: Case) {
        let bytes = hex(row.packet)
        #expect(throws: row.error) { try Message(wire: bytes) }
    }

    @Test func everyPrefixOfAGoldenPacketIsRejectedWithoutTrapping() throws {
        for fixture in packetFixtures(prefix: "response-knot-") {
            for length in 0..<fixture.bytes.count {
                #expect(throws: WireError.self) { try Message(wire: Array(fixture.bytes[0..<length])) }
            }
        }
    }

    @Test func singleOctetCorruptionsNeverTrap() throws {
        // Set each octet of a few packets to the values that mean something in a header, a count or a name (zero,
        // one, the longest label, the first reserved label type, a pointer, all ones): the result is a message or a
        // WireError. The fuzz target tries every other corruption.
        var decoded = 0
        var rejected = 0
        for fixture in packetFixtures(prefix: "response-knot-").prefix(8) {
            for index in fixture.bytes.indices {
                for value in [0x00, 0x01, 0x3F, 0x40, 0xC0, 0xFF] {
                    var bytes = fixture.bytes
                    bytes[index] = UInt8(value)
                    do {
                        _ = try Message(wire: bytes)
                        decoded += 1
                    } catch {
                        rejected += 1
                    }
                }
            }
        }
        #expect(decoded > 0 && rejected > 0)
    }
}

extension WireError {
    /// The SVCB case above: the key 3 record (port) comes before key 1 (alpn) at offset 44.
    static let svcOrder = WireError.invalidRData(offset: 44, type: .svcb, reason: .svcParamKeysNotAscending)
}
