#!/usr/bin/env python
"""Build the offline docs site from executed notebooks (Sphinx + myst-nb; no Quarto).

Input:
  * a folder of EXECUTED notebooks (default `_build/executed/`): the same file names as `nbs/*.ipynb`,
    with outputs (tools/run_notebooks.py or papermill). Any subset works; notebooks missing from it
    are listed, not fatal (unless `--require-all`). Each page is the `nbs/` notebook of the same name
    (cells, directives, markdown) with the outputs of its executed copy, matched by cell id/code, since
    executed copies may have lost their directive lines; `--no-merge` renders the copies as they are.
  * `papers/<system>/` tables (`*.md`, `*.csv`, images) -> one "Results" page, rendered as the files say.
  * the home page: `index.ipynb` from the executed folder, else `README.md`, else a generated stub.

Steps: stage everything into `_build/docs_src/` (mapping nbdev directives to myst-nb cell tags and
cleaning show_doc output), write the toctrees, then `sphinx-build -b html -W` with `docs/conf.py`
into `_build/site/` (every warning is reported, then the build fails; `--no-strict` keeps warnings
as warnings). Then `python tools/check_site.py` checks the site in headless Chromium.

    python tools/build_docs.py                       # _build/executed -> _build/site
    python tools/build_docs.py --executed outputs/nbs --out _build/site --no-strict
"""

from __future__ import annotations

import argparse
import collections
import configparser
import copy
import csv
import html
import io
import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat

REPO = Path(__file__).resolve().parents[1]

# ----------------------------------------------------------------------------------------------------
# nbdev directives -> cell tags
# ----------------------------------------------------------------------------------------------------
_DIRECTIVE_LINE = re.compile(r"^\s*#\s*\|\s*(.*?)\s*$")  # `#| hide`, `# | export`, `#|echo: false`
_HIDE_LINE = re.compile(r"#\|\s*hide_line\s*$")
_NBDEV_EXPORT_CALL = re.compile(r"\bnbdev_export\s*\(")
_SHOW_DOC_CALL = re.compile(r"^show_doc\s*\(")
_IMPORT_LINE = re.compile(r"^(from\s+\S+\s+import\s+.+|import\s+.+)$")
_DEFAULT_EXP = re.compile(r"^\s*#\s*\|\s*default_exp\s+(\S+)", re.MULTILINE)

REMOVE_CELL_DIRECTIVES = {"hide", "default_exp"}
STAGING_MARKER = ".build_docs_staging"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def parse_directives(source: str) -> tuple[dict[str, list[str]], str]:
    """Split a code cell into its leading nbdev/Quarto directives and the remaining code.

    Returns `({name: args}, code)`; names are lower-case without a trailing colon, so `#| echo: false`
    gives `{"echo": ["false"]}` and `#| export` gives `{"export": []}`."""
    lines = source.splitlines(keepends=True)
    directives: dict[str, list[str]] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _DIRECTIVE_LINE.match(line)
        if m:
            words = m.group(1).replace(":", ": ").split()
            if words:
                name = words[0].rstrip(":").lower()
                directives[name] = words[1:]
            i += 1
        elif line.strip() == "":
            i += 1
        else:
            break
    code = "".join(lines[i:])
    return directives, code


def _is_show_doc_cell(code: str) -> bool:
    "A cell made only of `show_doc(...)` calls (and imports), like nbdev's generated ones."
    stmts = [l.strip() for l in code.splitlines() if l.strip() and not l.strip().startswith("#")]
    if not stmts or not any(_SHOW_DOC_CALL.match(s) for s in stmts):
        return False
    # show_doc calls may span lines; accept when every line either starts a show_doc call, is an
    # import, or is a continuation inside an open parenthesis.
    depth = 0
    for s in stmts:
        if depth == 0 and not (_SHOW_DOC_CALL.match(s) or _IMPORT_LINE.match(s)):
            return False
        depth += s.count("(") - s.count(")")
    return True


def _add_tag(cell, tag: str) -> None:
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)


# ----------------------------------------------------------------------------------------------------
# show_doc markdown output
# ----------------------------------------------------------------------------------------------------
_LEADING_RULE = re.compile(r"\A\s*---[ \t]*\n(\s*\n)*")
_LINK_ATTRS = re.compile(r"(\[[^\]\n]*\]\([^)\s]+\))\{([^{}\n]*)\}")
_SOURCE_LINK = re.compile(r"^\[source\]\(([^)\s]+)\)[ \t]*$", re.MULTILINE)


