#!/usr/bin/env python
"""Degree / epochs / lr x var-reg sweep of the Poly method through papermill -> sweep_summary.csv + sweep_summary.png.

    python tools/sweep_poly_pcme.py                 # default CPU scale, 3 seeds per point (~10 min on 2 cores)
    python tools/sweep_poly_pcme.py --quick         # 1 seed, 2 epochs: a smoke test of the sweep itself
    python tools/sweep_poly_pcme.py --from-runs STAMP   # re-summarise finished points sweep-STAMP-NN (no training)

Every point is one run of nbs/20_poly_sweep.ipynb (papermill, `save_table=False`) under outputs/poly_pcme/sweep-*/,
with its own provenance.json; each row of the summary names its run_id. The summary is itself a run,
outputs/poly_pcme/sweep-summary-<stamp>/, holding the table `sweep_summary` and the figure `sweep_summary`, which
`python -m crossmodal.results poly_pcme` publishes to papers/poly_pcme/. The seed's own sweep (MSR-VTT, unseeded, one
run per point) is in papers/poly_pcme/reference.csv; its 35.9-37.7 R@1 spread is within about one binomial standard
error (1.5 pp at n = 1000).
"""
import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import papermill as pm

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "nbs" / "20_poly_sweep.ipynb"


def points(quick: bool) -> list[tuple[str, dict]]:
    "(sweep name, parameters) for every point; duplicates of the base point are run once."
    base = dict(methods=["det", "poly"], degree=4, epochs=5, lr=1e-3, var_reg="kl", var_reg_weight=1e-3)
    pts = [("degree", {**base, "degree": p}) for p in range(1, 7)]
    pts += [("epochs", {**base, "epochs": e}) for e in (2, 10)]
    pts += [("lr x var_reg", {**base, "lr": lr, "var_reg_weight": w})
            for lr in (3e-4, 1e-3, 3e-3) for w in (1e-3, 1e-1) if (lr, w) != (1e-3, 1e-3)]
    if quick:
        pts = [(s, {**p, "epochs": min(p["epochs"], 2), "seeds": [0]}) for s, p in pts]
    return pts


def read_point(run_id: str) -> dict:
    "The summary metrics of a finished sweep point."
    run_dir = ROOT / "outputs" / "poly_pcme" / run_id
    return json.loads((run_dir / "metrics.json").read_text())["summary"] | {"run_id": run_id}


def run_point(params: dict, stamp: str, i: int) -> dict:
    run_id = f"sweep-{stamp}-{i:02d}"
    out = ROOT / "outputs" / "_papermill" / f"20_poly_sweep-{run_id}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(NOTEBOOK), str(out), parameters={**params, "run_id": run_id, "save_table": False},
                        cwd=str(ROOT), progress_bar=False, log_output=False)
    run_dir = ROOT / "outputs" / "poly_pcme" / run_id
    (run_dir / "notebook.ipynb").write_bytes(out.read_bytes()); out.unlink()
    return read_point(run_id)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--from-runs", metavar="STAMP", help="summarise the finished points sweep-STAMP-NN instead of running them")
    args = ap.parse_args(argv)
    from crossmodal.core import start_run
    stamp = args.from_runs or dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    rows, t0 = [], time.time()
    for i, (sweep, params) in enumerate(points(args.quick)):
        s = read_point(f"sweep-{stamp}-{i:02d}") if args.from_runs else run_point(params, stamp, i)
        for label in ("poly", "poly:mu", "det"):
            rows.append(dict(sweep=sweep, degree=params["degree"], epochs=params["epochs"], lr=params["lr"],
                             var_reg=params["var_reg"], var_reg_weight=params["var_reg_weight"], method=label,
                             seeds=len(params.get("seeds", [0, 1, 2])),
                             **{k: s.get(f"{label}/{k}") for k in ("t2v/R@1", "t2v/R@1 sd", "v2t/R@1", "v2t/R@1 sd",
                                                                   "mAP@R", "mAP@R sd")},
                             fit_rmse=s.get("fit/rmse"), fit_noise_floor=s.get("fit/noise_floor"),
                             spearman_text=s.get("poly/spearman_text") if label != "det" else None,
                             spearman_video=s.get("poly/spearman_video") if label != "det" else None,
                             run_id=s["run_id"], regenerate="python tools/sweep_poly_pcme.py",
                             source="this repository (synthetic benchmark)"))
        print(f"[{time.time() - t0:5.0f} s] {sweep}: {params} -> poly t2v R@1 {s.get('poly/t2v/R@1'):.1f}", flush=True)
    df = pd.DataFrame(rows)
    command = "python tools/sweep_poly_pcme.py" + (" --quick" if args.quick else "")
    run = start_run("poly_pcme", {"points": [p for _, p in points(args.quick)], "quick": args.quick, "stamp": stamp},
                    run_id=f"sweep-summary-{stamp}", tracking="disabled", command=command)
    run.save_table("sweep_summary", df)

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    deg = df[(df.sweep == "degree")]
    for label, st in (("poly", "o-"), ("poly:mu", "s--"), ("det", "k:")):
        d = deg[deg.method == label]
        axes[0].errorbar(d.degree, d["t2v/R@1"], yerr=d["t2v/R@1 sd"], fmt=st, capsize=3, label=f"{label} t2v R@1")
    axes[0].set(xlabel="polynomial degree", ylabel="R@1 (%)", title="recall vs degree (synthetic, mean ± sd)")
    axes[0].legend(fontsize=7)
    ep = pd.concat([df[(df.sweep == "epochs")], deg[deg.degree == 4]]).sort_values("epochs")
    for label, st in (("poly", "o-"), ("det", "k:")):
        d = ep[ep.method == label]
        axes[1].errorbar(d.epochs, d["mAP@R"], yerr=d["mAP@R sd"], fmt=st, capsize=3, label=f"{label} mAP@R")
        axes[1].errorbar(d.epochs, d["t2v/R@1"], yerr=d["t2v/R@1 sd"], fmt=st.replace("o", "^"), capsize=3, alpha=0.6, label=f"{label} t2v R@1")
    axes[1].set(xlabel="epochs", ylabel="%", title="epochs (degree 4)"); axes[1].legend(fontsize=7)
    grid = pd.concat([df[(df.sweep == "lr x var_reg")], deg[deg.degree == 4]])
    g = grid[grid.method == "poly"].pivot_table(index="var_reg_weight", columns="lr", values="mAP@R")
    im = axes[2].imshow(g.values, cmap="viridis", aspect="auto")
    axes[2].set_xticks(range(len(g.columns)), [f"{c:g}" for c in g.columns]); axes[2].set_yticks(range(len(g.index)), [f"{c:g}" for c in g.index])
    for (r, c), v in pd.DataFrame(g.values).stack().items():
        axes[2].text(c, r, f"{v:.1f}", ha="center", va="center", color="w", fontsize=8)
    axes[2].set(xlabel="lr", ylabel="kl weight", title="poly mAP@R: lr x var-reg"); fig.colorbar(im, ax=axes[2])
    fig.tight_layout()
    run.save_figure("sweep_summary", fig)
    run.finish()
    print(f"sweep: {len(points(args.quick))} runs in {time.time() - t0:.0f} s -> {run.dir} "
          f"(publish with `python -m crossmodal.results poly_pcme`)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
