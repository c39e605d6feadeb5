// The small-batch path of an SGD step: the tile kernels of small_batch.hpp in one parallel
// region. Per layer, threads take fixed blocks (columns forward, rows of W backward) and meet
// at a spinning barrier; the update is fused into the backward pass, so each W is read once
// forward and read+written once backward, and ∂C/∂W is never stored.
#pragma once

#include "glorot_ext/dense.hpp"
#include "glorot_ext/loss.hpp"
#include "glorot_ext/parallel.hpp"
#include "glorot_ext/small_batch.hpp"
#include "glorot_ext/workspace.hpp"

#include <vector>

namespace glorot {

/// Wall time per phase of small-batch steps: forward of each layer, the softmax, backward+update
/// of each layer (thread 0 charges the time since the previous barrier).
struct PhaseTimes {
    bool on = false;
    std::vector<double> seconds;

    static double now() {
#ifdef GLOROT_HAS_OPENMP
        return omp_get_wtime();
#else
        return 0.0;
#endif
    }
};

#if GLOROT_SMALL_BATCH_KERNELS

/// One SGD step for batch ≤ kernels::kSmallBatchMax. The workspace must hold X.rows() rows and
/// the labels must be checked: nothing in here may throw.
template <class T>
CostResult small_batch_sgd_step(const Layers<T>& net, Workspace<T>& ws, SpinBarrier& barrier, const CMatMap<T>& X,
                                const Label* y, T lr, PhaseTimes& times) {
    const Index batch = X.rows(), last = net.count() - 1;
    CostResult result{0.0, 0};
    if (times.on) times.seconds.resize(static_cast<size_t>(2 * net.count() + 1), 0.0);
    double t_prev = times.on ? PhaseTimes::now() : 0.0;
    auto mark = [&](int tid, Index phase) {
        if (!times.on || tid != 0) return;
        const double t = PhaseTimes::now();
        times.seconds[static_cast<size_t>(phase)] += t - t_prev;
        t_prev = t;
    };
    parallel_region([&](int tid, int nt) {
        Index first, end;
        for (Index l = 0; l <= last; ++l) {
            const Index K = net.size(l), N = net.size(l + 1);
            const T* in = ws.input(l, X.data());
            const Index width = kernels::forward_panel_width<T>(batch, N);
            share((N + width - 1) / width, tid, nt, first, end);
            for (Index i = first; i < end; ++i) {
                const Index c0 = i * width, w = std::min(width, N - c0);
                kernels::forward_panel<T>(in, batch, K, net.weights[l], N, net.biases[l], ws.pre(l), c0, w);
                if (l < last) activation_forward_rows(net.activation(l), ws.pre(l), ws.post(l), batch, N, c0, w);
            }
            barrier.wait(nt);
            mark(tid, l);
        }
        if (tid == 0)
            result = softmax_cost<T>(net.cost, CMatMap<T>(ws.pre(last), batch, net.size(last + 1)), y,
                                     MatMap<T>(ws.post(last), batch, net.size(last + 1)), ws.delta(last));
        barrier.wait(nt);
        mark(tid, net.count());
        for (Index l = last; l >= 0; --l) {
            const Index K = net.size(l), N = net.size(l + 1);
            const T* in = ws.input(l, X.data());
            T* dprev = l == 0 ? nullptr : ws.delta(l - 1);
            share((K + kernels::kRowBlock - 1) / kernels::kRowBlock, tid, nt, first, end);
            for (Index i = first; i < end; ++i) {
                const Index k0 = i * kernels::kRowBlock, k1 = std::min(K, k0 + kernels::kRowBlock);
                kernels::backward_block<T>(ws.delta(l), batch, N, net.weights[l], K, k0, k1, in, lr, dprev);
                if (dprev != nullptr)
                    activation_backward_rows(net.activation(l - 1), ws.post(l - 1), dprev, dprev, batch, K, k0,
                                             k1 - k0);
            }
            // The bias: each entry summed over the batch in double, in a fixed order.
            share(N, tid, nt, first, end);
            bias_update(CMatMap<T>(ws.delta(l), batch, N), first, end - first, lr, net.biases[l]);
            if (l > 0) barrier.wait(nt);
            mark(tid, net.count() + 1 + l);
        }
    });
    return result;
}

#endif  // GLOROT_SMALL_BATCH_KERNELS

}  // namespace glorot
