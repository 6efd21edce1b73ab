#!/usr/bin/env python
"""Check the built docs site in a real (headless) browser, offline.

Serves the site on 127.0.0.1 (a free port, `http.server` in a thread) and
  (a) crawls every HTML page (and the CSS it links) for internal links - href/src/srcset and CSS url(),
      external http(s)/mailto/data links ignored - and fails listing each broken one as
      `page -> target` (a missing file, or a missing #anchor on a page of the site);
  (b) loads the home page and every content page (notebooks, Results) in headless Debian Chromium through
      Playwright (`executable_path`, no `playwright install`), in a 1280 px wide window, with every request
      to a host other than 127.0.0.1 refused (the offline case), and fails on
        - a blank page: no <h1> with the page title in the rendered article, or rendered article text
          much shorter than the HTML's;
        - a page that does not use the window's width: an article narrower than --min-width (800 px), a
          page wider than the window, or a table / code block / cell output / image that runs past the
          article's edge or is clipped with no horizontal scrollbar to reach the rest;
        - console errors and uncaught exceptions;
        - files the browser asked the server for and did not get (HTTP >= 400, watched on every
          response), and requests to other hosts (a CDN MathJax and remote <img> such as README badges only
          warn); maths left untypeset when MathJax is bundled;
        - the built-in search finding nothing for a word of a page title;
  (c) takes screenshots of the home page and the results page into `_build/site_check/` for humans.

    python tools/check_site.py                      # checks _build/site
    python tools/check_site.py --site _build/site --out _build/site_check --width 1280 --min-width 800

Exit 0 when all is well, 1 on failures (with a report), 2 when Chromium or Playwright is missing or the
site is not built. Needs Debian's `chromium` (`make chromium`) and the dev requirements (Playwright).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import re
import shutil
import socketserver
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_CANDIDATES = ["/usr/bin/chromium", "chromium", "chromium-browser"]
NOT_CONTENT = {"genindex.html", "search.html", "py-modindex.html"}
MATHJAX_CDN = ("cdn.jsdelivr.net/npm/mathjax", "cdnjs.cloudflare.com/ajax/libs/mathjax")


# ----------------------------------------------------------------------------------------------------
# HTML parsing
# ----------------------------------------------------------------------------------------------------
class PageParser(HTMLParser):
    "Collects link targets, element ids, the <title>, <h1> texts and the main article's text."

    LINK_ATTRS = {"href", "src", "poster"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
            "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.images: list[str] = []  # <img src> values
        self.ids: set[str] = set()
        self.title = ""
        self.h1: list[str] = []  # <h1> texts inside the article (else anywhere, for other themes)
        self._h1_all: list[str] = []
        self.article_found = self.main_found = False
        self._text = {"article": [], "main": []}
        self.math_spans = 0
        self.mjx = 0
        self._open = {"title": 0, "h1": 0, "skip": 0, "article": 0, "main": 0}
        self._stack: list[tuple[str, str | None]] = []  # (tag, region it opened)

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        rel = a.get("rel", "").lower()
        for k, v in attrs:
            if not v or tag == "meta":
                continue
            if k in self.LINK_ATTRS:
                if tag == "link" and rel in ("preconnect", "dns-prefetch", "canonical"):
                    continue
                self.links.append(v)
                if tag == "img" and k == "src":
                    self.images.append(v)
            elif k == "srcset":
                self.links += [p.strip().split()[0] for p in v.split(",") if p.strip()]
        classes = a.get("class", "").split()
        if "math" in classes and tag in ("span", "div"):
            self.math_spans += 1
        if tag == "mjx-container":
            self.mjx += 1
        if tag in self.VOID:
            return
        region = None
        if tag == "title":
            region = "title"
        elif tag in ("script", "style", "template", "mjx-container") or (
                "math" in classes and tag in ("span", "div")):
            region = "skip"  # code, and maths (TeX source before MathJax, glyphs after)
        elif tag == "h1":
            region = "h1"
            self._h1_all.append("")
            if self._open["article"]:
                self.h1.append("")
        elif tag == "article" and "bd-article" in classes and not self._open["article"]:
            region = "article"
            self.article_found = True
        elif tag == "main" and not self._open["main"]:
            region = "main"
            self.main_found = True
        if region:
            self._open[region] += 1
        self._stack.append((tag, region))

    def handle_endtag(self, tag):
        if tag in self.VOID or not any(t == tag for t, _ in self._stack):
            return
        while self._stack:  # pop to the matching tag (HTML is not always well nested)
            t, region = self._stack.pop()
            if region:
                self._open[region] -= 1
            if t == tag:
                break

    def handle_data(self, data):
        if self._open["skip"]:
            return
        if self._open["title"]:
            self.title += data
        if self._open["h1"] and self._h1_all:
            self._h1_all[-1] += data
            if self._open["article"] and self.h1:
                self.h1[-1] += data
        for region in ("article", "main"):
            if self._open[region]:
                self._text[region].append(data)

    @property
    def has_article(self) -> bool:
        return self.article_found or self.main_found

    @property
    def headings(self) -> list[str]:
        return self.h1 if self.article_found else self._h1_all

    @property
    def text(self) -> str:
        "Text of the theme's article (else of <main>), whitespace collapsed."
        parts = self._text["article"] if self.article_found else self._text["main"]
        return re.sub(r"\s+", " ", "".join(parts)).strip()


def parse_html(text: str) -> PageParser:
    p = PageParser()
    p.feed(text)
    p.close()
    return p


_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


def is_external(target: str) -> bool:
    t = target.strip()
    if t.startswith("//"):
        return True
    scheme = urlsplit(t).scheme.lower()
    return bool(scheme) and scheme not in ("",)


# ----------------------------------------------------------------------------------------------------
# server
# ----------------------------------------------------------------------------------------------------
class _Handler(http.server.SimpleHTTPRequestHandler):
    log_records: list = []
    lock = threading.Lock()

    def log_request(self, code="-", size="-"):
        with self.lock:
            self.log_records.append((self.path, int(code) if str(code).isdigit() else 0,
                                     self.headers.get("Referer", ""), self.headers.get("User-Agent", "")))

    def log_message(self, *args):  # quiet
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(site: Path):
    handler = functools.partial(_Handler, directory=str(site))
    _Handler.log_records = []
    httpd = _Server(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


# ----------------------------------------------------------------------------------------------------
# (a) link crawl (on disk: same resolution as the static server, no HTTP round trips needed)
# ----------------------------------------------------------------------------------------------------
def resolve_local(site: Path, page_rel: str, target: str) -> tuple[Path | None, str]:
    "File a relative/absolute-path link from `page_rel` points at, and its #fragment."
    parts = urlsplit(target)
    base = "/" + page_rel
    path = unquote(urljoin(base, parts.path)) if parts.path else base
    path = path.split("?", 1)[0]
    f = (site / path.lstrip("/"))
    if path.endswith("/") or f.is_dir():
        f = f / "index.html"
    try:
        f.resolve().relative_to(site.resolve())
    except ValueError:
        return None, parts.fragment
    return f, unquote(parts.fragment)


def http_status(base: str, path: str, timeout: float = 10) -> int:
    req = urllib.request.Request(base + urllib.parse.quote(path, safe="/%:@&=+$,;~!*'()"), method="HEAD")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, OSError):
        return 0


def crawl(site: Path, base: str):
    """Every internal href/src/srcset of every page, and url() of every stylesheet, requested from the
    server (HEAD); #fragments looked up among the ids of the target page."""
    # pages of the site (the theme's Jinja fragments under _static/ are not pages)
    pages = sorted(p for p in site.rglob("*.html")
                   if not ({"_sources", "_static"} & set(p.relative_to(site).parts)))
    css = sorted(site.rglob("*.css"))
    parsed: dict[Path, PageParser] = {}
    status: dict[str, int] = {}

    def get(p: Path) -> PageParser:
        if p not in parsed:
            parsed[p] = parse_html(p.read_text(encoding="utf-8", errors="replace"))
        return parsed[p]

    def check(rel: str, t: str, anchors: bool) -> str | None:
        "Why the link `t` on page `rel` is broken, or None."
        f, frag = resolve_local(site, rel, t)
        if f is None:
            return "points outside the site"
        url_path = "/" + f.relative_to(site).as_posix()
        if url_path not in status:
            status[url_path] = http_status(base, url_path)
        if status[url_path] != 200:
            return f"HTTP {status[url_path] or 'no answer'}"
        if anchors and frag and f.suffix == ".html" and frag not in get(f).ids:
            return f"no id '{frag}' on {f.relative_to(site).as_posix()}"
        return None

    broken: list[tuple[str, str, str]] = []
    n_links = 0
    for page in pages:
        rel = page.relative_to(site).as_posix()
        for target in get(page).links:
            t = target.strip()
            if not t or is_external(t):
                continue
            n_links += 1
            why = check(rel, t, anchors=True)
            if why:
                broken.append((rel, t, why))
    for sheet in css:
        rel = sheet.relative_to(site).as_posix()
        for target in _CSS_URL.findall(sheet.read_text(encoding="utf-8", errors="replace")):
            t = target.strip()
            if not t or is_external(t) or t.startswith("#"):
                continue
            n_links += 1
            why = check(rel, t, anchors=False)
            if why:
                broken.append((rel, t, why))
    return pages, parsed, n_links, broken


