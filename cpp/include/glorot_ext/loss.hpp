// Softmax output layer with the negative log-likelihood or the quadratic cost (paper §4.1).
#pragma once

#include "glorot_ext/types.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <string>

namespace glorot {

enum class Cost { NLL, Quadratic };

/// The names of the Cost values, in enum order: exactly those of glorot_ext.reference.COSTS.
inline constexpr std::array<const char*, 2> kCostNames{"nll", "quadratic"};

inline Cost cost_from_name(const std::string& name) {
    for (std::size_t i = 0; i < kCostNames.size(); ++i)
        if (name == kCostNames[i]) return static_cast<Cost>(i);
    throw std::invalid_argument("unknown cost '" + name + "'; expected 'nll' or 'quadratic'");
}

struct CostResult {
    double loss_sum;      ///< Σ over the batch of the per-example cost
    std::int64_t errors;  ///< examples whose argmax differs from the label
};

/// Checks labels lie in [0, classes) before any kernel reads them.
inline void check_labels(const char* fn, const Label* y, Index n, Index classes) {
    for (Index i = 0; i < n; ++i)
        require(y[i] >= 0 && y[i] < classes, std::string(fn) + ": label " + std::to_string(y[i]) + " at index " +
                                                 std::to_string(i) + " is outside [0, " + std::to_string(classes) +
                                                 ")");
}

/// P = softmax(S) row by row (stable: log-sum-exp around the row max). When dS is given it
/// receives ∂(mean cost)/∂S, i.e. already divided by the batch size.
///   NLL:       C = -log P_y,             ∂C/∂S = P - onehot(y)
///   Quadratic: C = ½·Σ_k (P_k - t_k)²,   ∂C/∂S_j = P_j·((P_j - t_j) - Σ_k (P_k - t_k)·P_k)
/// Labels must already be checked; with y null only P is computed.
template <class T>
CostResult softmax_cost(Cost cost, const CMatMap<T>& S, const Label* y, MatMap<T> P, T* dS) {
    const Index batch = S.rows(), classes = S.cols();
    const double inv_batch = 1.0 / static_cast<double>(batch);
    CostResult out{0.0, 0};
    for (Index i = 0; i < batch; ++i) {
        const T* s = S.data() + i * classes;
        T* p = P.data() + i * classes;
        Index arg = 0;
        for (Index k = 1; k < classes; ++k)
            if (s[k] > s[arg]) arg = k;
        const double m = static_cast<double>(s[arg]);
        double sum = 0.0;
        for (Index k = 0; k < classes; ++k) sum += std::exp(static_cast<double>(s[k]) - m);
        const double lse = m + std::log(sum);
        for (Index k = 0; k < classes; ++k) p[k] = static_cast<T>(std::exp(static_cast<double>(s[k]) - lse));
        if (y == nullptr) continue;
        const Index t = static_cast<Index>(y[i]);
        out.errors += (arg != t);
        if (cost == Cost::NLL) {
            out.loss_sum += lse - static_cast<double>(s[t]);
            if (dS != nullptr) {
                T* d = dS + i * classes;
                for (Index k = 0; k < classes; ++k)
                    d[k] = static_cast<T>((static_cast<double>(p[k]) - (k == t)) * inv_batch);
            }
        } else {
            double sq = 0.0, dot = 0.0;
            for (Index k = 0; k < classes; ++k) {
                const double e = static_cast<double>(p[k]) - (k == t);
                sq += e * e;
                dot += e * static_cast<double>(p[k]);
            }
            out.loss_sum += 0.5 * sq;
            if (dS != nullptr) {
                T* d = dS + i * classes;
                for (Index k = 0; k < classes; ++k) {
                    const double pk = static_cast<double>(p[k]);
                    d[k] = static_cast<T>(pk * ((pk - (k == t)) - dot) * inv_batch);
                }
            }
        }
    }
    return out;
}

}  // namespace glorot
