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

/// The Python-facing network: one dtype fixed at construction, a reference to every parameter
/// array it points into, one workspace, and a lock so two Python threads never share it at once.
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

    /// An input the step reads while it writes the parameters must not share their memory.
    void refuse_aliasing(const char* fn, const py::array& a, const char* name) const {
        for (size_t l = 0; l < weights_.size(); ++l)
            for (const auto* group : {&weights_, &biases_})
                if (overlaps(a, (*group)[l]))
                    throw py::value_error(std::string(fn) + ": " + name + " shares memory with " +
                                          (group == &weights_ ? "weights[" : "biases[") + std::to_string(l) +
                                          "], which the step updates; pass a copy");
    }

    template <class T, class Net>
    static std::vector<py::array_t<T>> layer_arrays(const Net& net, Index batch) {
        std::vector<py::array_t<T>> out;
        for (Index l = 0; l < net.layers(); ++l) out.push_back(new_matrix<T>(batch, net.size(l + 1)));
        return out;
    }

    template <class T, class Get>
    static void copy_out(std::vector<py::array_t<T>>& dst, Get&& get) {
        for (size_t l = 0; l < dst.size(); ++l) {
            const auto m = get(static_cast<Index>(l));
            std::copy_n(m.data(), m.size(), dst[l].mutable_data());
        }
    }

    template <class A>
    static py::list as_list(const std::vector<A>& v) {
        py::list out;
        for (const auto& a : v) out.append(a);
        return out;
    }

    static py::tuple as_tuple(const std::vector<py::array>& v) {
        py::tuple out(v.size());
        for (size_t i = 0; i < v.size(); ++i) out[i] = v[i];
        return out;
    }

   public:
    PyNetwork(const py::sequence& weights, const py::sequence& biases, const std::vector<std::string>& activations,
              const std::string& cost, const std::string& kernels) {
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
        const Kernels k = kernels_from_name(kernels);
        dtype_ = float_dtype(weights[0], "Network", "weights[0]");
        if (dtype_ == DType::F32)
            net_ = build<float>(weights, biases, acts, c, k);
        else
            net_ = build<double>(weights, biases, acts, c, k);
    }

    py::tuple sgd_step(const py::handle& X, const py::handle& y, double lr) {
        return visit("sgd_step", X, [&](auto& net, auto t) {
            using T = decltype(t);
            const auto x = checked_matrix<T>(X, "sgd_step", "X");
            const auto labels = checked_labels(y, "sgd_step", x.shape(0));
            if (!(lr > 0.0) || !std::isfinite(lr))
                throw py::value_error("sgd_step: learning rate must be a finite number > 0, got " +
                                      std::string(py::str(py::float_(lr))));
            refuse_aliasing("sgd_step", x, "X");
            refuse_aliasing("sgd_step", labels, "y");
            CostResult r{};
            {
                py::gil_scoped_release nogil;
                std::lock_guard<std::mutex> lock(mu_);
                r = net.sgd_step(cmat(x), labels.data(), static_cast<T>(lr));
            }
            return py::make_tuple(r.loss_sum / static_cast<double>(x.shape(0)), r.errors);
        });
    }

    py::array predict_proba(const py::handle& X) {
        return visit("predict_proba", X, [&](auto& net, auto t) -> py::array {
            using T = decltype(t);
            const auto x = checked_matrix<T>(X, "predict_proba", "X");
            auto P = new_matrix<T>(x.shape(0), net.size(net.layers()));
            T* p = P.mutable_data();
            py::gil_scoped_release nogil;
            std::lock_guard<std::mutex> lock(mu_);
            net.predict_proba(cmat(x), p);
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
                total = net.evaluate(cmat(x), labels.data());
            }
            return py::make_tuple(total.loss_sum / static_cast<double>(x.shape(0)), total.errors);
        });
    }

    /// Per-layer pre-activations s_l and outputs z_{l+1} (the last is the softmax P), as copies.
    py::tuple forward(const py::handle& X) {
        return visit("forward", X, [&](auto& net, auto t) {
            using T = decltype(t);
            const auto x = checked_matrix<T>(X, "forward", "X");
            const Index batch = x.shape(0);
            auto pre = layer_arrays<T>(net, batch), post = layer_arrays<T>(net, batch);
            {
                py::gil_scoped_release nogil;
                std::lock_guard<std::mutex> lock(mu_);
                net.forward(cmat(x), nullptr);
                copy_out(pre, [&](Index l) { return net.pre(l, batch); });
                copy_out(post, [&](Index l) { return net.post(l, batch); });
            }
            return py::make_tuple(as_list(pre), as_list(post));
        });
    }

    /// Everything one step computes, without updating: loss, errors, s, z, ∂C/∂s, ∂C/∂W, ∂C/∂b.
    py::dict gradients(const py::handle& X, const py::handle& y) {
        return visit("gradients", X, [&](auto& net, auto t) {
            using T = decltype(t);
            const auto x = checked_matrix<T>(X, "gradients", "X");
            const auto labels = checked_labels(y, "gradients", x.shape(0));
            const Index batch = x.shape(0);
            std::vector<py::array_t<T>> dW, db;
            std::vector<T*> dWp, dbp;
            for (Index l = 0; l < net.layers(); ++l) {
                dW.push_back(new_matrix<T>(net.size(l), net.size(l + 1)));
                db.push_back(py::array_t<T>(net.size(l + 1)));
                dWp.push_back(dW.back().mutable_data());
                dbp.push_back(db.back().mutable_data());
            }
            auto pre = layer_arrays<T>(net, batch), post = layer_arrays<T>(net, batch);
            auto delta = layer_arrays<T>(net, batch);
            CostResult r{};
            {
                py::gil_scoped_release nogil;
                std::lock_guard<std::mutex> lock(mu_);
                r = net.gradients(cmat(x), labels.data(), dWp, dbp);
                copy_out(pre, [&](Index l) { return net.pre(l, batch); });
                copy_out(post, [&](Index l) { return net.post(l, batch); });
                copy_out(delta, [&](Index l) { return net.delta(l, batch); });
            }
            py::dict out;
            out["loss"] = r.loss_sum / static_cast<double>(batch);
            out["errors"] = r.errors;
            out["pre"] = as_list(pre);
            out["post"] = as_list(post);
            out["delta"] = as_list(delta);
            out["dW"] = as_list(dW);
            out["db"] = as_list(db);
            return out;
        });
    }

    /// Turns per-phase timing of small-batch steps on or off.
    void set_profiling(bool on) {
        py::gil_scoped_release nogil;
        std::lock_guard<std::mutex> lock(mu_);
        std::visit([&](auto& net) { net->set_profiling(on); }, net_);
    }

    /// Seconds per phase since the last call: forward per layer, softmax, backward per layer.
    std::vector<double> phase_seconds() {
        py::gil_scoped_release nogil;
        std::lock_guard<std::mutex> lock(mu_);
        return std::visit([](auto& net) { return net->take_phase_seconds(); }, net_);
    }

    std::string dtype() const { return dtype_ == DType::F32 ? "float32" : "float64"; }
    std::string kernels() const {
        return std::visit([](auto& net) { return net->kernels() == Kernels::Auto ? "auto" : "gemm"; }, net_);
    }
    py::tuple weights() const { return as_tuple(weights_); }
    py::tuple biases() const { return as_tuple(biases_); }

   private:
    std::vector<py::array> weights_, biases_;  // own references: C++ points into these buffers
    DType dtype_;
    std::variant<std::unique_ptr<Network<float>>, std::unique_ptr<Network<double>>> net_;
    std::mutex mu_;

    template <class T>
    std::unique_ptr<Network<T>> build(const py::sequence& weights, const py::sequence& biases,
                                      const std::vector<Activation>& acts, Cost cost, Kernels kernels) {
        std::vector<Index> sizes;
        std::vector<T*> W, b;
        for (size_t l = 0; l < weights.size(); ++l) {
            const std::string wn = "weights[" + std::to_string(l) + "]", bn = "biases[" + std::to_string(l) + "]";
            auto w = checked<T>(weights[l], "Network", wn.c_str(), 2, true, dtype_name<T>());
            auto bb = checked<T>(biases[l], "Network", bn.c_str(), 1, true, dtype_name<T>());
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
            weights_.push_back(w);
            biases_.push_back(bb);
        }
        // The step writes every parameter buffer while reading the others: none may overlap.
        std::vector<std::pair<std::string, py::array>> all;
        for (size_t l = 0; l < weights_.size(); ++l)
            all.emplace_back("weights[" + std::to_string(l) + "]", weights_[l]);
        for (size_t l = 0; l < biases_.size(); ++l) all.emplace_back("biases[" + std::to_string(l) + "]", biases_[l]);
        for (size_t i = 0; i < all.size(); ++i)
            for (size_t j = i + 1; j < all.size(); ++j)
                if (overlaps(all[i].second, all[j].second))
                    throw py::value_error("Network: " + all[i].first + " and " + all[j].first +
                                          " share memory; every parameter needs its own buffer");
        return std::make_unique<Network<T>>(sizes, W, b, acts, cost, kernels);
    }
};

}  // namespace

