// One bind_<feature> per binding file; module.cpp only calls them.
#pragma once

#include <pybind11/pybind11.h>

// Compile definitions (VERSION_INFO, GLOROT_SIMD_PATH) as string literals.
#define GLOROT_STR_(x) #x
#define GLOROT_STR(x) GLOROT_STR_(x)

namespace glorot::bindings {
void bind_parallel(pybind11::module_& m);
void bind_activations(pybind11::module_& m);
void bind_dense(pybind11::module_& m);
void bind_loss(pybind11::module_& m);
void bind_network(pybind11::module_& m);
void bind_instruments(pybind11::module_& m);
void bind_datasets(pybind11::module_& m);
}  // namespace glorot::bindings
