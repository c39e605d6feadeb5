// Filled polygons on a pixel grid by the rule of pygame 1.8-1.9.4's `draw.polygon` (width 0), the
// renderer of the original Shapeset generator. Pure C++17; the NumPy version in
// python/glorot_ext/datasets/shapeset.py (`_fill_rows`, `_fill_mask_reference`) is the reference,
// pixel for pixel.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace glorot::raster {

/// Calls span(y, x_lo, x_hi) for the filled pixels x_lo..x_hi (both included, inside the image) of
/// each row y of one polygon of integer vertices X, Y (n each); `xs` is scratch of n entries.
///
/// Per scanline y in 0..size-1 an edge (from vertex i-1 to i, ends ordered by y: y1 < y2) crosses
/// when y1 <= y < y2, or y == y2 == the polygon's largest y; its crossing is
/// x1 + (y - y1) * (x2 - x1) / (y2 - y1) in C's integer division. Pixels from the smallest to the
/// largest crossing are filled, clipped to the image, except those strictly between crossings
/// 2k+1 and 2k+2 (sorted; k >= 0): the spans [x0, x1], [x2, x3], ..., and [x_last, x_last] when the
/// count is odd. A polygon whose vertices share one y is the span of its x on that row.
template <class Span>
void polygon_spans(const std::int32_t* X, const std::int32_t* Y, std::int64_t n, std::int64_t size,
                   std::vector<std::int64_t>& xs, Span&& span) {
    const std::int64_t top = *std::max_element(Y, Y + n);
    const std::int64_t bottom = *std::min_element(Y, Y + n);
    auto clipped = [&](std::int64_t y, std::int64_t lo, std::int64_t hi) {
        lo = std::max<std::int64_t>(lo, 0);
        hi = std::min<std::int64_t>(hi, size - 1);
        if (lo <= hi) span(y, lo, hi);
    };
    if (bottom == top) {  // all vertices on one row: the span of their x on that row
        if (top >= 0 && top < size) clipped(top, *std::min_element(X, X + n), *std::max_element(X, X + n));
        return;
    }
    const std::int64_t y_hi = std::min<std::int64_t>(top, size - 1);
    for (std::int64_t y = std::max<std::int64_t>(bottom, 0); y <= y_hi; ++y) {
        std::size_t k = 0;
        for (std::int64_t i = 0; i < n; ++i) {
            const std::int64_t j = i == 0 ? n - 1 : i - 1;  // the edge from the previous vertex
            const std::int64_t py = Y[j], cy = Y[i];
            if (py == cy) continue;  // horizontal edges never cross
            const bool down = py < cy;
            const std::int64_t y1 = down ? py : cy, y2 = down ? cy : py;
            const std::int64_t x1 = down ? X[j] : X[i], x2 = down ? X[i] : X[j];
            if (y < y1 || !(y < y2 || (y == top && y > y1 && y <= y2))) continue;
            xs[k++] = x1 + (y - y1) * (x2 - x1) / (y2 - y1);  // truncates toward zero, as C's `/`
        }
        std::sort(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(k));
        for (std::size_t s = 0; s < k; s += 2) clipped(y, xs[s], xs[std::min(s + 1, k - 1)]);
    }
}

inline void check_sizes(const char* fn, std::int64_t n, std::int64_t size) {
    if (n < 1) throw std::invalid_argument(std::string(fn) + ": polygons need at least one vertex");
    if (size < 1) throw std::invalid_argument(std::string(fn) + ": size must be >= 1, got " + std::to_string(size));
}

/// Fills `inside` (P, size, size), indexed [p][x][y], with the polygons of integer vertices
/// vx, vy (P, n), row-major (`polygon_spans`' rule).
inline void fill_polygons(const std::int32_t* vx, const std::int32_t* vy, std::int64_t P, std::int64_t n,
                          std::int64_t size, bool* inside) {
    check_sizes("fill_polygons", n, size);
    std::fill(inside, inside + P * size * size, false);
    std::vector<std::int64_t> xs(static_cast<std::size_t>(n));
    for (std::int64_t p = 0; p < P; ++p) {
        bool* img = inside + p * size * size;  // [x][y]
        polygon_spans(vx + p * n, vy + p * n, n, size, xs, [&](std::int64_t y, std::int64_t lo, std::int64_t hi) {
            for (std::int64_t x = lo; x <= hi; ++x) img[x * size + y] = true;
        });
    }
}

/// Paints polygon p (vertices vx, vy (P, n)) with grey level value[p] into image image[p] of
/// `images` (B, size, size), indexed [b][x][y]; every image[p] must be in [0, B).
inline void paint_polygons(std::uint8_t* images, std::int64_t B, const std::int64_t* image, const std::int32_t* vx,
                           const std::int32_t* vy, const std::uint8_t* value, std::int64_t P, std::int64_t n,
                           std::int64_t size) {
    check_sizes("paint_polygons", n, size);
    for (std::int64_t p = 0; p < P; ++p)
        if (image[p] < 0 || image[p] >= B)
            throw std::invalid_argument("paint_polygons: image index " + std::to_string(image[p]) + " is outside the " +
                                        std::to_string(B) + " images");
    std::vector<std::int64_t> xs(static_cast<std::size_t>(n));
    for (std::int64_t p = 0; p < P; ++p) {
        std::uint8_t* img = images + image[p] * size * size;
        const std::uint8_t v = value[p];
        polygon_spans(vx + p * n, vy + p * n, n, size, xs, [&](std::int64_t y, std::int64_t lo, std::int64_t hi) {
            for (std::int64_t x = lo; x <= hi; ++x) img[x * size + y] = v;
        });
    }
}

}  // namespace glorot::raster
