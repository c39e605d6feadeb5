#include "arrays.hpp"
#include "bindings.hpp"
#include "glorot_ext/network.hpp"

#include <pybind11/stl.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <variant>

namespace glorot::bindings {

namespace {

/// Rows per chunk when predicting or evaluating a large set: bounds the workspace.
constexpr Index kEvalChunk = 256;

/// The Python-facing network: one dtype fixed at construction, weights owned by NumPy and kept
/// alive here, one workspace, and a lock so two Python threads never share it at once.
class PyNetwork {
   private:
    template <class F>
    auto visit(const char* fn, const py::handle& X, F&& f) {
        const DType d = float_dtype(X, fn, "X");
        if (d != dtype_)
            throw py::type_error(std::string(fn) + ": X must be " + dtype() + " like the network, got " +
                                 (d == DType::F32 ? "float32" : "float64"));
        if (dtype_ == DType::F32) return f(*std::get<0>(net_), float{});
        return f(*std::get<1>(net_), double{});
    }

    template <class T, class Net, class Each>
    static CostResult chunks(Net& net, const py::array_t<T>& x, const Label* y, Each&& each) {
        const Index n = x.shape(0), cols = x.shape(1);
        if (n == 0) throw std::invalid_argument("empty input (X has 0 rows)");
        CostResult total{0.0, 0};
        for (Index r0 = 0; r0 < n; r0 += kEvalChunk) {
            const Index rows = std::min(kEvalChunk, n - r0);
            const CostResult r = net.forward(CMatMap<T>(x.data() + r0 * cols, rows, cols), y ? y + r0 : nullptr);
            total.loss_sum += r.loss_sum;
            total.errors += r.errors;
            each(r0, rows);
        }
        return total;
    }

    template <class T>
    static py::array_t<T> copy_out(const MatMap<T>& m) {
        auto a = new_matrix<T>(m.rows(), m.cols());
        std::copy_n(m.data(), m.size(), a.mutable_data());
        return a;
    }

   public:
    PyNetwork(const py::list& weights, const py::list& biases, const std::vector<std::string>& activations,
              const std::string& cost)
        : weights_(weights), biases_(biases) {
        const std::string fn = "Network";
        if (weights.size() == 0) throw py::value_error("Network: need at least one layer");
        if (biases.size() != weights.size())
            throw py::value_error("Network: got " + std::to_string(weights.size()) + " weight matrices but " +
                                  std::to_string(biases.size()) + " bias vectors");
        if (activations.size() + 1 != weights.size())
            throw py::value_error("Network: " + std::to_string(weights.size()) + " layers need " +
                                  std::to_string(weights.size() - 1) + " hidden activations, got " +
                                  std::to_string(activations.size()));
        std::vector<Activation> acts;
        for (const auto& a : activations) acts.push_back(activation_from_name(a));
        const Cost c = cost_from_name(cost);
        dtype_ = float_dtype(weights[0], fn, "weights[0]");
        if (dtype_ == DType::F32)
            net_ = build<float>(acts, c);
        else
            net_ = build<double>(acts, c);
    }

    py::tuple sgd_step(const py::handle& X, const py::handle& y, double lr) {
        return visit("sgd_step", X, [&](auto& net, auto t) {
            using T = decltype(t);
            const auto x = checked_matrix<T>(X, "sgd_step", "X");
            const auto labels = checked_labels(y, "sgd_step", x.shape(0));
            if (!(lr > 0.0) || !std::isfinite(lr))
                throw py::value_error("sgd_step: learning rate must be a finite number > 0, got " +
                                      std::string(py::str(py::float_(lr))));
            CostResult r{};
            {
                py::gil_scoped_release nogil;
                std::lock_guard<std::mutex> lock(mu_);
                r = net.backprop(cmat(x), labels.data(), static_cast<T>(lr));
            }
            return py::make_tuple(r.loss_sum / static_cast<double>(x.shape(0)), r.errors);
        });
    }

