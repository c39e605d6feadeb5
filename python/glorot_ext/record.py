"""``Record``: everything a ``Monitor`` measured during one run, with the run's provenance.

Layout (all per hidden layer i = 1..L-1, the paper's layer numbering):

* ``steps``: the update counts at which measurements were taken (0 = initialization).
* ``scalars[name]``: (n_steps, n_layers) float64, e.g. ``act_mean``, ``act_std``, ``act_p98``,
  ``act_saturated``, ``bp_std``, ``wg_std``, ``jac_mean`` (see ``monitor.SCALARS``).
* ``globals[name]``: (n_steps,) float64, e.g. ``val_error``, ``test_loss``, ``probe_loss``.
* ``hists[name]``: (n_steps, n_layers, n_bins) float64 histogram masses on fixed edges
  ``edges(name)`` (``act``, ``bp``, ``wg``, ``jac``), each row summing to 1 (0 where skipped).
* ``meta``: config of the network, seed, dataset, monitor settings, library/NumPy/Python versions.

Missing values are NaN (None in JSON, empty in CSV). Every writer is atomic: it writes a temporary
file beside the target, fsyncs it and ``os.replace``-s it, so a crash never leaves half a file.

``dumps`` and ``write_json`` are the package's one way to write JSON: standard JSON only, every
non-finite float (NaN, ±inf) written as null.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from glorot_ext import stats as _stats
from glorot_ext._io import atomic_write

PathLike = Union[str, "os.PathLike[str]"]
#: Fixed histogram bins (``stats.LinearBins`` or ``stats.OctaveBins``).
Bins = Union[_stats.LinearBins, _stats.OctaveBins]
#: One row of ``Record.rows``: step, layer (None: run-level), quantity, bin_lo, bin_hi, value.
TidyRow = Tuple[int, Optional[int], str, Optional[float], Optional[float], float]
_T = TypeVar("_T")
#: Per-layer values of one scalar at one step.
Values = Union[Sequence[float], NDArray[np.floating[Any]]]

FORMAT = "glorot_ext.Record/1"


def versions() -> Dict[str, str]:
    """Library, NumPy and Python versions, for a record's provenance."""
    from glorot_ext.runtime import __version__

    return {
        "glorot_ext": __version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _finite(obj: object) -> object:
    """``obj`` with NumPy scalars and arrays made plain Python and non-finite floats made None."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        if obj and all(type(v) is float for v in obj) and np.isfinite(np.array(obj, dtype=np.float64)).all():
            return list(obj)  # a row of finite floats (the bulk of a record), checked at C speed
        return [_finite(v) for v in obj]
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "biu" or (obj.dtype.kind == "f" and np.isfinite(obj).all()):
            return obj.tolist()
        return _finite(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps(obj: object, indent: Optional[int] = None) -> str:
    """Standard JSON text of ``obj``: NaN and ±inf become null (``json.dumps`` would write the
    invalid tokens ``NaN``/``Infinity``), NumPy scalars and arrays become numbers and lists."""
    return json.dumps(_finite(obj), indent=indent, allow_nan=False)


def write_json(path: PathLike, obj: object, indent: Optional[int] = None) -> None:
    """Writes ``dumps(obj)`` to ``path`` atomically (temporary file, fsync, os.replace)."""
    atomic_write(path, dumps(obj, indent=indent))


def _nan_to_none(a: NDArray[np.float64]) -> List[Any]:
    return (
        [None if (isinstance(v, float) and math.isnan(v)) else v for v in np.asarray(a, dtype=float).tolist()]
        if np.ndim(a) == 1
        else [_nan_to_none(r) for r in a]
    )


def _none_to_nan(a: List[Any]) -> NDArray[np.float64]:
    return np.array(a, dtype=object).astype(np.float64) if len(a) else np.zeros(0)


class Record:
    """Measurements of one training run, per step and hidden layer (see the module docstring).

    Args:
        meta: provenance dict (``config``, ``seed``, ``dataset``, ...); versions are added.
    """

    def __init__(self, meta: Optional[Mapping[str, Any]] = None) -> None:
        self.meta: Dict[str, Any] = dict(meta or {})
        self.meta.setdefault("versions", versions())
        self.steps: List[int] = []
        self.scalars: Dict[str, List[NDArray[np.float64]]] = {}
        self.globals: Dict[str, List[float]] = {}
        self.hists: Dict[str, List[NDArray[np.float64]]] = {}
        self.bins: Dict[str, Bins] = {}  # name -> LinearBins / OctaveBins

    # -- building ------------------------------------------------------------------------------

    def append(
        self,
        step: int,
        scalars: Optional[Mapping[str, Values]] = None,
        globals: Optional[Mapping[str, Optional[float]]] = None,
        hists: Optional[Mapping[str, Tuple[ArrayLike, Bins]]] = None,
    ) -> None:
        """Adds one measurement.

        Args:
            step: the network's update count.
            scalars: {name: (n_layers,) values}.
            globals: {name: float}.
            hists: {name: ((n_layers, n_bins) masses, bins)}.
        """
        k = len(self.steps)
        self.steps.append(int(step))
        for name, v in (scalars or {}).items():
            rows = self.scalars.setdefault(name, [])
            self._pad(rows, k, lambda: np.full(len(v), np.nan))
            rows.append(np.asarray(v, dtype=np.float64))
        for name, g in (globals or {}).items():
            grows = self.globals.setdefault(name, [])
            self._pad(grows, k, lambda: np.nan)
            grows.append(np.nan if g is None else float(g))
        for name, (m, bins) in (hists or {}).items():
            if name in self.bins and self.bins[name] != bins:
                raise ValueError(f"histogram {name!r}: bins {bins} differ from the record's {self.bins[name]}")
            self.bins[name] = bins
            hrows = self.hists.setdefault(name, [])
            mass = np.asarray(m, dtype=np.float64)
            self._pad(hrows, k, lambda: np.zeros_like(mass))
            hrows.append(mass)
        fills: Tuple[Tuple[Dict[str, List[Any]], Callable[[List[Any]], Any]], ...] = (
            (self.scalars, lambda r: np.full_like(r[-1], np.nan)),
            (self.globals, lambda r: np.nan),
            (self.hists, lambda r: np.zeros_like(r[-1])),
        )
        for table, fill in fills:
            for trows in table.values():
                self._pad(trows, k + 1, lambda: fill(trows))

    @staticmethod
    def _pad(rows: List[_T], k: int, make: Callable[[], _T]) -> None:
        while len(rows) < k:
            rows.append(make())

    # -- reading -----------------------------------------------------------------------------

    @property
    def n_steps(self) -> int:
        return len(self.steps)

    @property
    def n_layers(self) -> int:
        for rows in self.scalars.values():
            return len(rows[0])
        return 0

    def scalar(self, name: str) -> NDArray[np.float64]:
        """(n_steps, n_layers) float64 array of a per-layer scalar."""
        return np.array(self.scalars[name], dtype=np.float64).reshape(self.n_steps, -1)

    def global_(self, name: str) -> NDArray[np.float64]:
        """(n_steps,) float64 array of a run-level scalar (NaN where not measured)."""
        return np.array(self.globals.get(name, [np.nan] * self.n_steps), dtype=np.float64)

    def hist(self, name: str) -> NDArray[np.float64]:
        """(n_steps, n_layers, n_bins) float64 histogram masses."""
        return np.array(self.hists[name], dtype=np.float64)

    def edges(self, name: str) -> NDArray[np.float64]:
        """(n_bins + 1,) float64 fixed bin edges of histogram ``name``."""
        return self.bins[name].edges

    def label(self) -> str:
        """ "tanh, standard init, shapeset": activation(s), init and dataset, for titles."""
        cfg = self.meta.get("config", {})
        acts = sorted(set(cfg.get("activations", []))) or ["?"]
        parts = ["/".join(acts), f"{cfg.get('init', '?')} init"]
        if self.meta.get("dataset"):
            parts.append(str(self.meta["dataset"]))
        return ", ".join(parts)

    def __repr__(self) -> str:
        return f"Record({self.label()!r}, steps={self.n_steps}, layers={self.n_layers})"

    # -- JSON -----------------------------------------------------------------------------------

    def to_dict(self) -> Dict[str, Any]:
        """Plain-Python dict of everything (NaN as None), as written by ``to_json``."""
        return {
            "format": FORMAT,
            "meta": self.meta,
            "steps": list(self.steps),
            "scalars": {k: _nan_to_none(self.scalar(k)) for k in self.scalars},
            "globals": {k: _nan_to_none(self.global_(k)) for k in self.globals},
            "hists": {k: self.hist(k).tolist() for k in self.hists},
            "bins": {k: b.spec() for k, b in self.bins.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Record:
        if d.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} record (format {d.get('format')!r})")
        rec = cls(d["meta"])
        rec.steps = [int(s) for s in d["steps"]]
        rec.scalars = {k: list(_none_to_nan(v).reshape(len(rec.steps), -1)) for k, v in d["scalars"].items()}
        rec.globals = {k: list(_none_to_nan(v)) for k, v in d["globals"].items()}
        rec.hists = {k: list(np.asarray(v, dtype=np.float64)) for k, v in d["hists"].items()}
        rec.bins = {k: _stats.bins_from_spec(s) for k, s in d["bins"].items()}
        return rec

    def to_json(self, path: PathLike) -> None:
        """Writes the whole record as JSON (standard JSON: NaN as null), atomically."""
        write_json(path, self.to_dict())

    @classmethod
    def from_json(cls, path: PathLike) -> Record:
        with open(path, "rb") as f:
            return cls.from_dict(json.loads(f.read()))

    # -- NPZ ----------------------------------------------------------------------------------

    def to_npz(self, path: PathLike) -> None:
        """Writes arrays (``scalar/<name>``, ``global/<name>``, ``hist/<name>``, ``steps``) and the
        JSON header (meta, bins) to an .npz, atomically."""
        arrays: Dict[str, NDArray[Any]] = {"steps": np.asarray(self.steps, dtype=np.int64)}
        arrays.update({f"scalar/{k}": self.scalar(k) for k in self.scalars})
        arrays.update({f"global/{k}": self.global_(k) for k in self.globals})
        arrays.update({f"hist/{k}": self.hist(k) for k in self.hists})
        header = {"format": FORMAT, "meta": self.meta, "bins": {k: b.spec() for k, b in self.bins.items()}}
        arrays["header"] = np.frombuffer(dumps(header).encode(), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]  # mypy matches **arrays against allow_pickle: bool too
        atomic_write(path, buf.getvalue())

    @classmethod
    def from_npz(cls, path: PathLike) -> Record:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(bytes(z["header"]).decode())
            if header.get("format") != FORMAT:
                raise ValueError(f"{path}: not a {FORMAT} record")
            rec = cls(header["meta"])
            rec.steps = z["steps"].tolist()
            for key in z.files:
                kind, _, name = key.partition("/")
                if kind == "scalar":
                    rec.scalars[name] = list(z[key])
                elif kind == "global":
                    rec.globals[name] = z[key].tolist()
                elif kind == "hist":
                    rec.hists[name] = list(z[key])
        rec.bins = {k: _stats.bins_from_spec(s) for k, s in header["bins"].items()}
        return rec

    # -- CSV ------------------------------------------------------------------------------------

    def rows(self, histograms: bool = False) -> Iterator[TidyRow]:
        """Tidy rows (step, layer, quantity, bin_lo, bin_hi, value): one per step × layer × quantity.

        Run-level quantities have layer None; histogram rows (``histograms=True``) name the
        quantity ``hist_<name>`` and give the bin; scalar rows leave the bin empty.
        """
        for k, step in enumerate(self.steps):
            for name in self.scalars:
                for layer, v in enumerate(self.scalars[name][k], start=1):
                    yield step, layer, name, None, None, float(v)
            for name in self.globals:
                yield step, None, name, None, None, float(self.globals[name][k])
            if histograms:
                for name in self.hists:
                    e = self.edges(name)
                    for layer, mass in enumerate(self.hists[name][k], start=1):
                        for b in np.flatnonzero(mass):
                            yield step, layer, f"hist_{name}", float(e[b]), float(e[b + 1]), float(mass[b])

    def to_csv(self, path: PathLike, histograms: bool = False) -> None:
        """Writes the tidy table of ``rows`` (header step,layer,quantity,bin_lo,bin_hi,value),
        atomically; NaN and None are written as empty cells. Histograms (only their non-empty
        bins) are included with ``histograms=True``; JSON and NPZ always hold them."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["step", "layer", "quantity", "bin_lo", "bin_hi", "value"])
        for row in self.rows(histograms):
            w.writerow(
                [
                    ""
                    if (v is None or (isinstance(v, float) and math.isnan(v)))
                    else (repr(v) if isinstance(v, float) else v)
                    for v in row
                ]
            )
        atomic_write(path, buf.getvalue().encode())
