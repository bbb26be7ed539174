// LogFormatTests: the common, JSON and template forms of a query-log line.

import Pipeline
import Testing

@testable import Plugins

@Suite struct LogFormatTests {
    static let entry = LogEntry(
        remote: "192.0.2.10",
        port: 40000,
        transport: "udp",
        id: 4242,
        name: "www.example.org.",
        type: "A",
        recordClass: "IN",
        requestSize: 40,
        dnssecOK: false,
        bufferSize: 1232,
        rcode: "NOERROR",
        responseFlags: "qr,aa,rd",
        responseSize: 56,
        durationSeconds: 0.000123,
        answeredBy: "hosts",
        note: "-"
    )

    @Test func commonFormatMatchesCoreDNS() throws {
        #expect(
            try LogFormat("common").render(LogFormatTests.entry)
                == #"192.0.2.10:40000 - 4242 "A IN www.example.org. udp 40 false 1232" NOERROR qr,aa,rd 56 0.000123s"#
        )
    }

    @Test func jsonFormatIsOneObject() throws {
        #expect(
            try LogFormat("json").render(LogFormatTests.entry)
                == #"{"remote":"192.0.2.10","port":40000,"proto":"udp","id":4242,"name":"www.example.org.","type":"A","class":"IN","size":40,"do":false,"bufsize":1232,"rcode":"NOERROR","rflags":"qr,aa,rd","rsize":56,"duration":0.000123,"plugin":"hosts","note":"-"}"#
        )
    }

    @Test func templateUsesPlaceholders() throws {
        #expect(
            try LogFormat("{name} {type} -> {rcode} by {plugin}").render(LogFormatTests.entry)
                == "www.example.org. A -> NOERROR by hosts"
        )
    }

    @Test func unknownPlaceholderIsAnError() {
        #expect(throws: PluginSetupError.self) { try LogFormat("{nope}") }
    }
}
