// LogPlugin: `- log: {}`, a query log line per query, like CoreDNS's log plugin.

import Pipeline

public enum LogPlugin: Plugin {
    public static let name = "log"
    public static let summary = "writes a line per query (cache hits included) to stdout, stderr or a file"

    public static func setup(_ options: LogOptions, context: PluginContext, into builder: inout ChainBuilder) throws {
        let handler = LogHandler(
            format: try LogFormat(options.format),
            sink: try LogSink(output: options.output, resolve: context.resolve),
            metrics: LogMetrics(context)
        )
        builder.add(handler)
        builder.add(observer: handler)
    }
}
