// DomainName: a domain name in uncompressed wire form, compared without regard to ASCII case.

/// A domain name (RFC 1034 §3.1) held as its uncompressed wire form: length-prefixed labels ending with the root's
/// zero octet.
///
/// - `==` and hashing ignore ASCII letter case (RFC 4343 §3); `isIdentical(to:)` compares exactly, for echoing a
///   client's own spelling.
/// - `<` is the canonical DNSSEC order (RFC 4034 §6.1).
/// - At most 255 octets in all and 63 per label (RFC 1035 §2.3.4); every initializer enforces this.
public struct DomainName: Sendable {
    /// The uncompressed wire form, ending with the zero-length root label.
    public private(set) var wire: [UInt8]

    /// Octets in a name's wire form, at most (RFC 1035 §2.3.4).
    public static let maxWireLength = 255
    /// Octets in one label, at most (RFC 1035 §2.3.4).
    public static let maxLabelLength = 63
    /// Compression pointers followed for one name, at most: a 255-octet name has at most 127 non-root labels, so a
    /// legal name never needs more pointers than that.
    public static let maxPointerHops = 127

    /// The root name `.`.
    public static let root = DomainName(uncheckedWire: [0])

    @usableFromInline init(uncheckedWire: [UInt8]) { self.wire = uncheckedWire }

    /// A name from uncompressed wire octets, validated.
    /// - Throws: `WireError` when a label or the name is too long, a pointer appears, or the root label is missing.
    public init(wire: [UInt8]) throws(WireError) {
        // The common case, a well-formed name, is checked in place and kept without copying; anything else goes
        // through the reader, which names the fault.
        var index = 0
        while index < wire.count && wire[index] != 0 && wire[index] <= UInt8(DomainName.maxLabelLength) {
            index += Int(wire[index]) + 1
        }
        if index == wire.count - 1 && wire[index] == 0 && wire.count <= DomainName.maxWireLength {
            self.wire = wire
            return
        }
        let result = wire.withUnsafeBytes { bytes in
            Result { () throws(WireError) -> DomainName in
                var cursor = WireReader(message: bytes)
                let name = try cursor.readName(allowCompression: false)
                if cursor.remaining != 0 { throw .trailingBytes(offset: cursor.offset, count: cursor.remaining) }
                return name
            }
        }
        self = try result.get()
    }

    /// A name from its labels, most specific first (`["www", "example", "org"]`).
    /// - Throws: `PresentationError` with `.emptyLabel`, `.labelTooLong` or `.nameTooLong`.
    public init<Labels: Sequence>(labels: Labels) throws(PresentationError)
    where Labels.Element: Collection, Labels.Element.Element == UInt8 {
        var wire: [UInt8] = []
        for label in labels {
            guard !label.isEmpty else { throw PresentationError(.emptyLabel) }
            guard label.count <= DomainName.maxLabelLength else { throw PresentationError(.labelTooLong) }
            wire.append(UInt8(label.count))
            wire.append(contentsOf: label)
        }
        wire.append(0)
        guard wire.count <= DomainName.maxWireLength else { throw PresentationError(.nameTooLong) }
        self.wire = wire
    }

    /// True for the root name.
    @inlinable public var isRoot: Bool { self.wire.count == 1 }

    /// The number of labels, not counting the root label (`example.org.` has 2).
    public var labelCount: Int {
        var count = 0
        var index = 0
        while self.wire[index] != 0 {
            count += 1
            index += Int(self.wire[index]) + 1
        }
        return count
    }

    /// The labels, most specific first, without the root label.
    public var labels: [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var index = 0
        while self.wire[index] != 0 {
            let length = Int(self.wire[index])
            result.append(self.wire[(index + 1)..<(index + 1 + length)])
            index += length + 1
        }
        return result
    }

    /// The offsets of each label's length octet in `wire`, most specific first, without the root label.
    func labelOffsets() -> [Int] {
        var result: [Int] = []
        var index = 0
        while self.wire[index] != 0 {
            result.append(index)
            index += Int(self.wire[index]) + 1
        }
        return result
    }

    /// The name with its first label removed; nil for the root.
    public var parent: DomainName? {
        guard !self.isRoot else { return nil }
        return DomainName(uncheckedWire: Array(self.wire[(Int(self.wire[0]) + 1)...]))
    }

    /// The last `count` labels of the name (`example.org.` of `www.example.org.` for 2); the name itself when it has
    /// no more than `count` labels.
    public func suffix(labels count: Int) -> DomainName {
        let offsets = self.labelOffsets()
        guard count < offsets.count else { return self }
        guard count > 0 else { return .root }
        return DomainName(uncheckedWire: Array(self.wire[offsets[offsets.count - count]...]))
    }

    /// The name with its suffix `owner` replaced by `target` (DNAME substitution, RFC 6672 §2.2); nil when this name is
    /// not below `owner`, and `PresentationError(.nameTooLong)` when the result is longer than 255 octets.
    public func replacingSuffix(_ owner: DomainName, with target: DomainName) throws(PresentationError) -> DomainName? {
        guard self.isSubdomain(of: owner) else { return nil }
        let prefixLength = self.wire.count - owner.wire.count
        guard prefixLength + target.wire.count <= DomainName.maxWireLength else {
            throw PresentationError(.nameTooLong)
        }
        return DomainName(uncheckedWire: Array(self.wire[..<prefixLength]) + target.wire)
    }

    /// The first label (`www` of `www.example.org.`); empty for the root.
    public var firstLabel: ArraySlice<UInt8> { self.wire[1..<(1 + Int(self.wire[0]))] }

