// EchoPlugin: `- echo: {}`, tells clients what address and port the server saw (CoreDNS's whoami).

import Pipeline

/// Options of `- echo: {}`: none.
public struct EchoOptions: PluginOptions {
    public init() {}
    public static let options: [PluginOption<EchoOptions>] = []
}

public enum EchoPlugin: Plugin {
    public static let name = "echo"
    public static let summary = "answers every query with the client's address and port (diagnostics, like whoami)"

    public static func setup(_ options: EchoOptions, context: PluginContext, into builder: inout ChainBuilder) throws {
        builder.add(EchoHandler())
    }
}

/// Answers with an empty answer section and, in additional, an A or AAAA record of the client's address and an SRV
/// record `_udp.<qname>` / `_tcp.<qname>` carrying its port. Never cached: every client gets its own answer.
struct EchoHandler: QueryHandler {
    func handle(_ query: inout Query) -> Verdict {
        var response = query.respond()
        response.header.isAuthoritative = true
        let name = query.question.name
        response.additionals = [Record(name: name, ttl: 0, rdata: RData(address: query.client.address.unmapped))]
        if let srvName = try? name.prepending(label: Array("_\(query.client.transport.rawValue)".utf8)) {
            response.additionals.append(
                Record(
                    name: srvName,
                    ttl: 0,
                    rdata: .srv(SRV(priority: 0, weight: 0, port: query.client.port, target: .root))
                )
            )
        }
        query.response = response
        query.answeredBy = EchoPlugin.name
        query.cacheability = .never
        return .answered
    }
}
