"""What the reader sees: checks of the built book, run after the build (`pytest -m book`;
`.ci/test` does this after `.ci/build-book`). They look at `_build/` of this repository (or of
the book folder named by ``PVAE_BOOK_DIR``); the pages are the root and chapters of `_toc.yml`.

1. **Figures** (``test_figure_cells_have_images``, one case per jupytext chapter). In the
   executed notebook ``_build/jupyter_execute/book/<name>.ipynb`` every *figure cell* has an
   ``image/png`` or ``image/svg+xml`` output, and at least as many as the cell has top-level
   ``plt.show()`` lines (each one flushes a figure). A code cell is a figure cell when its
   source, comments and ``def`` lines removed, calls ``plt.show(``, ``plt.subplots(``,
   ``plt.figure(`` or a ``plot_*(`` helper (the inline backend shows every figure a cell leaves
   open). Cells tagged ``remove-output``/``remove-cell`` (not shown) or ``no-figure`` (a
   figure drawn only to be saved) are exempt. The page then shows each of those images: the
   chapter's HTML has at least as many ``<img>`` in cell outputs as the notebook has image
   outputs in shown cells. Also no output shows the text form of a figure or widget
   (``<Figure size 500x300 with 1 Axes>``, ``VBox(children=...)``): the signs of a figure that
   never rendered (the Agg backend) and of a widget without saved state.
2. **Static HTML** (``test_page_html``, one case per page), parsed with BeautifulSoup:
   no raw TeX or Markdown in text outside ``<code>``, ``<pre>``, ``.math``, ``mjx-container``,
   ``<script>``, ``<style>`` (TeX commands like ``\\frac``, ``\\(``; ``$...$`` with TeX in it;
   ``$$``; ``**bold**``; ``[text](url)``; backtick code; MyST roles ``{cite}`` / ``{ref}`` and
   directives); no ``??``; no unresolved references (``.xref`` outside a link, empty
   citations ``[]``, links to a missing page or anchor); no tracebacks or stderr/error output
   blocks anywhere (``<pre>`` included); every ``<img>`` points at a non-empty file; no script,
   stylesheet, image or frame loaded from another host (links to GitHub, Colab, DOIs are fine).
3. **Browser** (``test_page_in_browser``, one case per page): each page is served from
   127.0.0.1 and opened in headless Chromium (Playwright). Requests leaving 127.0.0.1 are
   aborted and reported, as are console errors, uncaught exceptions, failed requests and HTTP
   errors - except the entries of ``ALLOW`` below. Every ``<img>`` must load with a non-zero
   ``naturalWidth``; pages with math must have MathJax output (``mjx-container``) for every
   ``.math`` element, no MathJax errors (``mjx-merror``) and no raw ``$$``, ``\\(``, ``\\[`` or
   ``$...$`` left in visible text; every saved ipywidget view must render; tables in outputs
   must have cell padding; math wider than its box must sit in a horizontally scrollable box
   (``overflow-x: auto``), not be cut off; tables, in the text and in cell outputs, must fit
   their column; the page must not be wider than the window. A full-page screenshot goes to
   ``_build/screenshots/<page>.png``.
4. **kernel-free sliders** (``test_jshtml_slider_changes_frame``; slerp path, inverse designs):
   moving the ``to_jshtml`` slider (range input, then the "Next frame" button) changes the shown
   frame.
5. **Bibliography** (``test_bibliography_labels_are_author_year``): labels like the in-text
   author-year citations ("Kingma and Welling, 2013"), not alpha keys ("KW13").
"""
from __future__ import annotations

import base64
import json
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
import yaml

from _browser import VIEWPORT, PageWatch, book_dir, chromium, static_server

pytestmark = pytest.mark.book

BOOK = book_dir()
BUILD = BOOK / "_build"
HTML = BUILD / "html"
EXECUTED = BUILD / "jupyter_execute"
SCREENSHOTS = BUILD / "screenshots"

# Browser problems that are not defects of the book: (kind, regex, why). Kinds: console,
# pageerror, requestfailed, http, external (see _browser.PageWatch). Keep this short.
ALLOW: list[tuple[str, str, str]] = [
]

IMAGE_MIMES = ("image/png", "image/svg+xml", "image/jpeg", "image/gif")


