#include "arrays.hpp"
#include "bindings.hpp"
#include "glorot_ext/loss.hpp"

namespace glorot::bindings {

namespace {

template <class T>
py::tuple softmax_cost_t(Cost cost, const char* fn, const py::handle& S_, const py::handle& y_) {
    const auto S = checked_matrix<T>(S_, fn, "S");
    if (S.shape(0) == 0) throw py::value_error(std::string(fn) + ": empty batch (S has 0 rows)");
    const auto y = checked_labels(y_, fn, S.shape(0));
    check_labels(fn, y.data(), S.shape(0), S.shape(1));
    auto P = new_matrix<T>(S.shape(0), S.shape(1));
    auto dS = new_matrix<T>(S.shape(0), S.shape(1));
    CostResult r{};
    {
        auto p = mat(P);
        T* ds = dS.mutable_data();
        py::gil_scoped_release nogil;
        r = softmax_cost<T>(cost, cmat(S), y.data(), p, ds);
    }
    return py::make_tuple(r.loss_sum / static_cast<double>(S.shape(0)), r.errors, P, dS);
}

}  // namespace

void bind_loss(py::module_& m) {
    py::tuple names(kCostNames.size());
    for (std::size_t i = 0; i < kCostNames.size(); ++i) names[i] = kCostNames[i];
    m.attr("cost_names") = names;
    m.def(
        "softmax_nll",
        [](const py::handle& S, const py::handle& y) {
            return dispatch(S, "softmax_nll", "S",
                            [&](auto t) { return softmax_cost_t<decltype(t)>(Cost::NLL, "softmax_nll", S, y); });
        },
        py::arg("S"), py::arg("y"),
        "(mean loss, errors, P, dS) of the softmax negative log-likelihood; dS = (P - onehot(y)) / batch.");
    m.def(
        "quadratic_cost",
        [](const py::handle& S, const py::handle& y) {
            return dispatch(S, "quadratic_cost", "S", [&](auto t) {
                return softmax_cost_t<decltype(t)>(Cost::Quadratic, "quadratic_cost", S, y);
            });
        },
        py::arg("S"), py::arg("y"),
        "(mean loss, errors, P, dS) of the quadratic cost ½·||softmax(S) - onehot(y)||² per example.");
}

}  // namespace glorot::bindings
