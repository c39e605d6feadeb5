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
        const Index batch = X.rows();
        const Index last = layers() - 1;
        const CostResult result = forward_layers(X, y, true);
        for (Index l = last; l >= 0; --l) {
            const CMatMap<T> in = input(l, X, batch);
            const CMatMap<T> d(ds_[l].data(), batch, size(l + 1));
            if (l > 0) {
                // ∂C/∂z_l = ∂C/∂s_l·W_lᵀ, then ∂C/∂s_{l-1} = ∂C/∂z_l ⊙ f'(z_l), blockwise in place.
                const Index fan_in = size(l);
                MatMap<T> dprev(ds_[l - 1].data(), batch, fan_in);
                const Activation act = activation(l - 1);
                const T* zl = z_[l - 1].data();
                const auto Wl = W(l);
                for_each_block(fan_in, [&](Index c0, Index w) {
                    dprev.middleCols(c0, w).noalias() = d * Wl.middleRows(c0, w).transpose();
                    activation_backward_rows(act, zl, dprev.data(), dprev.data(), batch, fan_in, c0, w);
                });
            }
            if (dW != nullptr) {
                MatMap<T> gW((*dW)[l], size(l), size(l + 1));
                VecMap<T> gb((*db)[l], size(l + 1));
                dense_backward<T>(in, W(l), d, nullptr, gW, gb);
            } else {
                update(l, in, d, lr);
            }
        }
        return result;
    }

   private:
    std::vector<Index> sizes_;
    std::vector<T*> W_, b_;
    std::vector<Activation> act_;
    Cost cost_;
    Index capacity_ = 0;
    std::vector<RowMatrix<T>> s_, z_, ds_;

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

    void update(Index l, const CMatMap<T>& in, const CMatMap<T>& d, T lr) {
        MatMap<T> Wl = W_mut(l);
        VecMap<T> bl(b_[l], size(l + 1));
        for_each_block(size(l + 1), [&](Index c0, Index w) {
            // Eigen folds -lr into the GEMM and accumulates into W: no ∂C/∂W temporary.
            Wl.middleCols(c0, w).noalias() -= (lr * in.transpose()) * d.middleCols(c0, w);
            for (Index j = c0; j < c0 + w; ++j)
                bl[j] = static_cast<T>(static_cast<double>(bl[j]) - static_cast<double>(lr) * column_sum(d, j));
        });
    }
};

}  // namespace glorot