def _is_quarto_attrs(attrs: str) -> bool:
    a = attrs.strip()
    return bool(a) and ("=" in a or a.startswith(".") or a.startswith("#"))


def clean_show_doc_markdown(md: str, fix_source_url=None) -> str:
    """Make nbdev 2.4 show_doc markdown valid MyST: drop the leading `---` (MyST would read it as
    front matter), drop Quarto link attributes (`{target="_blank" style=...}`), and turn the
    `[source](url)` line into a right-floated link."""
    md = _LEADING_RULE.sub("", md, count=1)
    md = _LINK_ATTRS.sub(lambda m: m.group(1) if _is_quarto_attrs(m.group(2)) else m.group(0), md)

    def _src(m):
        url = m.group(1)
        if fix_source_url:
            url = fix_source_url(url)
        return f'<a class="showdoc-source reference external" href="{html.escape(url, quote=True)}">source</a>'

    return _SOURCE_LINK.sub(_src, md)


# ----------------------------------------------------------------------------------------------------
# markdown: Quarto callouts, attributes and relative links
# ----------------------------------------------------------------------------------------------------
_CALLOUT = re.compile(r"^(\s*)(:{3,})\s*\{\s*\.callout-(\w+)[^}]*\}\s*$")
_MD_LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^)\s>]+)>?(\s+\"[^\"]*\")?\s*\)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_CALLOUT_KINDS = {"note": "note", "tip": "tip", "warning": "warning", "important": "important",
                  "caution": "caution"}
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}


class LinkMapper:
    """Rewrites relative links written for the repository layout (`nbs/`, `papers/`, ...) so that
    they resolve inside the staged site, and never become missing references."""

    def __init__(self, repo: Path, staging: Path, staged_docs: dict[str, str], papers: Path | None,
                 git_blob: str | None, log):
        self.repo, self.staging, self.staged_docs = repo, staging, staged_docs
        self.papers, self.git_blob, self.log = papers, git_blob, log

    def _repo_rel(self, path: Path) -> str | None:
        try:
            return path.resolve().relative_to(self.repo.resolve()).as_posix()
        except ValueError:
            return None

    def map(self, target: str, base: Path, is_image: bool, where: str) -> str | None:
        "New target, or None for 'render as plain text'."
        parts = urlsplit(target)
        if parts.scheme or target.startswith(("#", "//", "mailto:")):
            return target
        path_s, frag = unquote(parts.path), parts.fragment
        if not path_s:
            return target
        src = (base / path_s)
        anchor = f"#{frag}" if frag else ""
        # a notebook / page of the site
        if src.suffix in (".ipynb", ".md") and src.stem in self.staged_docs and src.suffix == ".ipynb":
            return f"{self.staged_docs[src.stem]}{anchor}"
        if src.suffix == ".md" and src.name.lower() == "readme.md" and src.parent.resolve() == self.repo.resolve():
            return "index.md" if "index" in self.staged_docs.values() else "index.ipynb"
        if src.suffix == ".ipynb":
            self.log(f"  note: {where}: link to {target} (not built) rendered as text")
            return None
        # anything under papers/ -> the Results page
        if self.papers is not None:
            try:
                prel = src.resolve().relative_to(self.papers.resolve()).as_posix()
            except ValueError:
                prel = None
            if prel is not None:
                if src.is_file() and src.suffix.lower() != ".md":  # a table/figure: downloadable copy
                    dest = self.staging / "papers" / prel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, dest)
                    return f"papers/{prel}"
                return "results.md"
        if src.exists() and src.is_file():
            if is_image or src.suffix.lower() in IMAGE_EXTS:
                rel = self._repo_rel(src) or src.name
                dest = self.staging / "_assets" / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest)
                return f"_assets/{rel}"
            rel = self._repo_rel(src)
            if rel and self.git_blob:
                return f"{self.git_blob}/{rel}{anchor}"
        self.log(f"  note: {where}: relative link {target} has no page in the site; rendered as text")
        return None

    def rewrite(self, md: str, base: Path, where: str) -> str:
        out, in_fence = [], False
        for line in md.splitlines(keepends=True):
            if _FENCE.match(line):
                in_fence = not in_fence
                out.append(line)
                continue
            if in_fence:
                out.append(line)
                continue
            m = _CALLOUT.match(line)
            if m:
                kind = _CALLOUT_KINDS.get(m.group(3).lower(), "note")
                out.append(f"{m.group(1)}{m.group(2)}{{{kind}}}\n")
                continue
            line = _LINK_ATTRS.sub(lambda mm: mm.group(1) if _is_quarto_attrs(mm.group(2)) else mm.group(0), line)

            def _sub(mm):
                bang, text, target, title = mm.group(1), mm.group(2), mm.group(3), mm.group(4) or ""
                new = self.map(target, base, bool(bang), where)
                if new is None:
                    return text if not bang else f"*[image: {text or target}]*"
                return f"{bang}[{text}]({new}{title})"

            out.append(_MD_LINK.sub(_sub, line))
        return "".join(out)


