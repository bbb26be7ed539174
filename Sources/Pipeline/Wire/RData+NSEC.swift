// RData+NSEC: next secure record (RFC 4034 §4). The next name is never compressed (RFC 3597 §4).

public struct NSEC: RDataFields {
    public var nextDomainName: DomainName
    public var types: TypeBitmap

    public init(nextDomainName: DomainName, types: TypeBitmap) {
        self.nextDomainName = nextDomainName
        self.types = types
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        self.nextDomainName = try reader.readName()
        self.types = try TypeBitmap(wire: &reader, type: .nsec)
    }

    public func encode(to writer: inout WireWriter, compress: Bool) {
        writer.writeName(self.nextDomainName, compress: false)
        self.types.encode(to: &writer)
    }

    public init(presentation fields: inout PresentationFields) throws(PresentationError) {
        self.nextDomainName = try fields.name("next domain name")
        self.types = try TypeBitmap(presentation: &fields)
    }

    public var presentation: String {
        self.types.types.isEmpty ? "\(self.nextDomainName)" : "\(self.nextDomainName) \(self.types.presentation)"
    }
}
