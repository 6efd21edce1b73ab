#!/usr/bin/env python
"""Test of the second configurations (run by `make test`): every entry of tools/configurations.yaml runs at the
smoke scale through tools/run_experiment.py's `run`, exactly as `make sweeps` runs it at the CPU scale, so a
configuration that only `make results` would exercise cannot break unnoticed.

Everything goes to a temporary folder (CROSSMODAL_OUTPUTS), tracking disabled: nothing reaches outputs/ or papers/.
Prints PASS/FAIL lines and exits 1 on any failure.
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
    scratch = Path(tempfile.mkdtemp(prefix="crossmodal-test-configurations-"))
    os.environ.update(CROSSMODAL_OUTPUTS=str(scratch / "outputs"), CROSSMODAL_TRACKING="disabled",
                      OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    from run_experiment import read_configurations, run   # after the environment is set
    failures = []
    try:
        for config in read_configurations():
            t0 = time.time()
            try:
                target = run(ROOT / config["notebook"], {**config["parameters"], "scale": "smoke"},
                             scratch / "outputs", executed_dir=None)
                status = json.loads((target.parent / "provenance.json").read_text()).get("status")
                ok, why = status == "finished", f"run status {status!r}"
            except BaseException as err:          # papermill's PapermillExecutionError, SystemExit from run
                ok, why = False, f"{type(err).__name__}: {str(err)[-2000:]}"
            print(f"{'PASS' if ok else 'FAIL'} configuration {config['name']} ({config['notebook']}, smoke): "
                  f"{time.time() - t0:.0f} s{'' if ok else ' - ' + why}", flush=True)
            if not ok:
                failures.append(config["name"])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"configurations: {'all passed' if not failures else 'FAILED: ' + ', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
