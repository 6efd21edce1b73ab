#!/usr/bin/env python
"""Run a grid of papermill experiments as submitit jobs: on this machine, or on a SLURM cluster.

    # two-point grid of the demo on this machine (submitit's local executor), one job at a time
    python tools/sweep.py nbs/09_demo_experiment.ipynb -p lr "[0.01, 0.001]" -f scale smoke
    # the same grid from a YAML file, two jobs at once
    python tools/sweep.py nbs/09_demo_experiment.ipynb --grid sweeps/demo.yaml --max-parallel 2
    # on SLURM: one array job, at most 8 points at once, one GPU and 4 CPUs each, 2 h limit
    python tools/sweep.py nbs/09_demo_experiment.ipynb --grid sweeps/demo.yaml --executor slurm \\
        --partition gpu --gpus-per-node 1 --cpus-per-task 4 --time-min 120 --max-parallel 8 -f device cuda
    # multi-node DDP points (each point = 2 nodes x 4 GPUs; one task per GPU, every task runs the notebook)
    python tools/sweep.py nbs/09_demo_experiment.ipynb -p lr "[0.01, 0.001]" --executor slurm \\
        --nodes 2 --tasks-per-node 4 --gpus-per-node 4 -f devices 4 -f num_nodes 2 -f strategy ddp

Grid: `-p NAME "[v1, v2]"` gives one axis (a YAML list, read with yaml.safe_load); the points are the
cartesian product of all axes; `-f NAME VALUE` fixes a parameter for every point (for a list-valued
parameter such as seeds: `-f seeds "[0, 1, 2]"`). A YAML grid file holds `grid:` (axes), optionally
`fixed:` (constants) and `points:` (a list of explicit parameter dicts, added after the product).

Each point is one job: `tools/run_experiment.py`'s `run()` executes the notebook with papermill, so the run
lands in `$CROSSMODAL_OUTPUTS/<system>/<run_id>/` (default `outputs/`) with its provenance, tables and
executed notebook, exactly as `python tools/run_experiment.py` would file it, and `python -m
crossmodal.results` publishes it. submitit's own files (pickled job, stdout, stderr) go to
`$CROSSMODAL_OUTPUTS/_submitit/<notebook>-<stamp>/`. A failed point is reported with the path of its job's
stderr; the other points still run. Exit status 1 if any point failed.

Python API (used by tools/sweep_poly_pcme.py): `run_grid(notebook, points, executor=..., slurm=...,
max_parallel=...) -> list[Path]` (the run folders, in the order of `points`), `expand_grid(axes, fixed)`,
`load_grid(path)`.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import os
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXECUTORS = ("local", "slurm", "debug")
# slurm-dict key -> submitit AutoExecutor parameter
SLURM_OPTIONS = {"partition": "slurm_partition", "time_min": "timeout_min", "gpus_per_node": "gpus_per_node",
                 "cpus_per_task": "cpus_per_task", "nodes": "nodes", "tasks_per_node": "tasks_per_node",
                 "mem_gb": "mem_gb", "account": "slurm_account", "qos": "slurm_qos",
                 "constraint": "slurm_constraint", "name": "name"}
if __name__ != "__main__":  # imported (tools/ is not a package): ship this module's functions to the job by value
    import cloudpickle
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
LOCAL_TIMEOUT_MIN = 24 * 60  # submitit's local executor kills a job after 2 min unless told otherwise
ENV_PASSED = ("CROSSMODAL_TRACKING", "CROSSMODAL_DEVICE", "CROSSMODAL_ROOT", "WANDB_MODE", "MPLBACKEND")


class SweepError(RuntimeError):
    "Some points of a grid failed; `.failures` lists them, `.run_dirs` holds the finished points (None where failed)."
    def __init__(self, message: str, failures: list[str], run_dirs: list[Path | None]):
        super().__init__(message)
        self.failures, self.run_dirs = failures, run_dirs


def expand_grid(axes: dict[str, list], fixed: dict | None = None) -> list[dict]:
    "The cartesian product of `axes` (name -> list of values), each point updated with `fixed`."
    fixed = dict(fixed or {})
    for name, values in axes.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"grid axis {name!r}: expected a non-empty list of values like [0.01, 0.001], "
                             f"got {values!r} (fix a single value with `fixed:` / -f instead)")
        if name in fixed:
            raise ValueError(f"parameter {name!r} is both a grid axis and fixed; choose one")
    names = list(axes)
    return [{**fixed, **dict(zip(names, combo))} for combo in itertools.product(*(axes[n] for n in names))]


def load_grid(path: str | os.PathLike) -> list[dict]:
    "Points from a YAML grid file with `grid:` (axes), optional `fixed:` and optional `points:` (explicit dicts)."
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: expected a mapping with keys grid / fixed / points, got {type(spec).__name__}")
    unknown = set(spec) - {"grid", "fixed", "points"}
    if unknown:
        raise ValueError(f"{path}: unknown top-level key(s) {sorted(unknown)}; expected grid, fixed, points")
    axes, fixed, explicit = spec.get("grid") or {}, spec.get("fixed") or {}, spec.get("points") or []
    for key, val, kind in (("grid", axes, dict), ("fixed", fixed, dict), ("points", explicit, list)):
        if not isinstance(val, kind):
            raise ValueError(f"{path}: key {key!r} must be a {kind.__name__}, got {type(val).__name__}")
    for i, p in enumerate(explicit):
        if not isinstance(p, dict):
            raise ValueError(f"{path}: points[{i}] must be a mapping of parameter -> value, got {p!r}")
    try:
        pts = expand_grid(axes, fixed) if axes else []
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    pts += [{**fixed, **p} for p in explicit]
    if not pts:
        raise ValueError(f"{path}: no points (give grid: axes or points:)")
    return pts


def point_run_id(params: dict, stamp: str, index: int) -> str:
    "`<stamp>-<index>-<hash of params>`: unique within a sweep, fixed before submission (all tasks of a point share it)."
    digest = hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{stamp}-{index:02d}-{digest}"


def _run_point(notebook: str, params: dict, out_root: str, env: dict) -> str:
    "One job: run the notebook through tools/run_experiment.py's `run()`; returns the run folder."
    os.environ.update(env)
    os.environ["CROSSMODAL_OUTPUTS"] = out_root
    sys.path.insert(0, str(Path(env["CROSSMODAL_SWEEP_ROOT"]) / "tools"))
    from run_experiment import run  # noqa: E402  (the job's interpreter imports it from the checkout)
    return str(run(Path(notebook), dict(params), Path(out_root), executed_dir=None).parent)


def make_executor(folder: Path, executor: str, slurm: dict | None, max_parallel: int):
    "A submitit `AutoExecutor` for `executor` ('local', 'slurm', 'debug') with the SLURM options translated."
    import submitit
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {EXECUTORS}, got {executor!r}")
    slurm = dict(slurm or {})
    unknown = set(slurm) - set(SLURM_OPTIONS)
    if unknown:
        raise ValueError(f"unknown SLURM option(s) {sorted(unknown)}; known: {sorted(SLURM_OPTIONS)}")
    ex = submitit.AutoExecutor(folder=folder, cluster=None if executor == "slurm" else executor)
    opts = {SLURM_OPTIONS[k]: v for k, v in slurm.items() if v is not None}
    if executor == "slurm":
        opts["slurm_array_parallelism"] = max_parallel
    else:
        opts.setdefault("timeout_min", LOCAL_TIMEOUT_MIN)
        for k in ("slurm_partition", "slurm_account", "slurm_qos", "slurm_constraint", "mem_gb", "cpus_per_task"):
            opts.pop(k, None)  # meaningless on this machine
    ex.update_parameters(**opts)
    return ex


def run_grid(notebook: str | os.PathLike, points: list[dict], *, executor: str = "local",
             slurm: dict | None = None, max_parallel: int = 1, stamp: str | None = None,
             poll_s: float = 1.0) -> list[Path]:
    """Run `notebook` once per parameter dict in `points`, each as a submitit job; returns the run folders.

    `executor`: 'local' (subprocesses on this machine, at most `max_parallel` at once), 'slurm' (one job
    array, at most `max_parallel` array tasks at once, options from `slurm`: partition, time_min,
    gpus_per_node, cpus_per_task, nodes, tasks_per_node, mem_gb, account, qos, constraint, name) or 'debug'
    (in this process, one after another; submitit opens pdb on a failure). A point without `run_id` gets `<stamp>-<index>-<hash>`. Raises
    `SweepError` after every job has ended if any failed, naming each failed point and its stderr file.
    """
    notebook = Path(notebook).resolve()
    if not notebook.is_file():
        raise FileNotFoundError(f"{notebook}: notebook not found")
    if not points or not all(isinstance(p, dict) for p in points):
        raise ValueError(f"points must be a non-empty list of parameter dicts, got {points!r}")
    if not isinstance(max_parallel, int) or max_parallel < 1:
        raise ValueError(f"max_parallel must be a positive int, got {max_parallel!r}")
    stamp = stamp or dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    points = [dict(p) for p in points]
    for i, p in enumerate(points):
        p.setdefault("run_id", point_run_id(p, stamp, i))
    ids = [p["run_id"] for p in points]
    if len(set(ids)) != len(ids):
        raise ValueError(f"run ids must be unique within a sweep, got {ids}")
    out_root = Path(os.environ.get("CROSSMODAL_OUTPUTS", ROOT / "outputs")).resolve()
    folder = out_root / "_submitit" / f"{notebook.stem}-{stamp}"
    ex = make_executor(folder, executor, slurm, max_parallel)
    env = {k: os.environ[k] for k in ENV_PASSED if k in os.environ} | {"CROSSMODAL_SWEEP_ROOT": str(ROOT)}
    args = [(str(notebook), p, str(out_root), env) for p in points]

    jobs: list = [None] * len(points)
    if executor == "slurm":
        jobs = ex.map_array(_run_point, *zip(*args))
        print(f"sweep: submitted array job {jobs[0].job_id.split('_')[0]} ({len(jobs)} points) -> {folder}")
    elif executor == "debug":  # runs each job in this process when its result is asked for, one after another
        jobs = [ex.submit(_run_point, *a) for a in args]
    else:  # submitit's local executor starts whatever it is given at once: keep a window of max_parallel jobs
        pending = list(range(len(points)))
        while pending or any(j is not None and not j.done() for j in jobs):
            running = sum(1 for j in jobs if j is not None and not j.done())
            while pending and running < max_parallel:
                i = pending.pop(0)
                jobs[i] = ex.submit(_run_point, *args[i])
                running += 1
            time.sleep(poll_s)

    run_dirs: list[Path | None] = []
    failures: list[str] = []
    for i, (job, p) in enumerate(zip(jobs, points)):
        try:
            run_dirs.append(Path(job.result()))
        except Exception as e:
            run_dirs.append(None)
            stderr = Path(job.paths.stderr)
            text = stderr.read_text(errors="replace") if stderr.is_file() and executor != "debug" else str(e)
            lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
            last = lines[-1] if lines else f"{type(e).__name__}: {e}"  # the job's own error ends its trace
            failures.append(f"point {i} ({json.dumps(p, default=str)}): {last[:300]}\n"
                            f"    job {job.job_id} stderr: {job.paths.stderr}")
    if failures:
        done = [str(d) for d in run_dirs if d is not None]
        raise SweepError(f"{len(failures)} of {len(points)} sweep points failed:\n  " + "\n  ".join(failures)
                         + (f"\nfinished: {done}" if done else ""), failures, run_dirs)
    return run_dirs  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebook", type=Path)
    ap.add_argument("--grid", type=Path, help="YAML file with grid: / fixed: / points:")
    ap.add_argument("-p", "--param", nargs=2, action="append", default=[], metavar=("NAME", "VALUES"),
                    help='a grid axis: NAME and a YAML list, e.g. -p lr "[0.01, 0.001]"')
    ap.add_argument("-f", "--fixed", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                    help="a parameter fixed for every point (YAML value)")
    ap.add_argument("--executor", choices=EXECUTORS, default="local")
    ap.add_argument("--max-parallel", type=int, default=1, help="jobs at once (local) / array parallelism (slurm)")
    for opt, typ in (("partition", str), ("time-min", int), ("gpus-per-node", int), ("cpus-per-task", int),
                     ("nodes", int), ("tasks-per-node", int), ("mem-gb", float), ("account", str), ("qos", str),
                     ("constraint", str)):
        ap.add_argument(f"--{opt}", type=typ, help="SLURM option (ignored by the local executor)"
                        if opt not in ("time-min", "gpus-per-node", "tasks-per-node", "nodes") else "job option")
    ap.add_argument("--dry-run", action="store_true", help="print the points and exit")
    args = ap.parse_args(argv)

    def parse(name: str, text: str):
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as e:
            ap.error(f"parameter {name!r}: {text!r} is not a YAML value ({e})")

    axes = {n: parse(n, v) for n, v in args.param}
    fixed = {n: parse(n, v) for n, v in args.fixed}
    try:
        pts = load_grid(args.grid) if args.grid else []
        if axes:
            pts = [{**q, **p} for q in (pts or [{}]) for p in expand_grid(axes, fixed)]
        elif fixed:
            pts = [{**p, **fixed} for p in (pts or [{}])]
    except ValueError as e:
        ap.error(str(e))
    if not pts:
        ap.error("no grid: give --grid FILE and/or -p NAME \"[v1, v2]\"")
    slurm = {k: getattr(args, k) for k in SLURM_OPTIONS if k != "name" and getattr(args, k, None) is not None}
    print(f"sweep: {len(pts)} point(s) of {args.notebook} on the {args.executor} executor")
    for i, p in enumerate(pts):
        print(f"  {i:2d} {json.dumps(p, default=str)}")
    if args.dry_run:
        return 0
    t0 = time.time()
    try:
        dirs = run_grid(args.notebook, pts, executor=args.executor, slurm=slurm, max_parallel=args.max_parallel)
    except SweepError as e:
        print(f"FAIL {e}", file=sys.stderr)
        return 1
    for d in dirs:
        print(f"  run: {d}")
    print(f"sweep: {len(dirs)} point(s) finished in {time.time() - t0:.0f} s; publish with "
          f"`python -m crossmodal.results`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
