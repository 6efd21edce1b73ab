#!/usr/bin/env python
"""Test of tools/sweep.py (run by `make test`): a two-point grid of the demo experiment at the smoke scale on
submitit's local executor, published with `crossmodal.results.publish`, plus one failing point.

Everything goes to temporary folders (CROSSMODAL_OUTPUTS and a papers folder), tracking disabled: nothing
reaches outputs/ or papers/. Prints PASS/FAIL lines and exits 1 on any failure.
"""
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="crossmodal-test-sweep-"))
    os.environ.update(CROSSMODAL_OUTPUTS=str(scratch / "outputs"), CROSSMODAL_TRACKING="disabled",
                      OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    from sweep import SweepError, expand_grid, run_grid  # after the environment is set
    from crossmodal.results import publish
    notebook = ROOT / "nbs" / "09_demo_experiment.ipynb"
    failures: list[str] = []

    def check(ok: bool, what: str) -> None:
        print(f"{'PASS' if ok else 'FAIL'} {what}", flush=True)
        if not ok:
            failures.append(what)

    t0 = time.time()
    try:
        points = expand_grid({"lr": [0.01, 0.02]}, {"scale": "smoke", "seeds": [0, 1]})
        check(len(points) == 2 and {p["lr"] for p in points} == {0.01, 0.02}, "expand_grid: two points")
        try:
            run_dirs = run_grid(notebook, points, executor="local", max_parallel=2)
        except SweepError as e:
            check(False, f"two-point grid on the local executor:\n{e}")
            return 1
        secs_grid = time.time() - t0
        check(len(run_dirs) == 2 and all(d.parent == scratch / "outputs" / "demo" for d in run_dirs),
              f"both runs under the temporary CROSSMODAL_OUTPUTS/demo/ ({[d.name for d in run_dirs]})")
        for d, p in zip(run_dirs, points):
            prov = json.loads((d / "provenance.json").read_text())
            check(prov["status"] == "finished" and prov["params"]["lr"] == p["lr"]
                  and prov["params"]["scale"] == "smoke", f"{d.name}: finished with lr={p['lr']}, scale=smoke")
            check((d / "notebook.ipynb").is_file() and (d / "tables" / "main.csv").is_file()
                  and (d / "tables" / "main.json").is_file(), f"{d.name}: executed notebook and main table filed")
        logs = list((scratch / "outputs" / "_submitit").glob("*/*_log.err"))
        check(len(logs) == 2, f"submitit kept one stderr log per job ({len(logs)})")

        papers = scratch / "papers"
        written = publish("demo", root=scratch / "outputs", papers=papers)
        md = (papers / "demo" / "main.md").read_text() if (papers / "demo" / "main.md").exists() else ""
        newest = max(run_dirs, key=lambda d: (json.loads((d / "provenance.json").read_text())["start"], d.name)).name  # publish's rule
        check(any(p.name == "main.md" for p in written) and newest in md,
              f"publish wrote papers/demo/main.md naming the newest run {newest}")
        header = next((ln for ln in md.splitlines() if ln.startswith("|")), "")
        check(0 < header.count("|") - 1 <= 12 and "accuracy" in header, f"published table is readable: {header}")

        t1 = time.time()
        try:
            run_grid(notebook, [{"scale": "bogus", "seeds": [0]}], executor="local")
            check(False, "a failing point raises SweepError")
        except SweepError as e:
            err_path = Path(str(e).split("stderr: ")[1].split()[0])
            check("scale must be 'smoke', 'cpu' or 'paper'" in str(e) and err_path.is_file()
                  and "scale must be" in err_path.read_text(),
                  f"a failing point raises SweepError with its error and its job's stderr ({err_path.name})")
        secs_fail = time.time() - t1
        print(f"sweep test: two-point grid {secs_grid:.0f} s, failing point {secs_fail:.0f} s, "
              f"total {time.time() - t0:.0f} s")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"sweep test: {'ok' if not failures else f'{len(failures)} failure(s)'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
