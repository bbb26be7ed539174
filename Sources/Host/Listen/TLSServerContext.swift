// TLSServerContext: a DNS-over-TLS listener's certificate and key, and the TLS context each new connection gets;
// made again when the files change (a certbot renewal) or on SIGHUP, while open connections keep the one they began
// with.

import Foundation
import NIOSSL
import Synchronization

/// Why a certificate and key cannot serve, in words for the configuration error or the log.
struct TLSSetupError: Error, Equatable, CustomStringConvertible {
    var message: String
    var description: String { self.message }
}

final class TLSServerContext: Sendable {
    /// DNS over TLS: RFC 7858 §3.2 asks for ALPN "dot" (RFC 8310's registration).
    static let dotALPN = ["dot"]
    /// DNS over HTTPS: HTTP/2 preferred (RFC 8484 §5.2), HTTP/1.1 for clients without it.
    static let dohALPN = ["h2", "http/1.1"]

    let certificatePath: String
    let keyPath: String
    /// The application protocols offered, most preferred first.
    let alpn: [String]
    private let state: Mutex<(context: NIOSSLContext, signature: String)>

    /// Loads and checks the files now.
    /// - Throws: `TLSSetupError` naming what is wrong with them.
    init(certificate: String, key: String, alpn: [String]) throws(TLSSetupError) {
        self.certificatePath = certificate
        self.keyPath = key
        self.alpn = alpn
        let signature = TLSServerContext.signature(certificate, key)
        self.state = Mutex((try TLSServerContext.load(certificate: certificate, key: key, alpn: alpn), signature))
    }

    /// The context a connection accepted now uses.
    var current: NIOSSLContext { self.state.withLock { $0.context } }

    /// Loads the files again when they changed since they were last loaded (size, modification time, inode): true
    /// when the new ones now serve. Bad new files throw and leave the old context serving.
    @discardableResult
    func reloadIfChanged() throws(TLSSetupError) -> Bool {
        let signature = TLSServerContext.signature(self.certificatePath, self.keyPath)
        guard signature != self.state.withLock({ $0.signature }) else { return false }
        do {
            let context = try TLSServerContext.load(certificate: self.certificatePath, key: self.keyPath, alpn: self.alpn)
            self.state.withLock { $0 = (context, signature) }
            return true
        } catch {
            // Not again for the same files: a broken renewal is reported once, not every poll.
            self.state.withLock { $0.signature = signature }
            throw error
        }
    }

    /// The server TLS context for `certificate` (a PEM chain, the server's first) and `key` (PEM): TLS 1.2 or
    /// later, offering the protocols `alpn`. Session tickets (RFC 5077, TLS 1.3 resumption) are BoringSSL's default for servers, so a
    /// client that reconnects resumes without a full handshake.
    /// - Throws: `TLSSetupError` for unreadable files, a certificate not valid now, or a key that does not match.
    static func load(certificate: String, key: String, alpn: [String] = dotALPN) throws(TLSSetupError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(certificate) } catch {
            throw TLSSetupError(message: "cannot read a PEM certificate from '\(certificate)': \(error)")
        }
        guard let leaf = chain.first else {
            throw TLSSetupError(message: "no certificate in '\(certificate)'")
        }
        let now = time(nil)
        if leaf.notValidAfter < now {
            throw TLSSetupError(message: "the certificate in '\(certificate)' expired on \(Self.date(leaf.notValidAfter))")
        }
        if leaf.notValidBefore > now {
            throw TLSSetupError(
                message: "the certificate in '\(certificate)' is not valid before \(Self.date(leaf.notValidBefore))"
            )
        }
        let privateKey: NIOSSLPrivateKey
        do { privateKey = try NIOSSLPrivateKey(file: key, format: .pem) } catch {
            throw TLSSetupError(message: "cannot read a PEM private key from '\(key)': \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(privateKey)
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = alpn
        do { return try NIOSSLContext(configuration: configuration) } catch {
            throw TLSSetupError(message: "the key in '\(key)' does not go with the certificate in '\(certificate)': \(error)")
        }
    }

    private static func date(_ time: time_t) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(time)))
    }

    /// What identifies the files' current contents without reading them.
    private static func signature(_ paths: String...) -> String {
        paths.map { path in
            var info = stat()
            guard stat(path, &info) == 0 else { return "\(path) missing" }
            return "\(path) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_ino)"
        }.joined(separator: "\n")
    }
}
