// A deep MLP over weight buffers owned by the caller, with a whole SGD step in one call.
//
// Layer l maps z_l (batch, n_l) to s_l = z_l·W_l + b_l (batch, n_{l+1}), z_{l+1} = f_l(s_l);
// z_0 = X and the last layer is a softmax with a cost. The network never owns W or b (NumPy
// does), so the Python side sees every update in place; it owns one workspace, grown to the
// largest batch seen and reused, so a warmed-up step allocates nothing of its own.
#pragma once

#include "glorot_ext/activations.hpp"
#include "glorot_ext/dense.hpp"
#include "glorot_ext/loss.hpp"
#include "glorot_ext/parallel.hpp"
#include "glorot_ext/small_batch.hpp"
#include "glorot_ext/types.hpp"

#include <cmath>
#include <vector>

namespace glorot {

template <class T>
class Network {
   public:
    /// sizes has L+1 entries; weights[l] points at a (sizes[l], sizes[l+1]) row-major buffer,
    /// biases[l] at sizes[l+1] values; activations has one entry per hidden layer (L-1).
    Network(std::vector<Index> sizes, std::vector<T*> weights, std::vector<T*> biases,
            std::vector<Activation> activations, Cost cost)
        : sizes_(std::move(sizes)),
          W_(std::move(weights)),
          b_(std::move(biases)),
          act_(std::move(activations)),
          cost_(cost) {
        require(sizes_.size() >= 2, "Network: need at least an input and an output size");
        require(static_cast<Index>(W_.size()) == layers() && static_cast<Index>(b_.size()) == layers(), "Network: one weight and one bias per layer");
        require(static_cast<Index>(act_.size()) == layers() - 1, "Network: one activation per hidden layer");
        s_.resize(layers());
        z_.resize(layers());
        ds_.resize(layers());
    }

    Index layers() const { return static_cast<Index>(sizes_.size()) - 1; }
    Index size(Index i) const { return sizes_[static_cast<size_t>(i)]; }
    Cost cost() const { return cost_; }
    Activation activation(Index l) const { return act_[static_cast<size_t>(l)]; }
    Index capacity() const { return capacity_; }

    CMatMap<T> W(Index l) const { return CMatMap<T>(W_[l], size(l), size(l + 1)); }
    MatMap<T> W_mut(Index l) { return MatMap<T>(W_[l], size(l), size(l + 1)); }
    CVecMap<T> b(Index l) const { return CVecMap<T>(b_[l], size(l + 1)); }

    /// Workspace rows of the last batch: s_l, z_{l+1} = f(s_l) (the softmax P for the last
    /// layer) and ∂C/∂s_l.
    MatMap<T> pre(Index l, Index batch) { return MatMap<T>(s_[l].data(), batch, size(l + 1)); }
    MatMap<T> post(Index l, Index batch) { return MatMap<T>(z_[l].data(), batch, size(l + 1)); }
    MatMap<T> delta(Index l, Index batch) { return MatMap<T>(ds_[l].data(), batch, size(l + 1)); }

    /// Forward through all layers into the workspace; with labels y, also the batch's summed
    /// cost and error count (else only the softmax P).
    CostResult forward(const CMatMap<T>& X, const Label* y) {
        check_input("forward", X, y);
        return forward_layers(X, y, false);
    }

    /// Forward, back-propagation of ∂C/∂s through every layer, and (when lr > 0) the in-place
    /// update W_l -= lr·z_lᵀ·∂C/∂s_l, b_l -= lr·Σ ∂C/∂s_l. With dW/db given the weight
    /// gradients are written there instead and nothing is updated (lr is ignored). ∂C/∂s_{l-1} is computed from the OLD W_l.
    CostResult backprop(const CMatMap<T>& X, const Label* y, T lr, const std::vector<T*>* dW = nullptr,
                        const std::vector<T*>* db = nullptr) {
        require(y != nullptr, "backprop: labels are required");
        check_input("sgd_step", X, y);
        require(dW != nullptr || (std::isfinite(static_cast<double>(lr)) && lr > T(0)),
                "sgd_step: learning rate must be a finite number > 0, got " + std::to_string(lr));
        require((dW == nullptr) == (db == nullptr), "backprop: pass both dW and db, or neither");
        if (dW == nullptr && use_small_batch(X.rows())) return small_batch_step(X, y, lr);
        return gemm_step(X, y, lr, dW, db);
    }

    /// Whether a step at this batch size runs the small-batch kernels (small_batch.hpp) instead
    /// of Eigen's GEMM; both give the reference result up to rounding.
    static bool use_small_batch(Index batch) {
        return GLOROT_SMALL_BATCH_KERNELS && small_batch_enabled_ && batch <= kernels::kSmallBatchMax;
    }
    /// Turns the small-batch kernels off (for benchmarks and tests of the Eigen path).
    static void set_small_batch_enabled(bool on) { small_batch_enabled_ = on; }