# (b) browser: Playwright driving Debian's Chromium
# ----------------------------------------------------------------------------------------------------
# What a page's layout looks like in the browser: the article's width, the page's own width, and every
# table / code block / cell output / image that sticks out of the article or is clipped without a
# horizontal scrollbar to reach the rest.
LAYOUT_JS = """() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  if (!article) return null;
  const box = article.getBoundingClientRect();
  const scrolls = (el) => {  // el or an ancestor inside the article scrolls horizontally
    for (let p = el; p && p !== article; p = p.parentElement) {
      const s = getComputedStyle(p).overflowX;
      if ((s === 'auto' || s === 'scroll') && p.getBoundingClientRect().right <= box.right + 1) return true;
    }
    return false;
  };
  const cut = [];
  for (const el of article.querySelectorAll('table, pre, div.cell_output, div.output, img, mjx-container[display="true"]')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const what = el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/)[0] : '');
    const s = getComputedStyle(el).overflowX;
    if (r.right > box.right + 1 && !scrolls(el.parentElement))
      cut.push(`${what} (${Math.round(r.width)} px wide) runs past the article's right edge (${Math.round(box.right)} px) with no scrollbar`);
    else if (el.scrollWidth > el.clientWidth + 1 && (s === 'hidden' || s === 'clip') && !scrolls(el.parentElement))
      cut.push(`${what} is clipped: ${el.scrollWidth - el.clientWidth} px of it hidden with no scrollbar`);
  }
  const text = (article.innerText || '').replace(/\\s+/g, ' ').trim();
  const h1 = Array.from(article.querySelectorAll('h1')).map(h => h.innerText.replace(/\\u00b6/g, '').trim());
  return {width: Math.round(box.width), left: Math.round(box.left), page_width: document.documentElement.scrollWidth,
          window_width: window.innerWidth, cut: cut, text_chars: text.length, h1: h1, title: document.title,
          mjx: document.querySelectorAll('mjx-container').length};
}"""