# --------------------------------------------------------------------------------------------
# pages and chapters
# --------------------------------------------------------------------------------------------
def _toc_files() -> list[str]:
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part["chapters"]]
    files += [c["file"] for c in toc.get("chapters", [])]
    return files


def _is_notebook(file: str) -> bool:
    text = (BOOK / file).with_suffix(".md").read_text(encoding="utf-8")
    return text.startswith("---") and "jupytext:" in text[:400]


PAGES = _toc_files()
CHAPTERS = [f for f in PAGES if _is_notebook(f)]


def _html_path(file: str) -> Path:
    return HTML / f"{file}.html"


@lru_cache(maxsize=None)
def _soup(path: Path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _need(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"{path} missing: build the book first (bash .ci/build-book)", pytrace=False)
    return path


def _short(text: str, n: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


# --------------------------------------------------------------------------------------------
# 1. figures in the executed notebooks
# --------------------------------------------------------------------------------------------
FIGURE_CALL = re.compile(r"\bplt\.(?:show|subplots|figure)\(|(?<![\w.])(?:\w+\.)*plot_\w+\(")
TOP_LEVEL_SHOW = re.compile(r"^plt\.show\(\)", re.M)
HIDDEN_TAGS = {"remove-output", "remove-cell"}  # outputs not on the page
NO_FIGURE_TAG = "no-figure"  # a cell that draws a figure only to save it
# Text forms of objects that should have been displayed (or not shown at all): a figure that never
# rendered (Agg backend), an IPython display object, a widget without saved state, matplotlib
# return values left as a cell's last expression ("[<matplotlib.lines.Line2D at 0x...>]").
TEXT_REPRS = re.compile(
    r"<Figure size [\d.]+x[\d.]+ with \d+ Axes>|<IPython\.core\.display\.\w+ object>"
    r"|<matplotlib\.[\w.]+ (?:object )?at 0x[0-9a-f]+>|^Text\([-\d.e]+, [-\d.e]+, '"
    r"|\b(?:VBox|HBox|Output|IntSlider|FloatSlider)\(children=|\b(?:IntSlider|FloatSlider|Output)\((?:value|layout|outputs)=",
    re.M,
)


def _code(source: str) -> str:
    lines = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or stripped.startswith("def "):
            continue
        lines.append(line.split(" #")[0])
    return "\n".join(lines)


def _cell_images(cell) -> int:
    return sum(1 for o in cell.get("outputs", []) for m in o.get("data", {}) if m in IMAGE_MIMES)


def _text_outputs(cell) -> str:
    parts = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            parts.append("".join(o.get("text", "")))
        for mime in ("text/plain", "text/html"):
            if mime in o.get("data", {}) and not any(m in o["data"] for m in IMAGE_MIMES):
                if mime == "text/plain" and ("application/vnd.jupyter.widget-view+json" in o["data"]
                                            or "text/html" in o["data"]):
                    continue  # the page shows the widget / HTML, not this text
                parts.append("".join(o["data"][mime]))
    return "\n".join(parts)


def _executed_notebook(path: Path) -> dict:
    """The executed notebook. myst-nb 1.4 writes ``jupyter_execute/*.ipynb`` *without* outputs
    when it takes a chapter from the execution cache; then the outputs come from that cache
    (``_build/.jupyter_cache``), matched the way myst-nb matches them."""
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    if any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"):
        return nb
    cache_dir = BUILD / ".jupyter_cache"
    if cache_dir.is_dir():
        import nbformat
        from jupyter_cache import get_cache

        try:
            _, merged = get_cache(str(cache_dir)).merge_match_into_notebook(nbformat.reads(text, as_version=4))
            return json.loads(nbformat.writes(merged))
        except KeyError:
            pass
    return nb


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[Path(c).name for c in CHAPTERS])
def test_figure_cells_have_images(chapter):
    nb = _executed_notebook(_need(EXECUTED / f"{chapter}.ipynb"))
    problems, shown_images = [], 0
    for index, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_TAGS:
            continue
        source = "".join(cell["source"])
        code = _code(source)
        images = _cell_images(cell)
        shown_images += images
        first = _short(source.strip().splitlines()[0] if source.strip() else "", 70)
        if FIGURE_CALL.search(code) and NO_FIGURE_TAG not in tags:
            wanted = max(1, len(TOP_LEVEL_SHOW.findall(code)))
            if images < wanted:
                problems.append(f"code cell {index} ({first!r}): {images} image output(s), "
                                f"want >= {wanted}")
        for match in TEXT_REPRS.finditer(_text_outputs(cell)):
            problems.append(f"code cell {index} ({first!r}) shows {match.group(0)!r} instead of the object")
    html = _need(_html_path(chapter))
    page_images = len(_soup(html).select(".cell_output img"))
    if page_images < shown_images:
        problems.append(f"{html.relative_to(BUILD)} shows {page_images} output images, the notebook has {shown_images}")
    assert not problems, f"{chapter}:\n  " + "\n  ".join(problems)


# --------------------------------------------------------------------------------------------
# 2. static HTML
# --------------------------------------------------------------------------------------------
SKIP_TAGS = {"script", "style", "code", "pre", "kbd", "samp", "textarea", "svg", "math",
             "mjx-container", "noscript", "template", "head", "title"}
SKIP_CLASSES = {"math", "highlight", "MathJax", "MathJax_Preview"}

RAW_PATTERNS = [
    ("raw TeX command", re.compile(r"\\(?:[A-Za-z]{2,}|[()\[\]{},;!])")),
    ("unrendered $$", re.compile(r"\$\$")),
    ("unrendered Markdown bold", re.compile(r"\*\*[^*\n]+\*\*|(?<!\w)__[^_\n]+__(?!\w)")),
    ("unrendered Markdown link", re.compile(r"\[[^\]\n]+\]\([^)\s]+\)")),
    ("unrendered inline code", re.compile(r"`[^`\n]+`")),
    ("unrendered MyST role", re.compile(
        r"\{(?:cite|ref|doc|numref|eq|math|term|download|abbr|sub|sup|glue)(?::[\w-]+)*\}|\{[a-z][\w:-]*\}`")),
    ("unrendered MyST directive", re.compile(r"(?:```|:::)\s*\{[\w:-]+\}")),
    ("unresolved reference ??", re.compile(r"\?\?")),
]
INLINE_DOLLAR = re.compile(r"(?<![\\$])\$([^$\n]{1,200}?)\$(?!\$)")
TRACEBACK = re.compile(r"Traceback \(most recent call last\)")


def _skipped(tag) -> bool:
    for parent in [tag, *tag.parents]:
        name = getattr(parent, "name", None)
        if name in SKIP_TAGS:
            return True
        classes = set(parent.get("class", []) or []) if hasattr(parent, "get") else set()
        if classes & SKIP_CLASSES:
            return True
    return False


def _prose_texts(soup):
    body = soup.body or soup
    for node in body.find_all(string=True):
        if node.parent is None or type(node).__name__ in ("Comment", "Doctype", "Declaration"):
            continue
        if not node.strip() or _skipped(node.parent):
            continue
        yield node


def raw_markup_problems(soup) -> list[str]:
    found = []
    # whole text blocks, so that `$a$` split over several text nodes is still seen
    for node in _prose_texts(soup):
        text = str(node)
        for name, pattern in RAW_PATTERNS:
            for m in pattern.finditer(text):
                found.append(f"{name}: {m.group(0)!r} in {_short(text)!r}")
        for m in INLINE_DOLLAR.finditer(text):
            inner = m.group(1)
            if re.search(r"[\\^_{}]", inner) or re.fullmatch(r"\s*[A-Za-z]\s*", inner):
                found.append(f"unrendered $...$ math: {m.group(0)!r} in {_short(text)!r}")
    return found


def _anchors(path: Path) -> set[str]:
    return {t["id"] for t in _soup(path).find_all(id=True)} | {t["name"] for t in _soup(path).find_all(attrs={"name": True})}


def reference_problems(soup, page: Path) -> list[str]:
    found = []
    for x in soup.select(".xref"):
        if x.find_parent("a") is None:
            found.append(f"unresolved reference: {_short(x.get_text())!r} ({' '.join(x.get('class', []))})")
    for cite in soup.select(".bibtex-citation"):
        if re.fullmatch(r"\[\s*\]", cite.get_text(strip=True)):
            found.append("unresolved citation: empty [] citation")
    for a in soup.select("article a[href]"):
        href = a["href"]
        if urlsplit(href).scheme or href.startswith(("mailto:", "//")):
            continue
        target, anchor = urldefrag(href)
        target_path = (page.parent / unquote(target)).resolve() if target else page
        if target and not target_path.exists():
            found.append(f"link to a missing file: {href}")
        elif anchor and target_path.suffix == ".html" and unquote(anchor) not in _anchors(target_path):
            found.append(f"link to a missing anchor: {href}")
    return found


def output_problems(soup) -> list[str]:
    found = []
    for block in soup.select(".output.stderr, .output.traceback, .output.error, div.stderr"):
        found.append(f"stderr/error output block: {_short(block.get_text())!r}")
    body = soup.body or soup
    for node in body.find_all(string=TRACEBACK):
        if node.parent and node.parent.name not in ("script", "style"):
            found.append(f"traceback/error text: {_short(node)!r}")
    for node in body.find_all(string=TEXT_REPRS):
        if node.parent and node.parent.name not in ("script", "style"):
            found.append(f"text form of a figure/widget instead of the object: {_short(node)!r}")
    return found


def asset_problems(soup, page: Path) -> list[str]:
    found = []
    for tag, attr in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"),
                      ("source", "src"), ("video", "src"), ("audio", "src"), ("embed", "src")):
        for el in soup.find_all(tag):
            url = el.get(attr)
            if not url or (tag == "link" and "stylesheet" not in (el.get("rel") or [])
                           and el.get("as") not in ("script", "style", "font")):
                continue
            if urlsplit(url).scheme in ("http", "https") or url.startswith("//"):
                found.append(f"<{tag}> loads from another host: {url}")
    for img in soup.find_all("img"):
        src = img.get("src", "")
        if src.startswith("data:"):
            payload = src.split(",", 1)[-1]
            try:
                ok = len(base64.b64decode(payload)) > 0 if ";base64" in src.split(",", 1)[0] else bool(payload)
            except ValueError:
                ok = False
            if not ok:
                found.append(f"<img> with an empty data URI (alt={img.get('alt')!r})")
        elif src and not urlsplit(src).scheme:
            file = (page.parent / unquote(urldefrag(src)[0].split("?")[0])).resolve()
            if not file.is_file() or file.stat().st_size == 0:
                found.append(f"<img> source missing or empty: {src}")
        elif not src and not img.find_parent(class_="animation"):  # to_jshtml frames: set by JS
            found.append("<img> without src")
    return found


