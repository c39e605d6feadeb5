// A deep MLP over weight buffers owned by the caller: a whole SGD step, or the gradients of one,
// in one call, and chunked inference.
//
// X is (batch, fan_in), W_l is (fan_in, fan_out), s_l = z_l·W_l + b_l (workspace.hpp). The
// network never owns W or b (NumPy does), so the Python side sees every update in place; it owns
// one workspace, grown to the largest batch seen and reused, so a warm step allocates nothing.
// The step runs one of two paths: the small-batch tile kernels (small_batch_path.hpp) or serial
// Eigen GEMMs on fixed blocks (gemm_path.hpp); both give the reference result up to rounding,
// and each gives bitwise the same result for any thread count.
#pragma once

#include "glorot_ext/activations.hpp"
#include "glorot_ext/gemm_path.hpp"
#include "glorot_ext/loss.hpp"
#include "glorot_ext/parallel.hpp"
#include "glorot_ext/small_batch_path.hpp"
#include "glorot_ext/types.hpp"
#include "glorot_ext/workspace.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace glorot {

/// Which kernels an SGD step may use: Auto takes the small-batch kernels for batch ≤
/// kernels::kSmallBatchMax where they are built (AVX-512F or AVX2+FMA), Gemm always takes the
/// GEMM path.
enum class Kernels { Auto, Gemm };

inline Kernels kernels_from_name(const std::string& name) {
    if (name == "auto") return Kernels::Auto;
    if (name == "gemm") return Kernels::Gemm;
    throw std::invalid_argument("unknown kernels '" + name + "'; expected 'auto' or 'gemm'");
}

/// Rows per chunk when predicting or evaluating a large set: bounds the workspace, and reaches
/// kRowSplitBatch so each chunk's forward shares W between blocks (5,000 Shapeset images through
/// 5x1000 float32: 0.27-0.28 s against 0.30 with chunks of 256, timed alternately).
constexpr Index kEvalChunk = 512;

template <class T>
class Network {
   public:
    /// sizes has L+1 entries; weights[l] points at a (sizes[l], sizes[l+1]) row-major buffer,
    /// biases[l] at sizes[l+1] values; activations has one entry per hidden layer (L-1).
    Network(std::vector<Index> sizes, std::vector<T*> weights, std::vector<T*> biases,
            std::vector<Activation> activations, Cost cost, Kernels kernels = Kernels::Auto)
        : net_{std::move(sizes), std::move(weights), std::move(biases), std::move(activations), cost},
          kernels_(kernels) {
        require(net_.sizes.size() >= 2, "Network: need at least an input and an output size");
        require(
            static_cast<Index>(net_.weights.size()) == layers() && static_cast<Index>(net_.biases.size()) == layers(),
            "Network: one weight and one bias per layer");
        require(static_cast<Index>(net_.activations.size()) == layers() - 1,
                "Network: one activation per hidden layer");
    }

    Index layers() const { return net_.count(); }
    Index size(Index i) const { return net_.size(i); }
    Cost cost() const { return net_.cost; }
    Activation activation(Index l) const { return net_.activation(l); }
    Kernels kernels() const { return kernels_; }
    Index capacity() const { return ws_.capacity(); }

    /// Whether an SGD step at this batch size runs the small-batch kernels.
    bool uses_small_batch(Index batch) const {
        return GLOROT_SMALL_BATCH_KERNELS && kernels_ == Kernels::Auto && batch <= kernels::kSmallBatchMax;
    }

    /// Workspace rows of the last batch: s_l, z_{l+1} = f(s_l) (the softmax P for the last
    /// layer) and ∂C/∂s_l (after sgd_step or gradients).
    CMatMap<T> pre(Index l, Index batch) { return CMatMap<T>(ws_.pre(l), batch, size(l + 1)); }
    CMatMap<T> post(Index l, Index batch) { return CMatMap<T>(ws_.post(l), batch, size(l + 1)); }
    CMatMap<T> delta(Index l, Index batch) { return CMatMap<T>(ws_.delta(l), batch, size(l + 1)); }

    /// Forward of the whole batch into the workspace; with labels y, also the batch's summed
    /// cost and error count (else only the softmax P).
    CostResult forward(const CMatMap<T>& X, const Label* y) {
        check_input("forward", X, y);
        ws_.reserve(net_.sizes, X.rows());
        return gemm_forward<T>(net_, ws_, X, y, false);
    }

