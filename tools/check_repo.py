#!/usr/bin/env python
"""Repository hygiene checks run by `make test` before any notebook runs.

1. Every notebook in nbs/ names a kernel (papermill needs `metadata.kernelspec`), and experiment notebooks
   (`x0_*.ipynb` and `09_demo_experiment.ipynb`) have a cell tagged `parameters` that sets `scale`.
2. `nbdev_clean` and `nbdev_export` leave the git tree unchanged: notebooks are committed clean and lib/ is
   in sync with nbs/ (a new exported module that was never committed counts as a change).
3. No Markdown table under papers/<system>/ has more than 12 columns (tables are for people; the CSV
   beside each keeps every column).
With `--fix-kernels`, missing kernelspecs are added instead of reported.
"""
import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERNELSPEC = {"display_name": "python3", "language": "python", "name": "python3"}
EXPERIMENT = re.compile(r"^(\d0_.+|09_demo_experiment)\.ipynb$")


def check_notebooks(fix: bool) -> list[str]:
    problems = []
    for path in sorted((ROOT / "nbs").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        if "kernelspec" not in nb.get("metadata", {}):
            if fix:
                nb.setdefault("metadata", {})["kernelspec"] = KERNELSPEC
                path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
            else:
                problems.append(f"{path.relative_to(ROOT)}: no metadata.kernelspec (papermill cannot run it); "
                                f"run `python tools/check_repo.py --fix-kernels`")
        if EXPERIMENT.match(path.name) and not path.name.startswith("00_") and not any(
                "parameters" in c.get("metadata", {}).get("tags", []) for c in nb["cells"]):
            problems.append(f"{path.relative_to(ROOT)}: experiment notebook without a cell tagged 'parameters'")
        params = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        if EXPERIMENT.match(path.name) and params and not re.search(
                r"^scale\s*(:[^=]*)?=", "".join(params[0]["source"]), re.M):
            problems.append(f"{path.relative_to(ROOT)}: the parameters cell has no `scale` "
                            f"(\"smoke\" | \"cpu\" | \"paper\"; tests inject scale = \"smoke\")")
    return problems


MAX_TABLE_COLUMNS = 12
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")


def markdown_table_columns(line: str) -> int:
    "Cells of one Markdown table row (a `\\|` inside a cell is not a column break)."
    cells = re.split(r"(?<!\\)\|", line.strip())
    if cells and not cells[0].strip():
        cells = cells[1:]
    if cells and not cells[-1].strip():
        cells = cells[:-1]
    return len(cells)


def check_paper_tables(papers: Path = ROOT / "papers") -> list[str]:
    "Every Markdown table under papers/<system>/ has at most MAX_TABLE_COLUMNS columns (a person must read it)."
    problems = []
    for path in sorted(papers.glob("*/*.md")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i in range(1, len(lines)):
            if _SEPARATOR.match(lines[i]) and "|" in lines[i] and "|" in lines[i - 1]:
                n = markdown_table_columns(lines[i - 1])
                if n > MAX_TABLE_COLUMNS:
                    problems.append(f"{path.relative_to(ROOT)}, line {i}: a table with {n} columns (at most "
                                    f"{MAX_TABLE_COLUMNS}); publish it again with `python -m crossmodal.results` "
                                    f"and choose its columns with run.save_table(..., show=[...])")
    return problems


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def check_sync() -> list[str]:
    try:
        git("rev-parse", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        print("check_repo: not a git checkout with commits; sync check skipped")
        return []
    before = git("status", "--porcelain")
    if before.strip():
        print("check_repo: the tree has uncommitted changes; the sync check compares against them:\n" + before)
    bin_dir = Path(sys.executable).parent
    for cmd in ("nbdev_clean", "nbdev_export"):
        subprocess.run([str(bin_dir / cmd)], cwd=ROOT, check=True)
    after = git("status", "--porcelain")
    if after != before:
        changed = sorted(set(after.splitlines()) ^ set(before.splitlines()))
        return ["nbdev_clean && nbdev_export changed the tree (commit clean notebooks and the export):\n  "
                + "\n  ".join(changed)]
    return []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fix-kernels", action="store_true")
    ap.add_argument("--no-sync", action="store_true", help="skip the nbdev_clean/nbdev_export sync check")
    args = ap.parse_args()
    problems = check_notebooks(args.fix_kernels) + check_paper_tables() + ([] if args.no_sync else check_sync())
    for p in problems:
        print("FAIL " + p)
    print(f"repo checks: {'ok' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
