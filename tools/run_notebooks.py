#!/usr/bin/env python
"""Run notebooks as tests (nbdev semantics) and keep the executed copies for the docs site.

Each notebook runs in its own process with nbdev's rules: cells flagged with a `tst_flags` flag from
settings.ini (`#| slow`, `#| gpu`, `#| notest`) are skipped unless `--flags` forces them, `#| eval: false`
cells and `nbdev_export()` cells are skipped. The working directory is `nbs/`, as under `nbdev_test`.
The executed notebooks (with outputs) are written to `--out` (default `_build/executed/`), where
`tools/build_docs.py` picks them up, so the test run and the docs share one execution.

Experiment notebooks (a cell tagged `parameters`: `nbs/x0_*`, `09_demo_experiment`) run at their smoke scale:
a cell `scale = "smoke"` (tagged `injected-parameters`, as papermill tags its own) goes right after the
parameters cell, `CROSSMODAL_OUTPUTS` points at a throw-away temporary folder (deleted afterwards) and
`CROSSMODAL_TRACKING=disabled`, so a test run publishes nothing. A parameters cell without `scale` fails
the notebook. `--scale cpu` (or `paper`) injects that scale instead; `--scale none` injects nothing. The
default-scale runs are `tools/run_experiment.py`'s (`make results`), whose executed copies replace these.

Prints one line per notebook and closes with `N passed, N failed`; exits 1 if any notebook failed.
"""
import argparse
import ast
import os
import shutil
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _assigned_names(source: str) -> set[str]:
    "Names a cell's top-level statements assign (`x = ...`, `x: int = ...`)."
    names = set()
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def inject_scale(nb, scale: str, fname: str) -> bool:
    "Insert `scale = <scale>` after the `parameters` cell of an experiment notebook; False if it has none."
    from execnb.nbio import mk_cell
    idx = [i for i, c in enumerate(nb.cells) if "parameters" in (c.get("metadata", {}).get("tags") or [])]
    if not idx:
        return False
    params = nb.cells[idx[0]]
    if "scale" not in _assigned_names(params.source):
        raise ValueError(f"{fname}: the parameters cell (cell {idx[0]}) defines no `scale`; every experiment "
                         f"notebook takes scale = \"smoke\" | \"cpu\" | \"paper\" (CONTRIBUTING.md, Experiments)")
    cell = mk_cell(f"# Injected by tools/run_notebooks.py: tests run experiments at the smoke scale\nscale = {scale!r}",
                   metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(idx[0] + 1, cell)
    return True


def _run_one(fn: str, out_dir: str, force_flags: list[str], scale: str = "smoke") -> tuple[str, bool, float, str]:
    os.environ["IN_TEST"] = "1"
    os.environ.setdefault("CROSSMODAL_TRACKING", "disabled")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    from execnb.nbio import write_nb
    from execnb.shell import CaptureShell
    from fastcore.xtras import working_directory
    from nbdev.config import get_config
    from nbdev.frontmatter import FrontmatterProc
    from nbdev.process import NBProcessor

    path = Path(fn).resolve()
    skip = set(get_config().tst_flags.split()) - set(force_flags)
    nb = NBProcessor(path, procs=FrontmatterProc, process=True).nb

    def _no_eval(cell):
        if cell.cell_type != "code":
            return True
        if "nbdev_export" + "(" in cell.source:
            return True
        direc = getattr(cell, "directives_", {}) or {}
        if direc.get("eval:", [""])[0].lower() == "false":
            return True
        return bool(skip & direc.keys())

    start = time.time()
    scratch = None
    try:
        if scale != "none" and inject_scale(nb, scale, path.name):
            scratch = tempfile.mkdtemp(prefix=f"crossmodal-test-outputs-{path.stem}-")
            os.environ["CROSSMODAL_OUTPUTS"] = scratch   # nothing a test run writes reaches outputs/ or papers/
            os.environ["CROSSMODAL_TRACKING"] = "disabled"
    except (ValueError, SyntaxError) as e:
        return path.name, False, 0.0, f"{type(e).__name__}: {e}"
    shell = CaptureShell(path)
    err = ""
    try:
        with working_directory(path.parent):
            shell.run_all(nb, exc_stop=True, preproc=_no_eval)
        ok = True
    except Exception:
        err = shell.prettytb(fname=path) if shell.exc else traceback.format_exc()
        ok = False
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    for cell in nb.cells:  # the processed notebook carries nbdev's private attributes: drop them
        for attr in [k for k in cell if k.endswith("_")]:
            cell.pop(attr, None)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    write_nb(nb, Path(out_dir) / path.name)
    return path.name, ok, time.time() - start, err


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", help="notebooks to run (default: every nbs/*.ipynb)")
    ap.add_argument("--flags", default="", help="space-separated test flags to run anyway, e.g. 'slow'")
    ap.add_argument("--out", default=str(ROOT / "_build" / "executed"), help="folder for executed copies")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--skip", default="", help="regex of notebook names to leave out")
    ap.add_argument("--scale", default="smoke", choices=("smoke", "cpu", "paper", "none"),
                    help="scale injected into experiment notebooks (default smoke; none = their own default)")
    args = ap.parse_args()
    import re
    files = [Path(f) for f in args.notebooks] or sorted((ROOT / "nbs").glob("*.ipynb"))
    if args.skip:
        files = [f for f in files if not re.search(args.skip, f.name)]
    if not files:
        print("no notebooks to run"); return 1
    # long notebooks first, so two workers finish together
    files.sort(key=lambda f: -f.stat().st_size)
    passed, failed, t0 = [], [], time.time()
    with ProcessPoolExecutor(max_workers=args.workers, max_tasks_per_child=1) as pool:
        futs = [pool.submit(_run_one, str(f), args.out, args.flags.split(), args.scale) for f in files]
        for fut in as_completed(futs):
            name, ok, secs, err = fut.result()
            print(f"{'PASS' if ok else 'FAIL'} {name} ({secs:.1f} s)", flush=True)
            if not ok:
                sys.stderr.write(err + "\n")
            (passed if ok else failed).append(name)
    print(f"notebooks: {len(passed)} passed, {len(failed)} failed")
    if failed:
        print("failed: " + ", ".join(sorted(failed)))
    print(f"(wall time {time.time() - t0:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