    /// Per-phase wall time of small-batch steps since the last call, in seconds: forward of each
    /// layer, the softmax, backward+update of each layer (collected while profiling is on).
    std::vector<double> take_phase_seconds() {
        std::vector<double> out = std::move(phase_seconds_);
        phase_seconds_.clear();
        return out;
    }
    void set_profiling(bool on) { profiling_ = on; }

   private:
    static double now() {
#ifdef GLOROT_HAS_OPENMP
        return omp_get_wtime();
#else
        return 0.0;
#endif
    }
    bool profiling_ = false;
    std::vector<double> phase_seconds_;
    static inline bool small_batch_enabled_ = true;
    std::vector<Index> sizes_;
    std::vector<T*> W_, b_;
    std::vector<Activation> act_;
    Cost cost_;
    Index capacity_ = 0;
    std::vector<RowMatrix<T>> s_, z_, ds_;
    kernels::SpinBarrier barrier_;

    CMatMap<T> input(Index l, const CMatMap<T>& X, Index batch) const {
        return l == 0 ? CMatMap<T>(X.data(), batch, size(0)) : CMatMap<T>(z_[l - 1].data(), batch, size(l));
    }

    void check_input(const char* fn, const CMatMap<T>& X, const Label* y) const {
        require(X.rows() > 0, std::string(fn) + ": empty batch (X has 0 rows)");
        require(X.cols() == size(0), std::string(fn) + ": X has " + std::to_string(X.cols()) +
                                         " columns but the network takes " + std::to_string(size(0)) + " inputs");
        // A NaN or inf input would silently poison every weight through the update.
        require(X.allFinite(), std::string(fn) + ": X contains NaN or infinite values");
        if (y != nullptr) check_labels(fn, y, X.rows(), size(layers()));
    }

    void reserve(Index batch) {
        if (batch <= capacity_) return;
        for (Index l = 0; l < layers(); ++l) {
            s_[l].resize(batch, size(l + 1));
            z_[l].resize(batch, size(l + 1));
            ds_[l].resize(batch, size(l + 1));
        }
        capacity_ = batch;
    }

    CostResult forward_layers(const CMatMap<T>& X, const Label* y, bool with_gradient) {
        const Index batch = X.rows();
        reserve(batch);
        for (Index l = 0; l < layers(); ++l) {
            const CMatMap<T> in = input(l, X, batch);
            if (l + 1 < layers()) {
                dense_forward<T>(in, W(l), b(l), pre(l, batch), activation(l), z_[l].data());
            } else {
                dense_forward<T>(in, W(l), b(l), pre(l, batch));
            }
        }
        const Index last = layers() - 1;
        return softmax_cost<T>(cost_, CMatMap<T>(s_[last].data(), batch, size(last + 1)), y, post(last, batch),
                               with_gradient ? ds_[last].data() : nullptr);
    }

#if GLOROT_SMALL_BATCH_KERNELS
    /// The whole step in one parallel region: per layer, threads take fixed blocks (columns
    /// forward, rows of W backward) and meet at a spinning barrier; the update is fused into the
    /// backward pass, so each W is read once forward and read+written once backward.
    CostResult small_batch_step(const CMatMap<T>& X, const Label* y, T lr) {
        const Index batch = X.rows();
        reserve(batch);
        const Index last = layers() - 1;
        const Index fwd_width = kernels::forward_block_width<T>(batch);
        CostResult result{0.0, 0};
        if (profiling_) phase_seconds_.resize(static_cast<size_t>(2 * layers() + 1), 0.0);
        double t_prev = profiling_ ? now() : 0.0;
        // Thread 0 charges the time since the last barrier to a phase: forward l, softmax, backward l.
        auto mark = [&](int tid, Index phase) {
            if (!profiling_ || tid != 0) return;
            const double t = now();
            phase_seconds_[static_cast<size_t>(phase)] += t - t_prev;
            t_prev = t;
        };
        parallel_region([&](int tid, int nt) {
            Index first, end;
            for (Index l = 0; l <= last; ++l) {
                const Index K = size(l), N = size(l + 1);
                const T* in = l == 0 ? X.data() : z_[l - 1].data();
                kernels::share((N + fwd_width - 1) / fwd_width, tid, nt, first, end);
                for (Index i = first; i < end; ++i) {
                    const Index c0 = i * fwd_width, w = std::min(fwd_width, N - c0);
                    kernels::forward_block<T>(in, batch, K, W_[l], N, b_[l], s_[l].data(), c0, w);
                    if (l < last) activation_forward_rows(activation(l), s_[l].data(), z_[l].data(), batch, N, c0, w);
                }
                barrier_.wait(nt);
                mark(tid, l);
            }
            if (tid == 0)
                result = softmax_cost<T>(cost_, CMatMap<T>(s_[last].data(), batch, size(last + 1)), y,
                                         post(last, batch), ds_[last].data());
            barrier_.wait(nt);
            mark(tid, layers());
            for (Index l = last; l >= 0; --l) {
                const Index K = size(l), N = size(l + 1);
                const T* in = l == 0 ? X.data() : z_[l - 1].data();
                T* dprev = l == 0 ? nullptr : ds_[l - 1].data();
                kernels::share((K + kernels::kRowBlock - 1) / kernels::kRowBlock, tid, nt, first, end);
                for (Index i = first; i < end; ++i) {
                    const Index k0 = i * kernels::kRowBlock, k1 = std::min(K, k0 + kernels::kRowBlock);
                    kernels::backward_block<T>(ds_[l].data(), batch, N, W_[l], K, k0, k1, in, lr, dprev);
                    if (dprev != nullptr)
                        activation_backward_rows(activation(l - 1), z_[l - 1].data(), dprev, dprev, batch, K, k0,
                                                 k1 - k0);
                }
                // The bias: each entry summed over the batch in double, in a fixed order.
                kernels::share(N, tid, nt, first, end);
                bias_update(CMatMap<T>(ds_[l].data(), batch, N), first, end - first, lr, b_[l]);
                if (l > 0) barrier_.wait(nt);
                mark(tid, layers() + 1 + l);
            }
        });
        return result;
    }
#else
    CostResult small_batch_step(const CMatMap<T>&, const Label*, T) { return CostResult{0.0, 0}; }
#endif

