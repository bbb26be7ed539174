// Punycode: internationalised names in block lists, turned into the A-labels (`xn--…`) that DNS queries carry.

/// RFC 3492 encoding of labels, and the label-by-label conversion of RFC 5891 §4.4 (`ToASCII`). Labels are
/// lower-cased first (the Unicode case mapping Swift provides; full IDNA2008 mapping and NFC normalisation are
/// left out: block lists are written in lower case and normalised already).
package enum Punycode {
    private static let base = 36
    private static let tMin = 1
    private static let tMax = 26
    private static let skew = 38
    private static let damp = 700
    private static let initialBias = 72
    private static let initialN = 128

    /// `bücher.example` → `xn--bcher-kva.example`; nil when a label cannot be encoded or is too long.
    package static func toASCII(_ name: String) -> String? {
        var labels: [String] = []
        for label in name.lowercased().split(separator: ".", omittingEmptySubsequences: false) {
            if label.unicodeScalars.allSatisfy({ $0.isASCII }) {
                labels.append(String(label))
                continue
            }
            guard let encoded = encode(Array(label.unicodeScalars.map(\.value))) else { return nil }
            let alabel = "xn--" + encoded
            guard alabel.utf8.count <= 63 else { return nil }
            labels.append(alabel)
        }
        return labels.joined(separator: ".")
    }

    private static func adapt(_ delta: Int, _ points: Int, _ first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / points
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }

    private static func digit(_ value: Int) -> Character {
        Character(Unicode.Scalar(UInt8(value < 26 ? value + 97 : value + 22)))
    }

    /// The Punycode of one label's code points.
    package static func encode(_ input: [UInt32]) -> String? {
        var output = ""
        for point in input where point < 0x80 { output.append(Character(Unicode.Scalar(UInt8(point)))) }
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append("-") }
        var n = initialN
        var delta = 0
        var bias = initialBias
        while handled < input.count {
            guard let next = input.filter({ Int($0) >= n }).min() else { return nil }
            let m = Int(next)
            let (product, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow else { return nil }
            delta += product
            n = m
            for point in input {
                let value = Int(point)
                if value < n { delta += 1 }
                if value == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return output
    }
}