# ----------------------------------------------------------------------------------------------------
# notebooks
# ----------------------------------------------------------------------------------------------------
def _source_url_fixer(settings: dict):
    "nbdev's show_doc source links omit the `lib/` folder of `lib_path = lib/<pkg>`: put it back."
    lib_path = settings.get("lib_path", "")
    git_url, branch = settings.get("git_url", "").rstrip("/"), settings.get("branch", "main")
    parent = posixpath.dirname(lib_path.strip("/"))
    pkg = posixpath.basename(lib_path.strip("/"))
    if not (git_url and parent and pkg):
        return None
    wrong = f"{git_url}/blob/{branch}/{pkg}/"
    right = f"{git_url}/blob/{branch}/{parent}/{pkg}/"

    def fix(url: str) -> str:
        url = url.replace("#LNone", "")
        return right + url[len(wrong):] if url.startswith(wrong) else url

    return fix


def process_notebook(nb, fix_source_url) -> dict:
    "Map nbdev directives to myst-nb tags in place; return counters for the report."
    stats = collections.Counter()
    nb.metadata.pop("widgets", None)
    # myst-nb picks the code lexer from these; cleaned notebooks may have neither
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    if not nb.metadata.get("language_info", {}).get("name"):
        nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    # nbdev/Quarto front matter in a raw first cell: turn its title into the page heading
    if nb.cells and nb.cells[0].cell_type == "raw" and nb.cells[0].source.lstrip().startswith("---"):
        fm = nb.cells.pop(0).source
        t = re.search(r"^title:\s*['\"]?(.*?)['\"]?\s*$", fm, re.MULTILINE)
        d = re.search(r"^description:\s*['\"]?(.*?)['\"]?\s*$", fm, re.MULTILINE)
        if t:
            md = f"# {t.group(1)}\n" + (f"\n> {d.group(1)}\n" if d else "")
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(md))
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            src = cell.source.strip()
            if src.startswith("#") and src.endswith(" -"):  # nbdev: headings ending in " -" are hidden
                _add_tag(cell, "remove-cell")
            continue
        if cell.cell_type != "code":
            continue
        directives, code = parse_directives(cell.source)
        if set(directives) & REMOVE_CELL_DIRECTIVES or directives.get("include") == ["false"]:
            _add_tag(cell, "remove-cell")
            stats["hidden"] += 1
        elif _NBDEV_EXPORT_CALL.search(code):
            _add_tag(cell, "remove-cell")
            stats["hidden"] += 1
        elif not code.strip() and not cell.get("outputs"):
            _add_tag(cell, "remove-cell")
        elif _is_show_doc_cell(code):
            _add_tag(cell, "remove-input")
            stats["show_doc"] += 1
        if directives.get("echo") == ["false"]:
            _add_tag(cell, "remove-input")
        if directives.get("output") == ["false"]:
            _add_tag(cell, "remove-output")
        if {"export", "exports", "exporti"} & set(directives):
            stats["export"] += 1
        # displayed input: no directive lines (nor `#| hide_line` lines)
        cell.source = "\n".join(l for l in code.splitlines() if not _HIDE_LINE.search(l)).rstrip("\n")
        if "filter_stream" in directives and directives["filter_stream"]:
            words = directives["filter_stream"]
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream":
                    keep = [l for l in out.text.splitlines(keepends=True) if not any(w in l for w in words)]
                    out.text = "".join(keep)
        for out in cell.get("outputs", []):
            data = out.get("data")
            if not data:
                continue
            if WIDGET_VIEW in data and len(data) > 1:
                del data[WIDGET_VIEW]  # widget views need CDN JavaScript: keep their text fallback
            md = data.get("text/markdown")
            if md is not None:
                md = "".join(md) if isinstance(md, list) else md
                data["text/markdown"] = clean_show_doc_markdown(md, fix_source_url)
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            stats["errors"] += 1
        if cell.get("execution_count") is not None or cell.get("outputs"):
            stats["executed"] += 1
        stats["code"] += 1
    return stats


