"""Local Sphinx extension of the pVAE book (loaded through ``sphinx: local_extensions`` in
``_config.yml``). It fixes three things the reader saw in the HTML book:

* **Author-year bibliography labels.** In-text citations are author-year
  (``bibtex_reference_style: author_year``), but sphinxcontrib-bibtex labels the bibliography
  with its default ``alpha`` style (``[KW13]``). This registers a pybtex label style
  ``author_year`` ("Kingma and Welling, 2013", "Nguyen et al., 2025"; a, b, ... appended when
  two entries would get the same label) and a formatting style ``alpha_author_year`` (the
  ``alpha`` style, sorted by author, year, title, with those labels) - the way the
  sphinxcontrib-bibtex documentation describes for custom label styles. Select it with
  ``bibtex_default_style: alpha_author_year``.
* **Duplicated inline scripts.** Extensions that add body-only scripts after the builder is
  initialised (sphinx-thebe's ``const THEBE_JS_URL = ...``, sphinx-togglebutton's selector)
  end up twice in every page's ``<head>`` with Sphinx 7: ``app.add_js_file(None, body=...)``
  reaches the builder as ``filename=None`` and is added again from the registry as
  ``filename=''`` in ``prepare_writing``, and the two do not compare equal. The second
  ``const`` declaration is a console error ("Identifier 'THEBE_JS_URL' has already been
  declared"). The page's script list is de-duplicated just before it is rendered.
* **Missing self-hosted web assets.** MathJax, RequireJS and the ipywidgets HTML manager are
  served from the build (``.ci/vendor-web-assets`` fetches them from the npm registry into
  ``book/_static/vendor/``) so that the book needs no internet at view time. If a local
  ``mathjax_path`` or ``nb_ipywidgets_js`` file is missing, this warns (an error under
  ``-W``) instead of producing pages with dead math or widgets.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# author-year bibliography labels
# --------------------------------------------------------------------------------------------
def _plain(latex: str) -> str:
    from pybtex.richtext import Text

    try:
        return Text.from_latex(latex).render_as("text")
    except Exception:  # pragma: no cover - malformed LaTeX: show it without braces
        return latex.replace("{", "").replace("}", "")


def _surname(person) -> str:
    return _plain(" ".join(person.prelast_names + person.last_names))


def _names(persons) -> str:
    persons = list(persons)
    others = bool(persons) and str(persons[-1]) == "others"
    if others:
        persons = persons[:-1]
    if not persons:
        return ""
    if len(persons) >= 3 or others:
        return f"{_surname(persons[0])} et al."
    if len(persons) == 2:
        return f"{_surname(persons[0])} and {_surname(persons[1])}"
    return _surname(persons[0])


def _make_styles():
    from pybtex.style.formatting.alpha import Style as AlphaStyle
    from pybtex.style.labels import BaseLabelStyle

    class AuthorYearLabelStyle(BaseLabelStyle):
        """Labels like the in-text author-year citations: "Kingma and Welling, 2013"."""

        def format_label(self, entry) -> str:
            for role in ("author", "editor"):
                if entry.persons.get(role):
                    who = _names(entry.persons[role])
                    break
            else:
                who = _plain(entry.fields.get("organization", entry.fields.get("key", entry.key)))
            year = entry.fields.get("year", "n.d.")
            return f"{who}, {year}"

        def format_labels(self, sorted_entries):
            labels = [self.format_label(entry) for entry in sorted_entries]
            count, seen = Counter(labels), Counter()
            for label in labels:
                if count[label] == 1:
                    yield label
                else:
                    yield label + chr(ord("a") + seen[label])
                    seen[label] += 1

    class AlphaAuthorYearStyle(AlphaStyle):
        default_label_style = "author_year"

    return AuthorYearLabelStyle, AlphaAuthorYearStyle


def _register_bibliography_styles() -> None:
    from pybtex.plugin import find_plugin, register_plugin

    label_style, formatting_style = _make_styles()
    for group, name, cls in (("pybtex.style.labels", "author_year", label_style),
                             ("pybtex.style.formatting", "alpha_author_year", formatting_style)):
        try:
            find_plugin(group, name)
        except Exception:  # not registered yet (pybtex raises PluginNotFound)
            register_plugin(group, name, cls)


# --------------------------------------------------------------------------------------------
# one copy of every script per page
# --------------------------------------------------------------------------------------------
def _script_key(js) -> tuple:
    attributes = getattr(js, "attributes", {}) or {}
    return (getattr(js, "filename", js) or "", tuple(sorted((k, str(v)) for k, v in attributes.items())))


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for js in scripts:
        key = _script_key(js)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


# --------------------------------------------------------------------------------------------
# self-hosted web assets present?
# --------------------------------------------------------------------------------------------
def _static_file(app, relative: str) -> Path | None:
    for folder in app.config.html_static_path:
        candidate = Path(app.confdir, folder, relative)
        if candidate.is_file():
            return candidate
    return None


def _check_web_assets(app) -> None:
    if app.builder.format != "html":
        return
    wanted = []
    mathjax = getattr(app.config, "mathjax_path", "") or ""
    if mathjax and "://" not in mathjax and not mathjax.startswith("/"):
        wanted.append(("mathjax_path", mathjax))
    for src in (getattr(app.config, "nb_ipywidgets_js", None) or {}):
        if "://" not in src and not src.startswith("/"):
            wanted.append(("nb_ipywidgets_js", src))
    for option, relative in wanted:
        if _static_file(app, relative) is None:
            logger.warning(f"[pvae_book_html] {option}: {relative} is not in html_static_path "
                           f"{app.config.html_static_path}; run `bash .ci/setup` (it calls "
                           f".ci/vendor-web-assets) to fetch MathJax and the widget scripts")


def setup(app):
    _register_bibliography_styles()
    app.connect("builder-inited", _check_web_assets)
    # late priority: after myst-nb and the themes have added their page-level scripts
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
