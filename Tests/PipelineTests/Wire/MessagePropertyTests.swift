// MessagePropertyTests: random messages survive encode → decode unchanged, and size limits hold.

import Pipeline
import SwiftletTestSupport
import Testing

@Suite struct MessagePropertyTests {
    static func randomName(_ generator: inout SeededGenerator) -> DomainName {
        let pool: [[UInt8]] = ["www", "Mail", "a", "example", "org", "net", "x-y", "_tcp", "deep"].map {
            Array($0.utf8)
        }
        var labels: [[UInt8]] = []
        for _ in 0..<Int.random(in: 0...5, using: &generator) {
            if Bool.random(using: &generator) {
                labels.append(pool.randomElement(using: &generator)!)
            } else {
                labels.append(
                    (0..<Int.random(in: 1...12, using: &generator)).map { _ in
                        UInt8.random(in: 0...255, using: &generator)
                    }
                )
            }
        }
        return (try? DomainName(labels: labels)) ?? .root
    }

    static func randomRData(_ generator: inout SeededGenerator) -> RData {
        func bytes(_ range: ClosedRange<Int>) -> [UInt8] {
            (0..<Int.random(in: range, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }
        let name = randomName(&generator)
        switch Int.random(in: 0..<16, using: &generator) {
        case 0: return .a(IPv4Address(rawValue: UInt32.random(in: 0...UInt32.max, using: &generator)))
        case 1: return .aaaa(IPv6Address(high: generator.next(), low: generator.next()))
        case 2: return .ns(name)
        case 3: return .cname(name)
        case 4: return .mx(MX(preference: UInt16.random(in: 0...65535, using: &generator), exchange: name))
        case 5: return .txt((0..<Int.random(in: 1...3, using: &generator)).map { _ in bytes(0...40) })
        case 6:
            return .soa(
                SOA(mname: name, rname: randomName(&generator), serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5)
            )
        case 7: return .srv(SRV(priority: 1, weight: 2, port: 53, target: name))
        case 8: return .ds(DS(keyTag: 1, algorithm: 13, digestType: 2, digest: bytes(0...32)))
        case 9:
            return .nsec(
                NSEC(
                    nextDomainName: name,
                    types: TypeBitmap(
                        (0..<Int.random(in: 0...6, using: &generator)).map { _ in
                            RecordType(UInt16.random(in: 1...1000, using: &generator))
                        }
                    )
                )
            )
        case 10: return .unknown(RecordType(UInt16.random(in: 65280...65534, using: &generator)), bytes(0...30))
        case 11: return .caa(CAA(flags: 0, tag: Array("issue".utf8), value: bytes(0...20)))
        case 12: return .dname(name)
        case 13: return .ptr(name)
        case 14:
            return .https(SVCB(priority: 1, target: name, parameters: [SVCParameter(key: .port, value: [1, 187])]))
        default: return .hinfo(HINFO(cpu: bytes(0...10), os: bytes(0...10)))
        }
    }

    static func randomMessage(_ generator: inout SeededGenerator) -> Message {
        var message = Message(header: Header(id: UInt16.random(in: 0...65535, using: &generator), flags: 0x8180))
        message.questions = [Question(name: randomName(&generator), type: .a)]
        func records() -> [Record] {
            (0..<Int.random(in: 0...6, using: &generator)).map { _ in
                Record(
                    name: randomName(&generator),
                    ttl: UInt32.random(in: 0...86400, using: &generator),
                    rdata: randomRData(&generator)
                )
            }
        }
        message.answers = records()
        message.authorities = records()
        message.additionals = records()
        if Bool.random(using: &generator) {
            message.edns = EDNS(
                udpPayloadSize: 1232,
                flags: Bool.random(using: &generator) ? 0x8000 : 0,
                options: [.padding(3)]
            )
        }
        return message
    }

    @Test func randomMessagesRoundTrip() throws {
        var generator = SeededGenerator(seed: 0x5EED)
        for _ in 0..<2000 {
            let message = MessagePropertyTests.randomMessage(&generator)
            let bytes = try message.wire
            let decoded = try Message(wire: bytes)
            #expect(decoded == message)
            #expect(try decoded.wire == bytes)
        }
    }

    @Test func sizeLimitIsAlwaysHonouredAndWholeRRsetsKept() throws {
        var generator = SeededGenerator(seed: 77)
        for _ in 0..<1000 {
            let message = MessagePropertyTests.randomMessage(&generator)
            let limit = Int.random(in: 100...600, using: &generator)
            let encoded = try message.encode(maxSize: limit)
            let decoded = try Message(wire: encoded.bytes)
            let minimum = try message.encode(maxSize: 0).bytes.count
            #expect(encoded.bytes.count <= max(limit, minimum))
            #expect(decoded.edns == message.edns)
            // Each section is a prefix of the original section.
            #expect(Array(message.answers.prefix(decoded.answers.count)) == decoded.answers)
            #expect(Array(message.authorities.prefix(decoded.authorities.count)) == decoded.authorities)
            #expect(Array(message.additionals.prefix(decoded.additionals.count)) == decoded.additionals)
            #expect(
                decoded.header.isTruncated
                    == (decoded.answers.count < message.answers.count
                        || decoded.authorities.count < message.authorities.count)
            )
        }
    }
}
