"""One source for each fact (issue 13): the docstrings cite the paper, not the repository's notes."""

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