@pytest.mark.parametrize("file", PAGES, ids=PAGES)
def test_page_html(file):
    page = _need(_html_path(file))
    soup = _soup(page)
    problems = (raw_markup_problems(soup) + reference_problems(soup, page)
                + output_problems(soup) + asset_problems(soup, page))
    assert not problems, f"{page.relative_to(BUILD)}:\n  " + "\n  ".join(problems)


def test_index_redirects_to_the_first_page():
    index = _need(HTML / "index.html")
    refresh = _soup(index).find("meta", attrs={"http-equiv": re.compile("refresh", re.I)})
    assert refresh is not None and f"{PAGES[0]}.html" in refresh.get("content", ""), "index.html does not redirect"


def test_bibliography_labels_are_author_year():
    pages = [p for p in PAGES if _soup(_need(_html_path(p))).select(".citation .label")]
    assert pages, "no page has a bibliography"
    bad = []
    for p in pages:
        for label in _soup(_html_path(p)).select(".citation .label"):
            text = label.get_text(strip=True).strip("[]")
            if not re.fullmatch(r"\S.*, (?:\d{4}|n\.d\.)[a-z]?", text):
                bad.append(f"{p}: [{text}]")
    assert not bad, "bibliography labels are not author-year: " + ", ".join(bad[:10])


