"""Repository hygiene: notebook pairs in sync, dependency lists agree, book configuration."""
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".ci"))

import sync_notebooks  # noqa: E402


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;@]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_every_chapter_has_an_ipynb_in_sync():
    stale = []
    for md in sync_notebooks.chapter_sources():
        ipynb = md.with_suffix(".ipynb")
        expected = sync_notebooks.render(sync_notebooks.expected_notebook(md))
        if not ipynb.exists() or ipynb.read_text(encoding="utf-8") != expected:
            stale.append(ipynb.name)
    assert not stale, f"run `python .ci/sync_notebooks.py`; out of sync: {stale}"


def test_paired_notebooks_are_output_stripped_and_start_with_colab_cell():
    for md in sync_notebooks.chapter_sources():
        nb = sync_notebooks.expected_notebook(md)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code, f"{md.name} has no code cell"
        first = "\n".join(line for line in code[0].source.splitlines() if not line.strip().startswith("#"))
        assert "google.colab" in first and "pvae-lib" in first, f"{md.name}: first code cell must be the Colab install"
        assert "tensorflow" not in first.lower() and "ipywidgets" not in first, f"{md.name} reinstalls TF/widgets"
        assert "--no-deps" in first, f"{md.name}: Colab install must not pull dependencies (TensorFlow)"
        assert "jupytext" in md.read_text(encoding="utf-8")[:200]
        assert "ipynb,md:myst" in md.read_text(encoding="utf-8")[:400]


def test_pyproject_and_environment_agree():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    wanted = {_name(r): r.replace(" ", "") for r in project["dependencies"]}
    assert {"book", "test", "browser"} <= set(project["optional-dependencies"])
    for extra in project["optional-dependencies"]:  # every extra, the browser checks' included
        wanted.update({_name(r): r.replace(" ", "") for r in project["optional-dependencies"][extra]})
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    listed = {_name(r): r.replace(" ", "") for r in pip_section if not r.startswith("-e")}
    assert listed == wanted


def test_book_configuration():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["only_build_toc_files"] is True
    assert "**/*.ipynb" in config["exclude_patterns"] and "_build" in config["exclude_patterns"]
    assert config["execute"]["raise_on_error"] is True
    assert config["execute"]["execute_notebooks"] in ("force", "cache")
    assert config["repository"]["branch"] == "main"
    assert config["launch_buttons"]["colab_url"].startswith("https://colab.research.google.com")
    for bib in config["bibtex_bibfiles"]:
        assert (ROOT / bib).is_file(), bib
    pins = (ROOT / "pyproject.toml").read_text()
    assert '"jupyter-book>=1.0.4,<2"' in pins


def test_book_serves_its_own_web_assets():
    """The HTML book must work without internet: MathJax and the widget scripts come from the
    build (fetched by .ci/vendor-web-assets into the git-ignored book/_static/vendor/), and the
    local extension that de-duplicates scripts and labels the bibliography author-year is loaded."""
    sphinx = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]
    config = sphinx["config"]
    assert "://" not in config["mathjax_path"], "mathjax_path must be served from the build"
    assert config["nb_ipywidgets_js"] and not any("://" in src for src in config["nb_ipywidgets_js"])
    assert config["html_static_path"] == ["book/_static"]
    assert (ROOT / "book" / "_static" / "custom.css").is_file()
    assert "custom.css" in config["html_css_files"]
    assert config["bibtex_default_style"] == "alpha_author_year"
    assert sphinx["local_extensions"] == {"pvae_book_html": "_ext"}
    assert (ROOT / "_ext" / "pvae_book_html.py").is_file()
    assert "vendor-web-assets" in (ROOT / ".ci" / "setup").read_text()
    assert "/book/_static/vendor/" in (ROOT / ".gitignore").read_text()
    # jupyter-book adds every *.js/*.css under <root>/_static to every page: keep MathJax out
    assert not (ROOT / "_static").exists()


def test_toc_lists_existing_files_and_every_chapter():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part["chapters"]]
    for f in files:
        assert (ROOT / f).with_suffix(".md").is_file(), f
    listed = {Path(f).stem for f in files}
    unlisted = [md.name for md in sync_notebooks.chapter_sources() if md.stem not in listed]
    assert not unlisted, f"chapters missing from _toc.yml: {unlisted}"


def test_readme_gives_the_two_commands_and_ci_uses_the_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "jupyter-book build" in readme and "pytest" in readme
    assert "bash .ci/test" in readme and "bash .ci/test" in ci


def test_cli_lists_commands():
    out = subprocess.run([sys.executable, "-m", "pvae_lib", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "permeability" in out.stdout
