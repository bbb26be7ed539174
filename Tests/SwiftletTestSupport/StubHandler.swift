// StubHandler: a handler with a fixed verdict that records what the chain did with it.

import Dispatch
import Foundation
import Pipeline
import Synchronization

/// Records calls into a shared journal so tests can assert the chain's order of handle/resume/finish.
public final class Journal: Sendable {
    private let entries = Mutex<[String]>([])
    public init() {}
    public func add(_ entry: String) { self.entries.withLock { $0.append(entry) } }
    public var all: [String] { self.entries.withLock { $0 } }
}

/// A handler that answers `verdict` from `handle` (and `resumeVerdict` from `resume`), optionally with an A record.
public struct StubHandler: QueryHandler {
    public let name: String
    public let verdict: Verdict
    public let resumeVerdict: Verdict
    public let journal: Journal
    public let answer: Record?

    public init(_ name: String, _ verdict: Verdict, resume: Verdict = .next, journal: Journal, answer: Record? = nil) {
        self.name = name
        self.verdict = verdict
        self.resumeVerdict = resume
        self.journal = journal
        self.answer = answer
    }

    public func handle(_ query: inout Query) -> Verdict {
        self.journal.add("handle \(self.name)")
        if self.verdict == .answered { self.fill(&query) }
        return self.verdict
    }

    public func resume(_ query: inout Query) async -> Verdict {
        self.journal.add("resume \(self.name)")
        if self.resumeVerdict == .answered { self.fill(&query) }
        return self.resumeVerdict
    }

    public func finish(_ query: inout Query) { self.journal.add("finish \(self.name)") }

    private func fill(_ query: inout Query) {
        var response = query.respond()
        if let answer = self.answer { response.answers = [answer] }
        query.response = response
        query.answeredBy = self.name
    }
}

/// A client on 192.0.2.10 over UDP.
public let testClient = Client(address: .v4(IPv4Address(192, 0, 2, 10)), port: 40000, transport: .udp)

/// Runs blocking work (socket waits, child processes) on a GCD thread, so it never occupies one of the few threads
/// of Swift's cooperative pool that the server under test needs for its own tasks.
public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
    }
}

/// A task executor with a thread of its own. Work under test that has wall-clock deadlines (a resolution's timeouts)
/// runs here, so that its every resumption is not queued behind the whole parallel suite: on the cooperative pool's
/// two threads, or on GCD's global queues, which the tests' blocking waits share.
public final class TestExecutor: TaskExecutor, @unchecked Sendable {
    private let jobs = Mutex<[UnownedJob]>([])
    private let ready = DispatchSemaphore(value: 0)

    private init() {
        let thread = Thread { [self] in
            while true {
                self.ready.wait()
                let batch = self.jobs.withLock { jobs in
                    defer { jobs.removeAll() }
                    return jobs
                }
                for job in batch { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
            }
        }
        thread.name = "swiftlet-tests"
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.jobs.withLock { $0.append(job) }
        self.ready.signal()
    }

    public static let shared = TestExecutor()
}

/// Waits until `condition` (something the test can observe: a counter, a log line, a state) holds, for at most
/// `seconds`; returns whether it did. The one place a test waits for the system under test to get somewhere: it
/// re-checks every 10 ms up to the deadline, and a test asserts on its result instead of sleeping a guessed time.
public func eventually(within seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

/// Runs long blocking work (a client that writes until the server gives up on it, a sampler) on a thread of its own:
/// neither the cooperative pool nor GCD's global queues, which the other suites' waits share and can fill for
/// seconds, so it starts at once however busy the process is.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }.start()
    }
}
