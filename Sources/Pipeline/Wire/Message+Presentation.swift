// Message+Presentation: a whole message as dig prints it.

extension Message: CustomStringConvertible {
    /// dig's text form: header line, flags and counts, OPT pseudosection, then each non-empty section.
    public var description: String {
        var lines: [String] = []
        lines.append(
            ";; ->>HEADER<<- opcode: \(self.header.opcode), status: \(self.responseCode), id: \(self.header.id)"
        )
        let flags = self.header.flagNames.joined(separator: " ")
        lines.append(
            ";; flags: \(flags); QUERY: \(self.questions.count), ANSWER: \(self.answers.count), "
                + "AUTHORITY: \(self.authorities.count), ADDITIONAL: \(self.additionals.count + (self.edns == nil ? 0 : 1))"
        )
        if let edns = self.edns {
            lines.append("")
            lines.append(";; OPT PSEUDOSECTION:")
            let ednsFlags = edns.dnssecOK ? " do" : ""
            lines.append("; EDNS: version: \(edns.version), flags:\(ednsFlags); udp: \(edns.udpPayloadSize)")
            for option in edns.options { lines.append("; " + option.presentation) }
        }
        if !self.questions.isEmpty {
            lines.append("")
            lines.append(";; QUESTION SECTION:")
            lines += self.questions.map(\.description)
        }
        for (title, records) in [
            ("ANSWER", self.answers), ("AUTHORITY", self.authorities), ("ADDITIONAL", self.additionals),
        ] where !records.isEmpty {
            lines.append("")
            lines.append(";; \(title) SECTION:")
            lines += records.map(\.description)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension EDNSOption {
    /// dig-like text for one option.
    public var presentation: String {
        switch self {
        case .cookie(let client, let server):
            return "COOKIE: " + TextEncoding.base16(client + server)
        case .clientSubnet(let subnet):
            let address: String
            if subnet.family == 1 {
                var octets = subnet.address + [UInt8](repeating: 0, count: 4 - subnet.address.count)
                octets = Array(octets.prefix(4))
                address = IPv4Address(octets[0], octets[1], octets[2], octets[3]).description
            } else {
                let octets = subnet.address + [UInt8](repeating: 0, count: 16 - subnet.address.count)
                address = IPv6Address(octets: octets.prefix(16)).description
            }
            return "CLIENT-SUBNET: \(address)/\(subnet.sourcePrefixLength)/\(subnet.scopePrefixLength)"
        case .extendedError(let error):
            let text = error.extraText.isEmpty ? "" : " (\(error.extraText))"
            return "EDE: \(error.infoCode.rawValue)\(text)"
        case .padding(let count): return "PAD: (\(count) bytes)"
        case .nsid(let data): return "NSID: " + TextEncoding.base16(data)
        case .unknown(let code, let data): return "OPT=\(code.rawValue): " + TextEncoding.base16(data)
        }
    }
}
