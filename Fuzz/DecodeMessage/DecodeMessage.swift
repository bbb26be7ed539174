// DecodeMessage: the libFuzzer target for the wire codec. Built by Fuzz/run.sh together with every source file of
// Sources/Pipeline (one module, -parse-as-library); it uses only the module's public API.
//
// For every input:
//  1. RequestView must not crash; when it and the full decoder both accept the packet they must agree.
//  2. A packet that decodes must re-encode (no size limit) to bytes that decode to an equal message.
//  3. Encoding under a small limit (512) must give bytes that decode, keep header, question and EDNS, keep a prefix
//     of each section, and exceed the limit only when no record was written.
//  4. `description` must not crash; each record's RDATA presentation must parse back to the same RDATA, and its whole
//     presentation line (`Record.description`) back to the same record.
//  5. The COOKIE option RequestView found is the decoder's (same octets), and a resolver's cookie check of the packet
//     as an upstream's reply (ClientCookies, reading the OPT in place) does not crash.
//  6. Scrubbing the packet as a reply about its question from a server of each zone above the name (the
//     ReplyScrubber that recursive and cache share) must not crash and must keep only what that zone may speak for.
//
// A property that fails calls `fatalError` with what differed, so libFuzzer saves the input as a crash artifact.

let smallLimit = 512

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let packet = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    checkPacket(packet)
    return 0
}

func checkPacket(_ packet: UnsafeRawBufferPointer) {
    let view = try? RequestView(packet: packet)
    guard let message = try? Message(bytes: packet) else { return }
    if let view { checkView(view, against: message, packet: packet) }
    checkRoundTrip(message)
    checkSmallEncoding(message)
    checkPresentation(message)
    checkCookies(view, message, packet)
    checkScrubbing(message)
}

// MARK: 5. Cookies

let clientCookies = ClientCookies(secret: Array(0..<16))

func checkCookies(_ view: RequestView?, _ message: Message, _ packet: UnsafeRawBufferPointer) {
    if let view, view.cookieOffset > 0 {
        guard case .cookie(let client, let server)? = message.edns?.option(.cookie),
            Array(packet[view.cookieOffset..<(view.cookieOffset + view.cookieLength)]) == client + server
        else { fail("RequestView found a COOKIE option the decoder did not: \(view.cookieOffset)+\(view.cookieLength)", message) }
    }
    _ = clientCookies.check(Array(packet), from: .v4(IPv4Address(192, 0, 2, 1)))
}

// MARK: 1. RequestView agrees with the full decoder

func checkView(_ view: RequestView, against message: Message, packet: UnsafeRawBufferPointer) {
    guard let question = message.question else { fail("RequestView accepted a packet without a question", message) }
    let viewName = Array(packet[view.nameOffset..<(view.nameOffset + view.nameLength)])
    guard view.id == message.header.id, view.flags == message.header.flags,
        Int(view.questionCount) == message.questions.count, viewName == question.name.wire,
        view.type == question.type, view.recordClass == question.recordClass
    else {
        fail(
            "RequestView disagrees with Message: id \(view.id) flags \(view.flags) qd \(view.questionCount) "
                + "name \(hex(viewName)) type \(view.type) class \(view.recordClass)", message)
    }
    if view.hasEDNS {
        guard let edns = message.edns, edns.udpPayloadSize == view.udpPayloadSize, edns.version == view.ednsVersion,
            edns.dnssecOK == view.dnssecOK,
            view.hasClientSubnet == (edns.option(.clientSubnet) != nil)
        else {
            fail(
                "RequestView EDNS disagrees with Message: udp \(view.udpPayloadSize) version \(view.ednsVersion) "
                    + "do \(view.dnssecOK) ecs \(view.hasClientSubnet)", message)
        }
    }
    // The fast path answers plain queries from the view alone, so for them the view must have seen everything.
    if view.isPlainQuery, !message.additionals.isEmpty || view.hasEDNS != (message.edns != nil) {
        fail("RequestView calls a query plain that has other additional records or an OPT it did not see", message)
    }
}

// MARK: 2. Wire round trip

func checkRoundTrip(_ message: Message) {
    // A decoded RDATA can grow past RDLENGTH's 65,535 octets once its compressed names are written out: the encoder
    // says so (EncodingError) instead of trapping, and there is nothing to compare.
    guard let encoded = try? message.encode() else { return }
    // Decoding expands compressed names and the encoder compresses only where RFC 3597 §4 allows, so a large
    // message may grow past 65535 octets; then records are dropped by design and there is nothing to compare.
    if encoded.truncated { return }
    let again: Message
    do {
        again = try Message(wire: encoded.bytes)
    } catch {
        fail("re-encoded message does not decode: \(error)\nencoded: \(hex(encoded.bytes))", message)
    }
    guard again == message else {
        fail(
            "re-encoded message decodes differently: \(difference(message, again))\nencoded: \(hex(encoded.bytes))",
            message)
    }
}

// MARK: 3. Encoding under a size limit

