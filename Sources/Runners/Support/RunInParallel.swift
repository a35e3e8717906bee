import Foundation

/// Runs `count` jobs on `threads` threads of their own (8 MiB stacks, off Swift's cooperative
/// pool), each thread taking the next index until none is left; returns the results by index.
/// QEMU under TCG runs one guest per host thread, so boots use one thread per core.
package func runInParallel<T>(count: Int, threads: Int, _ job: @escaping @Sendable (Int) -> T) -> [T] {
    let results = JobResults<T>(count: count)
    let group = DispatchGroup()
    for _ in 0..<max(1, min(threads, count)) {
        group.enter()
        let t = Thread {
            while let i = results.take() { results.set(i, job(i)) }
            group.leave()
        }
        t.stackSize = 8 << 20
        t.start()
    }
    group.wait()
    return results.all
}

/// The next job index and the results by index, shared by the worker threads.
private final class JobResults<T>: @unchecked Sendable {
    // @unchecked: every access holds `lock`.
    private let lock = NSLock()
    private var items: [T?]
    private var next = 0
    init(count: Int) { items = Array(repeating: nil, count: count) }
    func take() -> Int? { lock.lock(); defer { lock.unlock() }; guard next < items.count else { return nil }; next += 1; return next - 1 }
    func set(_ i: Int, _ v: T) { lock.lock(); items[i] = v; lock.unlock() }
    var all: [T] { lock.lock(); defer { lock.unlock() }; return items.map { $0! } }
}
