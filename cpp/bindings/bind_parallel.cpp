#include "bindings.hpp"
#include "glorot_ext/block_gemm.hpp"
#include "glorot_ext/parallel.hpp"

#include <Eigen/Core>

#include <string>

namespace glorot::bindings {

void bind_parallel(pybind11::module_& m) {
    m.attr("has_openmp") = has_openmp();
#ifdef GLOROT_NATIVE_BUILD
    m.attr("native_build") = true;
#else
    m.attr("native_build") = false;
#endif
    m.attr("eigen_version") = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                              std::to_string(EIGEN_MINOR_VERSION);
    m.attr("gemm") = std::string(block_gemm_name());
    m.attr("simd") = std::string(Eigen::SimdInstructionSetsInUse());
    m.attr("simd_path") = GLOROT_STR(GLOROT_SIMD_PATH);  // baseline, avx2, avx512 or native (CMakeLists.txt)
    m.def("get_num_threads", &get_num_threads,
          "Threads the kernels called from this thread use (1 in a serial build).");
    m.def(
        "set_num_threads",
        [](int n) {
            if (n < 0)
                throw pybind11::value_error("set_num_threads: n must be >= 0 (0 means every core), got " +
                                            std::to_string(n));
            set_num_threads(n);
        },
        pybind11::arg("n"),
        "Sets the thread count of kernels called from this thread (OpenMP keeps one per thread: other "
        "Python threads keep theirs); 0 means every core.");
}

}  // namespace glorot::bindings
