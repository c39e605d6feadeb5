#include "arrays.hpp"
#include "bindings.hpp"
#include "glorot_ext/activations.hpp"
#include "glorot_ext/parallel.hpp"

namespace glorot::bindings {

namespace {

template <class T>
py::array_t<T> forward(const std::string& name, const py::handle& S_) {
    const Activation act = activation_from_name(name);
    const auto S = checked_matrix<T>(S_, "activation_forward", "S");
    auto Z = new_matrix<T>(S.shape(0), S.shape(1));
    const Index rows = S.shape(0), cols = S.shape(1);
    const T* s = S.data();
    T* z = Z.mutable_data();
    py::gil_scoped_release nogil;
    for_each_block(cols, [&](Index c0, Index w) { activation_forward_rows(act, s, z, rows, cols, c0, w); });
    return Z;
}

template <class T>
py::array_t<T> backward(const std::string& name, const py::handle& Z_, const py::handle& dZ_) {
    const Activation act = activation_from_name(name);
    const auto Z = checked_matrix<T>(Z_, "activation_backward", "Z");
    const auto dZ = checked_matrix<T>(dZ_, "activation_backward", "dZ");
    if (Z.shape(0) != dZ.shape(0) || Z.shape(1) != dZ.shape(1))
        throw py::value_error("activation_backward: Z has shape " + shape_of(Z) + " but dZ has shape " + shape_of(dZ));
    auto dS = new_matrix<T>(Z.shape(0), Z.shape(1));
    const Index rows = Z.shape(0), cols = Z.shape(1);
    const T *z = Z.data(), *dz = dZ.data();
    T* ds = dS.mutable_data();
    py::gil_scoped_release nogil;
    for_each_block(cols, [&](Index c0, Index w) { activation_backward_rows(act, z, dz, ds, rows, cols, c0, w); });
    return dS;
}

}  // namespace

void bind_activations(py::module_& m) {
    py::tuple names(kActivationNames.size());
    for (std::size_t i = 0; i < kActivationNames.size(); ++i) names[i] = kActivationNames[i];
    m.attr("activation_names") = names;
    m.def(
        "activation_forward",
        [](const std::string& name, const py::handle& S) {
            return dispatch(S, "activation_forward", "S",
                            [&](auto t) -> py::array { return forward<decltype(t)>(name, S); });
        },
        py::arg("name"), py::arg("S"),
        "Z = f(S) for a (batch, units) float32/float64 array; name in identity, sigmoid, tanh, softsign, relu, "
        "scaled_tanh.");
    m.def(
        "activation_backward",
        [](const std::string& name, const py::handle& Z, const py::handle& dZ) {
            return dispatch(Z, "activation_backward", "Z",
                            [&](auto t) -> py::array { return backward<decltype(t)>(name, Z, dZ); });
        },
        py::arg("name"), py::arg("Z"), py::arg("dZ"),
        "dS = dZ * f'(S), with f' computed from the forward OUTPUT Z = f(S).");
}

}  // namespace glorot::bindings
