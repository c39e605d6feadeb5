// The costly part of the Monitor's weight-gradient histogram (Figs. 8-9), fused: the gradients
// of consecutive minibatches are binned by their top bits as they are computed, never stored.
//
// Z is (n, n_in), the layer's input z; D is (n, n_out), one example's ∂C/∂s per row. For each
// minibatch m of B rows (rows m·B .. m·B + B - 1; a last partial one is left out), the weight
// gradient of the minibatch's mean cost is g = (1/B)·Z_mᵀ·D_m, (n_in, n_out), each entry summed
// over the B rows in order by fused multiply-adds, then multiplied by T(1/B): what NumPy's
// (Z_mᵀ @ D_m) * T(1/B) computes. Each g is counted under its key, its bit pattern shifted right
// by `shift` (sign, exponent and the leading mantissa bits: stats.OctaveBins maps keys to bins).
#pragma once

#include "glorot_ext/parallel.hpp"
#include "glorot_ext/types.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace glorot {

template <class T>
using FloatBits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

/// Number of keys of a T shifted right by `shift` bits (checked: 0 < keys <= 2^24).
template <class T>
std::size_t key_count(int shift) {
    constexpr int bits = 8 * sizeof(T);
    require(shift >= bits - 24 && shift < bits, "minibatch_gradient_key_counts: shift must be in [" +
                                                    std::to_string(bits - 24) + ", " + std::to_string(bits - 1) +
                                                    "] for this dtype, got " + std::to_string(shift));
    return std::size_t{1} << (bits - shift);
}

/// counts[key] += the number of minibatch gradient entries with that key (see above); counts
/// has key_count<T>(shift) entries. Integer counts: the same for any thread count.
template <class T>
void minibatch_gradient_key_counts(const CMatMap<T>& Z, const CMatMap<T>& D, Index batch, int shift,
                                   std::uint64_t* counts) {
    const Index n = Z.rows(), n_in = Z.cols(), n_out = D.cols();
    require(D.rows() == n, "minibatch_gradient_key_counts: Z has " + std::to_string(n) + " rows but D has " +
                               std::to_string(D.rows()));
    require(batch >= 1, "minibatch_gradient_key_counts: batch must be >= 1, got " + std::to_string(batch));
    const std::size_t keys = key_count<T>(shift);
    const Index batches = n / batch;
    const T inv = static_cast<T>(1.0 / static_cast<double>(batch));
    // Per-thread counts and row buffers, allocated before the region (nothing in it may throw).
    const auto slots = static_cast<std::size_t>(get_num_threads());
    std::vector<std::vector<std::uint64_t>> local(slots, std::vector<std::uint64_t>(keys, 0));
    std::vector<std::vector<T>> rows(slots, std::vector<T>(static_cast<std::size_t>(n_out)));
    parallel_region([&](int tid, int nt) {
        std::uint64_t* mine = local[static_cast<std::size_t>(tid)].data();
        T* a = rows[static_cast<std::size_t>(tid)].data();
        Index first, end;
        share(n_in, tid, nt, first, end);
        for (Index m = 0; m < batches; ++m) {
            const T* Zm = Z.data() + m * batch * n_in;
            const T* Dm = D.data() + m * batch * n_out;
            for (Index i = first; i < end; ++i) {
                const T z0 = Zm[i];
                for (Index j = 0; j < n_out; ++j) a[j] = z0 * Dm[j];  // = fma(z0, d, 0)
                for (Index b = 1; b < batch; ++b) {
                    const T zb = Zm[b * n_in + i];
                    const T* d = Dm + b * n_out;
                    for (Index j = 0; j < n_out; ++j) a[j] = std::fma(zb, d[j], a[j]);
                }
                for (Index j = 0; j < n_out; ++j) {
                    const T g = a[j] * inv;
                    FloatBits<T> u;
                    std::memcpy(&u, &g, sizeof u);
                    ++mine[u >> shift];
                }
            }
        }
    });
    for (const auto& c : local)
        for (std::size_t k = 0; k < keys; ++k) counts[k] += c[k];
}

}  // namespace glorot
