// The one part of Sources/Pipeline/Plugin/PluginContext.swift that the configuration loader uses
// (`PluginContext.resolve`, for `admin.token_file`), for the ParseConfiguration fuzzer's stand-in `Plugins` module:
// Fuzz/run.sh builds it from this file and Sources/Pipeline/Plugin/Options+Decoding.swift (`OptionDuration`, the real
// one). The real file needs swift-log and swift-metrics, which the fuzz build does not compile (see Fuzz/README.md).
//
// Unlike the real one it keeps absolute paths under `directory` too, so a fuzz input never reads a real file
// (`token_file: /dev/zero` would otherwise read forever): the target passes a directory that does not exist.

public struct PluginContext: Sendable {
    /// `path` under `directory`, absolute or not.
    public static func resolve(_ path: String, against directory: String) -> String {
        let relative = path.hasPrefix("/") ? String(path.dropFirst()) : path
        return directory.hasSuffix("/") ? directory + relative : directory + "/" + relative
    }
}