    py::array predict_proba(const py::handle& X) {
        return visit("predict_proba", X, [&](auto& net, auto t) -> py::array {
            using T = decltype(t);
            const auto x = checked_matrix<T>(X, "predict_proba", "X");
            const Index n = x.shape(0), classes = net.size(net.layers());
            auto P = new_matrix<T>(n, classes);
            T* p = P.mutable_data();
            py::gil_scoped_release nogil;
            std::lock_guard<std::mutex> lock(mu_);
            chunks(net, x, nullptr, [&](Index r0, Index rows) {
                std::copy_n(net.post(net.layers() - 1, rows).data(), rows * classes, p + r0 * classes);
            });
            return P;
        });
    }

    py::tuple evaluate(const py::handle& X, const py::handle& y) {
        return visit("evaluate", X, [&](auto& net, auto t) {
            using T = decltype(t);
            const auto x = checked_matrix<T>(X, "evaluate", "X");
            const auto labels = checked_labels(y, "evaluate", x.shape(0));
            CostResult total{0.0, 0};
            {
                py::gil_scoped_release nogil;
                std::lock_guard<std::mutex> lock(mu_);
                total = chunks(net, x, labels.data(), [](Index, Index) {});
            }
            return py::make_tuple(total.loss_sum / static_cast<double>(x.shape(0)), total.errors);
        });
    }

    /// Per-layer pre-activations s_l and outputs z_{l+1} (the last is the softmax P), as copies.
    py::tuple forward(const py::handle& X) {
        return visit("forward", X, [&](auto& net, auto t) {
            using T = decltype(t);
            const auto x = checked_matrix<T>(X, "forward", "X");
            {
                py::gil_scoped_release nogil;
                std::lock_guard<std::mutex> lock(mu_);
                net.forward(cmat(x), nullptr);
            }
            const Index batch = x.shape(0);
            py::list pre, post;
            for (Index l = 0; l < net.layers(); ++l) {
                pre.append(copy_out<T>(net.pre(l, batch)));
                post.append(copy_out<T>(net.post(l, batch)));
            }
            return py::make_tuple(pre, post);
        });
    }

    /// Everything one step computes, without updating: loss, errors, s, z, ∂C/∂s, ∂C/∂W, ∂C/∂b.
    py::dict gradients(const py::handle& X, const py::handle& y) {
        return visit("gradients", X, [&](auto& net, auto t) {
            using T = decltype(t);
            const auto x = checked_matrix<T>(X, "gradients", "X");
            const auto labels = checked_labels(y, "gradients", x.shape(0));
            py::list dW, db;
            std::vector<T*> dWp, dbp;
            for (Index l = 0; l < net.layers(); ++l) {
                auto gW = new_matrix<T>(net.size(l), net.size(l + 1));
                py::array_t<T> gb(net.size(l + 1));
                dWp.push_back(gW.mutable_data());
                dbp.push_back(gb.mutable_data());
                dW.append(gW);
                db.append(gb);
            }
            CostResult r{};
            {
                py::gil_scoped_release nogil;
                std::lock_guard<std::mutex> lock(mu_);
                r = net.backprop(cmat(x), labels.data(), T(0), &dWp, &dbp);
            }
            const Index batch = x.shape(0);
            py::list pre, post, delta;
            for (Index l = 0; l < net.layers(); ++l) {
                pre.append(copy_out<T>(net.pre(l, batch)));
                post.append(copy_out<T>(net.post(l, batch)));
                delta.append(copy_out<T>(net.delta(l, batch)));
            }
            py::dict out;
            out["loss"] = r.loss_sum / static_cast<double>(batch);
            out["errors"] = r.errors;
            out["pre"] = pre;
            out["post"] = post;
            out["delta"] = delta;
            out["dW"] = dW;
            out["db"] = db;
            return out;
        });
    }

    /// Turns per-phase timing of small-batch steps on or off.
    void set_profiling(bool on) {
        std::lock_guard<std::mutex> lock(mu_);
        std::visit([&](auto& net) { net->set_profiling(on); }, net_);
    }

    /// Seconds per phase since the last call: forward per layer, softmax, backward per layer.
    std::vector<double> phase_seconds() {
        std::lock_guard<std::mutex> lock(mu_);
        return std::visit([](auto& net) { return net->take_phase_seconds(); }, net_);
    }

