// ZonePlugin: `- zone: { zones: [{ origin, file }] }`, authoritative answers from RFC 1035 zone files.

import Foundation
import Logging
import Pipeline

public enum ZonePlugin: Plugin {
    public static let name = "zone"
    public static let summary = "answers authoritatively from RFC 1035 zone files, with AXFR and reload on change"

    public static func setup(_ options: ZoneOptions, context: PluginContext, into builder: inout ChainBuilder) throws {
        guard !options.zones.isEmpty else { throw PluginSetupError(option: "zones", "list at least one zone") }
        var served: [ServedZone] = []
        var files: [(origin: DomainName, path: String)] = []
        for (index, source) in options.zones.enumerated() {
            guard let origin = try? DomainName(source.origin) else {
                throw PluginSetupError(option: "zones[\(index)].origin", "'\(source.origin)' is not a domain name")
            }
            guard !served.contains(where: { $0.zone.origin == origin }) else {
                throw PluginSetupError(option: "zones[\(index)].origin", "\(origin) is listed twice")
            }
            let prefixes = try PluginSetupError.prefixes(source.transferTo, option: "zones[\(index)].transfer_to")
            let path = context.resolve(source.file)
            do {
                served.append(ServedZone(zone: try ZonePlugin.load(origin: origin, path: path), transferTo: prefixes))
            } catch {
                throw PluginSetupError(option: "zones[\(index)].file", "\(error)")
            }
            files.append((origin, path))
        }
        context.dataLoaded(from: files.map(\.path))
        let metrics = ZoneMetrics(context)
        let handler = ZoneHandler(zones: served, metrics: metrics)
        builder.add(handler)
        for zone in served {
            context.logger.info(
                "zone loaded",
                metadata: [
                    "origin": "\(zone.zone.origin)", "serial": "\(zone.zone.serial)",
                    "records": "\(zone.zone.records.count)",
                ]
            )
        }
        guard options.reloadInterval.nanoseconds > 0 else { return }
        let logger = context.logger
        let invalidate = context.invalidateCache
        let interval = options.reloadInterval.duration
        let watched = files
        context.addService("zone watcher") {
            await FileWatch.poll(watched.map(\.path), every: interval) { index in
                let file = watched[index]
                do {
                    let zone = try ZonePlugin.load(origin: file.origin, path: file.path)
                    handler.replace(zone)
                    invalidate()
                    metrics.reloads.increment()
                    logger.info("zone reloaded", metadata: ["origin": "\(file.origin)", "serial": "\(zone.serial)"])
                } catch {
                    metrics.failedReloads.increment()
                    logger.error(
                        "zone reload failed, the previous zone keeps serving: \(error)",
                        metadata: ["origin": "\(file.origin)"]
                    )
                }
            }
        }
    }

    /// Reads, parses and checks a zone file.
    /// - Throws: `ZoneFileError` (with file:line:column) or `ZoneCheckError`.
    public static func load(origin: DomainName, path: String) throws -> Zone {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ZoneFileError(file: path, line: 0, column: 0, message: "cannot read the file")
        }
        let records = try ZoneFile.parse(file: text, path: path, origin: origin)
        return try Zone(origin: origin, records: records)
    }
}
