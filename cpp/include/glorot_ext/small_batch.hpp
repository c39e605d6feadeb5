// Small-batch kernels for the SGD step: each weight matrix streamed once per pass, the batch
// held in registers, the update fused into the backward pass.
//
// Shapes as everywhere: X (batch, fan_in), W (fan_in, fan_out) row-major, Y = X·W + b.
// At batch ≤ ~32 a general GEMM spends its time packing W; here every kernel walks W once:
//   forward   Y[:, c:c+w] = X·W[:, c:c+w] + b    a column strip, one row of W per step of k,
//                                                NB×NC accumulators (the batch) in registers;
//                                                threads share panels of strips;
//   backward  dZ[:, k]  = Σ_j D[:, j]·W[k, j]     with the OLD row k, and in the same pass
//             W[k, :]  += Σ_b (-lr·Z[b, k])·D[b, :]   (∂C/∂W is never stored).
// Every output element is computed by the same instruction sequence whatever thread runs it, and
// the blocks are fixed by the shapes alone, so results are bitwise identical for any thread count.
// The kernels need AVX-512F, or AVX2 with FMA (GLOROT_SMALL_BATCH_KERNELS is then 1; AVX2 has
// half the vector registers, so smaller tiles and batches); elsewhere the network keeps the GEMM
// path, which gives the same results up to rounding.
#pragma once

#include "glorot_ext/types.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>

#if defined(__AVX512F__)
#include <immintrin.h>
#define GLOROT_SMALL_BATCH_KERNELS 1
#define GLOROT_SMALL_BATCH_AVX2 0
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define GLOROT_SMALL_BATCH_KERNELS 1
#define GLOROT_SMALL_BATCH_AVX2 1
#else
#define GLOROT_SMALL_BATCH_KERNELS 0
#define GLOROT_SMALL_BATCH_AVX2 0
#endif

namespace glorot::kernels {

#if GLOROT_SMALL_BATCH_AVX2
/// Largest batch the small-batch step handles; larger batches use the GEMM path. Bound by the
/// backward's registers (the static_assert below), not measured as a crossover.
constexpr Index kSmallBatchMax = 11;
/// Batch rows per forward register tile: the paper's batch of 10 in one tile.
constexpr int kMaxTile = 11;
/// Vector registers (ymm0-15).
constexpr int kVectorRegisters = 16;
#else
/// Largest batch the small-batch step handles; larger batches use Eigen's packed GEMM. The
/// crossover measured on Zen 4 (1 thread, float32) lies between 24 and 32: see BENCHMARKS.md.
constexpr Index kSmallBatchMax = 24;
/// Batch rows per forward register tile (NB·NC accumulators fit in 32 vector registers).
constexpr int kMaxTile = 12;
/// Vector registers (zmm0-31).
constexpr int kVectorRegisters = 32;
#endif
/// Rows of W per fixed backward block shared among threads.
constexpr Index kRowBlock = 16;

#if GLOROT_SMALL_BATCH_KERNELS

template <class T>
struct Simd;

#if !GLOROT_SMALL_BATCH_AVX2

template <>
struct Simd<float> {
    using V = __m512;
    using M = __mmask16;
    static constexpr int width = 16;
    static V zero() { return _mm512_setzero_ps(); }
    static V set1(float x) { return _mm512_set1_ps(x); }
    static V load(const float* p) { return _mm512_loadu_ps(p); }
    static V load(const float* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
    static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
    static void store(float* p, V v, M m) { _mm512_mask_storeu_ps(p, m, v); }
    static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
    static V add(V a, V b) { return _mm512_add_ps(a, b); }
    static float sum(V v) { return _mm512_reduce_add_ps(v); }
    static M mask(Index n) { return n >= width ? M(0xFFFF) : M((1u << n) - 1u); }
};

template <>
struct Simd<double> {
    using V = __m512d;
    using M = __mmask8;
    static constexpr int width = 8;
    static V zero() { return _mm512_setzero_pd(); }
    static V set1(double x) { return _mm512_set1_pd(x); }
    static V load(const double* p) { return _mm512_loadu_pd(p); }
    static V load(const double* p, M m) { return _mm512_maskz_loadu_pd(m, p); }
    static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
    static void store(double* p, V v, M m) { _mm512_mask_storeu_pd(p, m, v); }
    static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
    static V add(V a, V b) { return _mm512_add_pd(a, b); }
    static double sum(V v) { return _mm512_reduce_add_pd(v); }
    static M mask(Index n) { return n >= width ? M(0xFF) : M((1u << n) - 1u); }
};

/// Vectors per forward column block for a tile of nb batch rows: nb·NC ≤ 24 accumulators, and
/// small tiles take wide blocks, so each row of W is read in longer contiguous runs and enough
/// independent FMAs are in flight.
constexpr int forward_vectors(int nb) { return nb >= 9 ? 2 : nb >= 6 ? 3 : nb >= 4 ? 4 : nb == 3 ? 6 : 8; }

#else  // AVX2 + FMA: no mask registers, so a lane mask of all-ones/zero integers.

template <>
struct Simd<float> {
    using V = __m256;
    using M = __m256i;
    static constexpr int width = 8;
    static V zero() { return _mm256_setzero_ps(); }
    static V set1(float x) { return _mm256_set1_ps(x); }
    static V load(const float* p) { return _mm256_loadu_ps(p); }
    static V load(const float* p, M m) { return _mm256_maskload_ps(p, m); }
    static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
    static void store(float* p, V v, M m) { _mm256_maskstore_ps(p, m, v); }
    static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    static V add(V a, V b) { return _mm256_add_ps(a, b); }
    /// Fixed order: halves, then pairs, then the last two lanes.
    static float sum(V v) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
    }
    static M mask(Index n) {
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(std::min<Index>(n, width))),
                                  _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
};

template <>
struct Simd<double> {
    using V = __m256d;
    using M = __m256i;
    static constexpr int width = 4;
    static V zero() { return _mm256_setzero_pd(); }
    static V set1(double x) { return _mm256_set1_pd(x); }
    static V load(const double* p) { return _mm256_loadu_pd(p); }
    static V load(const double* p, M m) { return _mm256_maskload_pd(p, m); }
    static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
    static void store(double* p, V v, M m) { _mm256_maskstore_pd(p, m, v); }
    static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
    static V add(V a, V b) { return _mm256_add_pd(a, b); }
    /// Fixed order: halves, then the last two lanes.
    static double sum(V v) {
        const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
        return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
    }
    static M mask(Index n) {
        return _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<long long>(std::min<Index>(n, width))),
                                  _mm256_setr_epi64x(0, 1, 2, 3));
    }
};

