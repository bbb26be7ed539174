// ReplyRewrite: edits of an encoded reply in place, for the steps that run after the answer is made whichever path
// made it (the fast path's copy, the chain's encoding): a server cookie added to its OPT record, and the empty
// replies response rate limiting sends instead (TC=1, or BADCOOKIE).

enum ReplyRewrite {
    /// The offset just past the question of `reply` (its name starts the message, so it is never compressed), or nil
    /// when the octets do not hold one.
    static func questionEnd(_ reply: UnsafeRawBufferPointer, length: Int) -> Int? {
        guard length >= Header.wireSize, reply[4] == 0, reply[5] == 1 else { return nil }
        var position = Header.wireSize
        while position < length {
            let label = Int(reply[position])
            if label == 0 { return position + 5 <= length ? position + 5 : nil }
            guard label & 0xC0 == 0 else { return nil }
            position += 1 + label
        }
        return nil
    }

    /// The offset of the reply's OPT record when it is the last record, as this server encodes it; nil otherwise.
    static func lastOPT(_ reply: UnsafeRawBufferPointer, length: Int) -> Int? {
        guard var position = self.questionEnd(reply, length: length) else { return nil }
        func u16(_ at: Int) -> Int { Int(reply[at]) << 8 | Int(reply[at + 1]) }
        let records = u16(6) + u16(8) + u16(10)
        var last: Int? = nil
        for _ in 0..<records {
            let start = position
            // The owner name: labels up to the root, or up to a compression pointer.
            while true {
                guard position < length else { return nil }
                let label = Int(reply[position])
                if label == 0 {
                    position += 1
                    break
                }
                if label & 0xC0 == 0xC0 {
                    position += 2
                    break
                }
                guard label & 0xC0 == 0 else { return nil }
                position += 1 + label
            }
            guard position + 10 <= length else { return nil }
            let type = u16(position)
            position += 10 + u16(position + 8)
            guard position <= length else { return nil }
            last = type == Int(RecordType.opt.rawValue) ? start : nil
        }
        guard let opt = last, position == length, reply[opt] == 0 else { return nil }
        return opt
    }

    /// The COOKIE option in a message's OPT record (when that is its last record): where its data starts and how
    /// long it is (nil when there is none or the options overrun the record), and the OPT's extended RCODE bits.
    static func cookieOption(_ message: UnsafeRawBufferPointer) -> (cookie: Range<Int>?, extendedRCode: UInt8)? {
        guard let opt = self.lastOPT(message, length: message.count) else { return nil }
        var position = opt + 11
        var cookie: Range<Int>? = nil
        while position + 4 <= message.count {
            let code = Int(message[position]) << 8 | Int(message[position + 1])
            let length = Int(message[position + 2]) << 8 | Int(message[position + 3])
            guard position + 4 + length <= message.count else { return (nil, message[opt + 5]) }
            if code == Int(EDNSOption.Code.cookie.rawValue) && cookie == nil {
                cookie = (position + 4)..<(position + 4 + length)
            }
            position += 4 + length
        }
        return (cookie, message[opt + 5])
    }

    /// Appends a COOKIE option (client cookie, then server cookie) to the reply's OPT record, when it is the last
    /// record and the option fits in `reply`. Returns the new length (the old one when nothing was added).
    static func appendCookie(
        to reply: UnsafeMutableRawBufferPointer,
        length: Int,
        clientCookie: UInt64,
        serverCookie: (header: UInt64, hash: UInt64)
    ) -> Int {
        guard length + ServerCookies.optionSize <= reply.count,
            let opt = self.lastOPT(UnsafeRawBufferPointer(reply), length: length)
        else { return length }
        let rdlengthAt = opt + 9
        let rdlength = (Int(reply[rdlengthAt]) << 8 | Int(reply[rdlengthAt + 1])) + ServerCookies.optionSize
        guard rdlength <= Int(UInt16.max) else { return length }
        reply[rdlengthAt] = UInt8(rdlength >> 8)
        reply[rdlengthAt + 1] = UInt8(truncatingIfNeeded: rdlength)
        var position = length
        func put(_ value: UInt64, _ octets: Int) {
            for shift in stride(from: 8 * (octets - 1), through: 0, by: -8) {
                reply[position] = UInt8(truncatingIfNeeded: value >> UInt64(shift))
                position += 1
            }
        }
        put(UInt64(EDNSOption.Code.cookie.rawValue), 2)
        put(24, 2)
        put(clientCookie, 8)
        put(serverCookie.header, 8)
        put(serverCookie.hash, 8)
        return position
    }

