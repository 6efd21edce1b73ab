#!/usr/bin/env python
"""Check JupyterLab from the project's venv in a real (headless) browser.

1. Writes a small notebook into a throw-away folder: it prints a value the kernel has to compute
   (`sum(range(1, 101))`), the kernel's `sys.prefix` / `sys.executable` and `crossmodal.__version__`, and
   shows an ipywidgets `IntSlider`.
2. Starts `.venv/bin/jupyter lab` on 127.0.0.1 with a random free port and a random token
   (`--IdentityProvider.token`), `--no-browser --allow-root`, serving only that folder, with its own
   throw-away Jupyter config / runtime / settings / workspace folders (your ~/.jupyter is not touched).
3. Opens the notebook in headless Debian Chromium through Playwright (`executable_path=/usr/bin/chromium`,
   `--no-sandbox`; no `playwright install` needed), waits for the kernel, runs every cell through the
   Run menu ("Run All Cells"), and checks that
     - the printed value appears in an output area,
     - the slider widget is rendered (`.widget-slider`: the ipywidgets JupyterLab extension works),
     - the kernel runs in the project's venv (`sys.prefix` printed by the kernel is `.venv/`), and the
       kernel shown by JupyterLab is "Python 3 (crossmodal)" (the kernelspec `make venv` registers).
4. Writes a screenshot of the executed notebook to `_build/lab/jupyterlab.png` (on failure,
   `_build/lab/jupyterlab-failure.png` and the server's log tail are reported).
The server (and its kernels: the server's own process group) is always shut down, even on failure.

    python tools/check_lab.py                   # uses .venv/bin/jupyter and /usr/bin/chromium
    python tools/check_lab.py --out _build/lab --timeout 120

Exit 0 when all is well, 1 on a failed check, 2 when a prerequisite (the venv's jupyter, Chromium,
Playwright) is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from check_site import find_chromium  # tools/ is on sys.path when this file runs as a script

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".venv"
CHECK_SUM = sum(range(1, 101))  # what the kernel must print; the notebook's source only has the expression
KERNEL_DISPLAY_NAME = "Python 3 (crossmodal)"


class CheckFailed(Exception):
    "A check that did not pass; the message says what was expected and what was seen."


def check_notebook() -> dict:
    "The notebook the check runs (nbformat 4 JSON, no outputs)."
    def code(src: str) -> dict:
        return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": src}
    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "python3", "language": "python"},
                     "language_info": {"name": "python"}},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# JupyterLab check (tools/check_lab.py)"},
            code("import sys\n"
                 "import crossmodal\n"
                 "print('CHECK_VALUE', sum(range(1, 101)))\n"
                 "print('KERNEL_PREFIX', sys.prefix)\n"
                 "print('KERNEL_EXECUTABLE', sys.executable)\n"
                 "print('CROSSMODAL_VERSION', crossmodal.__version__)"),
            code("import ipywidgets\n"
                 "slider = ipywidgets.IntSlider(value=7, min=0, max=10, description='check')\n"
                 "slider"),
        ],
    }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]




def log_tail(path: Path, n: int = 25) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no server log)"
    return "\n".join("    " + line for line in lines[-n:])


class LabServer:
    "`jupyter lab` in its own process group, with throw-away Jupyter folders; a context manager."

    def __init__(self, jupyter: Path, root_dir: Path, scratch: Path, ready_timeout: float):
        self.jupyter, self.root_dir, self.scratch = jupyter, root_dir, scratch
        self.ready_timeout = ready_timeout
        self.port, self.token = free_port(), secrets.token_hex(24)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = scratch / "jupyter-lab.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "LabServer":
        env = dict(os.environ)
        for var, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                         ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
                         ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"), ("IPYTHONDIR", "ipython")]:
            (self.scratch / sub).mkdir(parents=True, exist_ok=True)
            env[var] = str(self.scratch / sub)
        # no "get notified about Jupyter news?" pop-up over the notebook in the screenshot
        news = self.scratch / "lab-settings" / "@jupyterlab" / "apputils-extension"
        news.mkdir(parents=True, exist_ok=True)
        (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}', encoding="utf-8")
        env["JUPYTER_PREFER_ENV_PATH"] = "1"  # the venv's kernelspec before any user-level one
        env.pop("JUPYTER_TOKEN", None)
        cmd = [str(self.jupyter), "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
               f"--port={self.port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
               f"--ServerApp.root_dir={self.root_dir}", "--LabApp.news_url=",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        self._log_file = open(self.log, "w", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, stdout=self._log_file, stderr=subprocess.STDOUT, env=env,
                                     cwd=str(self.root_dir), start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.time() + self.ready_timeout
        url = f"{self.base}/api/status"
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise CheckFailed(f"jupyter lab exited with code {self.proc.returncode} before it was ready; "
                                  f"its log:\n{log_tail(self.log)}")
            req = urllib.request.Request(url, headers={"Authorization": f"token {self.token}"})
            try:
                with urllib.request.urlopen(req, timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        raise CheckFailed(f"jupyter lab did not answer {url} within {self.ready_timeout:.0f}s; "
                          f"its log:\n{log_tail(self.log)}")

    def __exit__(self, *exc) -> None:
        "Ask the server to shut down (it stops its kernels), then end its process group if it lingers."
        if self.proc is None:
            return
        if self.proc.poll() is None:
            req = urllib.request.Request(f"{self.base}/api/shutdown", method="POST", data=b"",
                                         headers={"Authorization": f"token {self.token}"})
            try:
                urllib.request.urlopen(req, timeout=5).close()
                self.proc.wait(timeout=15)
            except (urllib.error.URLError, OSError, subprocess.TimeoutExpired):
                pass  # not answering: ended below
        for sig in (signal.SIGTERM, signal.SIGKILL):  # the server's own group: it and its kernels only
            try:
                os.killpg(self.proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                break
            try:
                self.proc.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue
        self._log_file.close()


def kernel_state(server: "LabServer", notebook: str) -> tuple[str, str] | None:
    "(kernel name, execution state) of the notebook's session, from the server's REST API; None if none yet."
    req = urllib.request.Request(f"{server.base}/api/sessions", headers={"Authorization": f"token {server.token}"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            sessions = json.load(r)
    except (urllib.error.URLError, OSError, ValueError):
        return None
    for s in sessions:
        if s.get("path", "").endswith(notebook) and s.get("kernel"):
            return s["kernel"].get("name", ""), s["kernel"].get("execution_state", "")
    return None


def wait_for_kernel(page, server: "LabServer", notebook: str, timeout_s: float) -> bool:
    """Wait until the notebook's kernel is up and idle. JupyterLab sometimes asks which kernel to start
    (when the kernelspecs were not loaded yet as the notebook opened): then the preselected kernel is
    accepted (it is checked afterwards from inside the kernel). Returns whether that dialog came up."""
    deadline, dialog_seen = time.time() + timeout_s, False
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    while time.time() < deadline:
        if dialog.count() and dialog.first.is_visible():
            dialog_seen = True
            dialog.first.locator(".jp-Dialog-button.jp-mod-accept").click()
        state = kernel_state(server, notebook)
        if state and state[1] == "idle":
            return dialog_seen
        page.wait_for_timeout(250)
    raise CheckFailed(f"the notebook's kernel was not idle within {timeout_s:.0f}s "
                      f"(last state from /api/sessions: {kernel_state(server, notebook)})")


def run_in_browser(server: LabServer, chromium: str, notebook: str, out: Path, timeout_s: float) -> dict:
    "Open, run and inspect the notebook; returns what was seen. Raises CheckFailed."
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    ms = int(timeout_s * 1000)
    seen: dict = {"console_errors": []}
    shot, failure_shot = out / "jupyterlab.png", out / "jupyterlab-failure.png"
    for f in (shot, failure_shot):
        f.unlink(missing_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: seen["console_errors"].append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: seen["console_errors"].append(f"page error: {e}"))
            step = "open the notebook"
            try:
                page.goto(f"{server.base}/lab/tree/{notebook}?token={server.token}", timeout=ms)
                step = "wait for the notebook's cells (.jp-Notebook .jp-Cell)"
                page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=ms)
                step = "start the notebook's kernel"
                seen["kernel_dialog"] = wait_for_kernel(page, server, notebook, timeout_s)
                step = "wait for the kernel to be idle (.jp-Notebook-ExecutionIndicator[data-status=idle])"
                page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=ms)
                step = "open the Run menu"
                page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click(timeout=ms)
                step = "click Run > Run All Cells (runmenu:run-all)"
                page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click(timeout=ms)
                step = f"wait for the printed value CHECK_VALUE {CHECK_SUM} in an output area"
                page.locator(".jp-OutputArea-output", has_text=f"CHECK_VALUE {CHECK_SUM}").first.wait_for(timeout=ms)
                step = "wait for the ipywidgets slider (.widget-slider)"
                page.locator(".widget-slider").first.wait_for(state="visible", timeout=ms)
                step = "read the outputs"
                seen["outputs"] = page.locator(".jp-OutputArea-output").all_inner_texts()
                kernel_name = page.locator(".jp-KernelName, .jp-Toolbar-kernelName")
                seen["kernel_name"] = kernel_name.first.inner_text(timeout=5000).strip() \
                    if kernel_name.count() else ""
                page.screenshot(path=str(shot), full_page=False)
            except (PlaywrightTimeout, PlaywrightError) as e:
                try:
                    page.screenshot(path=str(failure_shot))
                    where = f"; screenshot: {failure_shot}"
                except PlaywrightError:
                    where = ""
                msg = str(e).splitlines()[0] if str(e) else type(e).__name__
                raise CheckFailed(f"could not {step} ({msg}){where}") from None
        finally:
            browser.close()
    return seen


def verify(seen: dict, venv: Path) -> list[str]:
    "What is wrong in the outputs the browser saw (empty when all is well)."
    text = "\n".join(seen.get("outputs", []))
    problems = []
    if f"CHECK_VALUE {CHECK_SUM}" not in text:
        problems.append(f"the printed value 'CHECK_VALUE {CHECK_SUM}' is not in the page's outputs")
    m = re.search(r"KERNEL_PREFIX (\S+)", text)
    if not m:
        problems.append("the kernel did not print its sys.prefix")
    elif Path(m.group(1)).resolve() != venv.resolve():
        problems.append(f"the kernel runs in {m.group(1)}, not in the project's venv {venv} "
                        f"(register it with `make venv`: ipykernel install --sys-prefix)")
    if seen.get("kernel_name") != KERNEL_DISPLAY_NAME:
        problems.append(f"JupyterLab shows the kernel {seen.get('kernel_name')!r}, "
                        f"expected {KERNEL_DISPLAY_NAME!r} (the kernelspec registered by `make venv`)")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--venv", type=Path, default=VENV, help="the project's venv (default .venv)")
    ap.add_argument("--chromium", default=None, help="browser binary (default /usr/bin/chromium)")
    ap.add_argument("--out", type=Path, default=REPO / "_build" / "lab", help="screenshot folder (default _build/lab)")
    ap.add_argument("--timeout", type=float, default=90, help="seconds allowed for each step (default 90)")
    args = ap.parse_args(argv)

    t0 = time.time()
    jupyter = args.venv / "bin" / "jupyter"
    if not (args.venv / "bin" / "jupyter-lab").exists():
        print(f"lab check: FAILED: {args.venv}/bin/jupyter-lab not found: JupyterLab is not installed in the "
              f"venv (run `make venv`, which installs the dev requirements of settings.ini)")
        return 2
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print("lab check: FAILED: Chromium not found; install it with `make chromium` "
              "(apt-get install chromium) or pass --chromium PATH")
        return 2
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        print("lab check: FAILED: the Playwright Python package is missing (pip install -e '.[dev]')")
        return 2

    args.out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    seen: dict = {}
    with tempfile.TemporaryDirectory(prefix="check-lab-") as tmpd:
        scratch = Path(tmpd)
        root = scratch / "notebooks"
        root.mkdir()
        nb_name = "lab_check.ipynb"
        (root / nb_name).write_text(json.dumps(check_notebook(), indent=1), encoding="utf-8")
        try:
            with LabServer(jupyter, root, scratch, ready_timeout=args.timeout) as server:
                t_ready = time.time() - t0
                print(f"lab check: jupyter lab ready on 127.0.0.1:{server.port} ({t_ready:.1f}s)", flush=True)
                seen = run_in_browser(server, chromium, nb_name, args.out.resolve(), args.timeout)
            problems = verify(seen, args.venv)
        except CheckFailed as e:
            problems = [str(e)]
    for err in seen.get("console_errors", []):
        print(f"lab check: browser console error (not a failure): {err[:200]}")
    elapsed = time.time() - t0
    if problems:
        print("lab check: FAILED")
        for p in problems:
            print(f"  - {p}")
        print(f"lab check: {elapsed:.1f}s")
        return 1
    prefix = re.search(r"KERNEL_EXECUTABLE (\S+)", "\n".join(seen["outputs"]))
    print(f"lab check: ok: printed value, ipywidgets slider and kernel {seen['kernel_name']!r} "
          f"({prefix.group(1) if prefix else '?'}) in JupyterLab; screenshot {args.out / 'jupyterlab.png'} "
          f"({elapsed:.1f}s{'; JupyterLab asked for the kernel and the preselected one was accepted' if seen.get('kernel_dialog') else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
