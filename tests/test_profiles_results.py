"""Profiles switch sizes; results are recorded atomically as numbers."""
import json

import numpy as np
import pytest

from pvae_lib.fileio import atomic_path, write_json_atomic
from pvae_lib.profiles import get_profile
from pvae_lib.results import artifacts_dir, read_results, record_results


def test_default_profile_is_quick(monkeypatch):
    monkeypatch.delenv("PVAE_PROFILE", raising=False)
    assert get_profile().name == "quick"
    monkeypatch.setenv("PVAE_PROFILE", "paper")
    paper = get_profile()
    assert paper.name == "paper"
    assert paper.data.synthetic_image_size == 100 and paper.data.synthetic_pore_size == 10
    assert paper.pvae.latent_dim == 250


def test_unknown_profile():
    with pytest.raises(ValueError, match="unknown profile"):
        get_profile("huge")


def test_quick_profile_keeps_the_paper_pore_ratio():
    quick, paper = get_profile("quick"), get_profile("paper")
    ratio = lambda p: p.data.synthetic_pore_size / p.data.synthetic_image_size  # noqa: E731
    assert ratio(quick) == pytest.approx(ratio(paper))


def test_record_results_merges(tmp_path):
    path = tmp_path / "results.json"
    record_results("darcy", path=path, error=np.float32(0.5), steps=np.int64(3))
    record_results("darcy", path=path, mlups=40.0)
    record_results("other", path=path, r2=0.99)
    data = json.loads(path.read_text())
    assert data == {"darcy": {"error": 0.5, "steps": 3, "mlups": 40.0}, "other": {"r2": 0.99}}
    assert read_results(path) == data


def test_record_results_rejects_nan(tmp_path):
    with pytest.raises(ValueError, match="finite"):
        record_results("x", path=tmp_path / "r.json", bad=float("nan"))


def test_atomic_write_keeps_old_file_on_error(tmp_path):
    path = tmp_path / "a.json"
    write_json_atomic(path, {"v": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("interrupted")
    assert json.loads(path.read_text()) == {"v": 1}
    assert list(tmp_path.iterdir()) == [path]


def test_artifacts_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PVAE_ARTIFACTS", str(tmp_path))
    folder = artifacts_dir("quick", "models")
    assert folder == tmp_path / "quick" / "models" and folder.is_dir()
