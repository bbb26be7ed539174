// ParseZoneFile: the libFuzzer target for the zone-file parser (Sources/Pipeline/Wire/ZoneFile.swift). Built by
// Fuzz/run.sh from this file, against Sources/Pipeline built as the module `Pipeline` (as in the package, so only
// Pipeline's public API is used, as the zone and recursive plugins do).
//
// For every input (UTF-8, invalid sequences replaced), parsed as the zone example.org. from `fuzz/zone.db`:
//  1. `ZoneFile.parse` does not crash. `$INCLUDE` reads the input itself again (at most `maxIncludes` times an
//     input, then "no such file"), so includes, nesting and loop detection run too.
//  2. An error is a `ZoneFileError` (the type system says so) at line ≥ 1 and column ≥ 1, naming the zone's path or
//     one that `$INCLUDE` asked for.
//  3. Every record returned encodes: a message with it as the answer encodes, or throws `EncodingError`; when it
//     encodes, the bytes decode back to that record.
//  4. Its presentation line (`record.description`) parses back with `Record(_:)` to an equal record.
//
// A property that fails calls `fatalError` with what differed, so libFuzzer saves the input as a crash artifact.

import Pipeline

let zonePath = "fuzz/zone.db"
let zoneOrigin: DomainName = "example.org."
/// `readFile` calls allowed per input: enough for nesting and loops, few enough that a file including itself twice
/// a level cannot make 2^10 copies.
let maxIncludes = 4
/// Records checked per input (the first and last half of them): `$GENERATE` can make 65,536 of one shape.
let maxCheckedRecords = 512

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)
    let text = String(decoding: bytes, as: UTF8.self)
    // Both ways a zone gets its TTL: from the file only, or with the plugin's default behind it.
    checkZone(text, defaultTTL: size % 2 == 0 ? 3600 : nil)
    return 0
}

struct NoSuchFile: Error {}

func checkZone(_ text: String, defaultTTL: UInt32?) {
    var requested: [String] = []
    let records: [Record]
    do {
        records = try ZoneFile.parse(
            text: text, path: zonePath, origin: zoneOrigin, defaultTTL: defaultTTL,
            readFile: { path in
                requested.append(path)
                guard requested.count <= maxIncludes, !path.hasSuffix("/missing") else { throw NoSuchFile() }
                return text
            })
    } catch {
        guard error.line >= 1, error.column >= 1 else { fail("error without a position: \(error)", text) }
        guard error.file == zonePath || requested.contains(error.file) else {
            fail("error names a file nobody read: \(error) (read: \(requested))", text)
        }
        _ = error.description
        return
    }
    if records.count <= maxCheckedRecords {
        for record in records { checkRecord(record, text) }
    } else {
        for record in records.prefix(maxCheckedRecords / 2) { checkRecord(record, text) }
        for record in records.suffix(maxCheckedRecords / 2) { checkRecord(record, text) }
    }
}

func checkRecord(_ record: Record, _ text: String) {
    // 3. On the wire and back.
    let message = Message(answers: [record])
    do {
        let encoded = try message.encode()
        if !encoded.truncated {
            let decoded: Message
            do {
                decoded = try Message(wire: encoded.bytes)
            } catch {
                fail("record encodes to a message that does not decode: \(error)\nrecord: \(record)", text)
            }
            guard decoded.answers == [record] else {
                fail(
                    "record does not survive the wire\nrecord:  \(record)\ndecoded: \(decoded.answers)\n"
                        + "rdata: \(hex(record.rdata.wireBytes))", text)
            }
        }
    } catch {
        // An EncodingError (typed throws): RDATA the wire cannot carry. Fine, as long as it was no trap.
        _ = error
    }
    // 4. Presentation and back.
    let line = record.description
    let reread: Record
    do {
        reread = try Record(line)
    } catch {
        fail("record line does not parse: \(error)\nline: \(line)", text)
    }
    guard reread == record else {
        fail(
            "record line parses to a different record\nline:      \(line)\nreprinted: \(reread)\n"
                + "rdata: \(hex(record.rdata.wireBytes)) vs \(hex(reread.rdata.wireBytes))", text)
    }
}

func fail(_ what: String, _ text: String) -> Never {
    fatalError("\n\(what)\nzone file (\(text.utf8.count) octets):\n\(text.prefix(2000))")
}

func hex(_ bytes: some Sequence<UInt8>) -> String { TextEncoding.base16(bytes) }
