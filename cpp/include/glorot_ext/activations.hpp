// Elementwise activations f and their backward pass, over contiguous runs of values.
//
// Every backward takes the forward OUTPUT z = f(s) (never s): f' is a cheap function of z for
// each activation here, and the network keeps z anyway.
#pragma once

#include "glorot_ext/types.hpp"

#include <array>
#include <cstddef>
#include <limits>
#include <string>

namespace glorot {

enum class Activation { Identity, Sigmoid, Tanh, Softsign, Relu, ScaledTanh };

/// LeCun et al. (1998b): 1.7159·tanh(2x/3), so that f(±1) = ±1.
constexpr double kScaledTanhA = 1.7159;
constexpr double kScaledTanhB = 2.0 / 3.0;

/// The names of the Activation values, in enum order: exactly those of Python's registry
/// (glorot_ext.activations.ACTIVATIONS), which a test compares with this list.
inline constexpr std::array<const char*, 6> kActivationNames{"identity", "sigmoid", "tanh",
                                                             "softsign", "relu",    "scaled_tanh"};

inline Activation activation_from_name(const std::string& name) {
    std::string known;
    for (std::size_t i = 0; i < kActivationNames.size(); ++i) {
        if (name == kActivationNames[i]) return static_cast<Activation>(i);
        known += (i ? ", " : "") + std::string(kActivationNames[i]);
    }
    throw std::invalid_argument("unknown activation '" + name + "'; expected one of " + known);
}

namespace detail {
template <class T>
using ArrMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using CArrMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
}  // namespace detail

/// z[i] = f(s[i]) for i < n. In place (z == s) is allowed.
template <class T>
void activation_forward(Activation act, const T* s_ptr, T* z_ptr, Index n) {
    detail::CArrMap<T> s(s_ptr, n);
    detail::ArrMap<T> z(z_ptr, n);
    const T inf = std::numeric_limits<T>::infinity();
    switch (act) {
        case Activation::Identity:
            if (z_ptr != s_ptr) z = s;
            break;
        case Activation::Sigmoid:
            // 1/(1+e^-x) = (1 + tanh(x/2))/2: no exp to overflow at either end.
            z = T(0.5) + T(0.5) * (T(0.5) * s).tanh();
            break;
        case Activation::Tanh:
            z = s.tanh();
            break;
        case Activation::Softsign:
            // x/(1+|x|) is inf/inf at ±inf; the limit there is ±1.
            z = (s.abs() == inf).select(s.sign(), s / (T(1) + s.abs()));
            break;
        case Activation::Relu:
            z = s.max(T(0));
            break;
        case Activation::ScaledTanh:
            z = T(kScaledTanhA) * (T(kScaledTanhB) * s).tanh();
            break;
    }
}

/// ds[i] = dz[i]·f'(s[i]), with f' written in terms of the forward output z[i] = f(s[i]).
/// ds may alias dz.
template <class T>
void activation_backward(Activation act, const T* z_ptr, const T* dz_ptr, T* ds_ptr, Index n) {
    detail::CArrMap<T> z(z_ptr, n);
    detail::CArrMap<T> dz(dz_ptr, n);
    detail::ArrMap<T> ds(ds_ptr, n);
    switch (act) {
        case Activation::Identity:
            if (ds_ptr != dz_ptr) ds = dz;
            break;
        case Activation::Sigmoid:
            ds = dz * z * (T(1) - z);
            break;
        case Activation::Tanh:
            ds = dz * (T(1) - z.square());
            break;
        case Activation::Softsign:
            // f' = 1/(1+|s|)^2 and 1 - |z| = 1/(1+|s|).
            ds = dz * (T(1) - z.abs()).square();
            break;
        case Activation::Relu:
            ds = (z > T(0)).select(dz, T(0));
            break;
        case Activation::ScaledTanh:
            // f' = A·B·(1 - tanh^2) = B·(A - z^2/A).
            ds = dz * (T(kScaledTanhB) * (T(kScaledTanhA) - z.square() / T(kScaledTanhA)));
            break;
    }
}

/// Applies activation_forward to each row segment [c0, c0+w) of a row-major block.
template <class T>
void activation_forward_rows(Activation act, const T* s, T* z, Index rows, Index stride, Index c0, Index w) {
    for (Index r = 0; r < rows; ++r) activation_forward(act, s + r * stride + c0, z + r * stride + c0, w);
}

template <class T>
void activation_backward_rows(Activation act, const T* z, const T* dz, T* ds, Index rows, Index stride, Index c0,
                              Index w) {
    for (Index r = 0; r < rows; ++r)
        activation_backward(act, z + r * stride + c0, dz + r * stride + c0, ds + r * stride + c0, w);
}

}  // namespace glorot
