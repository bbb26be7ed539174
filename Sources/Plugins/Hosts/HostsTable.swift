// HostsTable: an /etc/hosts-style file as forward (name → addresses) and reverse (address → names) maps.

import Pipeline

/// The parsed content of a hosts file (hosts(5) format: `address canonical-name [aliases…]`, `#` comments).
///
/// A name listed on several lines gets every address; the reverse map answers PTR for `in-addr.arpa.` and
/// `ip6.arpa.` names with every name of that address, canonical name first.
public struct HostsTable: Sendable, Equatable {
    public struct Addresses: Sendable, Equatable {
        public var v4: [IPv4Address] = []
        public var v6: [IPv6Address] = []
    }

    /// A line that was skipped, with why.
    public struct SkippedLine: Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "line \(self.line): \(self.reason)" }
    }

    public private(set) var forward: [DomainName: Addresses] = [:]
    public private(set) var reverse: [DomainName: [DomainName]] = [:]
    public private(set) var skipped: [SkippedLine] = []

    public init() {}

    /// Parses hosts-file text. Bad lines are skipped and listed in `skipped`, never fatal.
    public init(text: String) {
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let content = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard let first = fields.first else { continue }
            // An IPv6 address may carry a zone (`fe80::1%eth0`); the zone has no meaning in DNS.
            let addressText = first.split(separator: "%", maxSplits: 1).first ?? first
            guard let address = IPAddress(addressText) else {
                self.skipped.append(SkippedLine(line: lineNumber, reason: "'\(first)' is not an IP address"))
                continue
            }
            guard fields.count >= 2 else {
                self.skipped.append(SkippedLine(line: lineNumber, reason: "no host name after \(first)"))
                continue
            }
            for nameText in fields.dropFirst() {
                guard let name = try? DomainName(String(nameText)), !name.isRoot else {
                    self.skipped.append(SkippedLine(line: lineNumber, reason: "'\(nameText)' is not a host name"))
                    continue
                }
                self.add(name.lowercased(), address)
            }
        }
    }

    mutating func add(_ name: DomainName, _ address: IPAddress) {
        var addresses = self.forward[name] ?? Addresses()
        switch address {
        case .v4(let v4) where !addresses.v4.contains(v4): addresses.v4.append(v4)
        case .v6(let v6) where !addresses.v6.contains(v6): addresses.v6.append(v6)
        default: break
        }
        self.forward[name] = addresses
        let reverseName = HostsTable.reverseName(address)
        if !(self.reverse[reverseName]?.contains(name) ?? false) { self.reverse[reverseName, default: []].append(name) }
    }

    /// The `in-addr.arpa.` (RFC 1035 §3.5) or `ip6.arpa.` (RFC 3596 §2.5) name of an address.
    public static func reverseName(_ address: IPAddress) -> DomainName {
        var labels: [[UInt8]] = []
        switch address {
        case .v4(let v4):
            labels = v4.octets.reversed().map { Array(String($0).utf8) }
            labels += [Array("in-addr".utf8), Array("arpa".utf8)]
        case .v6(let v6):
            let digits = Array("0123456789abcdef".utf8)
            for byte in v6.octets.reversed() {
                labels.append([digits[Int(byte & 0x0F)]])
                labels.append([digits[Int(byte >> 4)]])
            }
            labels += [Array("ip6".utf8), Array("arpa".utf8)]
        }
        // Every label is short and the name is at most 73 octets: always valid.
        return (try? DomainName(labels: labels)) ?? .root
    }
}