    std::string dtype() const { return dtype_ == DType::F32 ? "float32" : "float64"; }
    py::list weights() const { return weights_; }
    py::list biases() const { return biases_; }

   private:
    py::list weights_, biases_;  // keep the NumPy buffers alive while C++ points into them
    DType dtype_;
    std::variant<std::unique_ptr<Network<float>>, std::unique_ptr<Network<double>>> net_;
    std::mutex mu_;

    template <class T>
    std::unique_ptr<Network<T>> build(const std::vector<Activation>& acts, Cost cost) {
        std::vector<Index> sizes;
        std::vector<T*> W, b;
        for (size_t l = 0; l < weights_.size(); ++l) {
            const std::string wn = "weights[" + std::to_string(l) + "]", bn = "biases[" + std::to_string(l) + "]";
            auto w = checked<T>(weights_[l], "Network", wn.c_str(), 2, true, dtype_name<T>());
            auto bb = checked<T>(biases_[l], "Network", bn.c_str(), 1, true, dtype_name<T>());
            if (l == 0) sizes.push_back(w.shape(0));
            if (w.shape(0) != sizes.back())
                throw py::value_error("Network: " + wn + " has " + std::to_string(w.shape(0)) + " rows but layer " +
                                      std::to_string(l) + " receives " + std::to_string(sizes.back()) + " inputs");
            if (bb.shape(0) != w.shape(1))
                throw py::value_error("Network: " + bn + " has " + std::to_string(bb.shape(0)) + " entries but " + wn +
                                      " has " + std::to_string(w.shape(1)) + " columns");
            if (w.shape(0) == 0 || w.shape(1) == 0) throw py::value_error("Network: " + wn + " has a zero dimension");
            sizes.push_back(w.shape(1));
            W.push_back(w.mutable_data());
            b.push_back(bb.mutable_data());
        }
        return std::make_unique<Network<T>>(sizes, W, b, acts, cost);
    }

};

}  // namespace

void bind_network(py::module_& m) {
    m.attr("small_batch_kernels") = bool(GLOROT_SMALL_BATCH_KERNELS);
    m.attr("small_batch_max") = kernels::kSmallBatchMax;
    m.def(
        "set_small_batch_enabled",
        [](bool on) {
            Network<float>::set_small_batch_enabled(on);
            Network<double>::set_small_batch_enabled(on);
        },
        py::arg("on"),
        "Lets sgd_step use the small-batch kernels (batch <= small_batch_max) or forces Eigen's GEMM path.");
    py::class_<PyNetwork>(m, "Network",
                          "A deep MLP over NumPy-owned weights (fan_in, fan_out) and biases, updated in place.")
        .def(py::init<const py::list&, const py::list&, const std::vector<std::string>&, const std::string&>(),
             py::arg("weights"), py::arg("biases"), py::arg("activations"), py::arg("cost") = "nll")
        .def("sgd_step", &PyNetwork::sgd_step, py::arg("X"), py::arg("y"), py::arg("lr"),
             "Forward, backward and in-place SGD update of every layer; returns (mean loss, errors).")
        .def("predict_proba", &PyNetwork::predict_proba, py::arg("X"), "Softmax outputs, (n, classes).")
        .def("evaluate", &PyNetwork::evaluate, py::arg("X"), py::arg("y"), "(mean loss, errors) over X.")
        .def("forward", &PyNetwork::forward, py::arg("X"), "([s_l], [z_{l+1}]) per layer; the last z is P.")
        .def("gradients", &PyNetwork::gradients, py::arg("X"), py::arg("y"),
             "dict(loss, errors, pre, post, delta, dW, db) for the batch; weights unchanged.")
        .def("set_profiling", &PyNetwork::set_profiling, py::arg("on"),
             "Times each phase of small-batch steps (forward per layer, softmax, backward per layer).")
        .def("phase_seconds", &PyNetwork::phase_seconds,
             "Seconds per phase since the last call: [forward_0..forward_{L-1}, softmax, backward_0..backward_{L-1}].")
        .def_property_readonly("dtype", &PyNetwork::dtype)
        .def_property_readonly("weights", &PyNetwork::weights)
        .def_property_readonly("biases", &PyNetwork::biases);
}

}  // namespace glorot::bindings
