// AdminResponse+JSON: JSON bodies for the built-in plugins' admin routes (Foundation's encoder, which Pipeline does
// not link).

import Foundation
import Pipeline

extension AdminResponse {
    /// `value` as JSON (keys sorted, so bodies are stable).
    public static func json(_ status: Int, _ value: some Encodable) -> AdminResponse {
        Self.encoded(status, value, [.sortedKeys])
    }

    /// `{"error": message}`.
    public static func error(_ status: Int, _ message: String) -> AdminResponse {
        Self.encoded(status, ["error": message], [.sortedKeys, .withoutEscapingSlashes])
    }

    private static func encoded(
        _ status: Int,
        _ value: some Encodable,
        _ formatting: JSONEncoder.OutputFormatting
    ) -> AdminResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = formatting
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return AdminResponse(status: status, body: String(decoding: data, as: UTF8.self))
    }
}