def _norm_code(source: str) -> str:
    code = parse_directives(source)[1]
    return "\n".join(l.rstrip() for l in code.strip().splitlines())


def merge_outputs(src_nb, ex_nb) -> tuple[object, dict]:
    """The source notebook (`nbs/`, the single source of truth: directives, markdown, front matter)
    with the outputs of its executed copy. Executed copies may have lost directive lines and had their
    title cell rewritten to front matter by nbdev's processors (tools/run_notebooks.py), so code
    cells are matched by cell id, else by code; a code cell with no executed twin keeps no output.
    Cells only the executed copy has (papermill's `injected-parameters`) are kept in place."""
    nb = copy.deepcopy(src_nb)
    ex_code = [c for c in ex_nb.cells if c.cell_type == "code"]
    by_id = {c.get("id"): c for c in ex_code if c.get("id")}
    by_code = collections.defaultdict(collections.deque)
    for c in ex_code:
        by_code[_norm_code(c.source)].append(c)
    used: set[int] = set()
    stats = collections.Counter()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        key = _norm_code(cell.source)
        same_id = by_id.get(cell.get("id"))
        if same_id is not None and (id(same_id) in used or same_id.metadata.get("tags") and
                                    "injected-parameters" in same_id.metadata.get("tags", [])):
            same_id = None
        match = same_id if same_id is not None and _norm_code(same_id.source) == key else None
        while match is None and by_code[key]:
            cand = by_code[key].popleft()
            if id(cand) not in used:
                match = cand
        if match is None and same_id is not None:
            # edited since it was executed: show the code that produced the outputs, keep the directives
            dirs = "".join(l for l in cell.source.splitlines(keepends=True) if _DIRECTIVE_LINE.match(l))
            cell.source = dirs + parse_directives(same_id.source)[1]
            match = same_id
            stats["stale"] += 1
        if match is None:
            cell["outputs"], cell["execution_count"] = [], None
            if key:
                stats["unmatched"] += 1
            continue
        used.add(id(match))
        cell["outputs"] = copy.deepcopy(match.get("outputs", []))
        cell["execution_count"] = match.get("execution_count")
        if "papermill" in match.get("metadata", {}):
            cell.metadata["papermill"] = match.metadata["papermill"]
    # papermill's injected parameters: right after the `parameters` cell (else first code cell)
    for c in ex_code:
        if id(c) in used or "injected-parameters" not in c.get("metadata", {}).get("tags", []):
            continue
        idx = next((i for i, x in enumerate(nb.cells)
                    if "parameters" in x.get("metadata", {}).get("tags", [])), None)
        if idx is None:
            idx = next((i - 1 for i, x in enumerate(nb.cells) if x.cell_type == "code"), len(nb.cells) - 1)
        nb.cells.insert(idx + 1, copy.deepcopy(c))
        used.add(id(c))
    meta = dict(src_nb.metadata)
    for k in ("kernelspec", "language_info", "papermill"):
        if k in ex_nb.metadata:
            meta[k] = ex_nb.metadata[k]
    meta.pop("widgets", None)
    nb.metadata = nbformat.from_dict(meta)
    return nb, stats


def _has_h1(nb) -> bool:
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "remove-cell" not in cell.metadata.get("tags", []):
            in_fence = False
            for line in cell.source.splitlines():
                if _FENCE.match(line):
                    in_fence = not in_fence
                if not in_fence and re.match(r"^#\s+\S", line):
                    return True
    return False


def _pretty_stem(stem: str) -> str:
    s = re.sub(r"^\d+[_-]", "", stem).replace("_", " ").replace("-", " ").strip()
    return s[:1].upper() + s[1:] if s else stem


def _title_of(nb, stem: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+?)\s*$", cell.source, re.MULTILINE)
            if m:
                return m.group(1)
    return _pretty_stem(stem)


