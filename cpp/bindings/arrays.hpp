// Argument checks at the Python boundary: every array is taken as it is (no conversion, no
// copy), and anything that does not fit raises TypeError/ValueError naming the argument.
#pragma once

#include "glorot_ext/types.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

namespace glorot::bindings {

namespace py = pybind11;

enum class DType { F32, F64 };

inline std::string describe(const py::handle& obj) { return py::str(py::type::handle_of(obj).attr("__name__")); }

/// Whether `a` is an ndarray whose dtype is equivalent to V's, in native byte order. By equality,
/// not identity: an array that went through pickle, joblib or np.load has an equal dtype that is
/// another object. array_t<V>'s check is numpy's PyArray_EquivTypes and never converts.
template <class V>
bool has_dtype(const py::handle& a) {
    return py::isinstance<py::array_t<V>>(a);
}

/// The float dtype of array `a`, which picks the kernel instantiation.
inline DType float_dtype(const py::handle& a, const std::string& fn, const char* name) {
    if (!py::isinstance<py::array>(a))
        throw py::type_error(fn + ": " + name + " must be a numpy.ndarray, got " + describe(a));
    const auto arr = py::reinterpret_borrow<py::array>(a);
    if (has_dtype<float>(a)) return DType::F32;
    if (has_dtype<double>(a)) return DType::F64;
    throw py::type_error(fn + ": " + name + " must be float32 or float64, got " + std::string(py::str(arr.dtype())));
}

template <class T>
const char* dtype_name() {
    return sizeof(T) == 4 ? "float32" : "float64";
}

inline std::string shape_of(const py::array& a) {
    std::string s = "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
    return s + (a.ndim() == 1 ? ",)" : ")");
}

/// `a` as an array of exactly dtype V and rank ndim, C-contiguous (and writeable if asked).
template <class V>
py::array_t<V> checked(const py::handle& a, const std::string& fn, const char* name, int ndim, bool writeable = false,
                       const char* want = nullptr) {
    if (!py::isinstance<py::array>(a))
        throw py::type_error(fn + ": " + name + " must be a numpy.ndarray, got " + describe(a));
    const auto arr = py::reinterpret_borrow<py::array>(a);
    if (!has_dtype<V>(a))
        throw py::type_error(fn + ": " + name + " must be " +
                             (want ? want : "of dtype " + std::string(py::str(py::dtype::of<V>()))) + ", got " +
                             std::string(py::str(arr.dtype())));
    if (arr.ndim() != ndim)
        throw py::value_error(fn + ": " + name + " must be " + std::to_string(ndim) + "-D, got shape " + shape_of(arr));
    if (!(arr.flags() & py::array::c_style))
        throw py::value_error(fn + ": " + name +
                              " must be C-contiguous, got a Fortran-order or strided view of shape " + shape_of(arr) +
                              " (use numpy.ascontiguousarray)");
    // A view at an odd byte offset: dereferencing a misaligned V* is undefined behaviour.
    if (reinterpret_cast<std::uintptr_t>(arr.data()) % alignof(V) != 0)
        throw py::value_error(fn + ": " + name + " is not aligned to " + std::to_string(alignof(V)) +
                              " bytes (a view at an odd byte offset?); pass an aligned copy, numpy.array(" + name +
                              ")");
    if (writeable && !arr.writeable()) throw py::value_error(fn + ": " + name + " must be writeable");
    return py::reinterpret_borrow<py::array_t<V>>(a);
}

template <class T>
py::array_t<T> checked_matrix(const py::handle& a, const std::string& fn, const char* name, bool writeable = false) {
    return checked<T>(a, fn, name, 2, writeable, dtype_name<T>());
}

/// Labels: int64, 1-D, one per row of X.
inline py::array_t<Label> checked_labels(const py::handle& a, const std::string& fn, Index rows) {
    auto y = checked<Label>(a, fn, "y", 1, false, "int64");
    if (y.shape(0) != rows)
        throw py::value_error(fn + ": y has " + std::to_string(y.shape(0)) + " labels but X has " +
                              std::to_string(rows) + " rows");
    return y;
}

/// Whether the byte ranges of two C-contiguous arrays overlap (numpy.may_share_memory).
inline bool overlaps(const py::array& a, const py::array& b) {
    const auto a0 = reinterpret_cast<std::uintptr_t>(a.data()), b0 = reinterpret_cast<std::uintptr_t>(b.data());
    const auto a1 = a0 + static_cast<std::uintptr_t>(a.nbytes()), b1 = b0 + static_cast<std::uintptr_t>(b.nbytes());
    return a.nbytes() > 0 && b.nbytes() > 0 && a0 < b1 && b0 < a1;
}

template <class T>
CMatMap<T> cmat(const py::array_t<T>& a) {
    return CMatMap<T>(a.data(), a.shape(0), a.shape(1));
}
template <class T>
MatMap<T> mat(py::array_t<T>& a) {
    return MatMap<T>(a.mutable_data(), a.shape(0), a.shape(1));
}
template <class T>
CVecMap<T> cvec(const py::array_t<T>& a) {
    return CVecMap<T>(a.data(), a.shape(0));
}
template <class T>
py::array_t<T> new_matrix(Index rows, Index cols) {
    return py::array_t<T>({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)});
}

/// Calls f(T{}) with T the float type of `first`.
template <class F>
auto dispatch(const py::handle& first, const std::string& fn, const char* name, F&& f) {
    if (float_dtype(first, fn, name) == DType::F32) return f(float{});
    return f(double{});
}

}  // namespace glorot::bindings
