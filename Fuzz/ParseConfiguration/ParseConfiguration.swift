// ParseConfiguration: the libFuzzer target for the YAML configuration loader. Built by Fuzz/run.sh from
// Sources/Host/Config/*.swift and this file as one module, against Sources/Pipeline, Yams (its Swift sources and
// libyaml, from the package's checkout) and a stand-in `Plugins` module (Options+Decoding.swift and
// Fuzz/Stubs/Plugins/PluginContext.swift), each built as a module of its own, all with coverage and ASan.
//
// For every input (UTF-8, invalid sequences replaced), read as the file `fuzz.yaml`:
//  1. `Configuration.parse` does not crash.
//  2. What it throws is a `ConfigError` naming `fuzz.yaml`, and its description is the one line a user sees:
//     `fuzz.yaml:LINE:COLUMN: ...` with LINE ≥ 1 (at most one past the last line) and COLUMN ≥ 1. Only an empty
//     configuration (nothing in the file to point at) may have no position: `fuzz.yaml: ...`.
//  3. A configuration it accepts holds what the loader promises: 1 to 16 server blocks, each with a listen
//     address, every listen address printing as text that reads back to it, sizes and limits in their ranges.
//
// A property that fails calls `fatalError` with what differed, so libFuzzer saves the input as a crash artifact.
//
// Known issues (see Fuzz/README.md), tolerated so that the CI run looks for new ones, and reported again when the
// environment has SWIFTLET_FUZZ_STRICT=1 (Fuzz/run.sh sets it to reproduce a crash file):
//  - C1: a libyaml reader error (a control character, say) becomes a ConfigError without a position
//    (`fuzz.yaml: YAML: 5:10: error: reader: ...`, over two lines): ConfigDecoder.error(from: YamlError) maps only
//    scanner, parser, composer and duplicate-key errors to a position.
//  - C2: a mapping that is null (`servers: [~]`, a bare `-`, a document that is only `~`) gives "missing required
//    key" without a position: NodeDecoder.container(keyedBy:) stands an empty `Node.Mapping([])` in for the null,
//    and NodeKeyedContainer.decode reports at that mapping, which has no mark.
//  - C3: a duration of 2^64 ns or more (`tcp_idle_timeout: 1e20`, `inf`) traps in `OptionDuration(seconds:)`
//    (Sources/Plugins/Options+Decoding.swift, `UInt64(seconds * 1e9)`): such inputs are skipped, not parsed.

#if canImport(Glibc)
import Glibc
#endif
import Pipeline
import Yams

let source = "fuzz.yaml"
/// Relative paths (and, in the stand-in `PluginContext`, absolute ones) resolve under this directory, which does
/// not exist: `admin.token_file` never reads a real file.
let baseDirectory = "/nonexistent/swiftlet-fuzz"
/// Errors that are about the whole file and so have no position.
let positionlessMessages: Set<String> = ["the configuration is empty"]
/// SWIFTLET_FUZZ_STRICT=1: known issues fail too.
let strict = getenv("SWIFTLET_FUZZ_STRICT").map { String(cString: $0) == "1" } ?? false

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)
    let text = String(decoding: bytes, as: UTF8.self)
    if !strict && hasOverflowingDuration(text) { return 0 }  // C3
    checkConfiguration(text)
    return 0
}

func checkConfiguration(_ text: String) {
    let configuration: Configuration
    do {
        configuration = try Configuration.parse(text, source: source, baseDirectory: baseDirectory)
    } catch let error as ConfigError {
        checkError(error, text)
        return
    } catch {
        fail("threw \(type(of: error)), not a ConfigError: \(error)", text)
    }
    checkAccepted(configuration, text)
}

func checkError(_ error: ConfigError, _ text: String) {
    let description = error.description
    guard error.file == source else { fail("error names '\(error.file)', not \(source): \(description)", text) }
    if error.line == 0 {
        guard error.column == 0, description.hasPrefix("\(source): ") else {
            fail("error with column \(error.column) but no line: \(description)", text)
        }
        let knownIssue =
            !strict
            && (error.message.hasPrefix("YAML: ") && error.message.contains("error: reader: ")  // C1
                || error.message.hasPrefix("missing required key '"))  // C2
        guard positionlessMessages.contains(error.message) || knownIssue else {
            fail("error without a position: \(description)", text)
        }
        return
    }
    // Lines as YAML counts them: after LF, CRLF or a lone CR.
    let lines = text.utf8.reduce(into: 1) { count, byte in if byte == 10 || byte == 13 { count += 1 } }
    guard error.line >= 1, error.line <= lines + 1, error.column >= 1 else {
        fail("error at \(error.line):\(error.column) (the text has \(lines) lines): \(description)", text)
    }
    guard description.hasPrefix("\(source):\(error.line):\(error.column): ") else {
        fail("error does not start with \(source):\(error.line):\(error.column): \(description)", text)
    }
}

func checkAccepted(_ configuration: Configuration, _ text: String) {
    guard (1...16).contains(configuration.servers.count) else {
        fail("accepted \(configuration.servers.count) server blocks", text)
    }
    var addresses = configuration.servers.flatMap(\.listen)
    if let admin = configuration.admin {
        addresses.append(admin.listen)
        if let token = admin.token, token.count < 16 { fail("accepted an API token of \(token.count) characters", text) }
    }
    for address in addresses where ListenAddress(address.description) != address {
        fail("listen address \(address) does not read back from its text", text)
    }
    for block in configuration.servers {
        guard !block.listen.isEmpty, !block.zones.isEmpty, (512...4096).contains(block.maxUDPSize),
            block.workers.map({ (1...256).contains($0) }) ?? true, block.tcpIdleTimeout >= 0
        else { fail("accepted a server block out of range: \(block.path)", text) }
        for entry in block.plugins { _ = entry.name; _ = entry.path }
    }
    let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    guard levels.contains(configuration.log.level) else { fail("accepted log level \(configuration.log.level)", text) }
}

/// C3: whether some scalar of the document reads as a duration too long for `OptionDuration` (a number of seconds,
/// or one with a unit, as `OptionDuration` reads them), so that parsing it would trap.
func hasOverflowingDuration(_ text: String) -> Bool {
    guard let root = try? Yams.compose(yaml: text) else { return false }
    func overflows(_ scalar: String) -> Bool {
        let units: [(String, Double)] = [("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        var seconds = Double(scalar)
        for (suffix, scale) in units where seconds == nil && scalar.hasSuffix(suffix) {
            seconds = Double(scalar.dropLast(suffix.count)).map { $0 * scale }
        }
        guard let seconds, seconds >= 0 else { return false }
        return !(seconds * 1e9 < 18_446_744_073_709_551_616.0)
    }
    var stack = [root]
    while let node = stack.popLast() {
        switch node {
        case .scalar(let scalar): if overflows(scalar.string) { return true }
        case .mapping(let mapping):
            for (key, value) in mapping { stack.append(key); stack.append(value) }
        case .sequence(let sequence): stack.append(contentsOf: sequence)
        case .alias: break
        }
    }
    return false
}

func fail(_ what: String, _ text: String) -> Never {
    fatalError("\n\(what)\nconfiguration (\(text.utf8.count) octets):\n\(text.prefix(2000))")
}