    /// The step for larger batches, and gradients(): serial Eigen GEMMs on fixed blocks, all in
    /// one parallel region whose threads meet at the spinning barrier (a region per product would
    /// wake the threads ~20 times a step, and on a busy machine a wake-up can cost a scheduler
    /// tick). Backward takes row blocks of W_l: ∂C/∂z for those rows from the OLD rows, then their
    /// update W -= lr·zᵀ·∂C/∂s (Eigen folds -lr into the GEMM: no ∂C/∂W temporary) or, with dW
    /// given, their gradient; no thread touches another's rows.
    CostResult gemm_step(const CMatMap<T>& X, const Label* y, T lr, const std::vector<T*>* dW,
                         const std::vector<T*>* db) {
        const Index batch = X.rows();
        reserve(batch);
        const Index last = layers() - 1;
        CostResult result{0.0, 0};
        parallel_region([&](int tid, int nt) {
            Index first, end;
            for (Index l = 0; l <= last; ++l) {
                const Index N = size(l + 1), width = block_width(N);
                const CMatMap<T> in = input(l, X, batch);
                MatMap<T> S = pre(l, batch);
                kernels::share((N + width - 1) / width, tid, nt, first, end);
                for (Index i = first; i < end; ++i) {
                    const Index c0 = i * width, w = std::min(width, N - c0);
                    auto s = S.middleCols(c0, w);
                    s.noalias() = in * W(l).middleCols(c0, w);
                    s.rowwise() += b(l).segment(c0, w);
                    if (l < last) activation_forward_rows(activation(l), S.data(), z_[l].data(), batch, N, c0, w);
                }
                barrier_.wait(nt);
            }
            if (tid == 0)
                result = softmax_cost<T>(cost_, CMatMap<T>(s_[last].data(), batch, size(last + 1)), y,
                                         post(last, batch), ds_[last].data());
            barrier_.wait(nt);
            for (Index l = last; l >= 0; --l) {
                const Index K = size(l), N = size(l + 1), width = block_width(K);
                const CMatMap<T> in = input(l, X, batch);
                const CMatMap<T> d(ds_[l].data(), batch, N);
                kernels::share((K + width - 1) / width, tid, nt, first, end);
                for (Index i = first; i < end; ++i) {
                    const Index k0 = i * width, w = std::min(width, K - k0);
                    if (l > 0) {
                        MatMap<T> dprev(ds_[l - 1].data(), batch, K);
                        dprev.middleCols(k0, w).noalias() = d * W(l).middleRows(k0, w).transpose();
                        activation_backward_rows(activation(l - 1), z_[l - 1].data(), dprev.data(), dprev.data(),
                                                 batch, K, k0, w);
                    }
                    if (dW != nullptr)
                        MatMap<T>((*dW)[l], K, N).middleRows(k0, w).noalias() = in.middleCols(k0, w).transpose() * d;
                    else
                        W_mut(l).middleRows(k0, w).noalias() -= (lr * in.middleCols(k0, w).transpose()) * d;
                }
                kernels::share(N, tid, nt, first, end);
                if (dW != nullptr) {
                    T* g = (*db)[l];
                    for (Index j = first; j < end; ++j) g[j] = static_cast<T>(column_sum(d, j));  // as bias_update
                } else {
                    bias_update(d, first, end - first, lr, b_[l]);
                }
                if (l > 0) barrier_.wait(nt);
            }
        });
        return result;
    }
};

}  // namespace glorot