void bind_network(py::module_& m) {
    m.attr("small_batch_kernels") = bool(GLOROT_SMALL_BATCH_KERNELS);
    m.attr("small_batch_max") = kernels::kSmallBatchMax;
    py::class_<PyNetwork>(m, "Network",
                          "A deep MLP over NumPy-owned weights (fan_in, fan_out) and biases, updated in place.")
        .def(py::init<const py::sequence&, const py::sequence&, const std::vector<std::string>&, const std::string&,
                      const std::string&>(),
             py::arg("weights"), py::arg("biases"), py::arg("activations"), py::arg("cost") = "nll", py::kw_only(),
             py::arg("kernels") = "auto",
             "kernels='auto' runs steps of batch <= small_batch_max on the small-batch kernels where they are "
             "built; 'gemm' always runs Eigen's GEMM path. The network keeps a reference to every array.")
        .def("sgd_step", &PyNetwork::sgd_step, py::arg("X"), py::arg("y"), py::arg("lr"),
             "Forward, backward and in-place SGD update of every layer; returns (mean loss, errors). X and y must "
             "not share memory with a parameter.")
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
        .def_property_readonly("kernels", &PyNetwork::kernels)
        .def_property_readonly("weights", &PyNetwork::weights, "Tuple of the weight arrays the network updates.")
        .def_property_readonly("biases", &PyNetwork::biases, "Tuple of the bias arrays the network updates.");
}

}  // namespace glorot::bindings
