"""Helpers for the checks of what the reader sees (tests marked ``book``).

* :func:`book_dir` - the book under test: this repository, or the folder named by
  ``PVAE_BOOK_DIR`` (a copy with its own ``_toc.yml``, chapters and ``_build``, e.g. in /tmp).
* :func:`static_server` - serves a folder on 127.0.0.1 (free port) from a thread.
* :func:`chromium` - headless Chromium (the Debian package, ``/usr/bin/chromium`` or
  ``PVAE_CHROMIUM``) driven by Playwright. Playwright's own browser downloads are never used.
* :class:`PageWatch` - records what a page does wrong: console errors, uncaught exceptions,
  failed requests, HTTP errors, and every request that leaves 127.0.0.1 (those are aborted:
  the book must work without internet, and CI has none).

Missing Playwright or Chromium fails the tests with the command that installs them
(``bash .ci/setup``); set ``PVAE_SKIP_BROWSER=1`` to skip the browser tests instead.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHROMIUM = os.environ.get("PVAE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}


def book_dir() -> Path:
    return Path(os.environ.get("PVAE_BOOK_DIR", ROOT)).resolve()


def require_browser():
    """Return ``playwright.sync_api.sync_playwright`` or fail/skip with what to install."""
    why = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
        why = "Playwright for Python is not installed (the `browser` extra: bash .ci/setup)"
    if sync_playwright is not None and not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
        why = f"Chromium not found at {CHROMIUM} (bash .ci/setup installs the Debian package `chromium`)"
    if why:
        if os.environ.get("PVAE_SKIP_BROWSER") == "1":
            pytest.skip(why)
        pytest.fail(why + "; or set PVAE_SKIP_BROWSER=1 to skip the browser checks", pytrace=False)
    return sync_playwright


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no access log on stderr
        pass

    def handle(self):
        with contextlib.suppress(ConnectionError):  # the browser may abort a request
            super().handle()


@contextlib.contextmanager
def static_server(directory: Path):
    """Serve ``directory`` on 127.0.0.1; yields the base URL (ending in ``/``)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium():
    sync_playwright = require_browser()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageWatch:
    """Attach to a Playwright page; collects the problems in ``problems``.

    ``allow`` is a list of ``(kind, regex)`` pairs: a problem of that kind whose text matches
    the regex is not reported (kinds: console, pageerror, requestfailed, http, external).
    """

    page: object
    base_url: str
    allow: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    external: list = field(default_factory=list)

    def __post_init__(self):
        host = urlsplit(self.base_url).netloc
        page = self.page

        def route(r):
            url = r.request.url
            if urlsplit(url).netloc == host or url.startswith(("data:", "blob:")):
                r.continue_()
            else:
                self.external.append(url)
                self._add("external", f"request outside the book: {url}")
                r.abort()

        page.route("**/*", route)
        page.on("console", lambda m: m.type == "error" and self._add("console", m.text))
        page.on("pageerror", lambda e: self._add("pageerror", str(e)))
        page.on("requestfailed", lambda r: r.url not in self.external
                and self._add("requestfailed", f"{r.url}: {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and self._add("http", f"HTTP {r.status} {r.url}"))

    def _add(self, kind: str, text: str):
        for allowed_kind, pattern in self.allow:
            if allowed_kind == kind and re.search(pattern, text):
                return
        self.problems.append(f"{kind}: {text}")
