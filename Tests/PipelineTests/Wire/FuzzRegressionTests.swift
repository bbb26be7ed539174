// FuzzRegressionTests: inputs the fuzzer (or a reading of the code it prompted) found, each with what it broke.

import Pipeline
import SwiftletTestSupport
import Testing

@Suite struct FuzzRegressionTests {
    /// A name with a repeated label (`nsec3.nsec3.example.`) made the encoder compare against the name it was still
    /// writing and read past its buffer.
    @Test func repeatedLabelEncodes() throws {
        let bytes = hex("3132a8000001000000000000056e73656333056e73656333076578616d706c650000060001")
        let message = try Message(wire: bytes)
        #expect(try Message(wire: message.wire) == message)
        #expect(message.questions[0].name == name("nsec3.nsec3.example."))
    }

    /// A CAA tag of non-alphanumeric octets decoded but could not be printed back: the wire decoder now applies the
    /// same rule as the presentation parser (RFC 8659 §4.1).
    @Test func caaTagMustBeAlphanumeric() {
        let bytes = hex(
            "313281800001000100020001056361613031076578616d706c650001010001c00c010100010000000000200005297373756563612e657861938f93a32e6e65743b20706f6c6963793d6576c01200020001000000000006036e7334c012c01200020001000000000006036e7332c0120000291000000000000000"
        )
        #expect(throws: WireError.invalidRData(offset: 43, type: .caa, reason: .caaTag)) { try Message(wire: bytes) }
    }

    /// DS with an empty digest prints as `… 65 49 ` and must parse back to the same empty digest.
    @Test func emptyTrailingBinaryFieldsRoundTrip() throws {
        let bytes = hex(
            "31322800000100030000000006757064617465036e696c00000600010161c00c002b2c0084000000000449504131c01c0001000100000000000449504132c01c0001000100000000000449504133"
        )
        let message = try Message(wire: bytes)
        for record in message.answers { #expect(try Record(record.description) == record) }
        #expect(
            try Record("a.example. 300 IN DS 1 13 2").rdata
                == .ds(DS(keyTag: 1, algorithm: 13, digestType: 2, digest: []))
        )
    }

    /// SVCB `mandatory` keys must be strictly increasing on the wire (RFC 9460 §8); out of order they could not
    /// round-trip through presentation (which sorts).
    @Test func svcbMandatoryKeysMustAscend() {
        let bytes = hex("000081800000000100000000000040000100000000000b0001000000000400030001")
        #expect(throws: WireError.invalidRData(offset: 26, type: .svcb, reason: .svcParamValue(key: 0))) {
            try Message(wire: bytes)
        }
    }
}
