// PendingReplies: the queries sent on one socket or connection, and whether a datagram or TCP message is the answer
// to one of them. Pure bookkeeping, used by every upstream transport of the host.

/// Checks that `reply` answers our query: a response, our ID, and the same question (RFC 5452 §9.1), letter for letter
/// when `exactCase` (0x20: the case we randomised must come back). The source address and port are checked by the
/// transport (UDP: the envelope's remote address; TCP: the connection).
public func isReply(_ reply: [UInt8], id: UInt16, question: Question, exactCase: Bool = false) -> Bool {
    guard reply.count >= Header.wireSize, reply[2] & 0x80 != 0,
        UInt16(reply[0]) << 8 | UInt16(reply[1]) == id
    else { return false }
    return reply.withUnsafeBytes { bytes in
        guard let view = try? RequestView(packet: bytes), view.questionCount == 1, view.type == question.type,
            view.recordClass == question.recordClass, view.nameLength == question.name.wire.count
        else { return false }
        let wire = question.name.wire
        if exactCase {
            for index in 0..<view.nameLength where bytes[view.nameOffset + index] != wire[index] { return false }
            return true
        }
        for index in 0..<view.nameLength
        where DomainName.fold(bytes[view.nameOffset + index]) != DomainName.fold(wire[index]) {
            return false
        }
        return true
    }
}

/// The queries sent on one socket or connection and waiting for their answers, by ID: each with its question (and
/// whether its letter case must come back exactly) and what to complete (a promise, a continuation).
public struct PendingReplies<Waiter> {
    private var waiting: [UInt16: (question: Question, exactCase: Bool, waiter: Waiter)] = [:]

    public init() {}

    /// `preferred` when no query with that ID is waiting, else another random ID that none has (two queries in flight
    /// on one socket drew the same ID: likely with hundreds in flight, and not the upstream's fault); nil when 16
    /// draws in a row were taken.
    public func unusedID(preferring preferred: UInt16, random: () -> UInt16) -> UInt16? {
        var id = preferred
        for _ in 0..<16 {
            if self.waiting[id] == nil { return id }
            id = random()
        }
        return nil
    }

    /// The query `packet`'s own ID when free, else a fresh one (`unusedID`) written into it; nil when none was drawn.
    public func freeID(for packet: inout [UInt8], random: () -> UInt16) -> UInt16? {
        let own = UInt16(packet[0]) << 8 | UInt16(packet[1])
        guard let id = self.unusedID(preferring: own, random: random) else { return nil }
        if id != own { packet.setMessageID(id) }
        return id
    }

    /// Registers the query `packet` under its `freeID`; returns the ID, or nil (nothing registered) when none was drawn.
    public mutating func register(
        _ packet: inout [UInt8],
        question: Question,
        exactCase: Bool = false,
        _ waiter: Waiter,
        random: () -> UInt16
    ) -> UInt16? {
        guard let id = self.freeID(for: &packet, random: random) else { return nil }
        _ = self.add(id: id, question: question, exactCase: exactCase, waiter)
        return id
    }

    /// Registers a query; false (nothing registered) when a query with its ID is already waiting.
    public mutating func add(id: UInt16, question: Question, exactCase: Bool = false, _ waiter: Waiter) -> Bool {
        guard self.waiting[id] == nil else { return false }
        self.waiting[id] = (question, exactCase, waiter)
        return true
    }

    /// The waiter `reply` answers (our ID and question), no longer waiting; nil when it answers nothing we sent.
    public mutating func take(answeredBy reply: [UInt8]) -> Waiter? {
        guard reply.count >= 2 else { return nil }
        let id = UInt16(reply[0]) << 8 | UInt16(reply[1])
        guard let entry = self.waiting[id], isReply(reply, id: id, question: entry.question, exactCase: entry.exactCase)
        else { return nil }
        self.waiting.removeValue(forKey: id)
        return entry.waiter
    }

    /// True when no query waits (a retired socket can then be closed).
    public var isEmpty: Bool { self.waiting.isEmpty }

    /// The waiter of `id`, no longer waiting (its timeout).
    public mutating func remove(id: UInt16) -> Waiter? { self.waiting.removeValue(forKey: id)?.waiter }

    /// Every waiter, none waiting any more (the socket failed or closed).
    public mutating func removeAll() -> [Waiter] {
        defer { self.waiting.removeAll() }
        return self.waiting.values.map(\.waiter)
    }
}

extension Array where Element == UInt8 {
    /// Writes `id` into a DNS message's first two octets.
    public mutating func setMessageID(_ id: UInt16) {
        self[0] = UInt8(id >> 8)
        self[1] = UInt8(truncatingIfNeeded: id)
    }
}


extension PendingReplies: Sendable where Waiter: Sendable {}