def _default_exp(nb) -> str | None:
    for cell in nb.cells:
        if cell.cell_type == "code":
            m = _DEFAULT_EXP.search(cell.source)
            if m:
                return m.group(1)
    return None


# ----------------------------------------------------------------------------------------------------
# Results page
# ----------------------------------------------------------------------------------------------------
RESULTS_NOTE = """\
:::{important}
These tables are rendered from the files in `papers/<system>/`: each shows the columns a reader needs, each
metric as `mean ± sd`, with the number of seeds and the run's provenance (run id, commit, device, date,
the command that regenerates it) once in its heading; the CSV beside it (under *Files*) keeps every column
as numbers. Numbers produced by this repository's experiments come from runs at the default (quick, CPU)
scale and, where the data are **synthetic**, they are **synthetic results**: they check that the code
works, not what the published systems achieve. **Published numbers** (`reference.csv`) are copied from
the papers with their source and are **not** reproduced here.
:::
"""


def _demote_headings(md: str, by: int) -> str:
    out, in_fence = [], False
    for line in md.splitlines(keepends=True):
        if _FENCE.match(line):
            in_fence = not in_fence
        if not in_fence and re.match(r"^#{1,6}\s", line):
            hashes = len(line) - len(line.lstrip("#"))
            line = "#" * min(6, hashes + by) + line[hashes:]
        out.append(line)
    return "".join(out)


def csv_to_html(path: Path, delimiter: str = ",") -> str:
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return "<p><em>(empty file)</em></p>"
    head, body = rows[0], rows[1:]

    def _cell(tag, v):
        return f"<{tag}>{html.escape(v)}</{tag}>"

    parts = ['<div class="pst-scrollable-table-container">',
             '<table class="table crossmodal-results">',
             "<thead><tr>" + "".join(_cell("th", h) for h in head) + "</tr></thead>",
             "<tbody>"]
    for r in body:
        parts.append("<tr>" + "".join(_cell("td", v) for v in r) + "</tr>")
    parts += ["</tbody>", "</table>", "</div>"]
    return "\n".join(parts)


TABLE_EXTS = {".csv", ".tsv"}


def build_results_page(papers: Path | None, staging: Path, mapper: LinkMapper, log) -> str:
    """One page, one section per `papers/<system>/`. A system with a `README.md` (written by
    `crossmodal.results`: every table's reader's view with its provenance heading, figures, reference
    numbers) is shown through it, followed by every file as a download. Otherwise each table file is
    rendered as it is (Markdown as Markdown, CSV/TSV as an HTML table with every column), twins of the same
    name (`main.md` + `main.csv` + `main.tex`) rendered once with the others as downloads."""
    lines = ["# Results", "", RESULTS_NOTE, ""]
    systems = sorted(p for p in papers.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))) \
        if papers and papers.is_dir() else []
    top_readme = papers / "README.md" if papers else None
    if top_readme and top_readme.is_file():
        lines += [_demote_headings(mapper.rewrite(top_readme.read_text(encoding="utf-8"), papers,
                                                  "papers/README.md"), 1), ""]
    if not systems:
        lines += ["*No tables yet: `papers/<system>/` is empty. Run `make results`.*", ""]
    for sysdir in systems:
        files = sorted(f for f in sysdir.rglob("*") if f.is_file() and not f.name.startswith("."))
        lines += [f"## {sysdir.name}", ""]
        if not files:
            lines += ["*No files yet.*", ""]
            continue
        readme = sysdir / "README.md"
        if readme.is_file():
            body = re.sub(r"\A#\s[^\n]*\n", "", readme.read_text(encoding="utf-8"))  # its title: the section's
            lines += [_demote_headings(mapper.rewrite(body, sysdir, f"papers/{sysdir.name}/README.md"), 1), ""]
            downloads = []
            for f in files:
                if f.suffix.lower() == ".md":  # shown above (and a .md in the sources would be a page)
                    continue
                rel = f.relative_to(papers).as_posix()
                dest = staging / "papers" / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, dest)
                downloads.append(f"{{download}}`{f.name} <papers/{rel}>`")
            if downloads:
                lines += [f"**Files** of `papers/{sysdir.name}/` (CSV: every column, as numbers): "
                          + ", ".join(downloads), ""]
            continue
        groups: dict[Path, list[Path]] = collections.defaultdict(list)
        for f in files:
            groups[f.with_suffix("")].append(f)

        def order(stem: Path):
            n = stem.name.lower()
            return (0 if n == "readme" else 1 if n.startswith("reference") else 2, stem.as_posix())

        for stem in sorted(groups, key=order):
            members = groups[stem]
            by_ext = {f.suffix.lower(): f for f in members}
            primary = by_ext.get(".md") or next((by_ext[e] for e in (".csv", ".tsv") if e in by_ext), None) \
                or next((f for f in members if f.suffix.lower() in IMAGE_EXTS), None)
            published = stem.name.lower().startswith("reference")
            label = " (published numbers)" if published else ""
            downloads = []
            for f in members:
                rel = f.relative_to(papers).as_posix()
                if f.suffix.lower() != ".md":
                    dest = staging / "papers" / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(f, dest)
                    downloads.append(f"{{download}}`{f.name} <papers/{rel}>`")
            if primary is None:
                lines += [f"### `{stem.name}`", "", "Files: " + ", ".join(downloads), ""]
                continue
            rel = primary.relative_to(papers).as_posix()
            ext = primary.suffix.lower()
            if ext == ".md":
                body = primary.read_text(encoding="utf-8")
                if stem.name.lower() != "readme":
                    lines += [f"### `{primary.name}`{label}", ""]
                lines += [_demote_headings(mapper.rewrite(body, primary.parent, f"papers/{rel}"), 3), ""]
            elif ext in TABLE_EXTS:
                lines += [f"### `{primary.name}`{label}", ""]
                if published:
                    lines += ["Published numbers as reported in the papers (see the source column); "
                              "not produced by this repository.", ""]
                lines += ["```{raw} html", csv_to_html(primary, "\t" if ext == ".tsv" else ","), "```", ""]
            else:  # a figure
                lines += [f"### `{primary.name}`", "", f"![{primary.name}](papers/{rel})", ""]
            if downloads:
                lines += ["Files: " + ", ".join(downloads), ""]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------------
