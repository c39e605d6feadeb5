// Filled polygons on a pixel grid by the rule of pygame 1.8-1.9.4's `draw.polygon` (width 0), the
// renderer of the original Shapeset generator. Pure C++17; the NumPy version in
// python/glorot_ext/datasets/shapeset.py (`_fill_rows`, `_fill_mask`) is the reference, pixel for
// pixel.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace glorot::raster {

/// Fills `inside` (P, size, size), indexed [p][x][y], with the polygons of integer vertices
/// vx, vy (P, n), row-major. Per scanline y in 0..size-1 an edge (from vertex i-1 to i, ends
/// ordered by y: y1 < y2) crosses when y1 <= y < y2, or y == y2 == the polygon's largest y; its
/// crossing is x1 + (y - y1) * (x2 - x1) / (y2 - y1) in C's integer division. Pixels from the
/// smallest to the largest crossing are set, clipped to the image, except those strictly between
/// crossings 2k+1 and 2k+2 (sorted; k >= 0). A polygon whose vertices share one y is the span of
/// its x on that row.
inline void fill_polygons(const std::int32_t* vx, const std::int32_t* vy, std::int64_t P, std::int64_t n,
                          std::int64_t size, bool* inside) {
    if (n < 1) throw std::invalid_argument("fill_polygons: polygons need at least one vertex");
    if (size < 1) throw std::invalid_argument("fill_polygons: size must be >= 1, got " + std::to_string(size));
    std::fill(inside, inside + P * size * size, false);
    std::vector<std::int64_t> xs(static_cast<std::size_t>(n));
    for (std::int64_t p = 0; p < P; ++p) {
        const std::int32_t* X = vx + p * n;
        const std::int32_t* Y = vy + p * n;
        bool* img = inside + p * size * size;  // [x][y]
        const std::int64_t top = *std::max_element(Y, Y + n);
        const std::int64_t bottom = *std::min_element(Y, Y + n);
        if (bottom == top) {  // all vertices on one row: the span of their x on that row
            if (top < 0 || top >= size) continue;
            const std::int64_t lo = std::max<std::int64_t>(*std::min_element(X, X + n), 0);
            const std::int64_t hi = std::min<std::int64_t>(*std::max_element(X, X + n), size - 1);
            for (std::int64_t x = lo; x <= hi; ++x) img[x * size + top] = true;
            continue;
        }
        const std::int64_t y_lo = std::max<std::int64_t>(bottom, 0);
        const std::int64_t y_hi = std::min<std::int64_t>(top, size - 1);
        for (std::int64_t y = y_lo; y <= y_hi; ++y) {
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
            if (k == 0) continue;
            std::sort(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(k));
            const std::int64_t first = std::max<std::int64_t>(xs[0], 0);
            const std::int64_t last = std::min<std::int64_t>(xs[k - 1], size - 1);
            for (std::int64_t x = first; x <= last; ++x) img[x * size + y] = true;
            for (std::size_t g = 1; g + 1 < k; g += 2) {  // gaps between crossings 2k+1 and 2k+2
                const std::int64_t lo = std::max<std::int64_t>(xs[g] + 1, 0);
                const std::int64_t hi = std::min<std::int64_t>(xs[g + 1], size);
                for (std::int64_t x = lo; x < hi; ++x) img[x * size + y] = false;
            }
        }
    }
}

}  // namespace glorot::raster