MATHJAX_READY_JS = """async () => {
  if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
    try { await window.MathJax.startup.promise; } catch (e) { return String(e); }
  }
  return null;
}"""


def find_chromium(explicit: str | None) -> str | None:
    for c in ([explicit] if explicit else CHROMIUM_CANDIDATES):
        p = shutil.which(c) if c else None
        if p:
            return p
    return None


def search_word(parsed: dict, site: Path, content: list[str]) -> str | None:
    "A word of a notebook page's title, for the search check."
    for rel in [r for r in content if r != "index.html"] + ["index.html"]:
        p = parsed.get(site / rel)
        title = p.headings[0] if p and p.headings else ""
        words = sorted(re.findall(r"[A-Za-z]{5,}", title), key=len, reverse=True)
        if words:
            return words[0].lower()
    return None


class BrowserLog:
    "What the browser did on the current page: runtime errors, failed local requests, requests to other hosts."

    def __init__(self, base: str, allow_network: bool):
        self.base, self.allow_network = base, allow_network
        self.page = "?"
        self.console: list[tuple[str, str]] = []
        self.failed: list[tuple[str, str]] = []
        self.external: list[tuple[str, str, str]] = []  # (page, url, resource type)

    def on_console(self, msg) -> None:
        # "Failed to load resource" repeats a failed request, reported with its URL by on_response / route
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.console.append((self.page, msg.text))

    def on_pageerror(self, err) -> None:
        self.console.append((self.page, f"uncaught exception: {err}"))

    def on_response(self, response) -> None:
        url = response.url
        if url.startswith(self.base) and response.status >= 400 and urlsplit(url).path != "/favicon.ico":
            self.failed.append((self.page, f"{urlsplit(url).path} (HTTP {response.status})"))

    def on_requestfailed(self, request) -> None:
        if request.url.startswith(self.base):
            self.failed.append((self.page, f"{urlsplit(request.url).path} ({request.failure})"))

    def route(self, route) -> None:
        "Requests to other hosts are recorded and, offline (the default), refused."
        url = route.request.url
        if url.startswith(self.base) or url.startswith(("data:", "blob:", "about:")):
            route.continue_()
            return
        self.external.append((self.page, url, route.request.resource_type))
        if self.allow_network:
            route.continue_()
        else:
            route.abort("internetdisconnected")


