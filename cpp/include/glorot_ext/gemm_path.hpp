// The GEMM path of a network step: serial GEMMs (block_gemm.hpp: OpenBLAS, else Eigen) on fixed
// column/row blocks shared among the threads of one parallel region. Used for batches above the
// small-batch limit, for every batch when the small-batch kernels are not built or not chosen,
// and for gradients.
#pragma once

#include "glorot_ext/block_gemm.hpp"
#include "glorot_ext/dense.hpp"
#include "glorot_ext/loss.hpp"
#include "glorot_ext/parallel.hpp"
#include "glorot_ext/workspace.hpp"

#include <vector>

namespace glorot {

/// Forward through every layer into the workspace (which must hold X.rows() rows); with labels
/// y, also the batch's summed cost and error count, with dS also ∂C/∂s of the last layer.
template <class T>
CostResult gemm_forward(const Layers<T>& net, Workspace<T>& ws, const CMatMap<T>& X, const Label* y,
                        bool with_gradient) {
    const Index batch = X.rows(), last = net.count() - 1;
    for (Index l = 0; l <= last; ++l) {
        const CMatMap<T> in(ws.input(l, X.data()), batch, net.size(l));
        const MatMap<T> S(ws.pre(l), batch, net.size(l + 1));
        if (l < last)
            dense_forward<T>(in, net.W(l), net.b(l), S, net.activation(l), ws.post(l));
        else
            dense_forward<T>(in, net.W(l), net.b(l), S);
    }
    return softmax_cost<T>(net.cost, CMatMap<T>(ws.pre(last), batch, net.size(last + 1)), y,
                           MatMap<T>(ws.post(last), batch, net.size(last + 1)),
                           with_gradient ? ws.delta(last) : nullptr);
}

/// One forward and backward pass in a single parallel region whose threads meet at the spinning
/// barrier (a region per product would wake the threads ~20 times a step, and on a busy machine
/// a wake-up can cost a scheduler tick). Forward takes the output blocks of parallel.hpp (rows
/// of the batch for large batches, else columns). Backward takes row blocks of W_l: ∂C/∂z for
/// those rows from the OLD rows, then either their update W -= lr·zᵀ·∂C/∂s (the GEMM folds -lr
/// in and accumulates into W with beta = 1: no ∂C/∂W temporary) or, when dW/db are given, their
/// gradient into dW/db with W unchanged; no thread touches another's rows. The workspace must
/// hold X.rows() rows; labels are checked.
template <class T>
CostResult gemm_pass(const Layers<T>& net, Workspace<T>& ws, SpinBarrier& barrier, const CMatMap<T>& X, const Label* y,
                     T lr, const std::vector<T*>* dW, const std::vector<T*>* db) {
    const Index batch = X.rows(), last = net.count() - 1;
    CostResult result{0.0, 0};
    block_gemm_serial();
    parallel_region([&](int tid, int nt) {
        Index first, end;
        for (Index l = 0; l <= last; ++l) {
            const Index K = net.size(l), N = net.size(l + 1);
            // the output layer has no activation here (softmax comes with the cost), nor an entry in activations
            const Activation act = l < last ? net.activation(l) : Activation::Identity;
            share(output_blocks(batch, N), tid, nt, first, end);
            for (Index i = first; i < end; ++i)
                dense_forward_block<T>(ws.input(l, X.data()), K, net.weights[l], net.biases[l], ws.pre(l), N,
                                       output_block(batch, N, i), act, l < last ? ws.post(l) : nullptr);
            barrier.wait(nt);
        }
        if (tid == 0)
            result = softmax_cost<T>(net.cost, CMatMap<T>(ws.pre(last), batch, net.size(last + 1)), y,
                                     MatMap<T>(ws.post(last), batch, net.size(last + 1)), ws.delta(last));
        barrier.wait(nt);
        for (Index l = last; l >= 0; --l) {
            const Index K = net.size(l), N = net.size(l + 1);
            const CMatMap<T> in(ws.input(l, X.data()), batch, K);
            const CMatMap<T> d(ws.delta(l), batch, N);
            share(block_count(K), tid, nt, first, end);
            for (Index i = first; i < end; ++i) {
                const Index k0 = block_start(K, i), w = block_start(K, i + 1) - k0;
                T* const Wk = net.weights[l] + k0 * N;
                if (l > 0) {
                    T* const dprev = ws.delta(l - 1);
                    block_gemm<T>(false, true, batch, w, N, T(1), d.data(), N, Wk, N, T(0), dprev + k0, K);
                    activation_backward_rows(net.activation(l - 1), ws.post(l - 1), dprev, dprev, batch, K, k0, w);
                }
                if (dW != nullptr)
                    block_gemm<T>(true, false, w, N, batch, T(1), in.data() + k0, K, d.data(), N, T(0),
                                  (*dW)[l] + k0 * N, N);
                else  // W += (-lr)·zᵀ·∂C/∂s straight into W: no ∂C/∂W temporary
                    block_gemm<T>(true, false, w, N, batch, -lr, in.data() + k0, K, d.data(), N, T(1), Wk, N);
            }
            share(N, tid, nt, first, end);
            if (dW != nullptr) {
                T* g = (*db)[l];
                for (Index j = first; j < end; ++j) g[j] = static_cast<T>(column_sum(d, j));  // as bias_update
            } else {
                bias_update(d, first, end - first, lr, net.biases[l]);
            }
            if (l > 0) barrier.wait(nt);
        }
    });
    return result;
}

}  // namespace glorot
