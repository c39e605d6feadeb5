"""Shared test helpers: compare a native result with the reference (shape, dtype, then values);
edits that damage a saved file's JSON header in one named way."""

import numpy as np

# Forward values and gradients get separate tolerances (tinygrad's helper_test_op habit).
TOL = {
    np.dtype(np.float32): {"fwd": dict(rtol=2e-5, atol=2e-6), "grad": dict(rtol=1e-4, atol=1e-6)},
    np.dtype(np.float64): {"fwd": dict(rtol=1e-12, atol=1e-13), "grad": dict(rtol=1e-10, atol=1e-13)},
}


def assert_matches(native, expected, kind="fwd"):
    native = np.asarray(native)
    expected = np.asarray(expected)
    assert native.shape == expected.shape, f"shape {native.shape} != {expected.shape}"
    assert native.dtype == expected.dtype, f"dtype {native.dtype} != {expected.dtype}"
    np.testing.assert_allclose(native, expected, **TOL[native.dtype][kind])


def set_key(key, value):
    """An edit of a parsed JSON dict that sets ``key``."""

    def f(d):
        d[key] = value

    return f


def drop_key(key):
    """An edit of a parsed JSON dict that removes ``key``."""

    def f(d):
        d.pop(key)

    return f