# --------------------------------------------------------------------------------------------
# 3. browser
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site():
    _need(HTML / "index.html")
    with static_server(HTML) as base_url, chromium() as browser:
        yield base_url, browser


WAIT_FOR_MATHJAX = """async () => {
  const mj = window.MathJax;
  if (!mj || !mj.startup || !mj.startup.promise) return false;
  await mj.startup.promise;
  return true;
}"""

LOAD_IMAGES = """async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(img => { img.loading = 'eager'; });
  await Promise.all(imgs.map(img => img.complete ? null :
      new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done);
                            setTimeout(done, 15000); })));
  return imgs.filter(img => !(img.complete && img.naturalWidth > 0))
             .map(img => (img.currentSrc || img.src || '(no src)').slice(0, 120) + ' alt=' + JSON.stringify(img.alt));
}"""

WIDGETS_RENDERED = """() => Array.from(document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]'))
  .every(s => s.parentElement.querySelector('.jupyter-widgets'))"""

PAGE_FACTS = r"""() => {
  const skip = 'pre, code, script, style, textarea, mjx-container, .math, .MathJax, noscript, svg';
  const visible = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const pattern = /\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|(?<![\\$])\$[^$\n]{0,200}?[\\^_{}][^$\n]{0,200}?\$/g;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip) || !visible(el)) continue;
    const text = n.textContent;
    let m;
    while ((m = pattern.exec(text)) !== null)
      raw.push(m[0] + '  in  ' + text.trim().replace(/\s+/g, ' ').slice(0, 140));
  }
  const mathElems = Array.from(document.querySelectorAll('span.math, div.math'));
  const unrendered = mathElems.filter(el => !el.querySelector('mjx-container'))
                              .map(el => el.textContent.trim().slice(0, 100));
  const merrors = Array.from(document.querySelectorAll('mjx-merror'))
                       .map(el => (el.getAttribute('data-mjx-error') || el.textContent).slice(0, 100));
  const tables = Array.from(document.querySelectorAll('.cell_output table'));
  const unpadded = tables.filter(t => Array.from(t.querySelectorAll('td, th')).some(cell => {
    const cs = getComputedStyle(cell);
    return parseFloat(cs.paddingLeft) + parseFloat(cs.paddingRight) < 6;
  })).length;
  // rendered math (mjx-math) wider than a box around it: fine if the first such box scrolls
  // horizontally, cut off if it hides its overflow (or the math spills out of the page)
  const cutEquations = Array.from(document.querySelectorAll('mjx-container')).filter(m => {
    const math = m.querySelector('mjx-math') || m;
    if (!visible(math)) return false;
    const r = math.getBoundingClientRect();
    for (let el = m; el && el !== document.documentElement; el = el.parentElement) {
      const b = el.getBoundingClientRect(), cs = getComputedStyle(el);
      if (cs.display === 'inline' || (r.left >= b.left - 1 && r.right <= b.right + 1)) continue;
      return !(cs.overflowX === 'auto' || cs.overflowX === 'scroll');
    }
    return false;
  }).map(m => {
    const tex = m.parentElement.querySelector('script[type^="math/tex"]');
    const mml = m.querySelector('mjx-assistive-mml');
    return ((tex && tex.textContent) || (mml && mml.textContent) || m.textContent || '').trim().slice(0, 80);
  });
  // tables written in the text (not cell outputs, which scroll by design) fit the text column
  const wideTables = Array.from(document.querySelectorAll('article table'))
      .filter(t => !t.closest('.cell_output') && visible(t) && t.scrollWidth > t.parentElement.clientWidth + 2)
      .map(t => `${t.scrollWidth} px > ${t.parentElement.clientWidth} px: ` +
                (t.querySelector('th, td') || t).textContent.trim().slice(0, 60));
  // tables in cell outputs (pandas) fit their output too: their column names wrap (custom.css),
  // and a reader should not have to scroll sideways to see a table's last columns
  const wideOutputTables = Array.from(document.querySelectorAll('article .cell_output table'))
      .filter(t => visible(t) && t.scrollWidth > t.closest('.cell_output').clientWidth + 2)
      .map(t => `${t.scrollWidth} px > ${t.closest('.cell_output').clientWidth} px: ` +
                Array.from(t.querySelectorAll('thead th')).map(h => h.textContent.trim()).filter(Boolean)
                  .join(' | ').slice(0, 80));
  const widgetErrors = Array.from(document.querySelectorAll('.jupyter-widgets'))
      .filter(w => /Error displaying widget|model not found|Could not create/i.test(w.textContent))
      .map(w => w.textContent.trim().slice(0, 120));
  return {
    raw, unrendered, merrors, unpadded, cutEquations, widgetErrors, wideTables, wideOutputTables,
    mathCount: mathElems.length,
    mjx: document.querySelectorAll('mjx-container').length,
    widgetViews: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
    pageWidth: document.documentElement.scrollWidth,
    windowWidth: window.innerWidth,
  };
}"""


