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

import Pipeline

let source = "fuzz.yaml"
/// Relative paths (and, in the stand-in `PluginContext`, absolute ones) resolve under this directory, which does
/// not exist: `admin.token_file` never reads a real file.
let baseDirectory = "/nonexistent/swiftlet-fuzz"
/// Errors that are about the whole file and so have no position.
let positionlessMessages: Set<String> = ["the configuration is empty"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)
    let text = String(decoding: bytes, as: UTF8.self)
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
        guard positionlessMessages.contains(error.message) else {
            fail("error without a position: \(description)", text)
        }
        return
    }
    // Lines as libyaml counts them: a break is LF, CR (CRLF counts twice here, which only loosens the bound), NEL
    // (U+0085), LINE SEPARATOR (U+2028) or PARAGRAPH SEPARATOR (U+2029); YAML 1.1 §5.4. Counting only LF and CR
    // failed a configuration whose error sat two NELs below its last LF.
    let yamlBreaks: Set<UInt32> = [0x0A, 0x0D, 0x85, 0x2028, 0x2029]
    let lines = text.unicodeScalars.reduce(into: 1) { count, scalar in
        if yamlBreaks.contains(scalar.value) { count += 1 }
    }
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

func fail(_ what: String, _ text: String) -> Never {
    fatalError("\n\(what)\nconfiguration (\(text.utf8.count) octets):\n\(text.prefix(2000))")
}
