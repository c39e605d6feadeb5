// Which kernel builds this CPU can run, asked before any of them is imported (an AVX-512 build
// may execute AVX-512 instructions as soon as it loads). Compiled for the baseline only.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
// GCC and Clang check the OS's XSAVE state too: a CPU with AVX-512 under an OS that does not save
// the zmm registers reports no AVX-512. The builtin takes string literals only.
#define GLOROT_HAS(feature) (__builtin_cpu_supports(feature) != 0)
#define GLOROT_X86 1
#else
#define GLOROT_HAS(feature) false
#endif

namespace {

// The features -march=x86-64-v3 / -v4 let the compiler use (CMakeLists.txt builds with those).
std::vector<std::string> runnable_paths() {
#ifdef GLOROT_X86
    __builtin_cpu_init();
#endif
    std::vector<std::string> paths{"baseline"};
    const bool v3 = GLOROT_HAS("avx") && GLOROT_HAS("avx2") && GLOROT_HAS("fma") && GLOROT_HAS("bmi") &&
                    GLOROT_HAS("bmi2") && GLOROT_HAS("f16c") && GLOROT_HAS("lzcnt") && GLOROT_HAS("movbe");
    if (v3) paths.emplace_back("avx2");
    if (v3 && GLOROT_HAS("avx512f") && GLOROT_HAS("avx512bw") && GLOROT_HAS("avx512cd") && GLOROT_HAS("avx512dq") &&
        GLOROT_HAS("avx512vl"))
        paths.emplace_back("avx512");
    return paths;
}

}  // namespace

PYBIND11_MODULE(_cpu, m) {
    m.doc() = "What this CPU can run, for glorot_ext._dispatch. Private.";
    m.def("runnable_paths", &runnable_paths,
          "Kernel builds this CPU (and OS) can run, slowest first: 'baseline', then 'avx2', 'avx512'.");
}
