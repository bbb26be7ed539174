// FileWatch: notices changed files by polling their modification time, size and inode (hosts, zone).

import Foundation
import Pipeline

/// Polls files for changes. A rename-into-place (a new inode) counts as a change as well as an edit.
public enum FileWatch {
    /// What identifies a file's version: modification time, size and inode; empty when it cannot be read.
    public static func stamp(_ path: String) -> [String] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return [] }
        return [
            "\(attributes[.modificationDate] ?? "")", "\(attributes[.size] ?? "")",
            "\(attributes[.systemFileNumber] ?? "")",
        ]
    }

    /// Calls `changed` with the index of each path whose stamp changed, every `interval`, until cancelled.
    public static func poll(_ paths: [String], every interval: Duration, changed: (Int) async -> Void) async {
        var stamps = paths.map(FileWatch.stamp)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            for (index, path) in paths.enumerated() {
                let stamp = FileWatch.stamp(path)
                guard stamp != stamps[index] else { continue }
                stamps[index] = stamp
                await changed(index)
            }
        }
    }
}
