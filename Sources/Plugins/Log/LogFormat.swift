// LogFormat: a query-log line template, compiled once into literal and field segments.

import Pipeline

/// What one query-log line says about a query and its answer.
struct LogEntry {
    var remote: String
    var port: UInt16
    var transport: String
    var id: UInt16
    var name: String
    var type: String
    var recordClass: String
    var requestSize: Int
    var dnssecOK: Bool
    var bufferSize: Int
    var rcode: String
    var responseFlags: String
    var responseSize: Int
    var durationSeconds: Double
    var answeredBy: String
    var note: String
}

/// A compiled template. Placeholders follow CoreDNS's log plugin where they exist there.
struct LogFormat: Sendable {
    enum Field: String, CaseIterable, Sendable {
        case remote, port, proto, type, `class`, name, size, rcode, rsize, duration
        case id = ">id"
        case dnssecOK = ">do"
        case bufsize = ">bufsize"
        case rflags = ">rflags"
        case plugin, note
    }

    enum Segment: Sendable {
        case literal(String)
        case field(Field)
    }

    static let common =
        "{remote}:{port} - {>id} \"{type} {class} {name} {proto} {size} {>do} {>bufsize}\" {rcode} {>rflags} {rsize} {duration}"

    let segments: [Segment]
    let json: Bool

    /// - Throws: `PluginSetupError` for `format` naming an unknown placeholder.
    init(_ format: String) throws {
        if format == "json" {
            self.segments = []
            self.json = true
            return
        }
        self.json = false
        let template = format == "common" ? LogFormat.common : format
        var segments: [Segment] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex { segments.append(.literal(String(rest[..<open]))) }
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw PluginSetupError(option: "format", "unclosed '{' in the template")
            }
            let key = String(rest[rest.index(after: open)..<close])
            guard let field = Field(rawValue: key) else {
                let known = Field.allCases.map { "{\($0.rawValue)}" }.joined(separator: " ")
                throw PluginSetupError(option: "format", "unknown placeholder {\(key)}; known: \(known)")
            }
            segments.append(.field(field))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { segments.append(.literal(String(rest))) }
        self.segments = segments
    }

    func render(_ entry: LogEntry) -> String {
        if self.json { return LogFormat.renderJSON(entry) }
        var line = ""
        for segment in self.segments {
            switch segment {
            case .literal(let text): line += text
            case .field(let field): line += LogFormat.value(field, entry)
            }
        }
        return line
    }

    static func value(_ field: Field, _ entry: LogEntry) -> String {
        switch field {
        case .remote: return entry.remote
        case .port: return String(entry.port)
        case .proto: return entry.transport
        case .type: return entry.type
        case .class: return entry.recordClass
        case .name: return entry.name
        case .size: return String(entry.requestSize)
        case .rcode: return entry.rcode
        case .rsize: return String(entry.responseSize)
        case .duration: return String(format6(entry.durationSeconds)) + "s"
        case .id: return String(entry.id)
        case .dnssecOK: return entry.dnssecOK ? "true" : "false"
        case .bufsize: return String(entry.bufferSize)
        case .rflags: return entry.responseFlags
        case .plugin: return entry.answeredBy
        case .note: return entry.note
        }
    }

    static func format6(_ value: Double) -> String {
        let micros = Int((value * 1_000_000).rounded())
        let fraction = String(micros % 1_000_000)
        return "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    static func renderJSON(_ entry: LogEntry) -> String {
        func quoted(_ text: String) -> String {
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                default:
                    if scalar.value < 0x20 {
                        let hex = String(scalar.value, radix: 16)
                        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out + "\""
        }
        let fields: [(String, String)] = [
            ("remote", quoted(entry.remote)), ("port", String(entry.port)), ("proto", quoted(entry.transport)),
            ("id", String(entry.id)), ("name", quoted(entry.name)), ("type", quoted(entry.type)),
            ("class", quoted(entry.recordClass)), ("size", String(entry.requestSize)),
            ("do", entry.dnssecOK ? "true" : "false"), ("bufsize", String(entry.bufferSize)),
            ("rcode", quoted(entry.rcode)), ("rflags", quoted(entry.responseFlags)),
            ("rsize", String(entry.responseSize)),
            ("duration", format6(entry.durationSeconds)), ("plugin", quoted(entry.answeredBy)),
            ("note", quoted(entry.note)),
        ]
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}
