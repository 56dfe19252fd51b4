"""Check the built HTML documentation the way a reader meets it.

Static checks (always, no browser needed; run in CI after ``sphinx-build``):

* every local ``href``/``src`` (links, images, scripts, stylesheets) points to a file that
  exists, and every ``#anchor`` to an ``id`` (or ``name``) on the target page;
* no script or stylesheet is loaded from the network (the site must work offline, math included);
* no empty "Section Navigation" column (pydata-sphinx-theme's left sidebar without links);
* no lettered list (a reference line starting "E. M. Izhikevich" that docutils read as a list);
* no rendered page shows raw TeX delimiters (``\\(``, ``\\[``, ``$$``) outside the math elements
  that MathJax typesets, nor Python object reprs (``<... object at 0x...>``, ``Text(0.5, ...``,
  ``<matplotlib...``). Source-code views (``_modules/``) are exempt from the text checks.

With ``--screenshots DIR`` every page is also opened in headless Chromium (Debian package
``chromium``) through the DevTools protocol: after MathJax has typeset it, the page's visible
text is checked again for TeX delimiters and reprs, code and output blocks that need horizontal
scrolling are listed (tutorial and narrative pages only, at a 1280 px wide window), and a
full-page PNG is written to ``DIR`` (same relative path as the page)::

    python docs/check_site.py docs/_build/html --screenshots /tmp/shots

``--cli sims.cli:build_parser`` also checks that the command-line reference page lists every
sub-command and option of the parser.

Exit status 0 when everything passes, 1 otherwise (each problem is printed on one line).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

TEX_DELIMITERS = ("\\(", "\\[", "$$")
REPR_PATTERNS = (
    re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>"),
    re.compile(r"\bText\(-?\d"),
    re.compile(r"<matplotlib\."),
)
# Source views show raw docstrings and code on purpose.
TEXT_EXEMPT = ("_modules/",)
# Pages whose code/output blocks must not scroll horizontally (API signatures may).
NO_SCROLL_EXEMPT = ("_modules/", "api/", "genindex", "py-modindex", "search")


class _Page(HTMLParser):
    """Collects ids, local references and visible text (without math, scripts and styles)."""

    _SKIP_TAGS = {"script", "style"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str]] = []  # (attribute, value)
        self.remote: list[str] = []
        self.text: list[str] = []
        self.lettered = 0  # <ol class="upperalpha">: usually a reference line "E. M. Name, ..."
        self._skip: list[str] = []  # stack of open skipped tags (math elements, scripts)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key) and (key == "id" or tag == "a"):
                self.ids.add(a[key])
        for key in ("href", "src"):
            val = a.get(key)
            if val is None:
                continue
            if re.match(r"^(https?:)?//", val):
                if tag in ("script",) or (tag == "link" and "stylesheet" in (a.get("rel") or "")):
                    self.remote.append(val)
            elif not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", val):  # mailto:, data:, javascript:
                self.refs.append((key, val))
        classes = (a.get("class") or "").split()
        if tag == "ol" and {"upperalpha", "loweralpha"} & set(classes):
            self.lettered += 1
        if self._skip:
            if tag == self._skip[-1]:
                self._skip.append(tag)
        elif tag in self._SKIP_TAGS or "math" in classes:
            self._skip.append(tag)

    def handle_endtag(self, tag):
        if self._skip and tag == self._skip[-1]:
            self._skip.pop()

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def text_problems(text: str) -> list[str]:
    """Raw TeX delimiters and Python reprs found in a page's visible text."""
    found = [f"raw TeX delimiter {d!r}" for d in TEX_DELIMITERS if d in text]
    spans: list[tuple[int, int]] = []
    for pat in REPR_PATTERNS:
        m = pat.search(text)
        # one report per repr: "<matplotlib.x object at 0x..>" also matches "<matplotlib."
        if m and not any(a <= m.start() < b for a, b in spans):
            spans.append(m.span())
            found.append(f"Python repr {m.group(0)[:60]!r}")
    return found


def _pages(root: Path) -> list[Path]:
    """The site's pages (theme templates copied under ``_static`` are not pages)."""
    return [p for p in sorted(root.rglob("*.html")) if p.relative_to(root).parts[0] != "_static"]


