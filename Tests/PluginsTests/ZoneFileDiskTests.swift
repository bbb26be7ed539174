// ZoneFileDiskTests: zone files and their $INCLUDEs read from disk, and the few words a failed read gives.

import Foundation
import Pipeline
import SwiftletTestSupport
import Testing

@testable import Plugins

@Suite struct ZoneFileDiskTests {
    @Test func aMissingOrNonUTF8IncludeIsNamedWithTheSystemsWords() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zonedisk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data([0x66, 0xFF, 0xFE, 0x0A]).write(to: directory.appendingPathComponent("latin.inc"))
        try "www 300 IN A 192.0.2.1\n".write(to: directory.appendingPathComponent("ok.inc"), atomically: true, encoding: .utf8)
        let path = directory.appendingPathComponent("example.org.zone").path

        let records = try ZoneFile.parse(file: "$INCLUDE ok.inc\n", path: path, origin: name("example.org."))
        #expect(records.map(brief) == ["www.example.org. a 192.0.2.1"])
        #expect(throws: ZoneFileError(
            file: path, line: 1, column: 10,
            message: "cannot read '\(directory.path)/missing.inc': No such file or directory"
        )) {
            try ZoneFile.parse(file: "$INCLUDE missing.inc\n", path: path, origin: name("example.org."))
        }
        #expect(throws: ZoneFileError(
            file: path, line: 1, column: 10, message: "cannot read '\(directory.path)/latin.inc': not UTF-8 text"
        )) {
            try ZoneFile.parse(file: "$INCLUDE latin.inc\n", path: path, origin: name("example.org."))
        }
    }
}
