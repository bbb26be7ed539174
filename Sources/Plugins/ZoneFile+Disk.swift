// ZoneFile+Disk: zone files read from disk, for the plugins that load them (zone, and recursive's root hints).
// Pipeline's parser does no I/O of its own: it is handed a reader for the file's $INCLUDEs.

import Foundation
import Pipeline

extension ZoneFile {
    /// The records of the zone file `text` (read from `path`) and of the files it includes, read as UTF-8 from disk.
    static func parse(file text: String, path: String, origin: DomainName, defaultTTL: UInt32? = nil)
        throws(ZoneFileError) -> [Record]
    {
        try ZoneFile.parse(text: text, path: path, origin: origin, defaultTTL: defaultTTL, readFile: ZoneFile.readText)
    }

    /// The UTF-8 text of the file at `path`; a failure says why in a few words (`No such file or directory`, `not
    /// UTF-8 text`), which the parser puts after "cannot read '<path>': ".
    static func readText(_ path: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw FileReadError(reason: FileReadError.describe(error))
        }
    }
}

/// Why a file could not be read, in the system's words.
struct FileReadError: Error, CustomStringConvertible {
    var reason: String
    var description: String { self.reason }

    /// The system's text for Foundation's file errors, else the error itself.
    static func describe(_ error: any Error) -> String {
        guard let cocoa = error as? CocoaError else { return String(describing: error) }
        if let posix = cocoa.underlying as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        switch cocoa.code {
        case .fileReadCorruptFile, .fileReadInapplicableStringEncoding: return "not UTF-8 text"
        default: return "Foundation error \(cocoa.code.rawValue)"
        }
    }
}