    /// The name with `label` put in front.
    /// - Throws: `PresentationError` when the label is empty or too long, or the result exceeds 255 octets.
    public func prepending(label: some Collection<UInt8>) throws(PresentationError) -> DomainName {
        guard !label.isEmpty else { throw PresentationError(.emptyLabel) }
        guard label.count <= DomainName.maxLabelLength else { throw PresentationError(.labelTooLong) }
        guard self.wire.count + label.count + 1 <= DomainName.maxWireLength else {
            throw PresentationError(.nameTooLong)
        }
        var wire: [UInt8] = [UInt8(label.count)]
        wire.reserveCapacity(self.wire.count + label.count + 1)
        wire.append(contentsOf: label)
        wire.append(contentsOf: self.wire)
        return DomainName(uncheckedWire: wire)
    }

    /// This (relative) name followed by `origin`: `www` + `example.org.` is `www.example.org.`.
    /// - Throws: `PresentationError(.nameTooLong)`.
    public func appending(_ origin: DomainName) throws(PresentationError) -> DomainName {
        guard self.wire.count - 1 + origin.wire.count <= DomainName.maxWireLength else {
            throw PresentationError(.nameTooLong)
        }
        return DomainName(uncheckedWire: Array(self.wire.dropLast()) + origin.wire)
    }

    /// True when this name equals `ancestor` or lies below it (ignoring case).
    public func isSubdomain(of ancestor: DomainName) -> Bool {
        let start = self.wire.count - ancestor.wire.count
        guard start >= 0 else { return false }
        var index = 0
        while index < start { index += Int(self.wire[index]) + 1 }
        guard index == start else { return false }
        return DomainName.equalFolded(self.wire[start...], ancestor.wire[...])
    }

    /// The name with ASCII letters folded to lower case.
    public func lowercased() -> DomainName {
        DomainName(uncheckedWire: self.wire.map(DomainName.fold))
    }

    /// Exact comparison, letter case included.
    @inlinable public func isIdentical(to other: DomainName) -> Bool { self.wire == other.wire }

    /// ASCII lower-casing of one octet. Length octets are at most 63, below `A`, so folding a whole wire form is safe.
    @inlinable public static func fold(_ byte: UInt8) -> UInt8 { byte &- 0x41 < 26 ? byte | 0x20 : byte }

    @inlinable static func equalFolded(_ lhs: ArraySlice<UInt8>, _ rhs: ArraySlice<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var left = lhs.startIndex
        var right = rhs.startIndex
        while left < lhs.endIndex {
            if DomainName.fold(lhs[left]) != DomainName.fold(rhs[right]) { return false }
            left += 1
            right += 1
        }
        return true
    }
}

extension DomainName: Hashable {
    public static func == (lhs: DomainName, rhs: DomainName) -> Bool {
        DomainName.equalFolded(lhs.wire[...], rhs.wire[...])
    }

    public func hash(into hasher: inout Hasher) {
        // Eight octets at a time: the wire form's octets folded to lower case, packed into a word.
        var word: UInt64 = 0
        var shift: UInt64 = 0
        for byte in self.wire {
            word |= UInt64(DomainName.fold(byte)) << shift
            shift += 8
            if shift == 64 {
                hasher.combine(word)
                word = 0
                shift = 0
            }
        }
        hasher.combine(word)
        hasher.combine(self.wire.count)
    }
}

extension DomainName: Comparable {
    /// Canonical order (RFC 4034 §6.1): labels compared right to left as lower-cased octet strings; a name that is a
    /// proper suffix of another sorts first.
    public static func < (lhs: DomainName, rhs: DomainName) -> Bool {
        let left = lhs.labelOffsets()
        let right = rhs.labelOffsets()
        var l = left.count - 1
        var r = right.count - 1
        while l >= 0 && r >= 0 {
            let a = lhs.wire[(left[l] + 1)..<(left[l] + 1 + Int(lhs.wire[left[l]]))]
            let b = rhs.wire[(right[r] + 1)..<(right[r] + 1 + Int(rhs.wire[right[r]]))]
            var i = a.startIndex
            var j = b.startIndex
            while i < a.endIndex && j < b.endIndex {
                let x = DomainName.fold(a[i])
                let y = DomainName.fold(b[j])
                if x != y { return x < y }
                i += 1
                j += 1
            }
            if a.count != b.count { return a.count < b.count }
            l -= 1
            r -= 1
        }
        return left.count < right.count
    }
}

extension DomainName {
    /// FNV-1a (64-bit) over the lower-cased wire form: the same value `RequestView.nameHash` computes in place, so
    /// the message cache can key stored entries and received packets alike.
    public var foldedHash: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in self.wire { hash = (hash ^ UInt64(DomainName.fold(byte))) &* 0x100_0000_01b3 }
        return hash
    }
}

extension DomainName {
    /// The same name with each letter's case chosen at random (draft-vixie-dnsext-dns0x20): an answer must echo it
    /// letter for letter, which a forger who does not see the query has to guess (one bit per letter).
    public func withRandomCase() -> DomainName {
        var wire = self.wire
        var generator = SystemRandomNumberGenerator()
        var bits = generator.next()
        var used = 0
        var index = 0
        while wire[index] != 0 {
            let length = Int(wire[index])
            for offset in (index + 1)...(index + length) {
                let folded = DomainName.fold(wire[offset])
                guard folded >= 0x61 && folded <= 0x7A else { continue }
                if used == 64 {
                    bits = generator.next()
                    used = 0
                }
                wire[offset] = bits & 1 == 0 ? folded : folded - 0x20
                bits >>= 1
                used += 1
            }
            index += length + 1
        }
        return (try? DomainName(wire: wire)) ?? self
    }
}