    /// RFC 8467 §4.1's block length for responses: padded replies are a multiple of it.
    static let paddingBlock = 468

    /// Appends a Padding option (RFC 7830) to the reply's OPT record so the whole reply is a multiple of
    /// `paddingBlock` octets, when its OPT is the last record and the padded reply fits in `reply` and in a TCP
    /// message. Returns the new length (the old one when nothing was added).
    static func pad(_ reply: UnsafeMutableRawBufferPointer, length: Int) -> Int {
        let target = (length + 4 + Self.paddingBlock - 1) / Self.paddingBlock * Self.paddingBlock
        let padding = target - length - 4
        guard target <= min(reply.count, Int(UInt16.max)),
            let opt = self.lastOPT(UnsafeRawBufferPointer(reply), length: length)
        else { return length }
        let rdlength = (Int(reply[opt + 9]) << 8 | Int(reply[opt + 10])) + 4 + padding
        guard rdlength <= Int(UInt16.max) else { return length }
        reply[opt + 9] = UInt8(rdlength >> 8)
        reply[opt + 10] = UInt8(truncatingIfNeeded: rdlength)
        reply[length] = 0
        reply[length + 1] = UInt8(EDNSOption.Code.padding.rawValue)
        reply[length + 2] = UInt8(padding >> 8)
        reply[length + 3] = UInt8(truncatingIfNeeded: padding)
        for index in (length + 4)..<target { reply[index] = 0 }
        return target
    }

    /// Rewrites `reply` as an empty reply to its question: the header's ID, opcode and RD kept, no records, an OPT
    /// without options when the query had EDNS (`optDO`: nil without, its DO bit with). `truncated` sets TC=1 (the slip of response rate limiting);
    /// `responseCode` replaces the RCODE, its upper bits going to the OPT (BADCOOKIE needs it).
    /// Returns the new length, or nil when `reply` does not start with a question.
    static func empty(
        _ reply: UnsafeMutableRawBufferPointer,
        length: Int,
        truncated: Bool,
        responseCode: ResponseCode?,
        optDO: Bool?
    ) -> Int? {
        guard var position = self.questionEnd(UnsafeRawBufferPointer(reply), length: length) else { return nil }
        // QR, opcode, RD, RA and CD as they were; TC as asked; AD cleared. A slip keeps AA and says NOERROR, or
        // NXDOMAIN when that was the answer (as BIND's RRL); another RCODE (BADCOOKIE) clears AA.
        let original = reply[3] & 0x0F
        let code = responseCode?.rawValue ?? UInt16(original == ResponseCode.nxDomain.rawValue ? original : 0)
        reply[2] = (reply[2] & (responseCode == nil ? 0xFD : 0xF9)) | (truncated ? 0x02 : 0)
        reply[3] = (reply[3] & 0x90) | UInt8(code & 0x0F)
        for index in 6..<12 { reply[index] = 0 }
        if let optDO, position + 11 <= reply.count {
            let opt: [UInt8] = [
                0, 0, 41, UInt8(EDNS.defaultPayloadSize >> 8), UInt8(EDNS.defaultPayloadSize & 0xFF),
                UInt8(truncatingIfNeeded: code >> 4), 0, optDO ? 0x80 : 0, 0, 0, 0,
            ]
            for byte in opt {
                reply[position] = byte
                position += 1
            }
            reply[11] = 1
        }
        return position
    }
}
