// SwiftletCommand: the `swiftlet` command line: run, check, query, plugins, --version.

import ArgumentParser
import Dispatch
import Foundation
import Logging
import Pipeline
import Plugins

/// The entry point for the `swiftlet` binary and for custom server binaries with extra plugins.
public enum Swiftlet {
    public static let version = "0.1.0"

    /// The plugins of the running binary (task-local so no global state is needed).
    @TaskLocal static var plugins: [any Plugin.Type] = Registry.builtIn

    /// Runs the command line with `plugins` available to configurations (built-ins plus your own):
    /// `await Swiftlet.main(plugins: Registry.builtIn + [MyPlugin.self])`.
    public static func main(plugins: [any Plugin.Type] = Registry.builtIn) async {
        await Swiftlet.$plugins.withValue(plugins) { await SwiftletCommand.main() }
    }

    /// Runs the command line with the built-in plugins and `extra`: `await Swiftlet.main(adding: [MyPlugin.self])`.
    /// A plugin package needs only Pipeline; its server binary needs Host for this call.
    public static func main(adding extra: [any Plugin.Type]) async { await Swiftlet.main(plugins: Registry.builtIn + extra) }
}

struct SwiftletCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftlet",
        abstract: "A DNS server composed from plugins.",
        version: Swiftlet.version,
        subcommands: [RunCommand.self, CheckCommand.self, QueryCommand.self, PluginsCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

/// Loads `path`, or the embedded default without one.
func loadConfiguration(_ path: String?) throws -> Configuration {
    if let path { return try Configuration.load(path: path) }
    return try Configuration.parse(Configuration.embeddedDefault, source: "<embedded default>")
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Serve DNS (the embedded default serves /etc/hosts on 127.0.0.1:5353)."
    )

    @Option(name: .long, help: "The YAML configuration file.") var config: String?

    func run() async throws {
        let configuration: Configuration
        do {
            configuration = try loadConfiguration(self.config)
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("swiftlet: \(error)\n".utf8))
            throw ExitCode(2)
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: configuration.log.level) ?? .info
            return handler
        }
        let logger = Logger(label: "swiftlet")
        let server = SwiftletServer(configuration: configuration, plugins: Swiftlet.plugins, logger: logger)
        do {
            try await server.start()
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        logger.info("swiftlet \(Swiftlet.version) serving (\(configuration.source))")
        let stop = AsyncStream<Int32>.makeStream()
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGTERM, SIGINT, SIGHUP] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { stop.continuation.yield(signalNumber) }
            source.resume()
            sources.append(source)
        }
        let path = self.config
        for await signalNumber in stop.stream {
            if signalNumber == SIGHUP {
                do {
                    _ = try server.reload(try loadConfiguration(path))
                } catch {
                    logger.error("reload failed, the previous configuration keeps serving: \(error)")
                }
                continue
            }
            logger.info("stopping")
            break
        }
        // In-flight queries get `grace` seconds; whatever still holds the process after the watchdog's bound ends it.
        let watchdog = ShutdownWatchdog.start(seconds: ShutdownWatchdog.bound) {
            FileHandle.standardError.write(
                Data("swiftlet: not stopped after \(ShutdownWatchdog.bound) s; exiting now\n".utf8)
            )
            _exit(1)
        }
        await server.stop(grace: ShutdownWatchdog.grace)
        watchdog.cancel()
        _ = sources
    }
}

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a configuration (and every plugin's options) without serving."
    )

    @Option(name: .long, help: "The YAML configuration file.") var config: String?

    func run() async throws {
        do {
            let configuration = try loadConfiguration(self.config)
            _ = try ChainFactory.build(
                configuration,
                plugins: Swiftlet.plugins,
                logger: Logger(label: "swiftlet-check"),
                invalidate: { _ in }
            )
            print("\(configuration.source): OK (\(configuration.servers.count) server block(s))")
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List the plugins and their options."
    )

    func run() throws {
        for plugin in Swiftlet.plugins {
            print("\(plugin.name) — \(plugin.summary)")
            for option in plugin.optionsHelp {
                print("    \(option.key) (\(option.type), default \(option.defaultValue)): \(option.meaning)")
            }
        }
    }
}
