"""Sphinx configuration for the crossmodal docs site (offline; no Quarto).

Used as the configuration directory (`sphinx-build -c docs SRC OUT`) by `tools/build_docs.py`, which
stages the executed notebooks, the results tables and the home page into SRC first. Notebooks arrive
already executed (papermill), so nothing is executed here.

Offline: the theme, the search and the notebook outputs need no network. Maths is rendered by MathJax;
when the `mathjax` Python package (PyPI `django-static-mathjax`, a copy of MathJax 3) is installed a
small subset of it is copied into the site and used, otherwise MathJax is loaded from its CDN and, with
no network, the maths shows as TeX source while everything else works.
"""

from __future__ import annotations

import configparser
import importlib.util
import shutil
from pathlib import Path

_repo = Path(__file__).resolve().parents[1]
_settings = configparser.ConfigParser()
_settings.read(_repo / "settings.ini")
_cfg = _settings["DEFAULT"]

# -- Project -----------------------------------------------------------------------------------------
project = "crossmodal"
author = _cfg.get("author", "crossmodal developers")
copyright = _cfg.get("copyright", author)
release = version = _cfg.get("version", "")

# -- General -----------------------------------------------------------------------------------------
extensions = ["myst_nb", "sphinx.ext.mathjax"]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]
suppress_warnings = [
    # show_doc output and nbdev notebooks jump heading levels (`# Title` then `### symbol`).
    "myst.header",
]

# -- MyST / myst-nb ----------------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "substitution"]
myst_heading_anchors = 3
nb_execution_mode = "off"  # notebooks are executed by papermill before the build
nb_render_markdown_format = "myst"  # show_doc markdown outputs: maths and links in docstrings
nb_merge_streams = True
nb_ipywidgets_js = {}  # widget views need CDN JavaScript; build_docs.py keeps their text/plain
nb_mime_priority_overrides = [
    ("html", "application/vnd.jupyter.widget-view+json", None),
    ("dirhtml", "application/vnd.jupyter.widget-view+json", None),
]

# -- HTML --------------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "crossmodal"
html_static_path = ["_static"]
html_css_files = ["crossmodal.css"]
# the colour mode on a first visit (light / dark from the reader's system); without it the theme logs a
# console error ("Got invalid theme mode") on every first visit
html_context = {"default_mode": "auto"}
html_js_files = ["crossmodal.js"]  # the article header's "contents" button (see the file)
html_copy_source = True
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "use_issues_button": False,
    "use_source_button": False,
    "launch_buttons": {},
    "navigation_with_keys": False,
    "show_toc_level": 2,
}

# -- MathJax: local copy when available ----------------------------------------------------------------
# Subset of MathJax 3 (es5) that the CHTML TeX renderer loads: the combined component, the TeX
# extensions it autoloads, the CHTML fonts and the menu / accessibility pieces it may load lazily.
_MATHJAX_PARTS = [
    "tex-mml-chtml.js",
    "input/tex/extensions",
    "input/mml",
    "output/chtml",
    "ui",
    "a11y",
    "adaptors",
]


def _local_mathjax() -> Path | None:
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        es5 = Path(loc) / "static" / "mathjax" / "es5"
        if (es5 / "tex-mml-chtml.js").is_file():
            return es5
    return None


_MATHJAX_ES5 = _local_mathjax()
if _MATHJAX_ES5 is not None:
    mathjax_path = "mathjax/tex-mml-chtml.js"  # relative: served from _static/
    # A truthy mathjax3_config makes Sphinx emit MathJax 3 configuration (and myst-parser adds its
    # processHtmlClass to it) instead of the MathJax 4 default.
    mathjax3_config = {"options": {}, "tex": {"tags": "ams"}}


def _copy_mathjax(app, exception) -> None:
    if exception is not None or _MATHJAX_ES5 is None or app.builder.format != "html":
        return
    dest = Path(app.outdir) / "_static" / "mathjax"
    for part in _MATHJAX_PARTS:
        src = _MATHJAX_ES5 / part
        if src.is_dir():
            shutil.copytree(src, dest / part, dirs_exist_ok=True)
        elif src.is_file():
            (dest / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / part)


def setup(app):
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
