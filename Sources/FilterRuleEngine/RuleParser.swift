// RuleParser: reads block-list lines (hosts files, plain domain lists, `*.` wildcards, adblock-style DNS rules).

import Pipeline

package enum RuleParser {
    /// Names hosts files list for the machine itself; blocking them would break the client, so they are ignored.
    package static let localNames: Set<String> = [
        "localhost", "localhost.localdomain", "local", "broadcasthost", "ip6-localhost", "ip6-loopback",
        "ip6-localnet", "ip6-mcastprefix", "ip6-allnodes", "ip6-allrouters", "ip6-allhosts", "0.0.0.0",
    ]

    /// Reads one line (without its line break).
    /// Reads one line (without its line break). `RuleSetBuilder` tries `fastNames` first; this reads the rest.
    package static func parse(_ line: UnsafeBufferPointer<UInt8>) -> ParsedLine {
        let text = Self.trimmed(line)
        guard let first = text.first else { return .nothing }
        if first == UInt8(ascii: "!") || first == UInt8(ascii: "#") || first == UInt8(ascii: "[") { return .nothing }
        if text.contains(where: isSpace) { return Self.hostsLine(text) }
        return Self.adblockRule(text)
    }

    @inline(__always) package static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    /// `line` without leading and trailing blanks.
    package static func trimmed(_ line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0
        var end = line.count
        while start < end && isSpace(line[start]) { start += 1 }
        while end > start && isSpace(line[end - 1]) { end -= 1 }
        return UnsafeBufferPointer(rebasing: line[start..<end])
    }

    /// A valid host name written plainly (letters, digits, `-`, `_`, dots; an optional final dot), or nil.
    package static func plainName(_ text: UnsafeBufferPointer<UInt8>) -> DomainName? {
        var wire: [UInt8] = []
        wire.reserveCapacity(text.count + 2)
        guard appendPlainName(text, to: &wire) else { return nil }
        return try? DomainName(wire: wire)
    }

    /// Appends the lower-case wire form of the plain host name `text` to `wire`; false when `text` is not one (what
    /// was appended is then garbage for the caller to drop).
    @inline(__always)
    package static func appendPlainName(_ text: UnsafeBufferPointer<UInt8>, to wire: inout [UInt8]) -> Bool {
        let first = wire.count
        var labelStart = wire.count
        wire.append(0)
        var count = text.count
        if count > 1 && text[count - 1] == UInt8(ascii: ".") { count -= 1 }
        for index in 0..<count {
            let byte = text[index]
            if byte == UInt8(ascii: ".") {
                let length = wire.count - labelStart - 1
                guard length > 0 && length <= 63 else { return false }
                wire[labelStart] = UInt8(length)
                labelStart = wire.count
                wire.append(0)
                continue
            }
            let folded = DomainName.fold(byte)
            guard
                (folded >= UInt8(ascii: "a") && folded <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
                    || byte == UInt8(ascii: "_")
            else { return false }
            wire.append(folded)
        }
        let length = wire.count - labelStart - 1
        guard length > 0 && length <= 63 else { return false }
        wire[labelStart] = UInt8(length)
        wire.append(0)
        return wire.count - first <= DomainName.maxWireLength
    }

    /// The line shapes that make up nearly every list, read straight into `wire` (one or more wire-form names, one
    /// after another) without making strings or names: a plain name, `[@@]||name^`, `[@@]*.name`, and
    /// `0.0.0.0 name…` hosts lines. Returns the names' flags, or nil to leave the line to `parse`.
    package static func fastNames(_ line: UnsafeBufferPointer<UInt8>, into wire: inout [UInt8]) -> RuleFlags? {
        let text = Self.trimmed(line)
        guard !text.isEmpty else { return nil }
        if let space = text.firstIndex(where: isSpace) {
            let address = UnsafeBufferPointer(rebasing: text[0..<space])
            guard Self.nullAddresses.contains(where: { $0.utf8.elementsEqual(address) }) else { return nil }
            var index = space
            while index < text.count {
                while index < text.count && isSpace(text[index]) { index += 1 }
                guard index < text.count else { break }
                var fieldEnd = index
                while fieldEnd < text.count && !isSpace(text[fieldEnd]) { fieldEnd += 1 }
                let nameStart = wire.count
                let field = UnsafeBufferPointer(rebasing: text[index..<fieldEnd])
                // `localhost.localdomain`, `0.0.0.0` and one-label names are for the general reader, which knows
                // which of them to ignore.
                // (`localhost` in any letter case: the general reader ignores it whatever its case.)
                guard !(field.count >= 9 && zip(field, "localhost".utf8).allSatisfy { DomainName.fold($0) == $1 }),
                    field[0] < UInt8(ascii: "0") || field[0] > UInt8(ascii: "9"),
                    appendPlainName(field, to: &wire), wire[nameStart] != UInt8(wire.count - nameStart - 2)
                else { return nil }
                index = fieldEnd
            }
            return [.exact, .hosts]
        }
        var from = 0
        var to = text.count
        var flags: RuleFlags = []
        if to > 2 && text[0] == UInt8(ascii: "@") && text[1] == UInt8(ascii: "@") {
            flags.insert(.exception)
            from = 2
        }
        if to - from > 3 && text[from] == UInt8(ascii: "|") && text[from + 1] == UInt8(ascii: "|")
            && text[to - 1] == UInt8(ascii: "^")
        {
            from += 2
            to -= 1
            flags.formUnion([.exact, .subdomains])
        } else if to - from > 2 && text[from] == UInt8(ascii: "*") && text[from + 1] == UInt8(ascii: ".") {
            from += 2
            flags.insert(.subdomains)
        } else if flags.isEmpty {
            flags = .exact
        } else {
            return nil
        }
        guard appendPlainName(UnsafeBufferPointer(rebasing: text[from..<to]), to: &wire) else { return nil }
        return flags
    }

    /// A host name that may be internationalised: converted to its A-label form (RFC 5891) first.
    package static func hostName<S: StringProtocol>(_ text: S) -> DomainName? {
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            return Array(text.utf8).withUnsafeBufferPointer { plainName($0) }
        }
        guard let ascii = Punycode.toASCII(String(text)) else { return nil }
        return Array(ascii.utf8).withUnsafeBufferPointer { plainName($0) }
    }

    /// The addresses that make a hosts line a blocking rule, as hosts files write them.
    package static let nullAddresses = ["0.0.0.0", "127.0.0.1", "::", "::1"]

    /// `address name…`: blocking when the address is a null or loopback address.
    package static func hostsLine(_ text: UnsafeBufferPointer<UInt8>) -> ParsedLine {
        let line = String(decoding: text, as: UTF8.self)
        let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
        guard let address = fields.first.flatMap({ IPAddress($0) }) else {
            return .skipped("'\(fields.first ?? "")' is neither a rule nor an address (rules hold no spaces)")
        }
        guard Self.nullAddresses.contains(address.description) else {
            return .skipped(
                "\(address) is not a blocking address (\(Self.nullAddresses.joined(separator: ", "))); use hosts for rewrites"
            )
        }
        var names: [DomainName] = []
        for field in fields.dropFirst() {
            if localNames.contains(field.lowercased()) { continue }
            guard let name = hostName(field) else { return .skipped("'\(field)' is not a host name") }
            names.append(name)
        }
        if names.isEmpty && fields.count < 2 { return .skipped("no host name after \(address)") }
        return .hostNames(names)
    }

    /// An adblock-style DNS rule: `[@@]pattern[$modifiers]`.
    package static func adblockRule(_ bytes: UnsafeBufferPointer<UInt8>) -> ParsedLine {
        // `##`, `#@#`, `#$#`, `#?#`: element hiding and friends.
        for index in bytes.indices.dropLast() where bytes[index] == UInt8(ascii: "#") {
            let next = bytes[index + 1]
            if next == UInt8(ascii: "#") || next == UInt8(ascii: "@") || next == UInt8(ascii: "$")
                || next == UInt8(ascii: "?")
            {
                return .skipped("cosmetic rule (element hiding is for browsers, not DNS)")
            }
        }
        var text = Substring(String(decoding: bytes, as: UTF8.self))
        var flags: RuleFlags = []
        if text.hasPrefix("@@") {
            flags.insert(.exception)
            text = text.dropFirst(2)
        }
        var patternText = text
        var modifierText: Substring? = nil
        if text.hasPrefix("/"), let close = text.dropFirst().lastIndex(of: "/") {
            patternText = text[...close]
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix("$") {
                modifierText = rest.dropFirst()
            } else if !rest.isEmpty {
                return .skipped("text after the closing '/' of a regular expression")
            }
        } else if let dollar = text.firstIndex(of: "$") {
            patternText = text[..<dollar]
            modifierText = text[text.index(after: dollar)...]
        }

        var modifiers = RuleModifiers()
        var badfilter = false
        if let modifierText {
            var kept: [Substring] = []
            for item in modifierText.split(separator: ",", omittingEmptySubsequences: false) {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = parts[0].lowercased()
                let value = parts.count > 1 ? parts[1] : ""
                switch key {
                case "important": flags.insert(.important)
                case "badfilter":
                    badfilter = true
                    continue
                case "client":
                    guard !value.isEmpty else { return .skipped("$client needs a value") }
                    for entry in value.split(separator: "|") {
                        var entry = entry
                        let negated = entry.hasPrefix("~")
                        if negated { entry = entry.dropFirst() }
                        if entry.count >= 2 && (entry.hasPrefix("'") || entry.hasPrefix("\"")) {
                            entry = entry.dropFirst().dropLast()
                        }
                        let selector: ClientSelector =
                            IPPrefix(entry).map { .prefix($0) } ?? .group(String(entry).replacingBackslashes())
                        if negated {
                            modifiers.excludedClients.append(selector)
                        } else {
                            modifiers.clients.append(selector)
                        }
                    }
                case "dnstype":
                    guard !value.isEmpty else { return .skipped("$dnstype needs a value") }
                    for entry in value.split(separator: "|") {
                        let negated = entry.hasPrefix("~")
                        guard let type = RecordType(mnemonic: String(negated ? entry.dropFirst() : entry)) else {
                            return .skipped("$dnstype: '\(entry)' is not a record type")
                        }
                        if negated { modifiers.excludedTypes.append(type) } else { modifiers.types.append(type) }
                    }
                case "denyallow":
                    guard !value.isEmpty else { return .skipped("$denyallow needs a value") }
                    for entry in value.split(separator: "|") {
                        guard !entry.hasPrefix("~"), let name = hostName(entry) else {
                            return .skipped("$denyallow: '\(entry)' is not a domain")
                        }
                        modifiers.denyAllow.append(name)
                    }
                default:
                    return .skipped("modifier $\(key) is not supported for DNS filtering")
                }
                kept.append(item)
            }
            if badfilter {
                let target =
                    (flags.contains(.exception) ? "@@" : "") + patternText
                    + (kept.isEmpty ? "" : "$" + kept.joined(separator: ","))
                return .rule(
                    ParsedRule(pattern: .everything, flags: flags, modifiers: modifiers, badfilterTarget: target)
                )
            }
        }
        if !modifiers.isEmpty { flags.insert(.modified) }

        // The pattern.
        if patternText.count >= 2 && patternText.hasPrefix("/") && patternText.hasSuffix("/") {
            do {
                let node = try PatternNode.parseRegex(String(patternText.dropFirst().dropLast()))
                return .rule(ParsedRule(pattern: .pattern(node), flags: flags, modifiers: modifiers))
            } catch {
                return .skipped("regular expression: \(error)")
            }
        }
        if patternText.isEmpty || patternText == "*" || patternText == "||*^" || patternText == "|*" {
            guard flags.contains(.modified) else {
                return .skipped("the rule matches every name and has no modifier to narrow it")
            }
            return .rule(ParsedRule(pattern: .everything, flags: flags, modifiers: modifiers))
        }
        var body = patternText
        var nameFlags: RuleFlags? = nil
        if body.hasPrefix("||") {
            body = body.dropFirst(2)
            if body.hasPrefix("*.") {
                body = body.dropFirst(2)
                nameFlags = .subdomains
            } else {
                nameFlags = [.exact, .subdomains]
            }
            if body.hasSuffix("^|") { body = body.dropLast() }
            if body.hasSuffix("^") { body = body.dropLast() } else { nameFlags = nil }
        } else if body.hasPrefix("|") {
            body = body.dropFirst()
            if body.hasSuffix("^|") { body = body.dropLast() }
            if body.hasSuffix("^") || body.hasSuffix("|") { body = body.dropLast() } else { body = patternText }
            nameFlags = body == patternText ? nil : .exact
        } else if body.hasPrefix("*.") {
            body = body.dropFirst(2)
            if body.hasSuffix("^") { body = body.dropLast() }
            nameFlags = .subdomains
        } else {
            nameFlags = .exact
        }
        if let nameFlags, !body.contains("*"), let name = hostName(body) {
            return .rule(ParsedRule(pattern: .name(name), flags: flags.union(nameFlags), modifiers: modifiers))
        }
        guard patternText.utf8.allSatisfy({ $0 < 0x80 && $0 > 0x20 }) else {
            return .skipped("'\(patternText)' is not a DNS rule")
        }
        if patternText.contains("/") || patternText.contains("?") || patternText.contains("=") {
            return .skipped("'\(patternText)' is a URL rule, not a DNS rule")
        }
        return .rule(
            ParsedRule(pattern: .pattern(.parseGlob(patternText.lowercased()[...])), flags: flags, modifiers: modifiers)
        )
    }
}

package extension String {
    /// `Frank\'s` → `Frank's` (AdGuard Home escapes quotes in client names).
    fileprivate func replacingBackslashes() -> String {
        var result = ""
        var escaped = false
        for character in self {
            if character == "\\" && !escaped {
                escaped = true
                continue
            }
            escaped = false
            result.append(character)
        }
        return result
    }
}
