#!/usr/bin/env python
"""Sweep of the Poly-PCME experiment (degree, Poly's loss, PCME/CSD pair weighting) through tools/sweep.py.

    python tools/sweep_poly_pcme.py                    # default CPU scale, 3 seeds per point, one point at a time
    python tools/sweep_poly_pcme.py --quick            # smoke scale: a test of the sweep itself (nothing chosen from it is meaningful)
    python tools/sweep_poly_pcme.py --max-parallel 2   # submitit local executor, two points at once
    python tools/sweep_poly_pcme.py --from-runs STAMP  # re-summarise the finished points of sweep STAMP (no training)

Every point is one run of nbs/20_poly_sweep.ipynb (`save_table=False`, no frozen-variance controls: those belong to
the main run) launched by `tools/sweep.py`'s `run_grid` (submitit: `--executor local|slurm|debug`), filed under
outputs/poly_pcme/<stamp>-NN-<hash>/ with its own provenance. Inside each point every method is tuned on
validation (lr grid x epochs) and scored once on test. Across points, the setting of each sweep axis is **chosen on
validation** (the best validation R@1 of the swept method; ties broken by validation mAP@R), and the summary
reports validation and test side by side, with the chosen row marked. The summary is itself a run,
outputs/poly_pcme/sweep-summary-<stamp>/, holding the table `sweep_summary` and the figure `sweep_summary`, which
`python -m crossmodal.results poly_pcme` publishes to papers/poly_pcme/.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "nbs" / "20_poly_sweep.ipynb"
sys.path.insert(0, str(ROOT / "tools"))


def points(quick: bool) -> list[tuple[str, str, dict]]:
    "(sweep axis, swept method, notebook parameters) for every point."
    base = dict(save_table=False, controls=False, seeds=[0, 1, 2])
    pts = [("degree", "poly", {**base, "methods": ["cosine", "poly"], "degree": p}) for p in (1, 2, 4, 6)]
    pts += [("poly_loss", "poly", {**base, "methods": ["cosine", "poly"], "degree": 4, "poly_loss": "pairwise"})]
    pts += [("pair_weighting", m, {**base, "methods": ["cosine", m], "pair_weighting": w})
            for m in ("pcme", "csd") for w in ("summed", "balanced")]
    if quick:
        pts = [(a, m, {**p, "scale": "smoke"}) for a, m, p in pts]
    return pts


def read_point(run_dir: Path) -> dict:
    "The summary metrics of a finished point, with its run id and parameters."
    metrics = json.loads((run_dir / "metrics.json").read_text())["summary"]
    params = json.loads((run_dir / "provenance.json").read_text())["params"]
    return {"run_id": run_dir.name, "params": params, **metrics}


def summarise(pts: list, results: list[dict]) -> pd.DataFrame:
    "One row per point: the swept method's validation and test numbers side by side; `chosen` = best on validation per axis."
    rows = []
    for (axis, method, p), s in zip(pts, results):
        setting = {"degree": f"degree {p.get('degree', 4)}", "poly_loss": f"poly_loss {p.get('poly_loss', 'infonce')} (degree {p.get('degree', 4)})",
                   "pair_weighting": f"{method} {p.get('pair_weighting', 'summed')}"}[axis]
        rows.append(dict(axis=axis, setting=setting, method=method,
                         **{k: s.get(f"{method}/{k}") for k in ("val R@1", "val mAP@R", "test R@1", "mAP@R")},
                         cosine_test_R1=s.get("cosine/test R@1"), seeds=len(p.get("seeds", [0, 1, 2])),
                         run_id=s["run_id"], source="this repository (synthetic benchmark)"))
    df = pd.DataFrame(rows).rename(columns={"test R@1": "test R@1", "mAP@R": "test mAP@R"})
    df["chosen"] = False
    for (axis, method), grp in df.groupby(["axis", "method"], sort=False):
        candidates = grp
        if axis == "poly_loss":    # the pairwise loss against the degree-4 InfoNCE point of the degree axis
            candidates = pd.concat([grp, df[(df.axis == "degree") & (df.setting == "degree 4")]])
        best = candidates.sort_values(["val R@1", "val mAP@R"], ascending=False).index[0]
        if best in grp.index:
            df.loc[best, "chosen"] = True
    return df


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--executor", default="local", choices=("local", "slurm", "debug"))
    ap.add_argument("--max-parallel", type=int, default=1)
    ap.add_argument("--from-runs", metavar="STAMP", help="summarise the finished points of this sweep instead of running them")
    args = ap.parse_args(argv)
    from sweep import point_run_id, run_grid
    from crossmodal.core import outputs_dir, start_run
    pts = points(args.quick)
    stamp = args.from_runs or dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    t0 = time.time()
    if args.from_runs:
        run_dirs = [outputs_dir() / "poly_pcme" / point_run_id(p, stamp, i) for i, (_, _, p) in enumerate(pts)]
    else:
        run_dirs = run_grid(NOTEBOOK, [p for _, _, p in pts], executor=args.executor, max_parallel=args.max_parallel, stamp=stamp)
    df = summarise(pts, [read_point(Path(d)) for d in run_dirs])
    command = "python tools/sweep_poly_pcme.py" + (" --quick" if args.quick else "")
    run = start_run("poly_pcme", {"points": [p for _, _, p in pts], "quick": args.quick, "stamp": stamp},
                    run_id=f"sweep-summary-{stamp}", tracking="disabled", command=command)
    if not args.quick:   # a smoke-scale sweep only tests the machinery; it is never published
        run.save_table("sweep_summary", df, show=["axis", "setting", "val R@1", "test R@1", "val mAP@R", "test mAP@R", "chosen", "run_id"],
                       seeds=3, caption="Each setting chosen on validation (best val R@1 per axis); test reported beside it")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, (val_col, test_col) in zip(axes, (("val R@1", "test R@1"), ("val mAP@R", "test mAP@R"))):
        x = range(len(df))
        ax.plot(x, df[val_col], "o", label="validation"); ax.plot(x, df[test_col], "s", label="test", alpha=0.7)
        for i, c in zip(x, df["chosen"]):
            if c:
                ax.axvline(i, color="C2", lw=6, alpha=0.2)
        ax.set_xticks(list(x), df["setting"], rotation=35, ha="right", fontsize=7)
        ax.set(ylabel=f"{test_col.split()[-1]} (%)", title=f"{test_col.split()[-1]}: validation vs test (green: chosen on validation)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    if not args.quick:
        run.save_figure("sweep_summary", fig)
    run.finish()
    print(df.round(2).to_string())
    print(f"sweep: {len(pts)} points in {time.time() - t0:.0f} s -> {run.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
