// GreetingPlugin: `- greeting: { zone: hello.example.org., text: "hi" }` answers TXT queries under a zone.

// Pipeline is the whole plugin API (it re-exports swift-log's Logger and swift-metrics' Counter).
import Pipeline

/// Options of `- greeting: {…}`, each declared once: its key, where it goes, its type and meaning; the default is
/// the property's value. Decoding (with strict unknown-key errors) and `swiftlet plugins` come from the table.
public struct GreetingOptions: PluginOptions {
    /// The zone whose names get a greeting.
    var zone = "hello.example.org."
    /// The TXT text.
    var text = "hello from a custom plugin"

    public init() {}

    public static let options: [PluginOption<GreetingOptions>] = [
        PluginOption("zone", \.zone, "name", "names at or below it are answered"),
        PluginOption("text", \.text, "string", "the TXT text"),
    ]
}

public enum GreetingPlugin: Plugin {
    public static let name = "greeting"
    public static let summary = "answers TXT queries under a zone with a fixed text (an example plugin)"

    public static func setup(_ options: GreetingOptions, context: PluginContext, into builder: inout ChainBuilder) throws {
        guard let zone = try? DomainName(options.zone) else {
            throw PluginSetupError(option: "zone", "'\(options.zone)' is not a domain name")
        }
        guard options.text.utf8.count <= 255 else {
            throw PluginSetupError(option: "text", "at most 255 octets")
        }
        builder.add(
            GreetingHandler(zone: zone, text: Array(options.text.utf8), answers: context.counter("answers_total"))
        )
    }
}

struct GreetingHandler: QueryHandler {
    let zone: DomainName
    let text: [UInt8]
    let answers: Counter

    func handle(_ query: inout Query) -> Verdict {
        let question = query.question
        guard question.name.isSubdomain(of: self.zone) else { return .next }
        var response = query.respond()
        response.header.isAuthoritative = true
        if question.type == .txt {
            response.answers = [Record(name: question.name, ttl: 60, rdata: .txt([self.text]))]
        }
        query.response = response
        query.answeredBy = GreetingPlugin.name
        query.cacheability = .upTo(seconds: 60)
        self.answers.increment()
        return .answered
    }
}
