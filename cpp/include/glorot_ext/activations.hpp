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
#include <type_traits>

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

// float64 tanh in SIMD packets. Eigen 3.4 vectorizes tanh for float only; for double it calls
// std::tanh one value at a time, and that scalar loop was a visible part of a float64 step.
#if defined(EIGEN_VECTORIZE)
#define GLOROT_PACKET_TANH_DOUBLE 1
using PacketD = Eigen::internal::packet_traits<double>::type;
static_assert(Eigen::internal::packet_traits<double>::size > 1 && Eigen::internal::packet_traits<double>::HasExp,
              "a vectorized build has float64 packets with exp");

/// The Taylor series tanh x = Σ_n c_n·x^(2n+1), c_n = 2^(2n+2)·(2^(2n+2) - 1)·B_(2n+2)/(2n+2)!
/// (B the Bernoulli numbers): 12 terms are within 5e-18 of tanh x relative for |x| < 0.3.
constexpr double kTanhSeries[12] = {1.0,
                                    -1.0 / 3.0,
                                    2.0 / 15.0,
                                    -17.0 / 315.0,
                                    62.0 / 2835.0,
                                    -1382.0 / 155925.0,
                                    21844.0 / 6081075.0,
                                    -929569.0 / 638512875.0,
                                    6404582.0 / 10854718875.0,
                                    -443861162.0 / 1856156927625.0,
                                    18888466084.0 / 194896477400625.0,
                                    -113927491862.0 / 2900518163668125.0};
constexpr double kTanhSeriesBelow = 0.3;

/// tanh of each lane: the series above for |x| < 0.3, else sign(x)·(1 - t)/(1 + t) with
/// t = exp(-2|x|) (1 - t is exact there): within 3 ulp of glibc's tanh over the whole range;
/// ±0 stays ±0, NaN stays NaN, ±inf gives ±1.
template <class P>
P ptanh_double(const P& x) {
    namespace ei = Eigen::internal;
    const P one = ei::pset1<P>(1.0), a = ei::pabs(x), x2 = ei::pmul(x, x);
    P p = ei::pset1<P>(kTanhSeries[11]);
    for (int i = 10; i >= 1; --i) p = ei::pmadd(p, x2, ei::pset1<P>(kTanhSeries[i]));
    // x + x³·p, but x itself at ±0 (x³·p is +0 at x = -0, and -0 + +0 would lose the sign).
    const P series = ei::pselect(ei::pcmp_eq(x, ei::pzero(x)), x, ei::padd(x, ei::pmul(ei::pmul(x, x2), p)));
    const P t = ei::pexp(ei::pmul(ei::pset1<P>(-2.0), a));
    const P mag = ei::pdiv(ei::psub(one, t), ei::padd(one, t));
    const P far = ei::pselect(ei::pcmp_lt(x, ei::pzero(x)), ei::pnegate(mag), mag);
    const P z = ei::pselect(ei::pcmp_lt(a, ei::pset1<P>(kTanhSeriesBelow)), series, far);
    return ei::pselect(ei::pcmp_eq(x, x), z, x);
}

/// z[i] = f(s[i]) for i < n with f a function of one packet, every value through the same packet
/// code (the tail is padded into one packet), so a value's result never depends on its address.
template <class F>
void packet_map_double(const double* s, double* z, Index n, F&& f) {
    namespace ei = Eigen::internal;
    constexpr Index P = sizeof(PacketD) / sizeof(double);
    Index i = 0;
    for (; i + P <= n; i += P) ei::pstoreu(z + i, f(ei::ploadu<PacketD>(s + i)));
    if (i < n) {
        double buf[P] = {};
        for (Index j = 0; j < n - i; ++j) buf[j] = s[i + j];
        ei::pstoreu(buf, f(ei::ploadu<PacketD>(buf)));
        for (Index j = 0; j < n - i; ++j) z[i + j] = buf[j];
    }
}

/// The tanh-based activations of float64 in packets; false if `act` is not one of them.
inline bool tanh_family_double(Activation act, const double* s, double* z, Index n) {
    namespace ei = Eigen::internal;
    const PacketD half = ei::pset1<PacketD>(0.5), a = ei::pset1<PacketD>(kScaledTanhA),
                  b = ei::pset1<PacketD>(kScaledTanhB);
    switch (act) {
        case Activation::Tanh:
            packet_map_double(s, z, n, [](const PacketD& x) { return ptanh_double(x); });
            return true;
        case Activation::Sigmoid:  // as below: 0.5 + 0.5·tanh(0.5·x)
            packet_map_double(s, z, n, [&](const PacketD& x) {
                return ei::padd(half, ei::pmul(half, ptanh_double(ei::pmul(half, x))));
            });
            return true;
        case Activation::ScaledTanh:
            packet_map_double(s, z, n, [&](const PacketD& x) { return ei::pmul(a, ptanh_double(ei::pmul(b, x))); });
            return true;
        default:
            return false;
    }
}
#endif  // EIGEN_VECTORIZE
}  // namespace detail

/// z[i] = f(s[i]) for i < n. In place (z == s) is allowed.
template <class T>
void activation_forward(Activation act, const T* s_ptr, T* z_ptr, Index n) {
    detail::CArrMap<T> s(s_ptr, n);
    detail::ArrMap<T> z(z_ptr, n);
    const T inf = std::numeric_limits<T>::infinity();
#ifdef GLOROT_PACKET_TANH_DOUBLE
    if constexpr (std::is_same<T, double>::value)
        if (detail::tanh_family_double(act, s_ptr, z_ptr, n)) return;
#endif
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
