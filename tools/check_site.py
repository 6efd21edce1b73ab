#!/usr/bin/env python
"""Check the built docs site in a real (headless) browser, offline.

Serves the site on 127.0.0.1 (a free port, `http.server` in a thread) and
  (a) crawls every HTML page (and the CSS it links) for internal links - href/src/srcset and CSS url(),
      external http(s)/mailto/data links ignored - and fails listing each broken one as
      `page -> target` (a missing file, or a missing #anchor on a page of the site);
  (b) loads the home page and every content page (notebooks, Results) in headless Chromium with all
      host names but 127.0.0.1 unresolvable (the offline case), and fails on a blank page: no <h1>
      with the page title in the rendered article, or rendered article text much shorter than the
      HTML's. It also fails on files the browser asked the server for and did not get (404), on
      requests a page makes to other hosts (the site must not need the network; a CDN MathJax and
      remote <img> such as README badges only warn), on maths left untypeset when MathJax is
      bundled, and when the built-in search finds nothing for a word of a page title;
  (c) takes a screenshot of the home page into `_build/site_check/home.png` for humans.

    python tools/check_site.py                      # checks _build/site
    python tools/check_site.py --site _build/site --out _build/site_check --jobs 2

Exit 0 when all is well, 1 on failures (with a report), 2 when Chromium is missing or the site is not
built. Needs Debian's `chromium` (`apt-get install -y chromium`).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import functools
import http.server
import json
import os
import re
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_CANDIDATES = ["/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"]
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
]
OFFLINE_RULES = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
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


# ----------------------------------------------------------------------------------------------------
# (b) browser
# ----------------------------------------------------------------------------------------------------
def find_chromium(explicit: str | None) -> str | None:
    for c in ([explicit] if explicit else CHROMIUM_CANDIDATES):
        p = shutil.which(c) if c else None
        if p:
            return p
    return None


def run_chromium(chromium: str, args: list[str], timeout: float) -> tuple[int, str, str]:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as prof:
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={prof}", *args]
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    start_new_session=True)
        except OSError as e:
            return 127, "", str(e)
        try:
            out, err = proc.communicate(timeout=timeout)
            return proc.returncode, out, err
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, 9)  # chromium's own process group only (start_new_session)
            except ProcessLookupError:
                pass
            out, err = proc.communicate()
            return 124, out or "", err or ""


def external_requests(netlog: Path, origin: str) -> list[str]:
    "URLs of other hosts that the page itself (initiator = our origin) asked for."
    try:
        d = json.loads(netlog.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        try:  # chromium may stop before closing the JSON
            txt = netlog.read_text(encoding="utf-8", errors="replace").rstrip().rstrip(",")
            d = json.loads(txt + "]}")
        except (OSError, ValueError):
            return []
    types = {v: k for k, v in d.get("constants", {}).get("logEventTypes", {}).items()}
    urls = []
    for e in d.get("events", []):
        if types.get(e.get("type")) != "URL_REQUEST_START_JOB":
            continue
        p = e.get("params", {})
        url, init = p.get("url", ""), p.get("initiator", "")
        if url and init == origin and not url.startswith(origin):
            urls.append(url)
    return sorted(set(urls))


def check_page(chromium, base, rel, static: PageParser, args, tmp: Path) -> dict:
    url = f"{base}/{rel}"
    netlog = tmp / (re.sub(r"[^\w.-]", "_", rel) + ".netlog.json")
    flags = [f"--virtual-time-budget={args.budget_ms}", "--window-size=1280,1500",
             f"--log-net-log={netlog}"]
    if not args.allow_network:
        flags.append(OFFLINE_RULES)
    t0 = time.time()
    rc, dom, err = run_chromium(chromium, [*flags, "--dump-dom", url], args.page_timeout)
    res = {"page": rel, "problems": [], "warnings": [], "seconds": time.time() - t0}
    if rc == 124:
        res["problems"].append(f"Chromium did not finish within {args.page_timeout:.0f}s")
        return res
    if rc != 0 or not dom.strip():
        tail = "\n".join(l for l in err.splitlines() if "dbus" not in l.lower())[-600:]
        res["problems"].append(f"Chromium exited {rc} with {len(dom)} bytes of DOM: {tail}")
        return res
    r = parse_html(dom)
    res["loaded"] = True
    want_title = static.headings[0].strip().rstrip("#").strip() if static.headings else ""
    if not r.has_article:
        res["problems"].append("blank page: no <article>/<main> in the rendered DOM")
    if want_title and not any(want_title in h.replace("\xa0", " ") for h in r.headings):
        res["problems"].append(f"blank page: heading {want_title!r} missing from the rendered DOM")
    if static.title.strip() and static.title.strip() != r.title.strip():
        res["problems"].append(f"title changed: {static.title.strip()!r} -> {r.title.strip()!r}")
    # blank: less than min_text characters (or all of them when the page is shorter), or under half
    # of what the HTML itself holds
    need = max(min(args.min_text, int(0.8 * len(static.text))), len(static.text) // 2, 1)
    if len(r.text) < need:
        res["problems"].append(f"blank page: rendered article text has {len(r.text)} characters "
                               f"(HTML has {len(static.text)}; need >= {need})")
    ext = external_requests(netlog, base)
    images = set(static.images)
    for u in ext:
        if any(c in u for c in MATHJAX_CDN):
            res["warnings"].append(f"loads MathJax from a CDN ({u}); offline, maths shows as TeX")
        elif u in images:  # e.g. a README badge: a broken image offline, the page still works
            res["warnings"].append(f"shows a remote image (broken offline): {u}")
        else:
            res["problems"].append(f"needs the network: requests {u}")
    local_mathjax = any("_static/mathjax/" in l for l in static.links)
    if static.math_spans and local_mathjax and r.mjx == 0:
        res["problems"].append(f"{static.math_spans} maths element(s) not typeset by the bundled MathJax")
    res["text_chars"], res["mjx"] = len(r.text), r.mjx
    return res


def search_word(parsed: dict, site: Path, content: list[str]) -> str | None:
    "A word of a notebook page's title, for the search check."
    for rel in [r for r in content if r != "index.html"] + ["index.html"]:
        p = parsed.get(site / rel)
        title = p.headings[0] if p and p.headings else ""
        words = sorted(re.findall(r"[A-Za-z]{5,}", title), key=len, reverse=True)
        if words:
            return words[0].lower()
    return None


def check_search(chromium, base, word: str, args) -> dict:
    "The built-in search (search.html + searchindex.js) finds `word` offline."
    flags = [f"--virtual-time-budget={max(args.budget_ms, 8000)}"] + ([] if args.allow_network else [OFFLINE_RULES])
    t0 = time.time()
    rc, dom, _ = run_chromium(chromium, [*flags, "--dump-dom", f"{base}/search.html?q={word}"], args.page_timeout)
    res = {"page": f"search.html?q={word}", "problems": [], "warnings": [], "seconds": time.time() - t0}
    hits = re.findall(r'<li class="kind-[a-z]+"><a href="([^"]+)"', dom)
    if rc != 0 or not hits:
        res["problems"].append(f"the search finds nothing for {word!r} (a word of a page title; Chromium exit {rc})")
    res["text_chars"] = len(hits)
    return res


def browser_checks(chromium, base, site, content, parsed, args, t_start, failures, warnings) -> int:
    "(b) every content page and the search in Chromium, (c) the home page screenshot; returns pages loaded."
    n_loaded = 0
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="site-check-") as tmpd:
        tmp = Path(tmpd)
        deadline = t_start + args.max_seconds
        pool = cf.ThreadPoolExecutor(max_workers=max(1, args.jobs))
        try:
            futs = {pool.submit(check_page, chromium, base, rel, parsed[site / rel], args, tmp): rel
                    for rel in content}
            word = search_word(parsed, site, content)
            if word and (site / "search.html").is_file():
                futs[pool.submit(check_search, chromium, base, word, args)] = "search"
            for fut in cf.as_completed(futs, timeout=max(1.0, deadline - time.time())):
                res = fut.result()
                if futs[fut] != "search" and res.get("loaded"):
                    n_loaded += 1
                failures += [f"{res['page']}: {p}" for p in res["problems"]]
                warnings += [f"{res['page']}: {w}" for w in res["warnings"]]
                status = "FAIL" if res["problems"] else "ok"
                unit = "results" if futs[fut] == "search" else "chars"
                print(f"  {status:4} {res['page']} ({res.get('text_chars', 0)} {unit}"
                      f"{', %d maths' % res['mjx'] if res.get('mjx') else ''}, {res['seconds']:.1f}s)",
                      flush=True)
        except cf.TimeoutError:
            failures.append(f"time limit of {args.max_seconds:.0f}s reached; "
                            f"{len(content) - n_loaded} page(s) not checked")
            return n_loaded
        finally:
            # on the time limit, pages not started are dropped; running ones end by --page-timeout
            pool.shutdown(wait=True, cancel_futures=True)
        # (c) screenshot of the home page
        shot = args.out.resolve() / "home.png"
        if shot.exists():
            shot.unlink()
        flags = [f"--virtual-time-budget={args.budget_ms}", "--window-size=1280,1500", f"--screenshot={shot}"]
        if not args.allow_network:
            flags.append(OFFLINE_RULES)
        rc, _, _ = run_chromium(chromium, [*flags, f"{base}/index.html"], args.page_timeout)
        if rc != 0 or not shot.is_file() or shot.stat().st_size < 1000:
            failures.append(f"screenshot of the home page failed (Chromium exit {rc})")
        else:
            print(f"site check: (c) screenshot {shot}")
    return n_loaded


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--site", type=Path, default=REPO / "_build/site", help="built site (default _build/site)")
    ap.add_argument("--out", type=Path, default=REPO / "_build/site_check",
                    help="where home.png goes (default _build/site_check)")
    ap.add_argument("--chromium", default=None, help="browser binary (default: /usr/bin/chromium)")
    ap.add_argument("--page-timeout", type=float, default=60, help="seconds per page (default 60)")
    ap.add_argument("--max-seconds", type=float, default=600, help="overall time limit (default 600)")
    ap.add_argument("--budget-ms", type=int, default=5000,
                    help="Chromium --virtual-time-budget per page (default 5000)")
    ap.add_argument("--min-text", type=int, default=200,
                    help="rendered article text needed, in characters (capped by the HTML's own; default 200)")
    ap.add_argument("-j", "--jobs", type=int, default=min(4, os.cpu_count() or 1),
                    help="pages loaded at once (default: cores, at most 4)")
    ap.add_argument("--allow-network", action="store_true",
                    help="let Chromium resolve other hosts (default: offline, only 127.0.0.1)")
    ap.add_argument("--links-only", action="store_true", help="only (a): no browser, no screenshot")
    args = ap.parse_args(argv)

    t_start = time.time()
    site = args.site.resolve()
    if not (site / "index.html").is_file():
        print(f"site check: FAILED: {site}/index.html not found; build the site first "
              f"(python tools/build_docs.py)")
        return 2
    chromium = None
    if not args.links_only:
        chromium = find_chromium(args.chromium)
        if chromium is None:
            print("site check: FAILED: Chromium not found. Install it with:\n"
                  "    apt-get update && apt-get install -y chromium\n"
                  "(or pass --chromium PATH; --links-only checks the links without a browser)")
            return 2

    failures: list[str] = []
    warnings: list[str] = []
    httpd, base = serve(site)
    n_loaded = 0
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
            n_loaded = browser_checks(chromium, base, site, content, parsed, args, t_start, failures, warnings)
    finally:
        httpd.shutdown()
        httpd.server_close()
    if chromium:
        # files the browser asked for and did not get (e.g. a MathJax font or a lazily loaded script)
        seen = set()
        for path, code, referer, agent in _Handler.log_records:
            p = path.split("?", 1)[0]
            if code >= 400 and "Chrom" in agent and p != "/favicon.ico" and p not in seen:
                seen.add(p)
                ref = urlsplit(referer).path.lstrip("/") or "?"
                failures.append(f"runtime request failed: {ref} -> {p} (HTTP {code})")
        print(f"site check: (b) {n_loaded}/{len(content)} pages loaded in Chromium "
              f"({'offline' if not args.allow_network else 'network allowed'})")

    for w in sorted(set(warnings)):
        print(f"site check: warning: {w}")
    n_broken = len(broken)
    summary = (f"site check: {len(pages)} pages, {n_links} links, {n_broken} broken"
               + (f", {n_loaded} loaded in Chromium" if chromium else "")
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