def static_check(root: Path) -> tuple[list[str], int, int]:
    """Return (problems, pages, local references) for the site under ``root``."""
    pages = {p.relative_to(root).as_posix(): p for p in _pages(root)}
    parsed: dict[str, _Page] = {}
    problems, n_refs = [], 0
    for rel, path in pages.items():
        page = _Page()
        raw = path.read_text(encoding="utf-8", errors="replace")
        page.feed(raw)
        parsed[rel] = page
        # pydata-sphinx-theme's left column: a "Section Navigation" heading over no links
        nav = re.search(r'<nav class="bd-docs-nav[^>]*>(.*?)</nav>', raw, re.S)
        if nav and "<a " not in nav.group(1):
            problems.append(f"{rel}: empty 'Section Navigation' column (add the page to html_sidebars)")
    for rel, page in parsed.items():
        for url in page.remote:
            problems.append(f"{rel}: loads {url} from the network")
        for attr, val in page.refs:
            n_refs += 1
            target, _, frag = val.partition("#")
            target = urllib.parse.unquote(target.split("?", 1)[0])
            if target:
                dest = (pages[rel].parent / target).resolve()
                if dest.is_dir():
                    dest = dest / "index.html"
                if not dest.exists():
                    problems.append(f"{rel}: {attr}={val!r}: no file {target}")
                    continue
                try:
                    dest_rel = dest.relative_to(root.resolve()).as_posix()
                except ValueError:
                    problems.append(f"{rel}: {attr}={val!r} points outside the site")
                    continue
            else:
                dest_rel = rel
            frag = urllib.parse.unquote(frag)
            if frag and dest_rel in parsed and frag not in parsed[dest_rel].ids:
                problems.append(f"{rel}: {attr}={val!r}: no anchor #{frag} in {dest_rel}")
        if not rel.startswith(TEXT_EXEMPT):
            problems += [f"{rel}: {p}" for p in text_problems("".join(page.text))]
            if page.lettered:
                problems.append(f"{rel}: {page.lettered} lettered list(s): a line starting with an "
                                "initial ('E. M. Name') parsed as a list?")
    return problems, len(pages), n_refs