def _open(browser, base_url: str, path: str):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    watch = PageWatch(page, base_url, allow=[(k, rx) for k, rx, _why in ALLOW])
    page.goto(base_url + path, wait_until="load", timeout=60_000)
    return context, page, watch


@pytest.mark.parametrize("file", PAGES, ids=PAGES)
def test_page_in_browser(site, file):
    base_url, browser = site
    _need(_html_path(file))
    context, page, watch = _open(browser, base_url, f"{file}.html")
    problems = []
    try:
        has_mathjax = page.evaluate(WAIT_FOR_MATHJAX)
        if page.evaluate(WIDGETS_RENDERED) is False:
            try:
                page.wait_for_function(WIDGETS_RENDERED, timeout=20_000)
            except Exception:
                problems.append("ipywidgets: saved widget views did not render (dead widgets)")
        broken_images = page.evaluate(LOAD_IMAGES)
        page.wait_for_timeout(300)  # late console messages
        facts = page.evaluate(PAGE_FACTS)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{Path(file).name}.png"), full_page=True)
    finally:
        context.close()
    problems += watch.problems
    problems += [f"image not loaded / zero size: {b}" for b in broken_images]
    if facts["mathCount"] and not has_mathjax:
        problems.append(f"{facts['mathCount']} math elements but MathJax did not start")
    if facts["mathCount"] and not facts["mjx"]:
        problems.append("math on the page but no mjx-container: MathJax rendered nothing")
    problems += [f"math not rendered by MathJax: {u!r}" for u in facts["unrendered"]]
    problems += [f"MathJax error: {e!r}" for e in facts["merrors"]]
    problems += [f"raw TeX visible: {r!r}" for r in facts["raw"]]
    if facts["unpadded"]:
        problems.append(f"{facts['unpadded']} output table(s) without cell padding")
    problems += [f"equation cut off (wider than its box, no horizontal scroll): {e!r}" for e in facts["cutEquations"]]
    problems += [f"widget error: {w!r}" for w in facts["widgetErrors"]]
    problems += [f"table in the text wider than the column (its right side is cut off): {t}"
                 for t in facts["wideTables"]]
    problems += [f"output table wider than its cell (the reader must scroll sideways; shorter column names "
                 f"or fewer columns per table): {t}" for t in facts["wideOutputTables"]]
    if facts["pageWidth"] > facts["windowWidth"] + 2:
        problems.append(f"page wider than the window: {facts['pageWidth']} px > {facts['windowWidth']} px")
    assert not problems, f"{file}.html:\n  " + "\n  ".join(dict.fromkeys(problems))


