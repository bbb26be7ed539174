// HostsPlugin: `- hosts: { file: PATH }`, answers from an /etc/hosts-style file, reloaded when it changes.

import Foundation
import Logging
import Pipeline

public enum HostsPlugin: Plugin {
    public static let name = "hosts"
    public static let summary = "answers A, AAAA and PTR from an /etc/hosts-style file, reloaded when it changes"

    public static func setup(_ options: HostsOptions, context: PluginContext, into builder: inout ChainBuilder) throws {
        let path = context.resolve(options.file)
        let table = try HostsPlugin.load(path: path, logger: context.logger)
        context.dataLoaded(from: [path])
        let metrics = HostsMetrics(context)
        let handler = HostsHandler(table: table, options: options, metrics: metrics)
        builder.add(handler)
        guard options.reloadInterval.nanoseconds > 0 else { return }
        let logger = context.logger
        let invalidate = context.invalidateCache
        let interval = options.reloadInterval.duration
        context.addService("hosts watcher \(path)") {
            await FileWatch.poll([path], every: interval) { _ in
                do {
                    handler.replace(try HostsPlugin.load(path: path, logger: logger))
                    invalidate()
                    metrics.reloads.increment()
                    logger.info("hosts file reloaded", metadata: ["file": "\(path)"])
                } catch {
                    metrics.failedReloads.increment()
                    logger.error(
                        "hosts file reload failed, keeping the previous table: \(error)",
                        metadata: ["file": "\(path)"]
                    )
                }
            }
        }
    }

    /// Reads and parses the file; bad lines are logged with their numbers and skipped.
    /// - Throws: `PluginSetupError` for `file` when the file cannot be read.
    static func load(path: String, logger: Logger) throws -> HostsTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PluginSetupError(option: "file", "cannot read '\(path)'")
        }
        let table = HostsTable(text: String(decoding: data, as: UTF8.self))
        for skipped in table.skipped.prefix(20) {
            logger.warning("hosts file line skipped: \(skipped)", metadata: ["file": "\(path)"])
        }
        return table
    }
}
