#include "bindings.hpp"

#define GLOROT_STR_(x) #x
#define GLOROT_STR(x) GLOROT_STR_(x)

PYBIND11_MODULE(_core, m) {
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
}