/// Vectors per forward column block for a tile of nb batch rows: the nb·NC accumulators, NC
/// vectors of W and a broadcast of X fit in 16 registers.
constexpr int forward_vectors(int nb) { return nb >= 7 ? 1 : nb >= 5 ? 2 : nb >= 3 ? 3 : nb == 2 ? 5 : 7; }

#endif  // GLOROT_SMALL_BATCH_AVX2

/// Rows of W ahead to prefetch while walking down a column block: W's rows are a page apart
/// and the hardware prefetcher does not cross pages.
constexpr Index kPrefetchRows = 32;

/// Every software prefetch of W goes to L2 (T1), not L1 (T0). With T0 the float64 forward moved
/// its weights at only 12-20 GB/s on 2 threads (DRAM gives ~37); likely cause, not isolated (no
/// hardware counters here): a prefetch into L1 holds one of L1's few miss buffers until its line
/// arrives, L2 tracks many more. Measured (bench/small_batch_micro.cpp, batch 10, 2 threads):
/// float64 step 4.39 -> 3.6 ms, float32 unchanged.
constexpr auto kPrefetchHint = _MM_HINT_T1;

#define GLOROT_UNROLL _Pragma("GCC unroll 32")

/// Y[b, c0:c0+w] = Σ_k X[b, k]·W[k, c0:c0+w] + bias[c0:c0+w] for b < NB, k < K, one FMA chain
/// in k per element, the rows of W prefetched kPrefetchRows ahead. w ≤ NC·width, and
/// w < NC·width only when MASKED. X (NB, K) with row stride ldx; W (K, ·) with stride ldw.
template <class T, int NB, int NC, bool MASKED>
void forward_tile(const T* X, Index ldx, Index K, const T* W, Index ldw, const T* bias, T* Y, Index ldy, Index c0,
                  Index w) {
    using S = Simd<T>;
    typename S::V acc[NB][NC];
    typename S::M m[NC];
    GLOROT_UNROLL
    for (int c = 0; c < NC; ++c) m[c] = S::mask(std::max<Index>(0, w - c * S::width));
    GLOROT_UNROLL
    for (int b = 0; b < NB; ++b) {
        GLOROT_UNROLL
        for (int c = 0; c < NC; ++c) acc[b][c] = S::zero();
    }
    const T* wp = W + c0;
    const Index kp = std::max<Index>(0, K - kPrefetchRows);
    auto step = [&](Index k, bool prefetch) __attribute__((always_inline)) {
        if (prefetch) {
            // NC vectors span one line more when the row is not 64-byte aligned (fan_out 1000 in
            // float32: every other row), so the last line gets its own prefetch.
            constexpr int bytes = NC * S::width * static_cast<int>(sizeof(T));
            const char* p = reinterpret_cast<const char*>(wp + kPrefetchRows * ldw);
            GLOROT_UNROLL
            for (int o = 0; o < bytes; o += 64) _mm_prefetch(p + o, kPrefetchHint);
            _mm_prefetch(p + bytes - 1, kPrefetchHint);
        }
        typename S::V wv[NC];
        GLOROT_UNROLL
        for (int c = 0; c < NC; ++c) wv[c] = MASKED ? S::load(wp + c * S::width, m[c]) : S::load(wp + c * S::width);
        GLOROT_UNROLL
        for (int b = 0; b < NB; ++b) {
            const typename S::V xb = S::set1(X[b * ldx + k]);
            GLOROT_UNROLL
            for (int c = 0; c < NC; ++c) acc[b][c] = S::fma(xb, wv[c], acc[b][c]);
        }
        wp += ldw;
    };
    Index k = 0;
    for (; k < kp; ++k) step(k, true);
    for (; k < K; ++k) step(k, false);
    GLOROT_UNROLL
    for (int c = 0; c < NC; ++c) {
        const typename S::V bv = S::load(bias + c0 + c * S::width, m[c]);
        GLOROT_UNROLL
        for (int b = 0; b < NB; ++b) S::store(Y + b * ldy + c0 + c * S::width, S::add(acc[b][c], bv), m[c]);
    }
}

