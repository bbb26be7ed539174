// SocketAddress+Conversion: between our IPAddress/ListenAddress and the kernel's sockaddr structures.

import Glibc
import Pipeline

enum SocketAddresses {
    /// Fills a sockaddr_storage for `address`; returns its length.
    static func make(_ listen: ListenAddress) -> (sockaddr_storage, socklen_t) {
        var storage = sockaddr_storage()
        switch listen.address {
        case .v4(let v4):
            withUnsafeMutableBytes(of: &storage) { raw in
                let pointer = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
                pointer.pointee.sin_family = sa_family_t(AF_INET)
                pointer.pointee.sin_port = listen.port.bigEndian
                pointer.pointee.sin_addr.s_addr = v4.rawValue.bigEndian
            }
            return (storage, socklen_t(MemoryLayout<sockaddr_in>.size))
        case .v6(let v6):
            withUnsafeMutableBytes(of: &storage) { raw in
                let pointer = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
                pointer.pointee.sin6_family = sa_family_t(AF_INET6)
                pointer.pointee.sin6_port = listen.port.bigEndian
                withUnsafeMutableBytes(of: &pointer.pointee.sin6_addr) { bytes in
                    for (index, byte) in v6.octets.enumerated() { bytes[index] = byte }
                }
            }
            return (storage, socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
    }

    /// The address and port in a received sockaddr_storage.
    static func parse(_ storage: UnsafePointer<sockaddr_storage>) -> (IPAddress, UInt16) {
        let raw = UnsafeRawPointer(storage)
        if Int32(storage.pointee.ss_family) == AF_INET {
            let v4 = raw.assumingMemoryBound(to: sockaddr_in.self).pointee
            return (.v4(IPv4Address(rawValue: UInt32(bigEndian: v4.sin_addr.s_addr))), UInt16(bigEndian: v4.sin_port))
        }
        let v6 = raw.assumingMemoryBound(to: sockaddr_in6.self).pointee
        var high: UInt64 = 0
        var low: UInt64 = 0
        withUnsafeBytes(of: v6.sin6_addr) { bytes in
            for index in 0..<8 { high = high << 8 | UInt64(bytes[index]) }
            for index in 8..<16 { low = low << 8 | UInt64(bytes[index]) }
        }
        return (.v6(IPv6Address(high: high, low: low)), UInt16(bigEndian: v6.sin6_port))
    }
}
