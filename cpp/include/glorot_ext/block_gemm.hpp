// The one GEMM of the large-batch path: C = alpha·op(A)·op(B) + beta·C on row-major blocks,
// always serial, called by each thread on its own fixed block (gemm_path.hpp).
//
// With GLOROT_HAS_OPENBLAS it is OpenBLAS's cblas_?gemm from the scipy-openblas32 wheel (symbols
// prefixed scipy_, so it never meets NumPy's own OpenBLAS), held to one thread: the block
// partition is ours, so each element is computed by the same serial code whatever thread runs it
// and results do not depend on the thread count. Without it, Eigen's serial GEMM
// (EIGEN_DONT_PARALLELIZE) on the same blocks.
#pragma once

#include "glorot_ext/types.hpp"

#ifdef GLOROT_HAS_OPENBLAS
#include <cblas.h>
#endif

namespace glorot {

/// Which GEMM the large-batch path calls: "openblas" or "eigen".
inline const char* block_gemm_name() {
#ifdef GLOROT_HAS_OPENBLAS
    return "openblas";
#else
    return "eigen";
#endif
}

/// Holds OpenBLAS to one thread (its own pool would split our blocks again, by its thread
/// count); cheap when already so. Call before a parallel region that calls block_gemm.
inline void block_gemm_serial() {
#ifdef GLOROT_HAS_OPENBLAS
    if (scipy_openblas_get_num_threads() != 1) scipy_openblas_set_num_threads(1);
#endif
}

namespace detail {

template <class T>
using StridedMap = Eigen::Map<const RowMatrix<T>, 0, Eigen::OuterStride<>>;
template <class T>
using StridedMutMap = Eigen::Map<RowMatrix<T>, 0, Eigen::OuterStride<>>;

#ifdef GLOROT_HAS_OPENBLAS
inline void cblas_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* A, int lda, const float* B,
                       int ldb, float beta, float* C, int ldc) {
    scipy_cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, A,
                      lda, B, ldb, beta, C, ldc);
}
inline void cblas_gemm(bool ta, bool tb, int m, int n, int k, double alpha, const double* A, int lda, const double* B,
                       int ldb, double beta, double* C, int ldc) {
    scipy_cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, A,
                      lda, B, ldb, beta, C, ldc);
}
#endif

}  // namespace detail

/// C (m, n) = alpha·op(A)·op(B) + beta·C, row-major with leading dimensions lda, ldb, ldc;
/// op(A) is (m, k): A is (m, k), or (k, m) when ta; op(B) is (k, n): B is (k, n), or (n, k) when
/// tb. beta is 0 (C overwritten) or 1 (accumulated, as in W += -lr·zᵀ·∂C/∂s: no temporary).
template <class T>
void block_gemm(bool ta, bool tb, Index m, Index n, Index k, T alpha, const T* A, Index lda, const T* B, Index ldb,
                T beta, T* C, Index ldc) {
#ifdef GLOROT_HAS_OPENBLAS
    detail::cblas_gemm(ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, A,
                       static_cast<int>(lda), B, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
#else
    using detail::StridedMap;
    const StridedMap<T> a(A, ta ? k : m, ta ? m : k, Eigen::OuterStride<>(lda));
    const StridedMap<T> b(B, tb ? n : k, tb ? k : n, Eigen::OuterStride<>(ldb));
    detail::StridedMutMap<T> c(C, m, n, Eigen::OuterStride<>(ldc));
    auto run = [&](const auto& opa, const auto& opb) {
        if (beta == T(0)) {
            if (alpha == T(1))
                c.noalias() = opa * opb;
            else
                c.noalias() = (alpha * opa) * opb;
        } else {
            c.noalias() += (alpha * opa) * opb;
        }
    };
    if (ta && tb)
        run(a.transpose(), b.transpose());
    else if (ta)
        run(a.transpose(), b);
    else if (tb)
        run(a, b.transpose());
    else
        run(a, b);
#endif
}

}  // namespace glorot