SLERP = "book/slerp"
#: pages with a kernel-free slider: the slerp path and the inverse designs of precomputed targets
SLIDER_PAGES = [SLERP, "book/inverse_design"]


@pytest.mark.parametrize("chapter", SLIDER_PAGES)
def test_jshtml_slider_changes_frame(site, chapter):
    if chapter not in PAGES:
        pytest.skip(f"no {chapter} chapter")
    base_url, browser = site
    _need(_html_path(chapter))
    context, page, watch = _open(browser, base_url, f"{chapter}.html")
    try:
        slider = page.locator("input.anim-slider[type=range]")
        assert slider.count() >= 1, f"{chapter} page: no to_jshtml animation slider"
        slider = slider.first
        animation = slider.locator("xpath=ancestor::div[contains(@class,'animation')][1]")
        image = animation.locator("img").first
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(),
                               timeout=15_000)
        first_src = image.get_attribute("src")
        last = int(slider.get_attribute("max"))
        assert last >= 2, f"slider has {last + 1} frames"
        target = last // 2
        slider.evaluate("(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input', {bubbles: true}));"
                        " el.dispatchEvent(new Event('change', {bubbles: true})); }", target)
        mid_src = image.get_attribute("src")
        assert mid_src != first_src, "moving the slider did not change the frame"
        animation.locator("button[title='Next frame']").click()
        assert image.get_attribute("src") not in (mid_src, None), "'Next frame' did not change the frame"
        assert int(slider.input_value()) == target + 1, "slider did not follow 'Next frame'"
        assert image.evaluate("img => img.naturalWidth") > 0
    finally:
        context.close()
