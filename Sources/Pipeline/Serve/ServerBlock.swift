// ServerBlock: one configured block compiled: its zones, guards, chain, observers and limits.

import Synchronization

/// A server block ready to serve: what the YAML's `servers[i]` became after every plugin's setup.
public final class ServerBlock: Sendable {
    public let index: Int
    public let zones: [DomainName]
    public let guards: [any Guard]
    /// Run on every reply of this block about to be sent (response rate limiting).
    public let replyGuards: [any ReplyGuard]
    /// The server cookie secret (RFC 7873, RFC 9018); nil when cookies are off for this block.
    public let cookies: ServerCookies?
    public let chain: Chain
    public let observers: [any FastPathObserver]
    public let maxUDPSize: Int
    /// Suspended queries at once (`max_in_flight`).
    public let inFlight: InFlightLimit
    /// The RRset cache its `cache` (or `recursive`) plugin set up, if any: its figures are the block's, where the
    /// metrics registry's gauge is the process's.
    public let rrsetCache: RRsetCache?
    /// Background services of this block's plugins; cancelled when the block is replaced.
    public let services: Mutex<[Task<Void, Never>]> = Mutex([])

    public init(
        index: Int,
        zones: [DomainName],
        guards: [any Guard],
        chain: Chain,
        observers: [any FastPathObserver],
        maxUDPSize: Int,
        maxInFlight: Int,
        rrsetCache: RRsetCache? = nil,
        replyGuards: [any ReplyGuard] = [],
        cookies: ServerCookies? = nil
    ) {
        self.index = index
        self.zones = zones
        self.guards = guards
        self.replyGuards = replyGuards
        self.cookies = cookies
        self.chain = chain
        self.observers = observers
        self.maxUDPSize = maxUDPSize
        self.inFlight = InFlightLimit(maximum: maxInFlight)
        self.rrsetCache = rrsetCache
    }

    /// The message-cache view of a query this block handles: the guards' view, kept apart per block, because every
    /// listen address shares one message cache and two blocks may answer the same name differently.
    public func cacheView(_ view: UInt16) -> UInt16 { UInt16(truncatingIfNeeded: self.index) << 12 | (view & 0x0FFF) }

    /// Cancels the services; returns their tasks so a caller that is about to shut the event loops down can wait
    /// for them to end (a service in the middle of upstream I/O must not outlive the loops it uses).
    @discardableResult
    public func stopServices() -> [Task<Void, Never>] {
        let tasks = self.services.withLock { tasks in
            defer { tasks.removeAll() }
            return tasks
        }
        for task in tasks { task.cancel() }
        return tasks
    }
}

/// The blocks serving one listen address, most specific zone first.
public struct BlockTable: Sendable {
    /// (zone wire form lower-cased, block), longest zone first.
    public let entries: [(zone: [UInt8], block: ServerBlock)]

    public init(blocks: [ServerBlock]) {
        var entries: [(zone: [UInt8], block: ServerBlock)] = []
        for block in blocks {
            for zone in block.zones { entries.append((zone.lowercased().wire, block)) }
        }
        self.entries = entries.sorted { $0.zone.count > $1.zone.count }
    }

    /// The block whose zone is the longest suffix of the question name in `packet`, or nil (REFUSED).
    public func block(for request: RequestView, in packet: UnsafeRawBufferPointer) -> ServerBlock? {
        // The common case, one block for the root zone, without touching the name.
        if self.entries.count == 1 && self.entries[0].zone.count == 1 { return self.entries[0].block }
        return self.match(request, packet)
    }

    private func match(_ request: RequestView, _ packet: UnsafeRawBufferPointer) -> ServerBlock? {
        for entry in self.entries where BlockTable.isSuffix(entry.zone, of: request, in: packet) { return entry.block }
        return nil
    }

    /// Whether the zone's wire form ends the question name at a label boundary (case-insensitive).
    static func isSuffix(_ zone: [UInt8], of request: RequestView, in packet: UnsafeRawBufferPointer) -> Bool {
        let length = request.nameLength
        guard zone.count <= length else { return false }
        var position = request.nameOffset
        let start = request.nameOffset + length - zone.count
        while position < start { position += Int(packet[position]) + 1 }
        guard position == start else { return false }
        for index in 0..<zone.count {
            if DomainName.fold(packet[start + index]) != zone[index] { return false }
        }
        return true
    }
}
