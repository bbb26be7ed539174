// SipHash: SipHash-2-4 (Aumasson and Bernstein, 2012), the keyed hash RFC 9018 makes DNS server cookies with.
//
// Written here because neither the standard library (whose Hasher is SipHash-1-3 with a per-process seed) nor
// swift-crypto offers SipHash-2-4 with a caller's key; it is a few lines, checked against the reference test vectors
// and RFC 9018's examples (Tests/PipelineTests/Cookies).

/// SipHash-2-4 over bytes fed in one at a time or as 64-bit words, without allocating.
public struct SipHash24 {
    private var v0: UInt64
    private var v1: UInt64
    private var v2: UInt64
    private var v3: UInt64
    /// Bytes not yet compressed (little-endian, the first in the low byte), and how many in all were fed.
    private var tail: UInt64 = 0
    private var count: Int = 0

    /// A hasher keyed by 16 octets: `k0` is the first 8 read little-endian, `k1` the next 8.
    public init(k0: UInt64, k1: UInt64) {
        self.v0 = 0x736f_6d65_7073_6575 ^ k0
        self.v1 = 0x646f_7261_6e64_6f6d ^ k1
        self.v2 = 0x6c79_6765_6e65_7261 ^ k0
        self.v3 = 0x7465_6462_7974_6573 ^ k1
    }

    /// Keyed by 16 octets, as the reference implementation reads its key.
    public init(key: some Collection<UInt8>) {
        precondition(key.count == 16, "a SipHash key has 16 octets")
        var k0: UInt64 = 0
        var k1: UInt64 = 0
        for (index, byte) in key.enumerated() {
            if index < 8 { k0 |= UInt64(byte) << (8 * UInt64(index)) } else { k1 |= UInt64(byte) << (8 * UInt64(index - 8)) }
        }
        self.init(k0: k0, k1: k1)
    }

    @inline(__always)
    private mutating func round() {
        self.v0 &+= self.v1
        self.v1 = (self.v1 << 13 | self.v1 >> 51) ^ self.v0
        self.v0 = self.v0 << 32 | self.v0 >> 32
        self.v2 &+= self.v3
        self.v3 = (self.v3 << 16 | self.v3 >> 48) ^ self.v2
        self.v0 &+= self.v3
        self.v3 = (self.v3 << 21 | self.v3 >> 43) ^ self.v0
        self.v2 &+= self.v1
        self.v1 = (self.v1 << 17 | self.v1 >> 47) ^ self.v2
        self.v2 = self.v2 << 32 | self.v2 >> 32
    }

    @inline(__always)
    private mutating func compress(_ word: UInt64) {
        self.v3 ^= word
        self.round()
        self.round()
        self.v0 ^= word
    }

    /// Feeds one octet.
    @inline(__always)
    public mutating func combine(_ byte: UInt8) {
        self.tail |= UInt64(byte) << (8 * UInt64(self.count & 7))
        self.count += 1
        if self.count & 7 == 0 {
            self.compress(self.tail)
            self.tail = 0
        }
    }

    /// Feeds octets in order.
    public mutating func combine(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes { self.combine(byte) }
    }

    /// Feeds the `count` low-order octets of `value`, most significant first (network order).
    @inline(__always)
    public mutating func combine(bigEndian value: UInt64, octets count: Int) {
        var shift = 8 * (count - 1)
        while shift >= 0 {
            self.combine(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            shift -= 8
        }
    }

    /// The 64-bit result; its octets, least significant first, are the reference implementation's output.
    public consuming func finalize() -> UInt64 {
        let last = self.tail | UInt64(truncatingIfNeeded: self.count & 0xFF) << 56
        self.compress(last)
        self.v2 ^= 0xFF
        self.round()
        self.round()
        self.round()
        self.round()
        return self.v0 ^ self.v1 ^ self.v2 ^ self.v3
    }
}
