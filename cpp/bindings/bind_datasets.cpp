#include "arrays.hpp"
#include "bindings.hpp"
#include "glorot_ext/raster.hpp"

namespace glorot::bindings {

void bind_datasets(py::module_& m) {
    m.def(
        "fill_polygons",
        [](const py::handle& vx_, const py::handle& vy_, std::int64_t size) {
            const char* fn = "fill_polygons";
            const auto vx = checked<std::int32_t>(vx_, fn, "vx", 2, false, "int32");
            const auto vy = checked<std::int32_t>(vy_, fn, "vy", 2, false, "int32");
            if (vx.shape(0) != vy.shape(0) || vx.shape(1) != vy.shape(1))
                throw py::value_error(std::string(fn) + ": vx has shape " + shape_of(vx) + " but vy has shape " +
                                      shape_of(vy));
            if (size < 1 || size > 4096)
                throw py::value_error(std::string(fn) + ": size must be in [1, 4096], got " + std::to_string(size));
            const std::int64_t P = vx.shape(0), n = vx.shape(1);
            if (n < 1)
                throw py::value_error(std::string(fn) + ": polygons need at least one vertex, got shape " +
                                      shape_of(vx));
            py::array_t<bool> inside(
                {static_cast<py::ssize_t>(P), static_cast<py::ssize_t>(size), static_cast<py::ssize_t>(size)});
            bool* out = inside.mutable_data();
            {
                py::gil_scoped_release nogil;
                raster::fill_polygons(vx.data(), vy.data(), P, n, size, out);
            }
            return inside;
        },
        py::arg("vx"), py::arg("vy"), py::arg("size"),
        "(P, size, size) bool, indexed [p, x, y]: the polygons of int32 vertices vx, vy (P, n) filled by "
        "pygame 1.9's rule (Shapeset's renderer; see datasets/shapeset.py).");
    m.def(
        "paint_polygons",
        [](const py::handle& images_, const py::handle& image_, const py::handle& vx_, const py::handle& vy_,
           const py::handle& value_) {
            const char* fn = "paint_polygons";
            auto images = checked<std::uint8_t>(images_, fn, "images", 3, true, "uint8");
            const auto image = checked<std::int64_t>(image_, fn, "image", 1, false, "int64");
            const auto vx = checked<std::int32_t>(vx_, fn, "vx", 2, false, "int32");
            const auto vy = checked<std::int32_t>(vy_, fn, "vy", 2, false, "int32");
            const auto value = checked<std::uint8_t>(value_, fn, "value", 1, false, "uint8");
            const std::int64_t P = vx.shape(0), n = vx.shape(1), size = images.shape(1);
            if (images.shape(2) != size)
                throw py::value_error(std::string(fn) + ": images must be (B, size, size), got " + shape_of(images));
            if (vy.shape(0) != P || vy.shape(1) != n || image.shape(0) != P || value.shape(0) != P)
                throw py::value_error(std::string(fn) + ": vx " + shape_of(vx) + ", vy " + shape_of(vy) + ", image " +
                                      shape_of(image) + " and value " + shape_of(value) +
                                      " must describe the same polygons");
            if (n < 1) throw py::value_error(std::string(fn) + ": polygons need at least one vertex");
            std::uint8_t* out = images.mutable_data();
            const std::int64_t B = images.shape(0);
            {
                py::gil_scoped_release nogil;
                raster::paint_polygons(out, B, image.data(), vx.data(), vy.data(), value.data(), P, n, size);
            }
        },
        py::arg("images"), py::arg("image"), py::arg("vx"), py::arg("vy"), py::arg("value"),
        "Paints polygon p (int32 vertices vx, vy (P, n)) with grey level value[p] (uint8) into images[image[p]] "
        "(images: uint8 (B, size, size), indexed [b, x, y]; image: int64 (P,)), by fill_polygons' rule.");
}

}  // namespace glorot::bindings
