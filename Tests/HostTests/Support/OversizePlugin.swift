// OversizePlugin: a test plugin that answers with a record the wire format cannot carry (76,800 octets of RDATA).

import Pipeline
import Plugins

/// `- oversize: {}`: answers every question with a TXT of 300 strings of 255 octets, which no message can hold.
enum OversizePlugin: Plugin {
    struct Options: Decodable, Sendable {}
    static let name = "oversize"
    static let summary = "test: answers with RDATA longer than RDLENGTH can say"
    static let optionsHelp: [OptionHelp] = []

    static func setup(_ options: Options, context: PluginContext, into builder: inout ChainBuilder) throws {
        builder.add(OversizeHandler())
    }
}

struct OversizeHandler: QueryHandler {
    func handle(_ query: inout Query) -> Verdict {
        var response = query.respond()
        let strings = Array(repeating: Array(repeating: UInt8(ascii: "a"), count: 255), count: 300)
        response.answers = [Record(name: query.question.name, ttl: 60, rdata: .txt(strings))]
        query.response = response
        query.cacheability = .upTo(seconds: 60)
        return .answered
    }
}
