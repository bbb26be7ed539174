// FilterBackoffTests: a failed list fetch is retried after a backoff that doubles, capped, not after `refresh`.

import Testing

@testable import Plugins

@Suite struct FilterBackoffTests {
    @Test func theRetryWaitDoublesFromTenSecondsUpToTheSmallerOfRefreshAndHalfAnHour() {
        let day = 86400.0
        #expect((1...9).map { FilterEngine.backoff(failures: $0, refresh: day) } == [10, 20, 40, 80, 160, 320, 640, 1280, 1800])
        #expect(FilterEngine.backoff(failures: 30, refresh: day) == 1800)
        #expect((1...4).map { FilterEngine.backoff(failures: $0, refresh: 60) } == [10, 20, 40, 60])
    }
}
