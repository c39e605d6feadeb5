// What a network step reads and writes besides the input: the layers (views of parameter
// buffers the caller owns) and the workspace of per-layer activations (owned, reused).
//
// Layer l maps z_l (batch, n_l) to s_l = z_l·W_l + b_l (batch, n_{l+1}), z_{l+1} = f_l(s_l);
// z_0 = X and the last layer is a softmax with a cost.
#pragma once

#include "glorot_ext/activations.hpp"
#include "glorot_ext/loss.hpp"
#include "glorot_ext/types.hpp"

#include <utility>
#include <vector>

namespace glorot {

/// The parameters of an MLP: W_l (n_l, n_{l+1}) and b_l (n_{l+1}) row-major in buffers the
/// caller owns and keeps alive, one activation per hidden layer, the output cost.
template <class T>
struct Layers {
    std::vector<Index> sizes;  ///< n_0 … n_L
    std::vector<T*> weights, biases;
    std::vector<Activation> activations;
    Cost cost;

    Index count() const { return static_cast<Index>(sizes.size()) - 1; }
    Index size(Index i) const { return sizes[static_cast<size_t>(i)]; }
    Activation activation(Index l) const { return activations[static_cast<size_t>(l)]; }
    CMatMap<T> W(Index l) const { return CMatMap<T>(weights[l], size(l), size(l + 1)); }
    MatMap<T> W_mut(Index l) const { return MatMap<T>(weights[l], size(l), size(l + 1)); }
    CVecMap<T> b(Index l) const { return CVecMap<T>(biases[l], size(l + 1)); }
};

/// Per-layer s_l, z_{l+1} = f(s_l) (the softmax P for the last layer) and ∂C/∂s_l for up to
/// capacity() rows; grown to the largest batch seen and reused, so a warm step allocates nothing.
template <class T>
class Workspace {
   public:
    Index capacity() const { return capacity_; }

    /// Room for `batch` rows. The new buffers are allocated before the old ones are released,
    /// so a failed allocation (std::bad_alloc) leaves the workspace exactly as it was.
    void reserve(const std::vector<Index>& sizes, Index batch) {
        if (batch <= capacity_) return;
        const size_t layers = sizes.size() - 1;
        std::vector<RowMatrix<T>> s(layers), z(layers), ds(layers);
        for (size_t l = 0; l < layers; ++l) {
            s[l].resize(batch, sizes[l + 1]);
            z[l].resize(batch, sizes[l + 1]);
            ds[l].resize(batch, sizes[l + 1]);
        }
        s_.swap(s);
        z_.swap(z);
        ds_.swap(ds);
        capacity_ = batch;
    }

    T* pre(Index l) { return s_[static_cast<size_t>(l)].data(); }
    T* post(Index l) { return z_[static_cast<size_t>(l)].data(); }
    T* delta(Index l) { return ds_[static_cast<size_t>(l)].data(); }

    /// z_l as the input of layer l: X itself for l = 0.
    const T* input(Index l, const T* X) { return l == 0 ? X : post(l - 1); }

   private:
    Index capacity_ = 0;
    std::vector<RowMatrix<T>> s_, z_, ds_;
};

}  // namespace glorot
