// Standalone timing of the small-batch SGD step (no Python): the paper's MNIST network, batch 10,
// per dtype, min and median ms per step over interleaved rounds, and each phase's best round.
//
//   g++ -O3 -march=native -fopenmp -ffp-contract=off -DNDEBUG -I cpp/include -I <eigen3> \
//       bench/small_batch_micro.cpp -o /tmp/sbm && OMP_NUM_THREADS=2 /tmp/sbm [rounds] [steps] [huge]
//
// huge: 0 weights on 4 KiB pages, 1 every weight buffer madvise(MADV_HUGEPAGE)'d before it is
// touched, 2 as NumPy does (only buffers of 4 MiB or more: float64's, not float32's 1000×1000).
#include "glorot_ext/small_batch_path.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

using namespace glorot;

template <class T>
struct Net {
    std::vector<Index> sizes{784, 1000, 1000, 1000, 1000, 1000, 10};
    std::vector<T*> w, b;
    Layers<T> layers;
    Workspace<T> ws;
    SpinBarrier barrier;
    PhaseTimes times;
    std::vector<T> X;
    std::vector<Label> y;

    static T* alloc(size_t n, bool huge) {
        const size_t bytes = (n * sizeof(T) + 64 + (1u << 21) - 1) & ~size_t((1u << 21) - 1);
        void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) std::abort();
        madvise(p, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
        // OFFSET (bytes, default 0): NumPy's large arrays start 16 bytes past a page boundary.
        const char* off = std::getenv("OFFSET");
        return reinterpret_cast<T*>(static_cast<char*>(p) + (off ? std::atoi(off) : 0));
    }

    explicit Net(int huge) {
        if (const char* h = std::getenv("HID"))
            for (size_t l = 1; l + 1 < sizes.size(); ++l) sizes[l] = std::atoi(h);
        std::mt19937_64 rng(0);
        std::uniform_real_distribution<double> u(-1, 1);
        std::normal_distribution<double> g;
        for (size_t l = 0; l + 1 < sizes.size(); ++l) {
            const size_t n = sizes[l] * sizes[l + 1];
            const bool h = huge == 1 || (huge == 2 && n * sizeof(T) >= (1u << 22));
            T* wl = alloc(n, h);
            const double s = std::sqrt(6.0 / double(sizes[l] + sizes[l + 1]));
            for (size_t i = 0; i < n; ++i) wl[i] = T(u(rng) * s);
            w.push_back(wl);
            b.push_back(new T[sizes[l + 1]]());
        }
        layers = Layers<T>{sizes, w, b, std::vector<Activation>(sizes.size() - 2, Activation::Tanh), Cost::NLL};
        ws.reserve(sizes, 10);
        X.resize(10 * 784);
        for (auto& x : X) x = T(g(rng));
        for (int i = 0; i < 10; ++i) y.push_back(i % 10);
    }

    double step() {
        const auto t0 = std::chrono::steady_clock::now();
        small_batch_sgd_step<T>(layers, ws, barrier, CMatMap<T>(X.data(), 10, 784), y.data(), T(1e-4), times);
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
};

static void report(const char* name, std::vector<double> t, const std::vector<double>& ph, int steps) {
    std::sort(t.begin(), t.end());
    std::printf("%-8s min %7.3f ms  median %7.3f ms", name, t.front(), t[t.size() / 2]);
    if (!ph.empty()) {
        std::printf("  phases:");
        for (double s : ph) std::printf(" %.3f", 1e3 * s / steps);
    }
    std::printf("\n");
}

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 5, steps = argc > 2 ? std::atoi(argv[2]) : 100;
    const int huge = argc > 3 ? std::atoi(argv[3]) : 2;
    const bool phases = argc > 4 && std::atoi(argv[4]) != 0;
    Net<float> f(huge);
    Net<double> d(huge);
    std::vector<double> tf, td, pf, pd;
    auto best = [](std::vector<double>& acc, const std::vector<double>& s) {  // per phase, best round
        if (acc.empty()) acc = s;
        for (size_t i = 0; i < s.size(); ++i) acc[i] = std::min(acc[i], s[i]);
    };
    for (int r = 0; r < rounds; ++r) {
        f.times.on = phases;
        f.times.seconds.clear();
        f.step();
        f.times.seconds.assign(f.times.seconds.size(), 0.0);
        for (int i = 0; i < steps; ++i) tf.push_back(f.step());
        if (phases) best(pf, f.times.seconds);
        d.times.on = phases;
        d.step();
        d.times.seconds.assign(d.times.seconds.size(), 0.0);
        for (int i = 0; i < steps; ++i) td.push_back(d.step());
        if (phases) best(pd, d.times.seconds);
    }
    report("float32", tf, pf, steps);
    report("float64", td, pd, steps);
}