# toctree
# ----------------------------------------------------------------------------------------------------
SYSTEM_TITLES = {
    "gmmformer": "GMMFormer hashing",
    "prob": "Probabilistic retrieval (Poly-PCME)",
    "poly": "Probabilistic retrieval (Poly-PCME)",
    "avigate": "QD-DETR + AVIGATE",
    "qddetr": "QD-DETR + AVIGATE",
    "classifier": "Multimodal ad classifier",
    "toconv": "ToConv",
}
_NUMBERED = re.compile(r"^(\d)(\d)[_-]")


def series_caption(digit: str, docs: list[tuple[str, object]], overrides: dict[str, str]) -> str:
    if digit in overrides:
        return overrides[digit]
    names = collections.Counter()
    for stem, nb in docs:
        exp = _default_exp(nb)
        if exp:
            names[exp.split(".")[0]] += 2 if "." in exp else 1
    if not names:
        for stem, _ in docs:
            tok = re.sub(r"^\d+[_-]", "", stem).split("_")[0]
            if tok:
                names[tok] += 1
    name = names.most_common(1)[0][0] if names else f"series {digit}"
    return f"{SYSTEM_TITLES.get(name.lower(), name)} ({digit}x)"


def toctree_block(caption: str | None, entries: list[str]) -> str:
    body = "\n".join(entries)
    cap = f":caption: {caption}\n" if caption else ""
    return f"```{{toctree}}\n{cap}:hidden:\n:maxdepth: 2\n\n{body}\n```\n"


# ----------------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------------
def read_settings(repo: Path) -> dict:
    cp = configparser.ConfigParser()
    cp.read(repo / "settings.ini")
    return dict(cp["DEFAULT"])


