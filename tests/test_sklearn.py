"""glorot_ext.sklearn.MLPClassifier: scikit-learn's own estimator checks, and the estimator inside
clone, Pipeline, GridSearchCV and cross_val_score (the checks' networks are tiny, to stay fast)."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import glorot_ext as ge  # noqa: E402
from glorot_ext.sklearn import MLPClassifier  # noqa: E402


def _small(**params):
    """A tiny network that still learns the checks' blobs (a few hundred updates)."""
    defaults = dict(hidden_layer_sizes=(8,), learning_rate_init=0.1, max_iter=30, random_state=0)
    return MLPClassifier(**{**defaults, **params})


@parametrize_with_checks([_small(), _small(dtype=np.float64, activation="softsign")])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture
def blobs():
    X, y = make_blobs(n_samples=120, centers=3, n_features=4, random_state=0)
    return StandardScaler().fit_transform(X), y


def test_the_package_root_does_not_import_scikit_learn():
    code = "import sys, glorot_ext; assert 'sklearn' not in sys.modules, 'glorot_ext imported sklearn'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("labels", [["cat", "dog", "emu"], [3, 10, 42], [-1.0, 0.0, 2.0]], ids=str)
def test_any_labels_are_learned_and_predicted_as_given(blobs, labels):
    X, y = blobs
    y_named = np.asarray(labels)[y]
    clf = _small().fit(X, y_named)
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    assert set(clf.predict(X)) <= set(labels)
    assert clf.score(X, y_named) > 0.9


def test_fitted_attributes_describe_the_engine_underneath(blobs):
    X, y = blobs
    clf = _small(hidden_layer_sizes=(7, 5), max_iter=4).fit(X, y)
    assert isinstance(clf.net_, ge.MLP) and clf.net_.layer_sizes == (4, 7, 5, 3)
    assert clf.n_features_in_ == 4 and clf.n_iter_ == 4 and len(clf.loss_curve_) == 4
    assert [W.shape for W in clf.coefs_] == [(4, 7), (7, 5), (5, 3)]
    assert [b.shape for b in clf.intercepts_] == [(7,), (5,), (3,)]
    assert all(a is b for a, b in zip(clf.coefs_, clf.net_.weights))  # live arrays, not copies
    assert clf.net_.n_updates == 4 * 12  # 120 examples in batches of 10, 4 epochs


def test_log_probabilities_are_the_log_of_the_probabilities(blobs):
    X, y = blobs
    clf = _small(dtype=np.float64).fit(X, y)
    P = clf.predict_proba(X)
    assert P.dtype == np.float64 and P.shape == (120, 3)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(P))


def test_a_pickled_estimator_predicts_the_same_and_trains_on(blobs):
    X, y = blobs
    clf = _small(max_iter=3).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    again.partial_fit(X, y)
    assert again.n_iter_ == 4 and again.coefs_[0] is again.net_.weights[0]


def test_partial_fit_needs_the_classes_first_and_then_adds_one_epoch_per_call(blobs):
    X, y = blobs
    clf = _small()
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    with pytest.raises(ValueError, match=r"y has labels \[7\] not in classes_=\[0, 1, 2\]"):
        clf.partial_fit(X[:2], [0, 7], classes=[0, 1, 2])
    assert not hasattr(clf, "classes_") and not hasattr(clf, "net_")  # a refused first call fits nothing
    clf.partial_fit(X[:60], y[:60], classes=[0, 1, 2])
    clf.partial_fit(X[60:], y[60:])
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 2
    with pytest.raises(ValueError, match=r"y has labels \[7\] not in classes_"):
        clf.partial_fit(X[:2], [0, 7])
    with pytest.raises(ValueError, match="differs from classes_"):
        clf.partial_fit(X, y, classes=[0, 1])


def test_shuffle_false_makes_fit_independent_of_the_shuffling_seed(blobs):
    X, y = blobs
    a = MLPClassifier((6,), max_iter=2, shuffle=False, random_state=0).fit(X, y)
    b = MLPClassifier((6,), max_iter=2, shuffle=True, random_state=0).fit(X, y)
    c = MLPClassifier((6,), max_iter=2, shuffle=False, random_state=0).fit(X, y)
    np.testing.assert_array_equal(a.coefs_[0], c.coefs_[0])
    assert not np.array_equal(a.coefs_[0], b.coefs_[0])


def test_clone_pipeline_and_grid_search_over_the_learning_rate(blobs):
    X, y = blobs
    clf = _small(max_iter=5)
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params() and not hasattr(fresh, "net_")
    pipe = make_pipeline(StandardScaler(), clf).fit(X, y)
    assert pipe.score(X, y) > 0.9
    search = GridSearchCV(clf, {"learning_rate_init": [1e-4, 0.1]}, cv=3).fit(X, y)
    assert search.best_params_ == {"learning_rate_init": 0.1}  # 1e-4 barely moves in 5 epochs
    assert search.best_estimator_.learning_rate_init == 0.1


def test_cross_val_score_in_two_processes_gives_the_serial_scores(blobs):
    X, y = blobs
    serial = cross_val_score(_small(max_iter=5), X, y, cv=3)
    parallel = cross_val_score(_small(max_iter=5), X, y, cv=3, n_jobs=2)
    np.testing.assert_array_equal(parallel, serial)
    assert serial.min() > 0.8


def test_a_monitor_factory_watches_each_fit(blobs):
    X, y = blobs
    seen = []

    def factory(X_fit, y_fit):
        seen.append((X_fit.dtype, y_fit.dtype, y_fit.max()))
        return ge.Monitor((X_fit[:20], y_fit[:20]), every=12, jacobian_examples=0, histograms=False)

    clf = _small(hidden_layer_sizes=(6, 6), max_iter=3, monitor=factory).fit(X, np.asarray(["a", "b", "c"])[y])
    assert seen == [(np.dtype(np.float32), np.dtype(np.int64), 2)]  # labels as indices into classes_
    assert clf.monitor_.record.steps == [0, 12, 24, 36]


def test_a_monitor_instance_is_used_as_is(blobs):
    X, y = blobs
    mon = ge.Monitor((X[:20], y[:20]), every=24, jacobian_examples=0, histograms=False)
    clf = _small(hidden_layer_sizes=(6, 6), max_iter=2, monitor=mon).fit(X, y)
    assert clf.monitor_ is mon and mon.record.steps == [0, 24]


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"dtype": np.float16}, ValueError, "dtype must be np.float32 or np.float64"),
        ({"hidden_layer_sizes": (4, 0)}, ValueError, "hidden_layer_sizes must be positive integers"),
        ({"max_iter": 0}, ValueError, "max_iter must be an integer >= 1"),
        ({"activation": "swish"}, ValueError, "unknown activation 'swish'"),
        ({"learning_rate_init": -1.0}, ValueError, "lr must be a finite number > 0"),
        ({"monitor": 3}, TypeError, "monitor must be None, a glorot_ext.Monitor"),
        ({"monitor": lambda X, y: None}, TypeError, "monitor factory must return a glorot_ext.Callback"),
    ],
)
def test_bad_parameters_are_refused_at_fit_by_name(blobs, params, error, match):
    X, y = blobs
    clf = _small(**params)  # the constructor only stores them, as scikit-learn requires
    with pytest.raises(error, match=match):
        clf.fit(X, y)