func checkSmallEncoding(_ message: Message) {
    guard let encoded = try? message.encode(maxSize: smallLimit) else { return }
    let small: Message
    do {
        small = try Message(wire: encoded.bytes)
    } catch {
        fail("message encoded in \(smallLimit) octets does not decode: \(error)\nencoded: \(hex(encoded.bytes))", message)
    }
    let records = small.answers.count + small.authorities.count + small.additionals.count
    guard let full = try? message.encode() else { return }
    var problems: [String] = []
    if small.questions != message.questions { problems.append("questions changed") }
    if small.edns != message.edns { problems.append("EDNS changed") }
    if small.header.id != message.header.id { problems.append("ID changed") }
    if small.header.flags & ~0x0200 != message.header.flags & ~0x0200 { problems.append("flags changed") }
    if encoded.truncated != small.header.isTruncated && !message.header.isTruncated {
        problems.append("TC bit does not match `truncated`")
    }
    if !isPrefix(small.answers, of: message.answers) { problems.append("answers are not a prefix") }
    if !isPrefix(small.authorities, of: message.authorities) { problems.append("authorities are not a prefix") }
    if !isPrefix(small.additionals, of: message.additionals) { problems.append("additionals are not a prefix") }
    if small.answers.count < message.answers.count, !(small.authorities.isEmpty && small.additionals.isEmpty) {
        problems.append("records after a dropped answer RRset were kept")
    }
    if small.authorities.count < message.authorities.count, !small.additionals.isEmpty {
        problems.append("records after a dropped authority RRset were kept")
    }
    let droppedRequired =
        small.answers.count < message.answers.count || small.authorities.count < message.authorities.count
    if encoded.truncated != droppedRequired && !full.truncated {
        problems.append("`truncated` is \(encoded.truncated) but answer/authority data dropped is \(droppedRequired)")
    }
    if encoded.bytes.count > smallLimit, records > 0 {
        problems.append("\(encoded.bytes.count) octets with \(records) records, over the \(smallLimit) limit")
    }
    if full.bytes.count <= smallLimit, !full.truncated, encoded.bytes != full.bytes {
        problems.append("a message that fits was encoded differently under the limit")
    }
    if !problems.isEmpty {
        fail("encode(maxSize: \(smallLimit)): " + problems.joined(separator: "; ") + "\nencoded: \(hex(encoded.bytes))", message)
    }
}

func isPrefix(_ part: [Record], of whole: [Record]) -> Bool {
    part.count <= whole.count && zip(part, whole).allSatisfy { $0 == $1 }
}

// MARK: 4. Presentation

func checkPresentation(_ message: Message) {
    _ = message.description
    for record in message.answers + message.authorities + message.additionals {
        let text = record.rdata.presentation
        let parsed: RData
        do {
            var lexer = PresentationLexer(text)
            let tokens = try lexer.nextEntry()?.tokens ?? []
            if let extra = try lexer.nextEntry() {
                fail("\(record.type) presentation '\(text)' lexes as two entries (second: \(extra.tokens))", message)
            }
            var fields = PresentationFields(tokens[...], origin: nil)
            parsed = try RData(type: record.type, fields: &fields)
        } catch {
            fail(
                "\(record.type) presentation does not parse: \(error)\ntext: \(text)\nrdata: \(hex(record.rdata.wireBytes))",
                message)
        }
        guard parsed == record.rdata else {
            fail(
                "\(record.type) presentation parses to different RDATA\ntext: \(text)\n"
                    + "original: \(hex(record.rdata.wireBytes))\nparsed:   \(hex(parsed.wireBytes))\n"
                    + "reprinted: \(parsed.presentation)", message)
        }
        // The whole line too: owner, TTL, class and type as `Record.description` writes them.
        let line = record.description
        let reread: Record
        do {
            reread = try Record(line)
        } catch {
            fail("record line does not parse: \(error)\nline: \(line)", message)
        }
        guard reread == record else {
            fail("record line parses to a different record\nline:    \(line)\nreprinted: \(reread)", message)
        }
    }
}

// MARK: Reporting

func fail(_ what: String, _ message: Message) -> Never {
    fatalError("\n\(what)\nmessage:\n\(message)")
}

func hex(_ bytes: some Sequence<UInt8>) -> String { TextEncoding.base16(bytes) }

/// The first part of two messages that differs, for the failure message.
func difference(_ a: Message, _ b: Message) -> String {
    if a.header != b.header { return "header \(a.header) vs \(b.header)" }
    if a.questions != b.questions { return "questions \(a.questions) vs \(b.questions)" }
    if a.edns != b.edns { return "EDNS \(String(describing: a.edns)) vs \(String(describing: b.edns))" }
    for (name, x, y) in [
        ("answer", a.answers, b.answers), ("authority", a.authorities, b.authorities),
        ("additional", a.additionals, b.additionals),
    ] {
        if x.count != y.count { return "\(name) count \(x.count) vs \(y.count)" }
        for (index, (r, s)) in zip(x, y).enumerated() where r != s {
            return "\(name)[\(index)]: \(r) [\(hex(r.rdata.wireBytes))] vs \(s) [\(hex(s.rdata.wireBytes))]"
        }
    }
    return "(no field differs)"
}

// MARK: 6. Bailiwick scrubbing keeps only what the zone may speak for

func checkScrubbing(_ message: Message) {
    guard let question = message.question else { return }
    var zone: DomainName? = question.name
    while let current = zone {
        let result = ReplyScrubber(zone: current, name: question.name, type: question.type, maximumChain: 11)
            .scrub(message)
        let kept = result.message
        if let stray = (kept.answers + kept.authorities + kept.additionals).first(where: {
            !$0.name.isSubdomain(of: current)
        }) {
            fail("scrubbing for zone \(current) kept \(stray), outside it", message)
        }
        if let stray = kept.additionals.first(where: { $0.type != .a && $0.type != .aaaa }) {
            fail("scrubbing kept \(stray) in the additional section", message)
        }
        if result.chain.first != question.name || result.chain.count > 12 {
            fail("scrubbing gave the chain \(result.chain)", message)
        }
        zone = current.parent
    }
}