/// Backward over R rows k0..k0+R-1 of W for the batch rows [0, NB) of D:
///   dZ[b, k] = Σ_j D[b, j]·W_old[k, j]            (stored when DOT)
///   W[k, j] += Σ_b (-lr·Z[b, k])·D[b, j]           (when UPDATE; the sum is formed first, then
///                                                  added once, so W is rounded once per step).
/// D (NB, N) stride ldd; Z (NB, ·) stride ldz; dZ (NB, ·) stride lddz.
template <class T, int NB, int R, bool DOT, bool UPDATE>
void backward_rows(const T* D, Index ldd, Index N, T* W, Index ldw, Index k0, const T* Z, Index ldz, T neg_lr, T* dZ,
                   Index lddz, bool prefetch_next) {
    using S = Simd<T>;
    typename S::V acc[DOT ? NB : 1][R];
    T nlz[R][NB];
    GLOROT_UNROLL
    for (int r = 0; r < R; ++r) {
        GLOROT_UNROLL
        for (int b = 0; b < NB; ++b) {
            if (DOT) acc[b][r] = S::zero();
            if (UPDATE) nlz[r][b] = neg_lr * Z[b * ldz + k0 + r];
        }
    }
    T* wrow = W + k0 * ldw;
    auto body = [&](Index j, auto masked, typename S::M m) __attribute__((always_inline)) {
        // Two partial update sums per row (even and odd b) halve the FMA dependency chain.
        typename S::V wv[R], u[2][R];
        GLOROT_UNROLL
        for (int r = 0; r < R; ++r) {
            if (prefetch_next) _mm_prefetch(reinterpret_cast<const char*>(wrow + (R + r) * ldw + j), kPrefetchHint);
            wv[r] = masked ? S::load(wrow + r * ldw + j, m) : S::load(wrow + r * ldw + j);
            u[0][r] = S::zero();
            u[1][r] = S::zero();
        }
        GLOROT_UNROLL
        for (int b = 0; b < NB; ++b) {
            typename S::V dv = masked ? S::load(D + b * ldd + j, m) : S::load(D + b * ldd + j);
            // float32: loaded once into a register. GCC otherwise folds the load into both FMAs
            // that use it (a memory operand each), and the doubled loads, not the FMAs, bound
            // the kernel (1 thread, a 500×500 layer in cache: 0.148 -> 0.100 ms, 85% of FMA
            // peak). Not float64: there the step's backward measured slower so (2 threads,
            // 0.48 -> 0.65 ms per 1000×1000 layer streamed from DRAM), cause not isolated.
            if constexpr (std::is_same_v<T, float>) __asm__("" : "+v"(dv));
            GLOROT_UNROLL
            for (int r = 0; r < R; ++r) {
                if (DOT) acc[b][r] = S::fma(dv, wv[r], acc[b][r]);
                if (UPDATE) u[b & 1][r] = S::fma(S::set1(nlz[r][b]), dv, u[b & 1][r]);
            }
        }
        if (UPDATE) {
            GLOROT_UNROLL
            for (int r = 0; r < R; ++r) {
                const typename S::V wn = S::add(wv[r], S::add(u[0][r], u[1][r]));
                if (masked)
                    S::store(wrow + r * ldw + j, wn, m);
                else
                    S::store(wrow + r * ldw + j, wn);
            }
        }
    };
    Index j = 0;
    for (; j + S::width <= N; j += S::width) body(j, std::false_type{}, typename S::M{});
    if (j < N) body(j, std::true_type{}, S::mask(N - j));
    if (DOT) GLOROT_UNROLL
    for (int b = 0; b < NB; ++b) GLOROT_UNROLL
    for (int r = 0; r < R; ++r) dZ[b * lddz + k0 + r] = S::sum(acc[b][r]);
}

