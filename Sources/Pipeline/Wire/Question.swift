// Question: one entry of the question section (RFC 1035 §4.1.2).

public struct Question: Hashable, Sendable {
    public var name: DomainName
    public var type: RecordType
    public var recordClass: RecordClass

    public init(name: DomainName, type: RecordType, recordClass: RecordClass = .in) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
    }
}

extension Question: CustomStringConvertible {
    /// dig's form: `;example.org.\t\tIN\tA`.
    public var description: String { ";\(self.name)\t\t\(self.recordClass)\t\(self.type)" }
}
