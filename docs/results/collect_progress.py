"""Copies a reproduce folder's small artefacts into the repository while its runs go on.

    python docs/results/collect_progress.py /work/runs/shapeset-full docs/results/shapeset-full

For each run folder: ``runs/<key>.json`` with its result (config, curve, profile, status) and its
Record's per-layer scalars per measurement (no histograms, no weights), and ``PROGRESS.md``, one
line per run: the updates reached, the last and best validation errors and the in-run cost per
update. A long run is committed at milestones this way so that a lost machine loses no result; the
checkpoints (weights) stay in the run folder.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any, Dict, List


def _last(xs: List[Any]) -> Any:
    return next((x for x in reversed(xs) if x is not None), None)


def collect(src: Path, dst: Path) -> List[Dict[str, Any]]:
    rows = []
    (dst / "runs").mkdir(parents=True, exist_ok=True)
    for run in sorted((src / "runs").iterdir()):
        res_path = run / "result.json"
        if not res_path.is_file():
            continue  # still in its first evaluation interval
        res = json.loads(res_path.read_text())
        out: Dict[str, Any] = {"result": res}
        rec_path = run / "record.json"
        if rec_path.is_file():
            rec = json.loads(rec_path.read_text())
            out["record"] = {"steps": rec["steps"], "scalars": rec["scalars"], "globals": rec.get("globals", {})}
        tmp = dst / "runs" / f".{run.name}.json.tmp"
        tmp.write_text(json.dumps(out, indent=0, allow_nan=False))
        os.replace(tmp, dst / "runs" / f"{run.name}.json")
        c, cfg = res["curve"], res["config"]
        vals = [v for v in c["val_error"] if v is not None]
        rows.append(
            {
                "run": run.name,
                "activation": cfg["activation"],
                "init": cfg["init"],
                "depth": cfg["depth"],
                "lr": cfg["lr"],
                "updates": c["n_updates"][-1],
                "val": _last(c["val_error"]),
                "test": _last(c["test_error"]),
                "best_val": min(vals) if vals else None,
                "ms": res.get("ms_per_update"),
            }
        )
    return rows


def progress_table(rows: List[Dict[str, Any]]) -> str:
    lines = [
        "| run | activation | init | depth | lr | updates reached | val error (%) | test error (%) | best val (%) "
        "| ms per update |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:

        def pct(x: Any) -> str:
            return "" if x is None else f"{100 * x:.2f}"

        ms = "" if r["ms"] is None else f"{r['ms']:.2f}"
        lines.append(
            f"| {r['run']} | {r['activation']} | {r['init']} | {r['depth']} | {r['lr']:g} | {r['updates']:,} | "
            f"{pct(r['val'])} | {pct(r['test'])} | {pct(r['best_val'])} | {ms} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", type=Path, nargs="+", help="reproduce --out folders")
    ap.add_argument("dst", type=Path, help="folder in the repository")
    a = ap.parse_args()
    rows = [r for s in a.src for r in collect(s, a.dst)]
    (a.dst / "PROGRESS.md").write_text(
        "# Progress of the full-horizon runs\n\n"
        "Collected by `python docs/results/collect_progress.py "
        + " ".join(str(s) for s in a.src)
        + f" {a.dst}` while the runs go on (each run's curve and Record scalars are in `runs/`).\n\n"
        + progress_table(rows)
    )


if __name__ == "__main__":
    main()
