// AdminRoute: an endpoint a plugin adds under /api/ on the admin listener, and its request and response.

/// An admin API request as a plugin's route sees it (the host has checked the bearer token already).
public struct AdminRequest: Sendable {
    public var method: String
    public var path: String
    public var body: [UInt8]
    public init(method: String, path: String, body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.body = body
    }
}

/// An admin API response: a status code and a JSON body.
public struct AdminResponse: Sendable, Equatable {
    public var status: Int
    public var body: String
    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }
}

/// One endpoint of a plugin's admin API, such as `POST /api/filters/check`.
public struct AdminRoute: Sendable {
    public var method: String
    public var path: String
    public var handler: @Sendable (AdminRequest) async -> AdminResponse
    public init(method: String, path: String, handler: @escaping @Sendable (AdminRequest) async -> AdminResponse) {
        self.method = method
        self.path = path
        self.handler = handler
    }
}
