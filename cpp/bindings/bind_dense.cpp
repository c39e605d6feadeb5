#include "arrays.hpp"
#include "bindings.hpp"
#include "glorot_ext/dense.hpp"

namespace glorot::bindings {

namespace {

template <class T>
py::array_t<T> forward(const py::handle& X_, const py::handle& W_, const py::handle& b_) {
    const auto X = checked_matrix<T>(X_, "dense_forward", "X");
    const auto W = checked_matrix<T>(W_, "dense_forward", "W");
    const auto b = checked<T>(b_, "dense_forward", "b", 1, false, dtype_name<T>());
    check_dense<T>("dense_forward", X.shape(0), X.shape(1), W.shape(0), W.shape(1), b.shape(0));
    auto Y = new_matrix<T>(X.shape(0), W.shape(1));
    auto y = mat(Y);
    py::gil_scoped_release nogil;
    dense_forward<T>(cmat(X), cmat(W), cvec(b), y);
    return Y;
}

template <class T>
py::tuple backward(const py::handle& X_, const py::handle& W_, const py::handle& dY_) {
    const auto X = checked_matrix<T>(X_, "dense_backward", "X");
    const auto W = checked_matrix<T>(W_, "dense_backward", "W");
    const auto dY = checked_matrix<T>(dY_, "dense_backward", "dY");
    check_dense<T>("dense_backward", X.shape(0), X.shape(1), W.shape(0), W.shape(1), W.shape(1));
    if (dY.shape(0) != X.shape(0) || dY.shape(1) != W.shape(1))
        throw py::value_error("dense_backward: dY has shape " + shape_of(dY) + " but X·W has shape (" +
                              std::to_string(X.shape(0)) + ", " + std::to_string(W.shape(1)) + ")");
    auto dX = new_matrix<T>(X.shape(0), X.shape(1));
    auto dW = new_matrix<T>(W.shape(0), W.shape(1));
    py::array_t<T> db(W.shape(1));
    {
        T* dx = dX.mutable_data();
        auto dw = mat(dW);
        VecMap<T> dbv(db.mutable_data(), db.shape(0));
        py::gil_scoped_release nogil;
        dense_backward<T>(cmat(X), cmat(W), cmat(dY), dx, dw, dbv);
    }
    return py::make_tuple(dX, dW, db);
}

}  // namespace

void bind_dense(py::module_& m) {
    m.def(
        "dense_forward",
        [](const py::handle& X, const py::handle& W, const py::handle& b) {
            return dispatch(X, "dense_forward", "X",
                            [&](auto t) -> py::array { return forward<decltype(t)>(X, W, b); });
        },
        py::arg("X"), py::arg("W"), py::arg("b"), "Y = X·W + b; X (batch, fan_in), W (fan_in, fan_out), b (fan_out,).");
    m.def(
        "dense_backward",
        [](const py::handle& X, const py::handle& W, const py::handle& dY) {
            return dispatch(X, "dense_backward", "X", [&](auto t) { return backward<decltype(t)>(X, W, dY); });
        },
        py::arg("X"), py::arg("W"), py::arg("dY"), "(dX, dW, db) = (dY·Wᵀ, Xᵀ·dY, Σ_batch dY).");
}

}  // namespace glorot::bindings
