#include "bindings.hpp"

#ifndef GLOROT_MODULE
#define GLOROT_MODULE _core
#endif

// Built once per instruction-set level (CMakeLists.txt) under the names _core_<path>;
// glorot_ext/_dispatch.py imports one and installs it as glorot_ext._core.
PYBIND11_MODULE(GLOROT_MODULE, m) {
    // Classes and functions take their __module__ from this name: every build presents itself as
    // glorot_ext._core, so reprs, pickles by reference and error messages are the same on any CPU.
    const pybind11::object built_as = m.attr("__name__");
    m.attr("__name__") = "glorot_ext._core";
    m.doc() = "glorot_ext native kernels (C++17, Eigen, OpenMP). Private: use the glorot_ext package.";
    glorot::bindings::bind_parallel(m);
    glorot::bindings::bind_activations(m);
    glorot::bindings::bind_dense(m);
    glorot::bindings::bind_loss(m);
    glorot::bindings::bind_network(m);
    glorot::bindings::bind_instruments(m);
    glorot::bindings::bind_datasets(m);
#ifdef VERSION_INFO
    m.attr("__version__") = GLOROT_STR(VERSION_INFO);
#else
    m.attr("__version__") = "dev";
#endif
    m.attr("__name__") = built_as;
}
