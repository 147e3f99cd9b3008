"""Repository hygiene: notebook pairs in sync, dependency lists agree, book configuration, the
repository's address written once."""
import ast
import os
import re
import shutil
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
        assert 'os.environ.get("PVAE_INSTALL", repo)' in first, f"{md.name}: no $PVAE_INSTALL source (test_colab)"
        assert "jupytext" in md.read_text(encoding="utf-8")[:200]
        assert "ipynb,md:myst" in md.read_text(encoding="utf-8")[:400]


# github.com/OWNER/REPO, git@github.com:OWNER/REPO, raw.githubusercontent.com/OWNER/REPO
_GITHUB_REPO = re.compile(r"(?:github\.com[/:]|raw\.githubusercontent\.com/)([A-Za-z0-9-]+)/([A-Za-z0-9_.-]+)")
_GITHUB_PAGES = re.compile(r"([A-Za-z0-9-]+)\.github\.io/([A-Za-z0-9_.-]*)")
#: Other repositories that may be named: (file, owner/repo). A citation is not our address.
_THIRD_PARTY = {("book/references.bib", "fchollet/keras")}
#: Owners of placeholder and example addresses (OWNER/REPO in the docs, the tests' examples).
_EXAMPLE_OWNERS = {"owner", "example", "example-org"}
_SKIP_DIRS = {".git", ".venv", "venv", "_build", "__pycache__", ".pytest_cache", ".jupyter_cache"}


def _repository_files() -> list[str]:
    """Files of the checkout: what git tracks or would track (git-ignored files such as the
    vendored web assets are not ours), else every file outside the build and environments."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, check=True).stdout.decode()
        return sorted({f for f in out.split("\0") if f and (ROOT / f).is_file()})
    except (OSError, subprocess.CalledProcessError):
        files = []
        for folder, dirs, names in os.walk(ROOT):
            dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.endswith(".egg-info")]
            files += [str((Path(folder) / n).relative_to(ROOT)) for n in names]
        return sorted(f for f in files if not f.startswith("book/_static/vendor/"))


def _repo_id(owner: str, repo: str) -> str:
    repo = repo.rstrip(".")
    return f"{owner}/{repo.removesuffix('.git')}".lower()


def test_repository_address_is_written_once():
    """_config.yml's repository.url is the only address of this repository: every GitHub
    repository (or Pages site) named anywhere in the tree is that one, or a listed third party."""
    url, _ = sync_notebooks.repository()
    owner, repo = sync_notebooks.GITHUB_URL.fullmatch(url).group("owner", "repo")
    ours = _repo_id(owner, repo)
    pages = sync_notebooks.pages_url(url).removeprefix("https://").rstrip("/").lower()
    foreign = []
    for name in _repository_files():
        text = (ROOT / name).read_bytes().decode("utf-8", errors="ignore")
        for match in _GITHUB_REPO.finditer(text):
            found = _repo_id(*match.groups())
            if found != ours and match[1].lower() not in _EXAMPLE_OWNERS and (name, found) not in _THIRD_PARTY:
                foreign.append(f"{name}: {match[0]}")
        for match in _GITHUB_PAGES.finditer(text):
            site = match[0].rstrip("/.").lower()
            if site != pages and match[1].lower() not in _EXAMPLE_OWNERS:
                foreign.append(f"{name}: {match[0]}")
    assert not foreign, f"GitHub addresses other than _config.yml's {url}: {foreign}"


def test_copies_of_the_repository_address_follow_the_config():
    url, branch = sync_notebooks.repository()
    import pvae_lib

    assert pvae_lib.REPOSITORY_URL == url
    stale = [str(p.relative_to(ROOT)) for p, text in sync_notebooks.repository_copies().items()
             if p.read_text(encoding="utf-8") != text]
    assert not stale, f"run `python .ci/sync_notebooks.py`; not _config.yml's repository: {stale}"
    requirement = f"pvae-lib @ git+{url}@{branch}"
    for md in sync_notebooks.chapter_sources():
        first = next(c for c in sync_notebooks.expected_notebook(md).cells if c.cell_type == "code")
        assert f'repo = "{requirement}"' in first.source, md.name


def test_colab_cell_installs_every_dependency_colab_lacks():
    """The install cell's ``extras`` are pyproject.toml's dependencies minus what Colab provides,
    in pyproject's order and with its version bounds; nothing Colab provides is reinstalled."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    provided = set(sync_notebooks.COLAB_PROVIDES)
    assert {"tensorflow", "keras", "ipywidgets", "numpy"} <= provided
    assert provided <= {_name(r) for r in deps}, "COLAB_PROVIDES names a package pvae-lib does not need"
    wanted = [r.replace(" ", "") for r in deps if _name(r) not in provided]
    assert wanted and sync_notebooks.colab_extras() == wanted
    for md in sync_notebooks.chapter_sources():
        first = next(c for c in sync_notebooks.expected_notebook(md).cells if c.cell_type == "code")
        assigned = [ast.literal_eval(node.value) for node in ast.walk(ast.parse(first.source))
                    if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["extras"]]
        assert assigned == [wanted], md.name


