// LogSink: where query-log lines go (stdout, stderr or an appended file), one line per write.

import Foundation
import Pipeline
import Synchronization

/// A line writer shared by every worker of a log plugin instance. A line is written whole under a lock.
final class LogSink: Sendable {
    private let handle: Mutex<FileHandle>

    /// - Throws: `PluginSetupError` for `output` when the file cannot be opened.
    init(output: String, resolve: (String) -> String) throws {
        switch output {
        case "stdout": self.handle = Mutex(FileHandle.standardOutput)
        case "stderr": self.handle = Mutex(FileHandle.standardError)
        default:
            let path = resolve(output)
            if !FileManager.default.fileExists(atPath: path) {
                guard FileManager.default.createFile(atPath: path, contents: nil) else {
                    throw PluginSetupError(option: "output", "cannot create '\(path)'")
                }
            }
            guard let file = FileHandle(forWritingAtPath: path) else {
                throw PluginSetupError(option: "output", "cannot open '\(path)' for writing")
            }
            file.seekToEndOfFile()
            self.handle = Mutex(file)
        }
    }

    func write(_ line: String) {
        let data = Data((line + "\n").utf8)
        self.handle.withLock { $0.write(data) }
    }
}
