// DNSFrameDecoder: splits a DNS-over-TCP byte stream into messages by their 2-octet length (RFC 1035 §4.2.2).

import NIOCore

/// A NIO decoder yielding one `ByteBuffer` per DNS message; used by the host's TCP listener and by upstream
/// connections. Bytes may arrive one at a time, in pieces, or several messages at once.
public struct DNSFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
            buffer.readableBytes >= 2 + Int(length)
        else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        context.fireChannelRead(Self.wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }
}