def test_sync_writes_the_configs_repository_into_every_copy(tmp_path):
    chapter = sync_notebooks.chapter_sources()[0]
    (tmp_path / "book").mkdir()
    (tmp_path / "pvae_lib").mkdir()
    for name in ("_config.yml", "pyproject.toml", "CONTRIBUTING.md", "pvae_lib/__init__.py", f"book/{chapter.name}"):
        shutil.copy(ROOT / name, tmp_path / name)
    config = tmp_path / "_config.yml"
    old_url, old_branch = sync_notebooks.repository()
    config.write_text(config.read_text().replace(f"url: {old_url}", "url: https://github.com/example/forked-book")
                      .replace(f"branch: {old_branch}", "branch: trunk"))
    assert sync_notebooks.repository(tmp_path) == ("https://github.com/example/forked-book", "trunk")
    copies = sync_notebooks.repository_copies(tmp_path)
    assert set(copies) == {tmp_path / "CONTRIBUTING.md", tmp_path / "pvae_lib/__init__.py",
                           tmp_path / "book" / chapter.name}
    for path, text in copies.items():
        assert old_url not in text, path
    assert 'REPOSITORY_URL = "https://github.com/example/forked-book"' in copies[tmp_path / "pvae_lib/__init__.py"]
    for path in (tmp_path / "CONTRIBUTING.md", tmp_path / "book" / chapter.name):
        assert 'repo = "pvae-lib @ git+https://github.com/example/forked-book@trunk"' in copies[path]
        # only the install line changes
        assert len(copies[path].splitlines()) == len(path.read_text().splitlines())
    nb = sync_notebooks.expected_notebook(tmp_path / "book" / chapter.name)  # the paired .ipynb
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "git+https://github.com/example/forked-book@trunk" in first.source


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


def _layout_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Repository layout", 1)[1].split("\n## ", 1)[0]


def test_readme_layout_describes_every_folder_and_names_real_modules():
    """The layout table lists every tracked top-level folder; the paper map names modules that exist."""
    import importlib.util

    layout = _layout_section()
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    folders = {p.split("/", 1)[0] for p in tracked if "/" in p}
    missing = sorted(f for f in folders if f"`{f}/" not in layout)
    assert not missing, f"README's layout section does not describe {missing}"
    for row in re.findall(r"^\| (?!paper|---|folder)(.+)$", layout, re.M):
        cells = [c.strip() for c in row.rstrip("|").split("|")]
        for module in re.findall(r"`(pvae_lib(?:\.\w+)*)`", cells[1] if len(cells) > 1 else ""):
            assert importlib.util.find_spec(module) is not None, f"README names {module}, which does not exist"


def test_public_api_imports_plainly_without_tensorflow():
    """``pvae_lib`` and its packages import their API plainly, without TensorFlow."""
    code = ("import sys, pvae_lib, pvae_lib.data, pvae_lib.design, pvae_lib.binarize, pvae_lib.models\n"
            "import pvae_lib.experiments\n"
            "missing = [n for m in (pvae_lib, pvae_lib.design, pvae_lib.binarize, pvae_lib.models, pvae_lib.data,\n"
            "                       pvae_lib.experiments)\n"
            "           for n in m.__all__ if not hasattr(m, n)]\n"
            "assert not missing, missing\n"
            "assert 'tensorflow' not in sys.modules, 'importing the API started TensorFlow'\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]


#: the library's layers, lowest first: a module imports only from its own layer or lower ones
#: (modules at the top of ``pvae_lib`` - profiles, cache, fileio, plotting, ... - sit outside the ranks)
LAYERS = {"images": 0, "lbm": 1, "stokes2d": 1, "data": 2, "models": 3, "design": 4, "experiments": 5, "cli": 6}


def _pvae_imports(path: Path) -> set:
    """The ``pvae_lib`` sub-packages and top-level modules that the module at ``path`` imports."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    package = parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            target = (package[:len(package) - node.level + 1] if node.level else []) + (node.module or "").split(".")
            target = [t for t in target if t]
            if target[:1] == ["pvae_lib"]:
                found |= {target[1]} if len(target) > 1 else {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("pvae_lib.")}
    return found


def test_layers_import_only_downwards():
    """cli -> experiments -> design -> models -> data -> lbm / stokes2d -> images: nothing imports upwards,
    and only the command line and the experiments themselves use the experiments layer."""
    upward = []
    for path in sorted((ROOT / "pvae_lib").rglob("*.py")):
        rel = path.relative_to(ROOT / "pvae_lib").parts
        layer = rel[0] if len(rel) > 1 else path.stem
        for target in _pvae_imports(path) - {layer}:
            if layer in LAYERS and target in LAYERS and LAYERS[target] > LAYERS[layer]:
                upward.append(f"{'/'.join(rel)} imports pvae_lib.{target}")
            elif layer not in LAYERS and target in ("experiments", "cli") and layer != "__main__":
                upward.append(f"{'/'.join(rel)} imports pvae_lib.{target}")
    assert not upward, upward
