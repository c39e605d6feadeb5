"""One source for each fact: the docstrings cite the paper, not the repository's notes."""

from pathlib import Path

import glorot_ext

PACKAGE = Path(glorot_ext.__file__).parent


def test_the_package_never_cites_the_paper_notes_it_does_not_ship():
    citing = [str(p.relative_to(PACKAGE)) for p in sorted(PACKAGE.rglob("*.py")) if "PAPER.md" in p.read_text("utf-8")]
    assert citing == []


def test_one_version_from_the_build():
    import importlib.metadata
    import re

    from glorot_ext import _core

    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text("utf-8")
    declared = re.search(r'^version = "([^"]+)"', pyproject, re.M).group(1)
    assert glorot_ext.__version__ == _core.__version__ == importlib.metadata.version("glorot_ext") == declared
    assert glorot_ext.build_info()["version"] == declared


def test_the_kernels_accept_exactly_the_registry_names():
    import numpy as np
    import pytest

    from glorot_ext import _core, activations, reference

    assert _core.activation_names == tuple(activations.ACTIVATIONS)
    assert _core.cost_names == tuple(reference.COSTS)
    S = np.zeros((2, 3))
    for alias in ("linear", "logistic"):  # names the Python side refuses, so the kernels do too
        with pytest.raises(ValueError, match="unknown activation"):
            _core.activation_forward(alias, S)
    W, b = [np.zeros((3, 2))], [np.zeros(2)]
    for alias in ("cross_entropy", "log_loss", "mse"):
        with pytest.raises(ValueError, match="unknown cost"):
            _core.Network(W, b, [], alias)


def test_the_cli_offers_the_registry_activations():
    from glorot_ext import activations, cli

    train = next(a for a in cli._parser()._actions if a.dest == "command").choices["train"]
    assert next(a for a in train._actions if a.dest == "activation").choices == list(activations.ACTIVATIONS)