    /// Summed cost and error count over (X, y), in chunks of kEvalChunk rows.
    CostResult evaluate(const CMatMap<T>& X, const Label* y) {
        require(y != nullptr, "evaluate: labels are required");
        check_input("evaluate", X, y);
        CostResult total{0.0, 0};
        for_each_chunk(X, y, [&](Index, Index, const CostResult& r) {
            total.loss_sum += r.loss_sum;
            total.errors += r.errors;
        });
        return total;
    }

    /// P (X.rows(), classes) = softmax outputs, in chunks of kEvalChunk rows.
    void predict_proba(const CMatMap<T>& X, T* P) {
        check_input("predict_proba", X, nullptr);
        const Index classes = size(layers());
        for_each_chunk(X, nullptr, [&](Index r0, Index rows, const CostResult&) {
            std::copy_n(ws_.post(layers() - 1), rows * classes, P + r0 * classes);
        });
    }

    /// Forward, back-propagation of ∂C/∂s through every layer and the in-place update
    /// W_l -= lr·z_lᵀ·∂C/∂s_l, b_l -= lr·Σ ∂C/∂s_l; ∂C/∂s_{l-1} is computed from the OLD W_l.
    CostResult sgd_step(const CMatMap<T>& X, const Label* y, T lr) {
        require(y != nullptr, "sgd_step: labels are required");
        check_input("sgd_step", X, y);
        require(std::isfinite(static_cast<double>(lr)) && lr > T(0),
                "sgd_step: learning rate must be a finite number > 0, got " + std::to_string(lr));
        ws_.reserve(net_.sizes, X.rows());
#if GLOROT_SMALL_BATCH_KERNELS
        if (uses_small_batch(X.rows())) return small_batch_sgd_step<T>(net_, ws_, barrier_, X, y, lr, times_);
#endif
        return gemm_pass<T>(net_, ws_, barrier_, X, y, lr, nullptr, nullptr);
    }

    /// The gradients of the batch-mean cost, ∂C/∂W_l into dW[l] (n_l, n_{l+1}) and ∂C/∂b_l into
    /// db[l]; the weights are unchanged (the workspace holds s, z and ∂C/∂s as after a step).
    CostResult gradients(const CMatMap<T>& X, const Label* y, const std::vector<T*>& dW, const std::vector<T*>& db) {
        require(y != nullptr, "gradients: labels are required");
        check_input("gradients", X, y);
        require(static_cast<Index>(dW.size()) == layers() && static_cast<Index>(db.size()) == layers(),
                "gradients: one dW and one db buffer per layer");
        ws_.reserve(net_.sizes, X.rows());
        return gemm_pass<T>(net_, ws_, barrier_, X, y, T(0), &dW, &db);
    }

    /// Per-phase wall time of small-batch steps since the last call, in seconds: forward of each
    /// layer, the softmax, backward+update of each layer (collected while profiling is on).
    std::vector<double> take_phase_seconds() {
        std::vector<double> out = std::move(times_.seconds);
        times_.seconds.clear();
        return out;
    }
    void set_profiling(bool on) { times_.on = on; }

   private:
    Layers<T> net_;
    Kernels kernels_;
    Workspace<T> ws_;
    SpinBarrier barrier_;
    PhaseTimes times_;

    void check_input(const char* fn, const CMatMap<T>& X, const Label* y) const {
        require(X.rows() > 0, std::string(fn) + ": empty batch (X has 0 rows)");
        require(X.cols() == size(0), std::string(fn) + ": X has " + std::to_string(X.cols()) +
                                         " columns but the network takes " + std::to_string(size(0)) + " inputs");
        // A NaN or inf input would silently poison every weight through the update.
        require(X.allFinite(), std::string(fn) + ": X contains NaN or infinite values");
        if (y != nullptr) check_labels(fn, y, X.rows(), size(layers()));
    }

    /// Forward of X in chunks of kEvalChunk rows; each(first_row, rows, chunk's cost) after each.
    template <class Each>
    void for_each_chunk(const CMatMap<T>& X, const Label* y, Each&& each) {
        const Index n = X.rows(), cols = X.cols();
        ws_.reserve(net_.sizes, std::min(n, kEvalChunk));
        for (Index r0 = 0; r0 < n; r0 += kEvalChunk) {
            const Index rows = std::min(kEvalChunk, n - r0);
            const CostResult r =
                gemm_forward<T>(net_, ws_, CMatMap<T>(X.data() + r0 * cols, rows, cols), y ? y + r0 : nullptr, false);
            each(r0, rows, r);
        }
    }
};

}  // namespace glorot
