// DomainNameSuffixTests: the suffix of a name by label count, and DNAME substitution (RFC 6672 §2.2).

import Pipeline
import SwiftletTestSupport
import Testing

@Suite struct DomainNameSuffixTests {
    @Test func suffixByLabels() {
        let full = name("a.b.Example.test.")
        #expect(full.suffix(labels: 0) == .root)
        #expect(full.suffix(labels: 1).description == "test.")
        #expect(full.suffix(labels: 2).description == "Example.test.")
        #expect(full.suffix(labels: 4) == full)
        #expect(full.suffix(labels: 9) == full)
    }

    @Test func dnameSubstitution() throws {
        let owner = name("old.example.")
        #expect(
            try name("www.x.old.example.").replacingSuffix(owner, with: name("new.test.")) == name("www.x.new.test.")
        )
        #expect(try name("www.other.example.").replacingSuffix(owner, with: name("new.test.")) == nil)
        let long = try DomainName(
            labels: (0..<3).map { _ in [UInt8](repeating: 0x61, count: 63) } + [
                Array("old".utf8), Array("example".utf8),
            ]
        )
        let target = try DomainName(labels: [[UInt8](repeating: 0x62, count: 60), Array("test".utf8)])
        #expect(throws: PresentationError.self) { try long.replacingSuffix(owner, with: target) }
    }
}