def cli_check(root: Path, spec: str, page: str = "cli.html") -> list[str]:
    """Every sub-command and option of the parser ``module:function`` appears on ``page``."""
    import argparse as _argparse
    import html
    import importlib

    module, _, func = spec.partition(":")
    parser = getattr(importlib.import_module(module), func)()
    path = root / page
    if not path.is_file():
        return [f"{page}: missing (command-line reference)"]
    text = html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))
    words = set(re.findall(r"[\w-]+", text))
    problems = []

    def walk(p, prefix):
        for action in p._actions:
            if isinstance(action, _argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    if name not in words:
                        problems.append(f"{page}: sub-command '{prefix} {name}' not documented")
                    walk(sub, f"{prefix} {name}")
            elif not isinstance(action, _argparse._HelpAction):  # -h is argparse's own
                for opt in action.option_strings:
                    if opt not in words:
                        problems.append(f"{page}: option {opt} of '{prefix}' not documented")

    walk(parser, parser.prog)
    return problems


# --------------------------------------------------------------------------- browser


class _CDP:
    """Minimal Chrome DevTools protocol client over tornado's websocket (a Dask dependency)."""

    def __init__(self, ws):
        self.ws, self.next_id, self.events = ws, 0, []

    async def call(self, method, timeout=60.0, **params):
        self.next_id += 1
        my_id = self.next_id
        await self.ws.write_message(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = await asyncio.wait_for(self.ws.read_message(), timeout)
            if msg is None:
                raise RuntimeError("Chromium closed the DevTools connection")
            data = json.loads(msg)
            if data.get("id") == my_id:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return data.get("result", {})
            self.events.append(data.get("method"))

    async def wait_event(self, name, timeout=60.0):
        deadline = time.monotonic() + timeout
        while name not in self.events:
            msg = await asyncio.wait_for(self.ws.read_message(), max(0.1, deadline - time.monotonic()))
            if msg is None:
                raise RuntimeError("Chromium closed the DevTools connection")
            self.events.append(json.loads(msg).get("method"))
        self.events.clear()


_PAGE_JS = r"""
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  await document.fonts.ready;
  const scroll = [];
  document.querySelectorAll("div.highlight pre, pre").forEach((el) => {
    if (el.scrollWidth > el.clientWidth + 1) {
      scroll.push(el.innerText.split("\n").find((l) => l.length > 0).slice(0, 50));
    }
  });
  return JSON.stringify({
    text: document.body.innerText,
    scroll: scroll,
    height: Math.ceil(document.documentElement.scrollHeight),
  });
})()
"""


def _find_chromium(explicit: str | None) -> str:
    for name in ([explicit] if explicit else []) + ["chromium", "chromium-browser", "google-chrome"]:
        path = shutil.which(name) if name else None
        if path:
            return path
    raise SystemExit("no Chromium found: apt-get install -y chromium (or pass --chromium PATH)")


async def _browse(
    root: Path, shots: Path, chromium: str, width: int, max_height: int, only: str | None = None
) -> list[str]:
    from tornado.websocket import websocket_connect

    profile = tempfile.mkdtemp(prefix="check_site_chromium_")
    proc = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--remote-debugging-port=0", f"--user-data-dir={profile}", f"--window-size={width},900",
         "--allow-file-access-from-files", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    problems = []
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and port_file.read_text().count("\n") >= 1:
                break
            time.sleep(0.1)
        port = port_file.read_text().splitlines()[0]
        req = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
        with urllib.request.urlopen(req) as resp:
            ws_url = json.loads(resp.read())["webSocketDebuggerUrl"]
        cdp = _CDP(await websocket_connect(ws_url, max_message_size=1 << 30))
        await cdp.call("Page.enable")
        await cdp.call("Emulation.setDeviceMetricsOverride", width=width, height=900,
                       deviceScaleFactor=1, mobile=False)
        pages = [p for p in _pages(root) if only is None or only in p.relative_to(root).as_posix()]
        for i, page in enumerate(pages):
            rel = page.relative_to(root).as_posix()
            cdp.events.clear()
            await cdp.call("Page.navigate", url=page.resolve().as_uri())
            await cdp.wait_event("Page.loadEventFired")
            res = await cdp.call("Runtime.evaluate", expression=_PAGE_JS, awaitPromise=True,
                                 returnByValue=True)
            info = json.loads(res["result"]["value"])
            if not rel.startswith(TEXT_EXEMPT):
                problems += [f"{rel} (browser): {p}" for p in text_problems(info["text"])]
            if info["scroll"] and not rel.startswith(NO_SCROLL_EXEMPT):
                for first in info["scroll"]:
                    problems.append(f"{rel} (browser): block scrolls horizontally: {first!r}")
            height = min(info["height"], max_height)
            shot = await cdp.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                                  clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
            out = shots / (rel[: -len(".html")] + ".png")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(base64.b64decode(shot["data"]))
            print(f"[{i + 1}/{len(pages)}] {rel}: {width}x{height} -> {out}", flush=True)
        cdp.ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", nargs="?", default="docs/_build/html", help="built HTML directory")
    ap.add_argument("--screenshots", metavar="DIR", help="open every page in headless Chromium, "
                    "check its rendered text and save a full-page PNG here")
    ap.add_argument("--chromium", help="Chromium executable (default: chromium on PATH)")
    ap.add_argument("--cli", metavar="MODULE:FUNCTION", help="also check that cli.html documents "
                    "every sub-command and option of this argparse parser (e.g. sims.cli:build_parser)")
    ap.add_argument("--width", type=int, default=1280, help="window width in CSS px (default 1280)")
    ap.add_argument("--max-height", type=int, default=20000, help="crop screenshots at this height")
    ap.add_argument("--only", metavar="TEXT", help="screenshots only of pages whose path contains TEXT")
    args = ap.parse_args(argv)
    root = Path(args.site)
    if not (root / "index.html").is_file():
        print(f"check_site: error: {root} has no index.html; build the docs first", file=sys.stderr)
        return 2
    problems, n_pages, n_refs = static_check(root)
    print(f"{n_pages} pages, {n_refs} local links/anchors checked")
    if args.cli:
        problems += cli_check(root, args.cli)
    if args.screenshots:
        shots = Path(args.screenshots)
        shots.mkdir(parents=True, exist_ok=True)
        problems += asyncio.run(
            _browse(root, shots, _find_chromium(args.chromium), args.width, args.max_height, args.only)
        )
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)" if problems else "all checks passed")
    return 1 if problems else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
