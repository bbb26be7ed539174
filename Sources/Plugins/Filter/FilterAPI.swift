// FilterAPI: the filter's admin endpoints: stats, reload, check a name, pause.

import Foundation
import FilterRuleEngine
import Pipeline

struct FilterAPI {
    let engine: FilterEngine

    var routes: [AdminRoute] {
        let engine = self.engine
        return [
            AdminRoute(method: "GET", path: "/api/filters/cache/stats") { _ in
                AdminResponse.json(200, engine.stats())
            },
            AdminRoute(method: "POST", path: "/api/filters/cache/reload") { _ in
                let message = await engine.reload(fetch: true)
                return AdminResponse.json(200, ReloadResponse(message: message, stats: engine.stats()))
            },
            AdminRoute(method: "POST", path: "/api/filters/check") { request in
                Self.check(request, engine: engine)
            },
            AdminRoute(method: "POST", path: "/api/filters/pause") { request in
                guard let body = try? JSONDecoder().decode(PauseRequest.self, from: Data(request.body)) else {
                    return AdminResponse.error(400, "expected a JSON object like {\"seconds\": 300}")
                }
                guard body.seconds > 0 && body.seconds <= 86400 else {
                    return AdminResponse.error(400, "seconds must be between 1 and 86400")
                }
                engine.pause(seconds: UInt32(body.seconds))
                return AdminResponse.json(200, PauseResponse(paused: true, seconds: engine.pauseRemaining()))
            },
            AdminRoute(method: "DELETE", path: "/api/filters/pause") { _ in
                engine.resume()
                return AdminResponse.json(200, PauseResponse(paused: false, seconds: 0))
            },
        ]
    }

    struct ReloadResponse: Encodable {
        var message: String
        var stats: FilterEngine.Stats
    }

    struct PauseRequest: Decodable { var seconds: Int }

    struct PauseResponse: Encodable {
        var paused: Bool
        var seconds: UInt32
    }

    struct CheckRequest: Decodable {
        var domain: String
        var clientIP: String?
        var type: String?
        enum CodingKeys: String, CodingKey {
            case domain, type
            case clientIP = "client_ip"
        }
    }

    struct CheckResponse: Encodable {
        var blocked: Bool
        /// `blocked`, `allowed` (an exception matched), `not_filtered`, or `paused`.
        var reason: String
        var rule: String?
        var list: String?
        var line: Int?
        var group: String
    }

    static func check(_ request: AdminRequest, engine: FilterEngine) -> AdminResponse {
        guard let body = try? JSONDecoder().decode(CheckRequest.self, from: Data(request.body)) else {
            return AdminResponse.error(
                400,
                "expected a JSON object like {\"domain\": \"ads.example\", \"client_ip\": \"192.0.2.1\"}"
            )
        }
        guard let name = RuleParser.hostName(body.domain.hasSuffix(".") ? String(body.domain.dropLast()) : body.domain)
        else {
            return AdminResponse.error(400, "'\(body.domain)' is not a domain name")
        }
        var address = IPAddress.v4(IPv4Address(127, 0, 0, 1))
        if let text = body.clientIP {
            guard let parsed = IPAddress(text) else {
                return AdminResponse.error(400, "'\(text)' is not an IP address")
            }
            address = parsed
        }
        var type = RecordType.a
        if let text = body.type {
            guard let parsed = RecordType(mnemonic: text) else {
                return AdminResponse.error(400, "'\(text)' is not a record type")
            }
            type = parsed
        }
        let group = engine.groups[engine.groupIndex(of: address)]
        if engine.pauseRemaining() > 0 {
            return AdminResponse.json(200, CheckResponse(blocked: false, reason: "paused", group: group.name))
        }
        let ruleSet = engine.ruleSet
        let context = MatchContext(type: type, client: address, group: group)
        guard let verdict = ruleSet.match(name, context) else {
            return AdminResponse.json(200, CheckResponse(blocked: false, reason: "not_filtered", group: group.name))
        }
        return AdminResponse.json(
            200,
            CheckResponse(
                blocked: verdict.blocked,
                reason: verdict.blocked ? "blocked" : "allowed",
                rule: ruleSet.text(of: verdict.rule),
                list: ruleSet.list(of: verdict.rule),
                line: ruleSet.line(of: verdict.rule),
                group: group.name
            )
        )
    }
}
