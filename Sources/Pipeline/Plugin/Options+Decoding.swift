// Options+Decoding: helpers so every plugin's options decode with a default for each absent key.

extension KeyedDecodingContainer {
    /// The value at `key`, or `fallback` when the key is absent (a present key of the wrong type still throws).
    public func value<T: Decodable>(_ key: Key, default fallback: @autoclosure () -> T) throws -> T {
        try self.decodeIfPresent(T.self, forKey: key) ?? fallback()
    }
}

/// A duration in options: `30s`, `5m`, `1h`, `250ms`, or a plain number of seconds.
public struct OptionDuration: Decodable, Sendable, Equatable, CustomStringConvertible {
    public var nanoseconds: UInt64

    /// The longest duration an option takes: a hundred years (longer is a typo, and 2^64 ns would not fit).
    public static let maximumSeconds = 100 * 365.25 * 86400

    /// `seconds`, held to 0…`maximumSeconds` (NaN is 0): never a trap, whatever the number.
    public init(seconds: Double) {
        let bounded = seconds.isNaN ? 0 : min(max(seconds, 0), OptionDuration.maximumSeconds)
        self.nanoseconds = UInt64(bounded * 1e9)
    }
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public var seconds: Double { Double(self.nanoseconds) / 1e9 }
    public var duration: Duration { .nanoseconds(Int64(self.nanoseconds)) }

    /// Parses `250ms`, `30s`, `5m`, `1h`, `1d`, or a bare number of seconds.
    public init?(text: String) {
        let units: [(String, Double)] = [("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)), value >= 0,
                value * scale <= OptionDuration.maximumSeconds
            else { return nil }
            self.init(seconds: value * scale)
            return
        }
        guard let value = Double(text), value >= 0, value <= OptionDuration.maximumSeconds else { return nil }
        self.init(seconds: value)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            guard number >= 0, number <= OptionDuration.maximumSeconds else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: number < 0 || number.isNaN
                        ? "a duration must not be negative" : "a duration must be at most 100 years"
                )
            }
            self.init(seconds: number)
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = OptionDuration(text: text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "'\(text)' is not a duration (like 250ms, 30s, 5m, 1h)"
            )
        }
        self = parsed
    }

    public var description: String {
        let seconds = self.seconds
        if seconds < 1 { return "\(Int(seconds * 1000))ms" }
        return seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
    }
}
