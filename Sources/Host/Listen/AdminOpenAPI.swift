// AdminOpenAPI: the admin API's OpenAPI document, served at /api/openapi.json; docs/openapi.json is the same text
// (a test keeps the two equal).

enum AdminOpenAPI {
    static let document = #"""
        {
          "openapi": "3.0.3",
          "info": {
            "title": "Swiftlet admin API",
            "version": "1.0.0",
            "description": "Endpoints of the admin listener under /api/. Every endpoint but this document needs `Authorization: Bearer <admin.token>`."
          },
          "components": {
            "securitySchemes": {
              "bearer": { "type": "http", "scheme": "bearer" }
            },
            "schemas": {
              "Error": {
                "type": "object",
                "required": ["error"],
                "properties": { "error": { "type": "string" } }
              },
              "ListStats": {
                "type": "object",
                "required": ["name", "source", "rules", "skippedLines", "skippedExamples"],
                "properties": {
                  "name": { "type": "string" },
                  "source": { "type": "string" },
                  "rules": { "type": "integer" },
                  "skippedLines": { "type": "integer" },
                  "skippedExamples": { "type": "array", "items": { "type": "string" } },
                  "lastLoad": { "type": "string", "format": "date-time" },
                  "lastError": { "type": "string" }
                }
              },
              "Stats": {
                "type": "object",
                "required": ["domainRulesCount", "wildcardRulesCount", "regexRulesCount", "totalCachedRules",
                  "enabledListsCount", "memoryBytes", "batchedRegexCount", "batchedPatternsTotal", "loadDurationMs",
                  "rulesPerSecond", "pausedSeconds", "lists"],
                "properties": {
                  "domainRulesCount": { "type": "integer" },
                  "wildcardRulesCount": { "type": "integer" },
                  "regexRulesCount": { "type": "integer" },
                  "totalCachedRules": { "type": "integer" },
                  "enabledListsCount": { "type": "integer" },
                  "memoryBytes": { "type": "integer" },
                  "batchedRegexCount": { "type": "integer" },
                  "batchedPatternsTotal": { "type": "integer" },
                  "loadDurationMs": { "type": "number" },
                  "rulesPerSecond": { "type": "number" },
                  "pausedSeconds": { "type": "integer" },
                  "lists": { "type": "array", "items": { "$ref": "#/components/schemas/ListStats" } }
                }
              },
              "CheckRequest": {
                "type": "object",
                "required": ["domain"],
                "properties": {
                  "domain": { "type": "string", "example": "ads.example.com" },
                  "client_ip": { "type": "string", "example": "192.168.1.20" },
                  "type": { "type": "string", "example": "AAAA" }
                }
              },
              "CheckResponse": {
                "type": "object",
                "required": ["blocked", "reason", "group"],
                "properties": {
                  "blocked": { "type": "boolean" },
                  "reason": { "type": "string", "enum": ["blocked", "allowed", "not_filtered", "paused"] },
                  "rule": { "type": "string" },
                  "list": { "type": "string" },
                  "line": { "type": "integer" },
                  "group": { "type": "string" }
                }
              },
              "Pause": {
                "type": "object",
                "required": ["paused", "seconds"],
                "properties": { "paused": { "type": "boolean" }, "seconds": { "type": "integer" } }
              }
            },
            "responses": {
              "BadRequest": {
                "description": "Malformed JSON or a bad value",
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
              },
              "Unauthorized": {
                "description": "Missing or wrong bearer token, or no token configured",
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
              }
            }
          },
          "security": [{ "bearer": [] }],
          "paths": {
            "/api/openapi.json": {
              "get": {
                "summary": "This document",
                "security": [],
                "responses": { "200": { "description": "The OpenAPI document", "content": { "application/json": {} } } }
              }
            },
            "/api/filters/cache/stats": {
              "get": {
                "summary": "Rule counts, memory, load time and per-list status of the filter",
                "responses": {
                  "200": { "description": "Stats", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Stats" } } } },
                  "401": { "$ref": "#/components/responses/Unauthorized" }
                }
              }
            },
            "/api/filters/cache/reload": {
              "post": {
                "summary": "Reads every list again (URLs fetched with If-None-Match) and swaps the new rules in",
                "responses": {
                  "200": {
                    "description": "Reloaded",
                    "content": { "application/json": { "schema": {
                      "type": "object",
                      "required": ["message", "stats"],
                      "properties": { "message": { "type": "string" }, "stats": { "$ref": "#/components/schemas/Stats" } }
                    } } }
                  },
                  "401": { "$ref": "#/components/responses/Unauthorized" }
                }
              }
            },
            "/api/filters/check": {
              "post": {
                "summary": "Whether a name is blocked for a client, and by which rule",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/CheckRequest" } } } },
                "responses": {
                  "200": { "description": "The decision", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/CheckResponse" } } } },
                  "400": { "$ref": "#/components/responses/BadRequest" },
                  "401": { "$ref": "#/components/responses/Unauthorized" }
                }
              }
            },
            "/api/filters/pause": {
              "post": {
                "summary": "Turns blocking off for a number of seconds",
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                  "type": "object", "required": ["seconds"],
                  "properties": { "seconds": { "type": "integer", "minimum": 1, "maximum": 86400 } }
                } } } },
                "responses": {
                  "200": { "description": "Paused", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Pause" } } } },
                  "400": { "$ref": "#/components/responses/BadRequest" },
                  "401": { "$ref": "#/components/responses/Unauthorized" }
                }
              },
              "delete": {
                "summary": "Turns blocking back on",
                "responses": {
                  "200": { "description": "Resumed", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Pause" } } } },
                  "401": { "$ref": "#/components/responses/Unauthorized" }
                }
              }
            }
          }
        }

        """#
}
