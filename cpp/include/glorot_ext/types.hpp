// Shapes and names shared by every kernel.
//
// One convention, as in the Python layer: X is (batch, fan_in), W is (fan_in, fan_out),
// Y = X·W + b, all row-major (C order), so a NumPy array crosses without a copy.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace glorot {

using Index = Eigen::Index;
using Label = std::int64_t;

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MatMap = Eigen::Map<RowMatrix<T>>;
template <class T>
using CMatMap = Eigen::Map<const RowMatrix<T>>;
template <class T>
using RowVec = Eigen::Matrix<T, 1, Eigen::Dynamic>;
template <class T>
using VecMap = Eigen::Map<RowVec<T>>;
template <class T>
using CVecMap = Eigen::Map<const RowVec<T>>;

/// Throws std::invalid_argument (ValueError in Python) when `ok` is false.
inline void require(bool ok, const std::string& message) {
    if (!ok) throw std::invalid_argument(message);
}

inline std::string shape_str(Index rows, Index cols) {
    return "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
}

}  // namespace glorot