def check_page(page, log: BrowserLog, base: str, rel: str, static: PageParser, args) -> dict:
    "Load one page at the window width and check it; returns problems, warnings and measurements."
    from playwright.sync_api import Error as PlaywrightError

    res = {"page": rel, "problems": [], "warnings": []}
    t0 = time.time()
    log.page = rel
    try:
        page.goto(f"{base}/{rel}", wait_until="load", timeout=args.page_timeout * 1000)
        mj_error = page.evaluate(MATHJAX_READY_JS)
        page.wait_for_timeout(args.settle_ms)
        layout = page.evaluate(LAYOUT_JS)
    except PlaywrightError as e:
        res["problems"].append(f"the browser could not load it: {str(e).splitlines()[0]}")
        res["seconds"] = time.time() - t0
        return res
    res["seconds"] = time.time() - t0
    if layout is None:
        res["problems"].append("blank page: no <article>/<main> in the rendered page")
        return res
    res["loaded"], res["layout"] = True, layout
    want_title = static.headings[0].strip().rstrip("#").strip() if static.headings else ""
    if want_title and not any(want_title in h.replace("\xa0", " ") for h in layout["h1"]):
        res["problems"].append(f"blank page: heading {want_title!r} missing from the rendered page")
    if static.title.strip() and static.title.strip() != layout["title"].strip():
        res["problems"].append(f"title changed: {static.title.strip()!r} -> {layout['title'].strip()!r}")
    need = max(min(args.min_text, int(0.8 * len(static.text))), len(static.text) // 2, 1)
    if layout["text_chars"] < need:
        res["problems"].append(f"blank page: rendered article text has {layout['text_chars']} characters "
                               f"(HTML has {len(static.text)}; need >= {need})")
    if layout["width"] < args.min_width:
        res["problems"].append(f"the article is {layout['width']} px wide in a {layout['window_width']} px window "
                               f"(need >= {args.min_width} px): the page does not use the window's width")
    if layout["page_width"] > layout["window_width"] + 1:
        res["problems"].append(f"the page is {layout['page_width']} px wide in a {layout['window_width']} px "
                               f"window: it scrolls sideways as a whole")
    res["problems"] += [f"cut off: {c}" for c in layout["cut"]]
    local_mathjax = any("_static/mathjax/" in l for l in static.links)
    if static.math_spans and local_mathjax and (layout["mjx"] == 0 or mj_error):
        res["problems"].append(f"{static.math_spans} maths element(s) not typeset by the bundled MathJax"
                               + (f" ({mj_error})" if mj_error else ""))
    return res


def check_search(page, log: BrowserLog, base: str, word: str, args) -> dict:
    "The built-in search (search.html + searchindex.js) finds `word` offline."
    from playwright.sync_api import Error as PlaywrightError

    res = {"page": f"search.html?q={word}", "problems": [], "warnings": []}
    t0 = time.time()
    log.page = res["page"]
    hits = 0
    try:
        page.goto(f"{base}/search.html?q={word}", wait_until="load", timeout=args.page_timeout * 1000)
        page.wait_for_selector("ul.search li a", timeout=args.page_timeout * 1000)
        hits = page.locator("ul.search li").count()
    except PlaywrightError as e:
        res["problems"].append(f"the search finds nothing for {word!r}, a word of a page title "
                               f"({str(e).splitlines()[0]})")
    res["hits"], res["seconds"] = hits, time.time() - t0
    return res


def browser_checks(chromium: str, base: str, site: Path, content: list[str], parsed: dict, args, t_start: float,
                   failures: list[str], warnings: list[str]) -> dict:
    "(b) every content page and the search in Chromium (through Playwright), (c) screenshots."
    from playwright.sync_api import sync_playwright

    stats = {"loaded": 0, "widths": {}}
    args.out.mkdir(parents=True, exist_ok=True)
    log = BrowserLog(base, args.allow_network)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            context = browser.new_context(viewport={"width": args.width, "height": 900})
            context.route("**/*", log.route)
            page = context.new_page()
            page.on("console", log.on_console)
            page.on("pageerror", log.on_pageerror)
            page.on("response", log.on_response)
            page.on("requestfailed", log.on_requestfailed)
            for rel in content:
                if time.time() - t_start > args.max_seconds:
                    failures.append(f"time limit of {args.max_seconds:.0f}s reached; "
                                    f"{len(content) - stats['loaded']} page(s) not checked")
                    break
                res = check_page(page, log, base, rel, parsed[site / rel], args)
                if res.get("loaded"):
                    stats["loaded"] += 1
                    stats["widths"][rel] = res["layout"]["width"]
                failures += [f"{rel}: {p}" for p in res["problems"]]
                lay = res.get("layout") or {}
                print(f"  {'FAIL' if res['problems'] else 'ok':4} {rel} ({lay.get('text_chars', 0)} chars, article "
                      f"{lay.get('width', '?')} px{', %d maths' % lay['mjx'] if lay.get('mjx') else ''}, "
                      f"{res['seconds']:.1f}s)", flush=True)
            word = search_word(parsed, site, content)
            if word and (site / "search.html").is_file():
                res = check_search(page, log, base, word, args)
                failures += [f"{res['page']}: {p}" for p in res["problems"]]
                stats["search"] = (word, res["hits"])
                print(f"  {'FAIL' if res['problems'] else 'ok':4} {res['page']} ({res['hits']} results, "
                      f"{res['seconds']:.1f}s)", flush=True)
            # (c) screenshots for humans: the home page and the results page at the checked width
            for rel, name in (("index.html", "home.png"), ("results.html", "results.png")):
                if (site / rel).is_file():
                    log.page = rel
                    page.goto(f"{base}/{rel}", wait_until="load", timeout=args.page_timeout * 1000)
                    page.wait_for_timeout(args.settle_ms)
                    page.screenshot(path=str(args.out / name))
                    print(f"site check: (c) screenshot {args.out / name}")
        finally:
            browser.close()
    for page_rel, text in log.console:
        failures.append(f"{page_rel}: console error: {text[:300]}")
    for page_rel, what in sorted(set(log.failed)):
        failures.append(f"runtime request failed: {page_rel} -> {what}")
    for page_rel, url, kind in sorted(set(log.external)):
        static = parsed.get(site / page_rel)
        if any(c in url for c in MATHJAX_CDN):
            warnings.append(f"{page_rel}: loads MathJax from a CDN ({url}); offline, maths shows as TeX")
        elif kind == "image" and static is not None and url in static.images:
            warnings.append(f"{page_rel}: shows a remote image (broken offline): {url}")
        else:
            failures.append(f"{page_rel}: needs the network: requests {url}")
    return stats


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--site", type=Path, default=REPO / "_build/site", help="built site (default _build/site)")
    ap.add_argument("--out", type=Path, default=REPO / "_build/site_check",
                    help="where the screenshots go (default _build/site_check)")
    ap.add_argument("--chromium", default=None, help="browser binary (default: /usr/bin/chromium)")
    ap.add_argument("--page-timeout", type=float, default=60, help="seconds per page (default 60)")
    ap.add_argument("--max-seconds", type=float, default=600, help="overall time limit (default 600)")
    ap.add_argument("--settle-ms", type=int, default=300,
                    help="milliseconds to let scripts settle after a page's load event (default 300)")
    ap.add_argument("--width", type=int, default=1280, help="browser window width in px (default 1280)")
    ap.add_argument("--min-width", type=int, default=800,
                    help="the article's width needed at --width, in px (default 800)")
    ap.add_argument("--min-text", type=int, default=200,
                    help="rendered article text needed, in characters (capped by the HTML's own; default 200)")
    ap.add_argument("--allow-network", action="store_true",
                    help="let the browser reach other hosts (default: offline, only 127.0.0.1)")
    ap.add_argument("--links-only", action="store_true", help="only (a): no browser, no screenshot")
    args = ap.parse_args(argv)

    t_start = time.time()
    site = args.site.resolve()
    args.out = args.out.resolve()
    if not (site / "index.html").is_file():
        print(f"site check: FAILED: {site}/index.html not found; build the site first "
              f"(python tools/build_docs.py)")
        return 2
    chromium = None
    if not args.links_only:
        chromium = find_chromium(args.chromium)
        if chromium is None:
            print("site check: FAILED: Chromium not found. Install it with:\n"
                  "    apt-get update && apt-get install -y chromium   (or: make chromium)\n"
                  "(or pass --chromium PATH; --links-only checks the links without a browser)")
            return 2
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            print("site check: FAILED: the Playwright Python package is missing (pip install -e '.[dev]')")
            return 2

    failures: list[str] = []
    warnings: list[str] = []
    httpd, base = serve(site)
    stats = {"loaded": 0, "widths": {}}
    try:
        # (a) links, through the server
        pages, parsed, n_links, broken = crawl(site, base)
        for page, target, why in broken:
            failures.append(f"broken link: {page} -> {target} ({why})")
        print(f"site check: (a) {len(pages)} HTML pages, {n_links} internal links, {len(broken)} broken",
              flush=True)
        content = [p.relative_to(site).as_posix() for p in pages
                   if p.parent == site and p.name not in NOT_CONTENT]
        content.sort(key=lambda r: (r != "index.html", r))
        if chromium:
            stats = browser_checks(chromium, base, site, content, parsed, args, t_start, failures, warnings)
    finally:
        httpd.shutdown()
        httpd.server_close()
    if chromium:
        widths = sorted(stats["widths"].values())
        print(f"site check: (b) {stats['loaded']}/{len(content)} pages loaded in Chromium "
              f"({'offline' if not args.allow_network else 'network allowed'}); article width at {args.width} px: "
              + (f"{widths[0]}-{widths[-1]} px" if widths else "n/a")
              + (f"; search for {stats['search'][0]!r}: {stats['search'][1]} results" if stats.get("search") else ""))

    for w in sorted(set(warnings)):
        print(f"site check: warning: {w}")
    summary = (f"site check: {len(pages)} pages, {n_links} links, {len(broken)} broken"
               + (f", {stats['loaded']} loaded in Chromium" if chromium else "")
               + f" ({time.time() - t_start:.1f}s)")
    if failures:
        print("site check: FAILED")
        for f in failures:
            print(f"  - {f}")
        print(summary)
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
