#!/usr/bin/env python
"""Run a parameterized experiment notebook with papermill and file it under its run.

    python tools/run_experiment.py nbs/09_demo_experiment.ipynb -p seeds "[0, 1, 2]" -p epochs 3
    python tools/run_experiment.py --all            # every notebook in nbs/ with a `parameters` cell
    python tools/run_experiment.py --configurations # the second configurations in tools/configurations.yaml

Values after `-p NAME` are read with yaml.safe_load ("3" -> 3, "[0, 1]" -> list, "null" -> None).
The runner picks the run id, passes it as the `run_id` parameter, and after the run moves the executed
notebook to `outputs/<system>/<run_id>/notebook.ipynb` (the experiment decides `<system>` through
`crossmodal.core.start_run`). A copy goes to `_build/executed/` for the docs site.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

import nbformat
import papermill as pm
import yaml

ROOT = Path(__file__).resolve().parents[1]


def has_parameters_cell(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    return any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells)


def task_rank() -> int:
    "This process's task rank when a launcher (SLURM `srun`, submitit) started several copies of the run, else 0."
    value = os.environ.get("SLURM_PROCID") if int(os.environ.get("SLURM_NTASKS", "1") or 1) > 1 else None
    return int(value) if value else 0


def run(notebook: Path, params: dict, out_root: Path, executed_dir: Path | None = None) -> Path:
    """Execute `notebook` with `params` through papermill and move the executed copy into its run folder.

    Returns the executed notebook's path, `<out_root>/<system>/<run_id>/notebook.ipynb`. With
    `executed_dir`, a copy also goes there (the docs site's input). When a launcher started several tasks
    of the same run (multi-node DDP under SLURM, `SLURM_NTASKS` > 1), every task executes the notebook (each
    is one DDP rank); only task 0 files the executed notebook, the others keep theirs as
    `notebook.rank<r>.ipynb` beside it. Pass the same `run_id` to every task (`tools/sweep.py` does).
    """
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    digest = hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:8]
    run_id = params.pop("run_id", None) or f"{stamp}-{digest}"
    rank = task_rank()
    staging = out_root / "_papermill" / f"{notebook.stem}-{run_id}{f'.rank{rank}' if rank else ''}.ipynb"
    staging.parent.mkdir(parents=True, exist_ok=True)
    env_nb = os.environ.get("CROSSMODAL_NOTEBOOK")
    os.environ["CROSSMODAL_NOTEBOOK"] = notebook.name
    t0 = time.time()
    try:
        pm.execute_notebook(str(notebook), str(staging), parameters={**params, "run_id": run_id},
                            cwd=str(ROOT), progress_bar=False, log_output=False)
    finally:
        if env_nb is None:
            os.environ.pop("CROSSMODAL_NOTEBOOK", None)
    runs = [p for p in out_root.glob(f"*/{run_id}") if p.is_dir() and p.parent.name != "_papermill"]
    if len(runs) != 1:
        raise SystemExit(f"{notebook}: expected the notebook to open exactly one run with id {run_id} "
                         f"(crossmodal.core.start_run(..., run_id=run_id)); found {runs}")
    target = runs[0] / ("notebook.ipynb" if rank == 0 else f"notebook.rank{rank}.ipynb")
    shutil.move(str(staging), target)
    if executed_dir is not None and rank == 0:
        executed_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(target, executed_dir / notebook.name)
    print(f"{notebook.name}: {time.time() - t0:.0f} s -> {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
    return target


CONFIGURATIONS = ROOT / "tools" / "configurations.yaml"


def read_configurations(path: Path = CONFIGURATIONS) -> list[dict]:
    "The second configurations (name, notebook, parameters, about), checked; errors name the file and the entry."
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, list):
        raise SystemExit(f"{path}: expected a list of configurations, got {type(data).__name__}")
    names = set()
    for i, entry in enumerate(data):
        where = f"{path}: entry {i}"
        if not isinstance(entry, dict) or set(entry) - {"name", "notebook", "parameters", "about"}:
            raise SystemExit(f"{where}: expected keys name, notebook, parameters, about; got {entry!r}")
        for key, kind in (("name", str), ("notebook", str), ("parameters", dict), ("about", str)):
            if not isinstance(entry.get(key), kind):
                raise SystemExit(f"{where}: '{key}' must be a {kind.__name__}, got {entry.get(key)!r}")
        if entry["name"] in names:
            raise SystemExit(f"{where}: the name {entry['name']!r} is used twice")
        names.add(entry["name"])
        if not (ROOT / entry["notebook"]).exists():
            raise SystemExit(f"{where} ({entry['name']}): notebook {entry['notebook']} not found")
    return data


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--all", action="store_true", help="run every nbs/*.ipynb that has a `parameters` cell")
    ap.add_argument("--configurations", nargs="*", metavar="NAME",
                    help="run the second configurations of tools/configurations.yaml (all, or those named)")
    ap.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    ap.add_argument("--executed", type=Path, default=ROOT / "_build" / "executed")
    args = ap.parse_args()
    params = {k: yaml.safe_load(v) for k, v in args.parameter}
    jobs = [(nb, {}, args.executed) for nb in args.notebooks]
    if args.all:
        jobs += [(p, {}, args.executed) for p in sorted((ROOT / "nbs").glob("*.ipynb")) if has_parameters_cell(p)]
    if args.configurations is not None:
        configs = read_configurations()
        unknown = set(args.configurations) - {c["name"] for c in configs}
        if unknown:
            ap.error(f"unknown configurations {sorted(unknown)}; {CONFIGURATIONS} has {[c['name'] for c in configs]}")
        # a second configuration's executed notebook stays in its run folder: the docs site shows the default run's
        jobs += [(ROOT / c["notebook"], c["parameters"], None) for c in configs
                 if not args.configurations or c["name"] in args.configurations]
    if not jobs:
        ap.error("name a notebook, or pass --all or --configurations")
    out_root = Path(os.environ.get("CROSSMODAL_OUTPUTS", ROOT / "outputs"))
    for nb, own, executed in jobs:
        if not nb.exists():
            raise SystemExit(f"{nb}: notebook not found")
        if not has_parameters_cell(nb):
            raise SystemExit(f"{nb}: no cell tagged 'parameters': not an experiment notebook")
        run(nb.resolve(), {**own, **params}, out_root, executed)   # -p values override a configuration's
    return 0


if __name__ == "__main__":
    sys.exit(main())
