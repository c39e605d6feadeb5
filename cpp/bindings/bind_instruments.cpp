#include "arrays.hpp"
#include "bindings.hpp"
#include "glorot_ext/instruments.hpp"

namespace glorot::bindings {

namespace {

template <class T>
py::array_t<std::uint64_t> key_counts_t(const py::handle& Z_, const py::handle& D_, Index batch, int shift) {
    const char* fn = "minibatch_gradient_key_counts";
    const auto Z = checked_matrix<T>(Z_, fn, "Z");
    const auto D = checked_matrix<T>(D_, fn, "D");
    if (D.shape(0) != Z.shape(0))
        throw py::value_error(std::string(fn) + ": Z has " + std::to_string(Z.shape(0)) + " rows but D has " +
                              std::to_string(D.shape(0)));
    const std::size_t keys = key_count<T>(shift);
    py::array_t<std::uint64_t> counts(static_cast<py::ssize_t>(keys));
    std::uint64_t* c = counts.mutable_data();
    std::fill_n(c, keys, std::uint64_t{0});
    {
        py::gil_scoped_release nogil;
        minibatch_gradient_key_counts<T>(cmat(Z), cmat(D), batch, shift, c);
    }
    return counts;
}

}  // namespace

void bind_instruments(py::module_& m) {
    m.def(
        "minibatch_gradient_key_counts",
        [](const py::handle& Z, const py::handle& D, Index batch, int shift) {
            if (float_dtype(D, "minibatch_gradient_key_counts", "D") !=
                float_dtype(Z, "minibatch_gradient_key_counts", "Z"))
                throw py::type_error("minibatch_gradient_key_counts: Z and D must have the same dtype");
            return dispatch(Z, "minibatch_gradient_key_counts", "Z",
                            [&](auto t) { return key_counts_t<decltype(t)>(Z, D, batch, shift); });
        },
        py::arg("Z"), py::arg("D"), py::arg("batch"), py::arg("shift"),
        "Counts per key (bit pattern >> shift) of the weight gradients (1/batch)·Z_mᵀ·D_m of the consecutive "
        "minibatches m of `batch` rows of Z (n, n_in) and D (n, n_out); a last partial minibatch is left out.");
}

}  // namespace glorot::bindings
