// Thread control and the fixed work partition behind "same result for any thread count".
#pragma once

#include "glorot_ext/types.hpp"

#include <algorithm>
#include <atomic>
#include <climits>
#include <thread>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#ifdef GLOROT_HAS_OPENMP
#include <omp.h>
#endif
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#endif

namespace glorot {

/// True when the kernels were compiled with OpenMP.
inline bool has_openmp() {
#ifdef GLOROT_HAS_OPENMP
    return true;
#else
    return false;
#endif
}

// The thread count is OpenMP's nthreads-var, which each thread holds for itself: a count set
// from one Python thread applies to the kernels that thread calls, not to other threads (a new
// thread starts from the process default, OMP_NUM_THREADS or every core).

/// Threads the next parallel region of the calling thread may use (1 in a serial build).
inline int get_num_threads() {
#ifdef GLOROT_HAS_OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/// Sets the thread count of later kernels called from this thread; n <= 0 means every core.
inline void set_num_threads(int n) {
#ifdef GLOROT_HAS_OPENMP
    omp_set_num_threads(n > 0 ? n : omp_get_num_procs());
#else
    (void)n;
#endif
}

/// Runs f(thread_id, n_threads) on every thread of one parallel region; f(0, 1) in a serial
/// build. f must not throw.
template <class F>
void parallel_region(F&& f) {
#ifdef GLOROT_HAS_OPENMP
#pragma omp parallel
    f(omp_get_thread_num(), omp_get_num_threads());
#else
    f(0, 1);
#endif
}

/// Fixed contiguous share [first, last) of `n` blocks for thread `tid` of `nt`.
inline void share(Index n, int tid, int nt, Index& first, Index& last) {
    first = n * tid / nt;
    last = n * (tid + 1) / nt;
}

/// A hint to the core that this thread is spinning (frees the sibling hyperthread).
inline void cpu_relax() {
#if defined(__SSE2__) || defined(_M_X64)
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// A spinning barrier for the threads of one parallel region: a step crosses 10–20 of them,
/// and a sleeping OpenMP barrier costs tens of µs each under OMP_WAIT_POLICY=passive.
///
/// A thread that has spun for a while (its partner was preempted, or shares its core) sleeps on
/// a futex until the last thread arrives and wakes it. Not sched_yield: that hands the core to
/// any runnable process, niced background work included, for up to a scheduler tick, and the
/// partner then waits for it in turn; measured with two nice-15 processes busy on this 2-core
/// machine, a batch-10 step on 2 threads took 14–23 ms with yield and 2.5–2.8 ms without (1
/// thread: 4.5–5.5 ms). A woken thread preempts niced work at once. Elsewhere than Linux, yield.
class SpinBarrier {
   public:
    void wait(int n) {
        if (n <= 1) return;
        const unsigned g = gen_.load(std::memory_order_acquire);
        if (count_.fetch_add(1, std::memory_order_acq_rel) == n - 1) {
            count_.store(0, std::memory_order_relaxed);
            gen_.store(g + 1, std::memory_order_seq_cst);
            if (sleepers_.load(std::memory_order_seq_cst) > 0) wake_all();
            return;
        }
        for (unsigned spins = 0; gen_.load(std::memory_order_acquire) == g; ++spins) {
            cpu_relax();
            if (spins > (1u << 12)) {
                sleep_while(g);
                break;
            }
        }
    }

   private:
    alignas(64) std::atomic<int> count_{0};
    alignas(64) std::atomic<unsigned> gen_{0};
    alignas(64) std::atomic<int> sleepers_{0};

    // Dekker-style: a sleeper counts itself before it rereads gen_, the releaser stores gen_
    // before it reads the count (both seq_cst), so either the sleeper sees the new generation or
    // the releaser sees the sleeper; FUTEX_WAIT returns at once if gen_ changed meanwhile.
    void sleep_while(unsigned g) {
#if defined(__linux__)
        static_assert(sizeof(std::atomic<unsigned>) == sizeof(unsigned), "futex word must be a plain unsigned");
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        while (gen_.load(std::memory_order_seq_cst) == g)
            syscall(SYS_futex, reinterpret_cast<unsigned*>(&gen_), FUTEX_WAIT_PRIVATE, g, nullptr, nullptr, 0);
        sleepers_.fetch_sub(1, std::memory_order_seq_cst);
#else
        while (gen_.load(std::memory_order_acquire) == g) std::this_thread::yield();
#endif
    }

    void wake_all() {
#if defined(__linux__)
        syscall(SYS_futex, reinterpret_cast<unsigned*>(&gen_), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
#endif
    }
};

// The fixed work partition of the GEMM path. Every block is a function of the shape alone, never
// of the thread count, so each element is computed by the same serial code whichever thread runs
// its block. Each block's serial GEMM packs the operand the blocks share again, so the blocks are
// few and wide: two for a 1000-unit layer or batch, one per thread on this machine's 2 cores
// (bench/gemm_blocks.cpp times 1, 2, 4 and 8 blocks), and always an even count.

/// Number of blocks that split n rows or columns: 1 below 64, else 2 per 2048 started.
inline Index block_count(Index n) { return n < 64 ? 1 : 2 * ((n + 2047) / 2048); }

/// First index of block i of the block_count(n) near-equal contiguous blocks of [0, n).
inline Index block_start(Index n, Index i) { return n * i / block_count(n); }

/// Calls f(first, size) for each fixed block of [0, n), the blocks shared among the threads.
/// f must not throw: validate before entering.
template <class F>
void for_each_block(Index n, F&& f) {
    const Index blocks = block_count(n);
#ifdef GLOROT_HAS_OPENMP
#pragma omp parallel for schedule(static) if (blocks > 1)
#endif
    for (Index i = 0; i < blocks; ++i) {
        const Index c0 = block_start(n, i);
        f(c0, block_start(n, i + 1) - c0);
    }
}

/// Batches from this size split the output of a forward GEMM over rows (the batch) rather than
/// columns: the blocks then share W instead of the input, which OpenBLAS packs faster, and their
/// bias and activation passes run over contiguous rows. Below it a row block would be too short.
constexpr Index kRowSplitBatch = 512;

/// A block of a (rows, cols) forward output: rows [r0, r0 + h), columns [c0, c0 + w).
struct OutputBlock {
    Index r0, h, c0, w;
};

/// Blocks of a (rows, cols) forward output: row blocks from kRowSplitBatch rows, else column blocks.
inline Index output_blocks(Index rows, Index cols) {
    return rows >= kRowSplitBatch ? block_count(rows) : block_count(cols);
}

inline OutputBlock output_block(Index rows, Index cols, Index i) {
    if (rows >= kRowSplitBatch) {
        const Index r0 = block_start(rows, i);
        return {r0, block_start(rows, i + 1) - r0, 0, cols};
    }
    const Index c0 = block_start(cols, i);
    return {0, rows, c0, block_start(cols, i + 1) - c0};
}

/// Calls f(block) for each output_block of a (rows, cols) output, shared among the threads.
/// f must not throw: validate before entering.
template <class F>
void for_each_output_block(Index rows, Index cols, F&& f) {
    const Index blocks = output_blocks(rows, cols);
#ifdef GLOROT_HAS_OPENMP
#pragma omp parallel for schedule(static) if (blocks > 1)
#endif
    for (Index i = 0; i < blocks; ++i) f(output_block(rows, cols, i));
}

}  // namespace glorot