namespace detail {

// The backward kernel holds the whole batch in registers: NB accumulators for ∂C/∂z, the row of
// W, two partial update sums, a row of D and a broadcast.
static_assert(kSmallBatchMax >= kMaxTile && kSmallBatchMax + 5 <= kVectorRegisters,
              "small-batch limit: the backward tile must fit the vector registers");

// Every forward tile up to kMaxTile rows: nb·NC accumulators, NC vectors of W, one broadcast.
constexpr bool forward_tiles_fit(int nb) {
    return nb == 0 || ((nb + 1) * forward_vectors(nb) + 1 <= kVectorRegisters && forward_tiles_fit(nb - 1));
}
static_assert(forward_tiles_fit(kMaxTile), "forward tile: must fit the vector registers");

template <class F, int... I>
bool with_tile_impl(Index n, F& f, std::integer_sequence<int, I...>) {
    return ((n == I + 1 ? (f(std::integral_constant<int, I + 1>{}), true) : false) || ...);
}

/// Calls f(std::integral_constant<int, n>) for a runtime n in [1, kSmallBatchMax]; the cases
/// are generated from the limit, so raising it can never skip a batch size silently.
template <class F>
void with_tile(Index n, F&& f) {
    if (!with_tile_impl(n, f, std::make_integer_sequence<int, static_cast<int>(kSmallBatchMax)>{}))
        throw std::logic_error("small-batch kernels: batch " + std::to_string(n) + " outside [1, " +
                               std::to_string(kSmallBatchMax) + "]");
}

}  // namespace detail

/// Batch rows per forward tile (the whole batch of the paper, 10, in one tile), tiles per batch.
inline Index forward_tiles(Index batch) { return (batch + kMaxTile - 1) / kMaxTile; }

/// Width of one forward strip (the register tile's columns) for this batch.
template <class T>
Index forward_strip_width(Index batch) {
    const Index tiles = forward_tiles(batch);
    return forward_vectors(static_cast<int>((batch + tiles - 1) / tiles)) * Simd<T>::width;
}

/// Width of one forward panel, the block threads share: about a quarter of the layer in whole
/// strips, a function of the shapes alone (never of the thread count).
template <class T>
Index forward_panel_width(Index batch, Index N) {
    const Index strip = forward_strip_width<T>(batch);
    return std::max(strip, ((N + 3) / 4 + strip - 1) / strip * strip);
}

