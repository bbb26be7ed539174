// DelayPlugin: a test plugin whose handler suspends for a while before answering, to exercise the async path.

import Pipeline
import Plugins

/// `- delay: { milliseconds: 200 }`: answers `A 192.0.2.200` after sleeping, cacheable for 60 s.
enum DelayPlugin: Plugin {
    struct Options: Decodable, Sendable {
        var milliseconds: Int
        enum CodingKeys: String, CodingKey { case milliseconds }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.milliseconds = try container.value(.milliseconds, default: 100)
        }
    }

    static let name = "delay"
    static let summary = "test: answers after a delay"
    static let optionsHelp: [OptionHelp] = []

    static func setup(_ options: Options, context: PluginContext, into builder: inout ChainBuilder) throws {
        builder.add(DelayHandler(milliseconds: options.milliseconds))
    }
}

struct DelayHandler: QueryHandler {
    let milliseconds: Int

    func handle(_ query: inout Query) -> Verdict { .suspend }

    func resume(_ query: inout Query) async -> Verdict {
        try? await Task.sleep(for: .milliseconds(self.milliseconds))
        var response = query.respond()
        response.answers = [Record(name: query.question.name, ttl: 60, rdata: .a(IPv4Address(192, 0, 2, 200)))]
        query.response = response
        query.cacheability = .upTo(seconds: 60)
        return .answered
    }
}
