// Builders: records, queries and fixtures from text, for tests (CoreDNS test.A("…") style).

import Foundation
import Pipeline

/// A record from its presentation line; traps on invalid text (a bug in the test, not in the code under test).
public func rr(_ text: String, origin: DomainName? = nil) -> Record {
    do { return try Record(text, origin: origin) } catch { fatalError("bad record in test: \(text): \(error)") }
}

/// A name from text; traps on invalid text.
public func name(_ text: String) -> DomainName {
    do { return try DomainName(text) } catch { fatalError("bad name in test: \(text): \(error)") }
}

/// A query message for one question.
public func query(
    _ qname: String,
    _ type: RecordType,
    id: UInt16 = 0x1234,
    dnssecOK: Bool = false,
    edns: Bool = true
) -> Message {
    var ednsValue: EDNS? = nil
    if edns {
        ednsValue = EDNS()
        ednsValue!.dnssecOK = dnssecOK
    }
    return Message.query(name(qname), type, id: id, edns: ednsValue)
}

/// Octets from hex text; blanks and newlines are ignored.
public func hex(_ text: String) -> [UInt8] {
    let digits = text.filter { !$0.isWhitespace }
    guard let bytes = TextEncoding.base16Decode(digits) else { fatalError("bad hex in test: \(text)") }
    return bytes
}

/// The repository's `Tests/Fixtures` folder.
public let fixturesDirectory: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

/// A golden packet fixture: the comment line and the octets.
public struct PacketFixture: Sendable, CustomStringConvertible {
    public var name: String
    public var comment: String
    public var bytes: [UInt8]
    public var description: String { self.name }
}

/// Every `Tests/Fixtures/wire/*.hex` file whose name starts with `prefix`, sorted by name.
public func packetFixtures(prefix: String = "") -> [PacketFixture] {
    let folder = fixturesDirectory.appendingPathComponent("wire")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter { $0.hasSuffix(".hex") && $0.hasPrefix(prefix) }.sorted().map { file in
        let text = (try? String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)) ?? ""
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let comment = lines.first.map(String.init) ?? ""
        lines.removeFirst()
        return PacketFixture(
            name: String(file.dropLast(4)),
            comment: comment,
            bytes: hex(lines.joined())
        )
    }
}

/// A deterministic random number generator (SplitMix64) so property tests repeat exactly.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { self.state = seed }
    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `name type rdata` in lower case: a record without its TTL and class, for comparing answers.
public func brief(_ record: Record) -> String {
    let fields = record.description.split(separator: "\t")
    return "\(fields[0]) \(fields[3]) \(fields[4...].joined(separator: " "))".lowercased()
}

extension PluginOptions {
    /// These options with `change` made: `ACLOptions().with { $0.allow = ["127.0.0.0/8"] }`.
    public func with(_ change: (inout Self) -> Void) -> Self {
        var options = self
        change(&options)
        return options
    }
}
