// Thread control and the fixed work partition behind "same result for any thread count".
#pragma once

#include "glorot_ext/types.hpp"

#include <algorithm>

#ifdef GLOROT_HAS_OPENMP
#include <omp.h>
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

/// Threads the next parallel region may use (1 in a serial build).
inline int get_num_threads() {
#ifdef GLOROT_HAS_OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/// Sets the thread count of later kernels; n <= 0 means every core.
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

/// Width of the column blocks that split an n-column output: a function of n alone,
/// never of the thread count, so each element is computed by identical arithmetic.
inline Index block_width(Index n) {
    const Index target = (n + 7) / 8;                    // about 8 blocks: both threads stay busy
    return std::max<Index>(32, (target + 15) / 16 * 16);  // whole SIMD vectors per block
}

/// Calls f(first_column, width) for each fixed block of [0, n), blocks shared among threads.
/// f must not throw: validate before entering.
template <class F>
void for_each_block(Index n, F&& f) {
    const Index width = block_width(n);
    const Index blocks = (n + width - 1) / width;
#ifdef GLOROT_HAS_OPENMP
#pragma omp parallel for schedule(static) if (blocks > 1)
#endif
    for (Index i = 0; i < blocks; ++i) {
        const Index c0 = i * width;
        f(c0, std::min(width, n - c0));
    }
}

}  // namespace glorot
