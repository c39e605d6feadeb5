// Dense layer Y = X·W + b and its backward pass, split over fixed blocks (parallel.hpp).
//
// X (batch, fan_in), W (fan_in, fan_out), b (fan_out), Y (batch, fan_out); all row-major.
// Each block is a serial GEMM (block_gemm.hpp): our partition, not the BLAS's thread-dependent
// blocking, decides the arithmetic, so results match for any thread count.
#pragma once

#include "glorot_ext/activations.hpp"
#include "glorot_ext/block_gemm.hpp"
#include "glorot_ext/parallel.hpp"
#include "glorot_ext/types.hpp"

namespace glorot {

/// Σ_r M(r, j) in double, in row order. Written out because Eigen's vectorized colwise sum
/// groups terms by the data's alignment, which would make results depend on the address.
template <class M>
double column_sum(const M& m, Index j) {
    double g = 0.0;
    for (Index r = 0; r < m.rows(); ++r) g += static_cast<double>(m(r, j));
    return g;
}

template <class T>
void check_dense(const char* fn, Index x_rows, Index x_cols, Index w_rows, Index w_cols, Index b_size) {
    require(x_cols == w_rows, std::string(fn) + ": X has " + std::to_string(x_cols) + " columns but W has " +
                                  std::to_string(w_rows) + " rows");
    require(b_size == w_cols, std::string(fn) + ": b has " + std::to_string(b_size) + " entries but W has " +
                                  std::to_string(w_cols) + " columns");
    require(x_rows > 0, std::string(fn) + ": empty batch (X has 0 rows)");
}

/// One output block (parallel.hpp) of Y = X·W + b, then of Z = f(Y) when z is given (z may
/// equal Y); X (rows, k), W (k, n), Y and z (rows, n), row-major.
template <class T>
void dense_forward_block(const T* X, Index k, const T* W, const T* b, T* Y, Index n, const OutputBlock& blk,
                         Activation act, T* z) {
    T* const y = Y + blk.r0 * n;
    block_gemm<T>(false, false, blk.h, blk.w, k, T(1), X + blk.r0 * k, k, W + blk.c0, n, T(0), y + blk.c0, n);
    MatMap<T>(y, blk.h, n).middleCols(blk.c0, blk.w).rowwise() += CVecMap<T>(b + blk.c0, blk.w);
    if (z == nullptr) return;
    if (blk.w == n)  // whole rows: one contiguous run
        activation_forward(act, y, z + blk.r0 * n, blk.h * n);
    else
        activation_forward_rows(act, y, z + blk.r0 * n, blk.h, n, blk.c0, blk.w);
}

/// Y = X·W + b, then Z = f(Y) in the same pass over each block when z is given (z may equal y).
template <class T>
void dense_forward(const CMatMap<T>& X, const CMatMap<T>& W, const CVecMap<T>& b, MatMap<T> Y,
                   Activation act = Activation::Identity, T* z = nullptr) {
    check_dense<T>("dense_forward", X.rows(), X.cols(), W.rows(), W.cols(), b.size());
    require(Y.rows() == X.rows() && Y.cols() == W.cols(), "dense_forward: output has shape " +
                                                              shape_str(Y.rows(), Y.cols()) + " but X·W has shape " +
                                                              shape_str(X.rows(), W.cols()));
    block_gemm_serial();
    for_each_output_block(X.rows(), W.cols(), [&](const OutputBlock& blk) {
        dense_forward_block<T>(X.data(), X.cols(), W.data(), b.data(), Y.data(), W.cols(), blk, act, z);
    });
}

/// b[c0 + j] -= lr·Σ_b dY[b, c0 + j] for j < w (the bias step of SGD, summed in double, b
/// ascending). Plain loops on purpose here and in dense_backward: Eigen's vectorized
/// colwise().sum() peels to the data's alignment, so its rounding would vary with where NumPy
/// happened to allocate dY (and results would differ from run to run).
template <class T>
void bias_update(const CMatMap<T>& dY, Index c0, Index w, T lr, T* bias) {
    for (Index j = c0; j < c0 + w; ++j) bias[j] -= static_cast<T>(static_cast<double>(lr) * column_sum(dY, j));
}

/// dX = dY·Wᵀ (skipped when dX is null), dW = Xᵀ·dY, db = Σ_batch dY.
template <class T>
void dense_backward(const CMatMap<T>& X, const CMatMap<T>& W, const CMatMap<T>& dY, T* dX, MatMap<T> dW, VecMap<T> db) {
    check_dense<T>("dense_backward", X.rows(), X.cols(), W.rows(), W.cols(), W.cols());
    require(dY.rows() == X.rows() && dY.cols() == W.cols(), "dense_backward: dY has shape " +
                                                                shape_str(dY.rows(), dY.cols()) +
                                                                " but X·W has shape " + shape_str(X.rows(), W.cols()));
    require(dW.rows() == W.rows() && dW.cols() == W.cols() && db.size() == W.cols(),
            "dense_backward: gradient buffers do not match W " + shape_str(W.rows(), W.cols()));
    const Index fan_in = W.rows(), n = W.cols(), batch = X.rows();
    block_gemm_serial();
    if (dX != nullptr)
        for_each_block(fan_in, [&](Index c0, Index w) {
            block_gemm<T>(false, true, batch, w, n, T(1), dY.data(), n, W.data() + c0 * n, n, T(0), dX + c0, fan_in);
        });
    for_each_block(n, [&](Index c0, Index w) {
        block_gemm<T>(true, false, fan_in, w, batch, T(1), X.data(), fan_in, dY.data() + c0, n, T(0), dW.data() + c0,
                      n);
        for (Index j = c0; j < c0 + w; ++j) db[j] = static_cast<T>(column_sum(dY, j));
    });
}

}  // namespace glorot