def natural_key(stem: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", stem)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--executed", type=Path, default=REPO / "_build/executed",
                    help="folder of executed notebooks (default: _build/executed)")
    ap.add_argument("--nbs", type=Path, default=REPO / "nbs",
                    help="source notebooks (default: nbs): their cells, directives and markdown are rendered "
                         "with the outputs of the executed copy of the same name; also lists what was not built")
    ap.add_argument("--papers", type=Path, default=REPO / "papers", help="results tables (default: papers)")
    ap.add_argument("--readme", type=Path, default=REPO / "README.md",
                    help="home page when the executed folder has no index.ipynb (default: README.md)")
    ap.add_argument("--src", type=Path, default=REPO / "_build/docs_src", help="staging folder (wiped)")
    ap.add_argument("--out", type=Path, default=REPO / "_build/site", help="site folder (wiped)")
    ap.add_argument("--conf", type=Path, default=REPO / "docs", help="Sphinx configuration folder")
    ap.add_argument("--no-strict", dest="strict", action="store_false",
                    help="do not turn Sphinx warnings into errors (errors still fail)")
    ap.add_argument("--require-all", action="store_true",
                    help="fail when a notebook of --nbs has no executed copy or an executed one holds an error")
    ap.add_argument("--series-title", action="append", default=[], metavar="D=TITLE",
                    help="sidebar caption for series D (e.g. 2='Poly-PCME'); repeatable")
    ap.add_argument("-j", "--jobs", default="1", help="sphinx-build -j (default 1; 'auto' uses all cores)")
    ap.add_argument("--no-merge", dest="merge", action="store_false",
                    help="render the executed copies as they are, without taking the cells (directives, "
                         "markdown) from the --nbs notebook of the same name")
    ap.add_argument("--stage-only", action="store_true", help="stage the sources, do not run Sphinx")
    args = ap.parse_args(argv)

    t0 = time.time()
    log = lambda s: print(s, flush=True)  # noqa: E731
    settings = read_settings(REPO)
    git_url = settings.get("git_url", "").rstrip("/")
    git_blob = f"{git_url}/blob/{settings.get('branch', 'main')}" if git_url else None
    fix_source_url = _source_url_fixer(settings)
    overrides = {}
    for s in args.series_title:
        d, _, title = s.partition("=")
        if not (d.isdigit() and len(d) == 1 and title):
            ap.error(f"--series-title {s!r}: expected D=TITLE with D a single digit")
        overrides[d] = title

    executed = args.executed.resolve()
    nb_paths = sorted((p for p in executed.glob("*.ipynb") if not p.name.startswith((".", "_"))),
                      key=lambda p: natural_key(p.stem)) if executed.is_dir() else []
    if not executed.is_dir():
        log(f"build_docs: warning: {executed} does not exist; building the site without notebooks")
    expected = sorted(p.stem for p in args.nbs.glob("*.ipynb")) if args.nbs.is_dir() else []
    missing = [s for s in expected if s not in {p.stem for p in nb_paths}]

    staging = args.src.resolve()
    out = args.out.resolve()
    # both folders are wiped: refuse ones that hold something other than an earlier build
    for folder, marker in ((staging, STAGING_MARKER), (out, ".buildinfo")):
        inside_build = (REPO / "_build").resolve() in folder.parents
        if folder.exists() and any(folder.iterdir()) and not (folder / marker).exists() and not inside_build:
            log(f"build_docs: error: {folder} exists and is not an earlier build (no {marker}); "
                f"not wiping it")
            return 2
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    (staging / STAGING_MARKER).write_text("staging folder of tools/build_docs.py; wiped on every build\n")

    # read + process notebooks
    notebooks: dict[str, object] = {}
    problems: list[str] = []
    for p in nb_paths:
        try:
            nb = nbformat.read(p, as_version=4)
        except Exception as e:  # noqa: BLE001
            problems.append(f"{p}: not a readable notebook ({e})")
            continue
        src_path = args.nbs / p.name
        if args.merge and src_path.is_file() and src_path.resolve() != p.resolve():
            try:
                nb, mstats = merge_outputs(nbformat.read(src_path, as_version=4), nb)
            except Exception as e:  # noqa: BLE001
                problems.append(f"{src_path}: not a readable notebook ({e})")
                continue
            if mstats["unmatched"] or mstats["stale"]:
                log(f"build_docs: warning: {p.name}: the executed copy is older than {src_path}: "
                    f"{mstats['stale']} code cell(s) shown as executed, {mstats['unmatched']} without output; "
                    f"re-run the notebook")
        stats = process_notebook(nb, fix_source_url)
        if stats["code"] and not stats["executed"]:
            log(f"build_docs: warning: {p.name}: no code cell has an output (not executed?)")
        if stats["errors"]:
            msg = f"{p.name}: {stats['errors']} cell(s) with an error output"
            (problems if args.require_all else []).append(msg)
            log(f"build_docs: warning: {msg}")
        if not _has_h1(nb):
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"# {_pretty_stem(p.stem)}"))
        notebooks[p.stem] = nb

    staged_docs = {stem: f"{stem}.ipynb" for stem in notebooks}
    home_is_nb = "index" in notebooks
    if not home_is_nb:
        staged_docs["index"] = "index.md"
    mapper = LinkMapper(REPO, staging, staged_docs, args.papers if args.papers else None, git_blob, log)

    # rewrite links in markdown cells (relative to nbs/)
    nbs_dir = args.nbs.resolve()
    for stem, nb in notebooks.items():
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = mapper.rewrite(cell.source, nbs_dir, f"{stem}.ipynb")

    # group into sections
    library, series, other = [], collections.defaultdict(list), []
    for stem in sorted(notebooks, key=natural_key):
        if stem == "index":
            continue
        m = _NUMBERED.match(stem)
        if m and m.group(1) == "0":
            library.append(stem)
        elif m:
            series[m.group(1)].append(stem)
        else:
            other.append(stem)
    toc = []
    if library:
        toc.append(toctree_block("Library", library))
    for d in sorted(series):
        stems = sorted(series[d], key=lambda s: (0 if s[1] == "0" else 1, natural_key(s)))
        toc.append(toctree_block(series_caption(d, [(s, notebooks[s]) for s in stems], overrides), stems))
    if other:
        toc.append(toctree_block("Other notebooks", other))
    toc.append(toctree_block("Results", ["results"]))
    toc_md = "\n".join(toc)

    not_built = ""
    if missing:
        not_built = (":::{note}\nThis build does not include: "
                     + ", ".join(f"`{s}`" for s in missing) + ".\n:::\n")

    # home page
    if home_is_nb:
        nb = notebooks["index"]
        if not_built:
            nb.cells.append(nbformat.v4.new_markdown_cell(not_built))
        nb.cells.append(nbformat.v4.new_markdown_cell(toc_md))
    else:
        readme = args.readme
        if readme and readme.is_file():
            text = mapper.rewrite(readme.read_text(encoding="utf-8"), readme.parent.resolve(), readme.name)
            if not re.search(r"^#\s+\S", text, re.MULTILINE):
                text = "# crossmodal\n\n" + text
            log(f"build_docs: home page from {readme.name} (no index.ipynb among the executed notebooks)")
        else:
            desc = settings.get("description", "")
            text = f"# crossmodal\n\n> {desc}\n"
            log("build_docs: home page generated (no index.ipynb, no README.md)")
        (staging / "index.md").write_text(text + "\n" + not_built + "\n" + toc_md, encoding="utf-8")

    for stem, nb in notebooks.items():
        nbformat.write(nb, staging / f"{stem}.ipynb")
    (staging / "results.md").write_text(build_results_page(args.papers, staging, mapper, log),
                                        encoding="utf-8")

    # report
    sections = (["Library"] if library else []) + [f"{d}x" for d in sorted(series)] + \
               (["Other"] if other else [])
    log(f"build_docs: staged {len(notebooks)} notebook(s) from {executed} into {staging} "
        f"(sections: {', '.join(sections) or 'none'}; home: {'index.ipynb' if home_is_nb else 'index.md'})")
    if missing:
        log(f"build_docs: not built (no executed copy): {', '.join(missing)}")
        if args.require_all:
            problems.append(f"missing executed notebooks: {', '.join(missing)}")
    if problems:
        for p in problems:
            log(f"build_docs: error: {p}")
        return 1
    if args.stage_only:
        return 0

    if out.exists():
        shutil.rmtree(out)
    doctrees = staging.parent / (staging.name + "_doctrees")
    if doctrees.exists():
        shutil.rmtree(doctrees)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", "-j", str(args.jobs),
           "-c", str(args.conf.resolve()), "-d", str(doctrees)]
    if args.strict:
        cmd += ["-W"]  # Sphinx >= 8.1 always keeps going and reports every warning
    cmd += [str(staging), str(out)]
    log("build_docs: " + " ".join(cmd))
    env = dict(os.environ, PYTHONWARNINGS=os.environ.get("PYTHONWARNINGS", "ignore::DeprecationWarning"))
    rc = subprocess.call(cmd, env=env)
    if rc != 0:
        log(f"build_docs: FAILED: sphinx-build exited {rc} (warnings are errors; see above; "
            f"--no-strict to build anyway)")
        return rc
    n_pages = len(list(out.rglob("*.html")))
    log(f"build_docs: site at {out} ({n_pages} HTML files, {time.time() - t0:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
