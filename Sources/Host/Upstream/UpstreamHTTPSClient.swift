// UpstreamHTTPSClient: DNS over HTTPS (RFC 8484) to one upstream, with AsyncHTTPClient: HTTP/2 when the server offers
// it (one connection, many streams), HTTP/1.1 otherwise, connections reused; the certificate checked for the
// configured name while the connection goes to the configured address.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Pipeline

final class UpstreamHTTPSClient: Sendable {
    let client: HTTPClient
    /// `https://name:port/path`: the name is the TLS server name and Host; the address is pinned by `dnsOverride`.
    let url: String

    /// - Parameters:
    ///   - trustRoots: PEM certificate authorities; nil for the system's.
    ///   - verify: false only for `swiftlet query +https` without a name or CA (as dig and kdig do).
    /// - Throws: `UpstreamSetupError` for unreadable trust roots.
    init(
        server: UpstreamServer,
        serverName: String?,
        path: String,
        trustRoots: String?,
        verify: Bool = true,
        group: any EventLoopGroup
    ) throws {
        let literal = "\(server.address)"
        let host = serverName ?? (literal.contains(":") ? "[\(literal)]" : literal)
        self.url = "https://\(host):\(server.port)\(path)"
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: try UpstreamTLS.configuration(trustRoots: trustRoots, verify: verify, alpn: TLSServerContext.dohALPN)
        )
        // The name is never looked up: the connection goes to the configured address, verified for the name.
        if let serverName { configuration.dnsOverride = [serverName: literal] }
        configuration.httpVersion = .automatic
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        self.client = HTTPClient(eventLoopGroup: group, configuration: configuration)
    }

    deinit {
        // AsyncHTTPClient requires a shutdown before it goes; its callback form does not block.
        self.client.shutdown { _ in }
    }

    /// POSTs `packet` (its ID already 0, RFC 8484 §4.1), or GETs it as `?dns=` with `get`, and returns the DNS
    /// message of a 200 response.
    /// - Throws: `UpstreamError.timeout` past `timeout`; `.connection` for a failed connection, another status or
    ///   media type, or a body larger than a DNS message.
    func exchange(_ packet: [UInt8], timeout: TimeAmount, get: Bool = false) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: get ? self.url + "?dns=" + DoHRequest.base64URLEncode(packet) : self.url)
        request.headers.add(name: "accept", value: DoHRequest.messageType)
        if !get {
            request.method = .POST
            request.headers.add(name: "content-type", value: DoHRequest.messageType)
            request.body = .bytes(ByteBuffer(bytes: packet))
        }
        let response: HTTPClientResponse
        do { response = try await self.client.execute(request, timeout: timeout) } catch let error as HTTPClientError {
            throw error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout
                ? UpstreamError.timeout : UpstreamError.connection("https: \(error)")
        } catch {
            throw UpstreamError.connection("https: \(error)")
        }
        guard response.status == .ok else {
            throw UpstreamError.connection("https: status \(response.status.code)")
        }
        let type = response.headers.first(name: "content-type")?.split(separator: ";").first
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard type == DoHRequest.messageType else {
            throw UpstreamError.connection("https: content-type \(type ?? "none")")
        }
        do {
            let body = try await response.body.collect(upTo: Message.maximumSize)
            return Array(body.readableBytesView)
        } catch {
            throw UpstreamError.connection("https: body: \(error)")
        }
    }
}
