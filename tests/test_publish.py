"""Publishing: the GitHub Actions workflow that builds the book and deploys it to GitHub Pages,
and the README's link to the published book (derived from _config.yml's repository.url)."""
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "deploy-book.yml"
sys.path.insert(0, str(ROOT / ".ci"))

import sync_notebooks  # noqa: E402


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _steps(workflow: dict) -> list[tuple[str, dict]]:
    return [(name, step) for name, job in workflow["jobs"].items() for step in job.get("steps", [])]


def _uses(step: dict, action: str) -> bool:
    return step.get("uses", "").split("@")[0] == action


def _readme_build_command() -> str:
    """The command of the README's first ```bash block (its build command)."""
    block = re.search(r"^```bash\n(.*?)^```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S | re.M)
    assert block, "README.md has no ```bash block"
    lines = [line.strip() for line in block[1].splitlines() if line.strip() and not line.strip().startswith("#")]
    assert len(lines) == 1, f"README's first bash block should be one command, got {lines}"
    return lines[0]


def test_workflow_triggers_on_push_to_main():
    workflow = _workflow()
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as True
    assert "main" in triggers["push"]["branches"]


def test_workflow_builds_with_the_readmes_build_command():
    command = _readme_build_command()
    assert command == "bash .ci/build-book"  # what the README promises builds the book
    steps = _steps(_workflow())
    runs = [step["run"].strip() for _, step in steps if "run" in step]
    assert runs == [command], f"the workflow must run exactly the README's build command, runs {runs}"
    assert any(_uses(step, "actions/checkout") for _, step in steps)
    assert any(_uses(step, "actions/setup-python") for _, step in steps)


def test_workflow_python_meets_requires_python():
    wanted = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = tuple(int(p) for p in re.fullmatch(r">=\s*(\d+\.\d+)", wanted)[1].split("."))
    setup = next(step for _, step in _steps(_workflow()) if _uses(step, "actions/setup-python"))
    version = tuple(int(p) for p in str(setup["with"]["python-version"]).split(".")[:2])
    assert version >= minimum


def test_workflow_uploads_build_html_after_the_build_and_deploys_to_pages():
    workflow = _workflow()
    jobs = workflow["jobs"]
    build_job = next(name for name, job in jobs.items() if any("run" in s for s in job.get("steps", [])))
    steps = jobs[build_job]["steps"]
    build = next(i for i, s in enumerate(steps) if "run" in s)
    upload = next(i for i, s in enumerate(steps) if _uses(s, "actions/upload-pages-artifact"))
    assert build < upload
    assert str(steps[upload]["with"]["path"]).strip("./") == "_build/html"

    deploy_job = next(name for name, job in jobs.items()
                      if any(_uses(s, "actions/deploy-pages") for s in job.get("steps", [])))
    assert build_job in ([jobs[deploy_job]["needs"]] if isinstance(jobs[deploy_job]["needs"], str)
                         else jobs[deploy_job]["needs"])
    assert jobs[deploy_job]["environment"]["name"] == "github-pages"
    permissions = {**workflow.get("permissions", {}), **jobs[deploy_job].get("permissions", {})}
    assert permissions.get("pages") == "write" and permissions.get("id-token") == "write"
    assert workflow["concurrency"]["group"]


@pytest.mark.parametrize("url, pages", [
    ("https://github.com/pvae-book/pvae-book", "https://pvae-book.github.io/pvae-book/"),
    ("https://github.com/Example-Org/My.Book/", "https://example-org.github.io/My.Book/"),
    ("https://github.com/example/example.github.io", "https://example.github.io/"),
])
def test_pages_url_is_derived_from_the_repository_url(url, pages):
    assert sync_notebooks.pages_url(url) == pages


def test_readme_links_the_published_book():
    url, _ = sync_notebooks.repository()
    published = sync_notebooks.pages_url(url)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"https?://[A-Za-z0-9-]+\.github\.io/[^\s)>\]`'\"]*", readme)
    assert links, "README.md does not link the published book"
    assert set(links) == {published}, f"README links {sorted(set(links))}, _config.yml's repository gives {published}"
