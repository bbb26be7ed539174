// ProxyProtocol: the PROXY protocol version 2 header (HAProxy's proxy-protocol.txt §2.2), which load balancers
// (HAProxy, dnsdist, nginx) put before a connection's own octets to say whose connection it is. Written by hand: no
// Swift library reads it, and it is 16 octets of fixed layout plus addresses.

import Metrics
import NIOCore
import Pipeline

/// What the start of a connection says.
enum ProxyHeader: Equatable {
    /// More octets are needed to tell.
    case incomplete
    /// The proxied client's address and port; the header took `length` octets.
    case proxied(IPAddress, UInt16, length: Int)
    /// The proxy speaking for itself (a health check, or an address family without addresses): the connection's own
    /// peer is the client; the header took `length` octets.
    case local(length: Int)
    /// Not a version 2 header, or a malformed one.
    case invalid(String)

    /// The 12 octets every version 2 header starts with.
    static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    /// The longest header taken (addresses and TLVs): HAProxy's own are under 300 octets.
    static let maximumLength = 4096

    /// Reads the header at the start of `octets`.
    static func parse(_ octets: some Collection<UInt8>) -> ProxyHeader {
        let bytes = Array(octets.prefix(Self.maximumLength))
        let checked = min(bytes.count, Self.signature.count)
        guard bytes.prefix(checked).elementsEqual(Self.signature.prefix(checked)) else {
            return .invalid("no PROXY protocol v2 signature")
        }
        guard bytes.count >= 16 else { return .incomplete }
        guard bytes[12] >> 4 == 2 else { return .invalid("PROXY protocol version \(bytes[12] >> 4), not 2") }
        let command = bytes[12] & 0x0F
        guard command <= 1 else { return .invalid("PROXY protocol command \(command) (0 LOCAL and 1 PROXY exist)") }
        let length = 16 + Int(bytes[14]) << 8 + Int(bytes[15])
        guard length <= Self.maximumLength else {
            return .invalid("a PROXY protocol header of \(length) octets (at most \(Self.maximumLength) are taken)")
        }
        guard bytes.count >= length else { return .incomplete }
        guard command == 1 else { return .local(length: length) }
        let addresses = bytes[16..<length]
        func port(_ at: Int) -> UInt16 { UInt16(addresses[addresses.startIndex + at]) << 8 | UInt16(addresses[addresses.startIndex + at + 1]) }
        switch bytes[13] >> 4 {
        case 1:  // AF_INET: source, destination, source port, destination port.
            guard addresses.count >= 12 else { return .invalid("a PROXY protocol IPv4 header without its addresses") }
            let source = Array(addresses.prefix(4))
            return .proxied(.v4(IPv4Address(source[0], source[1], source[2], source[3])), port(8), length: length)
        case 2:  // AF_INET6
            guard addresses.count >= 36 else { return .invalid("a PROXY protocol IPv6 header without its addresses") }
            return .proxied(.v6(IPv6Address(octets: addresses.prefix(16))), port(32), length: length)
        default:
            // AF_UNSPEC and AF_UNIX carry no client address: §2.2 says to use the connection's own.
            return .local(length: length)
        }
    }
}

/// Counters of the PROXY headers one listener read, by outcome.
struct ProxyProtocolMetrics: Sendable {
    let proxied: Counter
    let local: Counter
    let untrusted: Counter
    let invalid: Counter

    init(listen: ListenAddress) {
        func counter(_ result: String) -> Counter {
            Counter(label: "swiftlet_proxy_protocol_headers_total", dimensions: [("listen", "\(listen)"), ("result", result)])
        }
        self.proxied = counter("proxied")
        self.local = counter("local")
        self.untrusted = counter("untrusted")
        self.invalid = counter("invalid")
    }
}

/// The first handler of a connection on a listener with `proxy_protocol`: from a trusted peer it takes the PROXY v2
/// header (required; a connection without one is closed) and hands on the client it names; from any other peer a
/// header closes the connection (it would be a client trying to pass for another). Then it leaves the pipeline.
final class ProxyProtocolHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let trusted: Bool
    let metrics: ProxyProtocolMetrics
    /// Called with the proxied client before any of the connection's own octets go on.
    let proxiedClient: (IPAddress, UInt16) -> Void
    private var received: ByteBuffer? = nil

    init(trusted: Bool, metrics: ProxyProtocolMetrics, proxiedClient: @escaping (IPAddress, UInt16) -> Void) {
        self.trusted = trusted
        self.metrics = metrics
        self.proxiedClient = proxiedClient
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = Self.unwrapInboundIn(data)
        if self.received == nil { self.received = bytes } else { self.received!.writeBuffer(&bytes) }
        let buffer = self.received!
        let header = ProxyHeader.parse(buffer.readableBytesView)
        if !self.trusted {
            switch header {
            case .incomplete: return
            case .invalid: self.pass(buffer, from: 0, context: context)
            case .proxied, .local:
                self.metrics.untrusted.increment()
                context.close(promise: nil)
            }
            return
        }
        switch header {
        case .incomplete: return
        case .invalid:
            self.metrics.invalid.increment()
            context.close(promise: nil)
        case .local(let length):
            self.metrics.local.increment()
            self.pass(buffer, from: length, context: context)
        case .proxied(let address, let port, let length):
            self.metrics.proxied.increment()
            self.proxiedClient(address, port)
            self.pass(buffer, from: length, context: context)
        }
    }

    /// Hands on what follows the header and leaves the pipeline.
    private func pass(_ buffer: ByteBuffer, from offset: Int, context: ChannelHandlerContext) {
        self.received = nil
        var rest = buffer
        rest.moveReaderIndex(forwardBy: offset)
        if rest.readableBytes > 0 { context.fireChannelRead(Self.wrapInboundOut(rest)) }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
