// How the GEMM path's block partition costs: the three GEMMs of one 1000-unit layer (forward
// S = Z·W, back-propagation ∂C/∂Z = ∂C/∂S·Wᵀ, update W += -lr·Zᵀ·∂C/∂S) split into 1, 2, 4 and 8
// fixed blocks, over the units (as the GEMM path does below 512 rows) or over the batch, each block
// one serial block_gemm (cpp/include/glorot_ext/block_gemm.hpp) as in gemm_path.hpp. Each block's
// GEMM packs the operand the blocks share once more, so the rate falls with the block count.
//
// Not built by pip; from the repository root, with the wheel's OpenBLAS and Eigen's headers
// (`pip install cmeel-eigen scipy-openblas32`); the g++ command is one line, wrapped here:
//   SP=$(python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
//   OB=$SP/scipy_openblas32
//   FLAGS="-O3 -DNDEBUG -march=native -fopenmp -ffp-contract=off -std=c++17 -DEIGEN_DONT_PARALLELIZE"
//   g++ $FLAGS -DGLOROT_HAS_OPENMP=1 -DGLOROT_HAS_OPENBLAS=1 -Icpp/include -I$SP/cmeel.prefix/include/eigen3
//       -I$OB/include bench/gemm_blocks.cpp -o /tmp/gemm_blocks -L$OB/lib -lscipy_openblas -Wl,-rpath,$OB/lib
//   flock /tmp/timing.lock /tmp/gemm_blocks [threads=1] [batch=1000] [rounds=5]
// Prints GFLOP/s (best of the rounds, all threads together) per GEMM, split and block count.
#include "glorot_ext/block_gemm.hpp"
#include "glorot_ext/parallel.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace glorot;

namespace {

enum class Gemm { Forward, Backprop, Update };
enum class Split { Units, Batch };

// One layer's GEMM in `blocks` fixed blocks shared among the threads; milliseconds.
template <class T>
double time_gemm(Gemm g, Split split, Index blocks, Index B, Index K, Index N, const T* Z, const T* D, T* W, T* out) {
    block_gemm_serial();
    const auto t0 = std::chrono::steady_clock::now();
    parallel_region([&](int tid, int nt) {
        Index first, end;
        share(blocks, tid, nt, first, end);
        for (Index i = first; i < end; ++i) {
            // Block i of n: [n·i/blocks, n·(i+1)/blocks), as block_start does.
            auto lo = [&](Index n) { return n * i / blocks; };
            auto len = [&](Index n) { return n * (i + 1) / blocks - n * i / blocks; };
            if (g == Gemm::Forward && split == Split::Units)  // S[:, c] = Z·W[:, c]
                block_gemm<T>(false, false, B, len(N), K, T(1), Z, K, W + lo(N), N, T(0), out + lo(N), N);
            else if (g == Gemm::Forward)  // S[r, :] = Z[r, :]·W
                block_gemm<T>(false, false, len(B), N, K, T(1), Z + lo(B) * K, K, W, N, T(0), out + lo(B) * N, N);
            else if (g == Gemm::Backprop && split == Split::Units)  // ∂C/∂Z[:, k] = ∂C/∂S·W[k, :]ᵀ
                block_gemm<T>(false, true, B, len(K), N, T(1), D, N, W + lo(K) * N, N, T(0), out + lo(K), K);
            else if (g == Gemm::Backprop)  // ∂C/∂Z[r, :] = ∂C/∂S[r, :]·Wᵀ
                block_gemm<T>(false, true, len(B), K, N, T(1), D + lo(B) * N, N, W, N, T(0), out + lo(B) * K, K);
            else  // W[k, :] += -lr·Z[:, k]ᵀ·∂C/∂S (the batch is the reduction: units only)
                block_gemm<T>(true, false, len(K), N, B, T(-1e-6), Z + lo(K), K, D, N, T(1), W + lo(K) * N, N);
        }
    });
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

template <class T>
void run(const char* dtype, int threads, Index B, int rounds) {
    const Index K = 1000, N = 1000;
    std::vector<T> Z(B * K, T(0.5)), D(B * N, T(0.25)), W(K * N, T(0.01)), out(B * std::max(K, N));
    const Index counts[] = {1, 2, 4, 8};
    struct Row {
        const char* name;
        Gemm g;
        Split s;
    };
    const Row rows[] = {{"forward, units", Gemm::Forward, Split::Units},
                        {"forward, batch", Gemm::Forward, Split::Batch},
                        {"backprop, units", Gemm::Backprop, Split::Units},
                        {"backprop, batch", Gemm::Backprop, Split::Batch},
                        {"update, units", Gemm::Update, Split::Units}};
    double best[5][4];
    for (auto& r : best) std::fill(r, r + 4, 1e30);
    for (int round = 0; round < rounds; ++round)  // configurations interleaved within each round
        for (int r = 0; r < 5; ++r)
            for (int c = 0; c < 4; ++c)
                if (counts[c] >= threads)
                    best[r][c] = std::min(best[r][c], time_gemm<T>(rows[r].g, rows[r].s, counts[c], B, K, N, Z.data(),
                                                                   D.data(), W.data(), out.data()));
    std::printf("%s, batch %ld, 1000x1000 layer, %d thread(s): GFLOP/s for 1 / 2 / 4 / 8 blocks\n", dtype,
                static_cast<long>(B), threads);
    const double flops = 2.0 * static_cast<double>(B) * K * N;
    for (int r = 0; r < 5; ++r) {
        std::printf("  %-16s", rows[r].name);
        for (int c = 0; c < 4; ++c)
            if (best[r][c] < 1e29)
                std::printf(" %7.1f", flops / best[r][c] / 1e6);
            else
                std::printf(" %7s", "-");
        std::printf("\n");
    }
}

}  // namespace

int main(int argc, char** argv) {
    const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
    const Index batch = argc > 2 ? std::atol(argv[2]) : 1000;
    const int rounds = argc > 3 ? std::atoi(argv[3]) : 5;
    set_num_threads(threads);
    run<float>("float32", threads, batch, rounds);
    run<double>("float64", threads, batch, rounds);
}
