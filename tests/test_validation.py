"""glorot_ext._validation: one rule per mistake, wherever the package meets it."""

import numpy as np
import pytest

import glorot_ext as ge
from glorot_ext import _validation as v, datasets, init


@pytest.mark.parametrize("rng", [0, 7, np.int64(3), np.random.default_rng(1)])
def test_a_generator_or_a_non_negative_int_seed_is_an_rng(rng):
    assert v.check_rng(rng, "f") is rng


@pytest.mark.parametrize("rng", [-1, True, 1.5, "0", object(), np.random.RandomState(0)])
def test_anything_else_is_refused_with_one_message(rng):
    with pytest.raises(TypeError, match=r"^f: rng must be a non-negative int seed or a numpy.random.Generator, got"):
        v.check_rng(rng, "f")


def test_none_is_an_rng_only_where_a_default_is_documented():
    assert v.check_rng(None, "f", allow_none=True) is None
    with pytest.raises(TypeError, match="rng must be a non-negative"):
        v.check_rng(None, "f")


def test_every_module_keeps_the_same_rng_contract():
    """The network, the initializers, the minibatches and Shapeset's sampler all take a seed, give
    the same as the Generator it seeds, and refuse a negative one alike."""
    a = ge.MLP([4, 3, 2], rng=5).weights[0]
    b = ge.MLP([4, 3, 2], rng=np.random.default_rng(5)).weights[0]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        init.normalized_uniform(4, 3, rng=5), init.normalized_uniform(4, 3, rng=np.random.default_rng(5))
    )
    X, y = np.zeros((6, 2), np.float32), np.arange(6)
    assert datasets.MinibatchIterator(X, y, 2, rng=5).seed == 5
    for call in (
        lambda: ge.MLP([4, 3, 2], rng=-1),
        lambda: init.normalized_uniform(4, 3, rng=-1),
        lambda: datasets.MinibatchIterator(X, y, 2, rng=-1),
        lambda: datasets.shapeset.sample(2, rng=-1),
    ):
        with pytest.raises(TypeError, match="rng must be"):
            call()


def test_a_seed_drawn_from_a_generator_advances_it_reproducibly():
    g1, g2 = np.random.default_rng(3), np.random.default_rng(3)
    assert v.seed(g1, "f") == v.seed(g2, "f") != v.seed(g1, "f")
    assert v.seed(11, "f") == 11


@pytest.mark.parametrize("dtype", [np.float16, np.int32, "float128", "not a dtype", "i8"])
def test_a_dtype_the_kernels_lack_is_one_error_of_both_conventions(dtype):
    with pytest.raises(v.DtypeError, match="dtype must be float32 or float64") as e:
        v.kernel_dtype(dtype, "where: ")
    assert isinstance(e.value, TypeError) and isinstance(e.value, ValueError)
    assert str(e.value).startswith("where: ")


def test_the_network_and_the_datasets_raise_the_same_dtype_error():
    for call in (lambda: ge.MLP([3, 2, 2], dtype=np.float16), lambda: datasets.shapeset.generate(2, dtype=np.int32)):
        with pytest.raises(v.DtypeError):
            call()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, "float32"])
def test_the_kernels_dtypes_pass(dtype):
    assert v.kernel_dtype(dtype) == np.dtype(dtype)


@pytest.fixture
def net_and_batch():
    net = ge.MLP([4, 3, 2], rng=np.random.default_rng(0))
    return net, (np.ones((2, 4), np.float32), np.array([0, 1]))


@pytest.mark.parametrize("lr", [True, np.True_])
def test_a_boolean_learning_rate_is_refused_everywhere(net_and_batch, lr):
    net, (X, y) = net_and_batch
    with pytest.raises(TypeError, match="sgd_step: lr must be a number"):
        net.sgd_step(X, y, lr)
    with pytest.raises(TypeError, match="fit: lr must be a number"):
        net.fit(X, y, epochs=1, lr=lr)
    with pytest.raises(TypeError, match="fit_stream: lr must be a number"):
        net.fit_stream(iter([(X, y)]), 1, lr)
    assert net.n_updates == 0
