// RecordingLogHandler: a swift-log handler that keeps every message, for tests of what a component logs.

import Logging
import Synchronization

/// The lines a `RecordingLogHandler` received, shared by the copies swift-log makes of the handler.
public final class LogRecorder: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    /// A logger (at `trace`) whose messages go here.
    public func logger(label: String = "test") -> Logger {
        var logger = Logger(label: label) { _ in RecordingLogHandler(recorder: self) }
        logger.logLevel = .trace
        return logger
    }

    func add(_ line: String) { self.lines.withLock { $0.append(line) } }

    /// Every message so far, as `level: message`.
    public var all: [String] { self.lines.withLock { $0 } }
}

public struct RecordingLogHandler: LogHandler {
    let recorder: LogRecorder
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) { self.recorder.add("\(event.level): \(event.message)") }
}