/// Columns of a narrower first strip of a forward panel starting at `w` (a row of W, N wide), so
/// that the later strips start on a 64-byte line: when every row of W has the same alignment
/// (N·sizeof(T) a multiple of 64) but its first column is off a line, as NumPy's large arrays are
/// (16 bytes past a page), each strip would span one more line per row, and its loads split
/// lines (measured: float64 forward 0.31 -> 0.36 ms per 1000×1000 layer, 2 threads). Else 0.
/// Only where the strips start depends on the address, never what each output element sums:
/// that is the same FMA chain in k whichever strip or lane holds it, so results stay the same.
/// The head is taken modulo the strip, which must hold it (AVX2's strips can be half a line).
template <class T>
Index forward_strip_head(const T* w, Index N, Index pw, Index strip) {
    const auto addr = reinterpret_cast<std::uintptr_t>(w);
    if ((N * static_cast<Index>(sizeof(T))) % 64 != 0 || addr % sizeof(T) != 0) return 0;
    const Index head = static_cast<Index>((64 - addr % 64) % 64 / sizeof(T)) % strip;
    return head < pw ? head : 0;
}

/// Y[:, p0:p0+pw] = X·W[:, p0:p0+pw] + bias for the whole batch: for each strip of the panel and
/// each batch tile (sizes differ by at most one row), the register tile down all rows of W.
///
/// One pass down all K rows, with software prefetches into L2 kPrefetchRows rows ahead, for
/// float64 too: its weights (38 MB for the paper's network) stream from DRAM, and an earlier
/// scheme that computed chunks of 64 rows while prefetching the next chunk in whole rows (longer
/// DRAM runs) measured no faster once the prefetches went to L2, and float32 in chunks measured
/// 1.5x slower in the forward (bench/small_batch_micro.cpp, 2 threads).
template <class T>
void forward_panel(const T* X, Index batch, Index K, const T* W, Index N, const T* bias, T* Y, Index p0, Index pw) {
    const Index tiles = forward_tiles(batch), strip = forward_strip_width<T>(batch);
    detail::with_tile((batch + tiles - 1) / tiles, [&](auto nbmax) {
        constexpr int NBM = decltype(nbmax)::value;
        if constexpr (NBM <= kMaxTile) {
            constexpr int NC = forward_vectors(NBM);
            const Index head = forward_strip_head(W + p0, N, pw, strip);
            for (Index c0 = p0; c0 < p0 + pw; c0 += c0 == p0 && head > 0 ? head : strip) {
                const Index w = std::min(c0 == p0 && head > 0 ? head : strip, p0 + pw - c0);
                auto tile = [&](auto nb, Index r0) {
                    constexpr int NB = decltype(nb)::value;
                    if (w == NC * Simd<T>::width)
                        forward_tile<T, NB, NC, false>(X + r0 * K, K, K, W, N, bias, Y + r0 * N, N, c0, w);
                    else
                        forward_tile<T, NB, NC, true>(X + r0 * K, K, K, W, N, bias, Y + r0 * N, N, c0, w);
                };
                for (Index t = 0, r0 = 0; t < tiles; ++t) {
                    const Index rows = batch * (t + 1) / tiles - r0;
                    if (rows == NBM)
                        tile(std::integral_constant<int, NBM>{}, r0);
                    else if constexpr (NBM > 1)
                        tile(std::integral_constant<int, NBM - 1>{}, r0);
                    r0 += rows;
                }
            }
        }
    });
}

/// The backward block of rows [k0, k1) of W (K, N): dZ[:, k0:k1] = D·W_old[k0:k1, :]ᵀ when dZ is
/// given, and W[k0:k1, :] -= lr·Z[:, k0:k1]ᵀ·D; batch ≤ kSmallBatchMax. Rows one at a time
/// when the dot products are needed (batch accumulators + the update in registers: two rows
/// would spill), two at a time for the update alone (layer 0).
template <class T>
void backward_block(const T* D, Index batch, Index N, T* W, Index K, Index k0, Index k1, const T* Z, T lr, T* dZ) {
    const T neg_lr = -lr;
    detail::with_tile(batch, [&](auto nb) {
        constexpr int NB = decltype(nb)::value;
        if (dZ == nullptr) {
            Index k = k0;
            for (; k + 2 <= k1; k += 2)
                backward_rows<T, NB, 2, false, true>(D, N, N, W, N, k, Z, K, neg_lr, nullptr, K, k + 4 <= k1);
            if (k < k1) backward_rows<T, NB, 1, false, true>(D, N, N, W, N, k, Z, K, neg_lr, nullptr, K, false);
            return;
        }
        for (Index k = k0; k < k1; ++k)
            backward_rows<T, NB, 1, true, true>(D, N, N, W, N, k, Z, K, neg_lr, dZ, K, k + 1 < k1);
    });
}

#endif  // GLOROT_SMALL_BATCH_KERNELS

}  // namespace glorot::kernels
