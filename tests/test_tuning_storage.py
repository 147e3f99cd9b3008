"""Optuna studies in storage: resumable after a kill, several worker processes on one study."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from pvae_lib.models.tuning import open_study, run_study  # noqa: E402

HERE = Path(__file__).parent


def quadratic(run_dir, spec):
    """A cheap objective (importable by worker processes): records which process ran a trial."""
    def objective(trial):
        x = trial.suggest_float("x", -2.0, 2.0)
        trial.set_user_attr("pid", os.getpid())
        time.sleep(float(spec.get("sleep", 0.0)))
        return (x - 0.5) ** 2

    return objective


def _spec(n_trials, sleep=0.0):
    return {"objective": "test_tuning_storage:quadratic", "seed": 3, "n_trials": n_trials, "sleep": sleep}


@pytest.fixture(autouse=True)
def importable_tests(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))


def _complete(study):
    return [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]


def test_two_worker_processes_share_one_study(tmp_path):
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = run_study(tmp_path, _spec(8, sleep=0.2), study_name="q", storage=storage, workers=2)
    done = _complete(study)
    assert len(done) >= 8
    assert len({t.user_attrs["pid"] for t in done}) == 2  # this process and one worker process
    assert len({t.params["x"] for t in done}) == len(done)  # the workers' samplers are seeded apart


def test_study_resumes_after_a_kill(tmp_path):
    from pvae_lib.fileio import write_json_atomic

    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    run_study(tmp_path, _spec(3), study_name="q", storage=storage)
    assert len(_complete(open_study("q", storage))) == 3
    write_json_atomic(tmp_path / "study.json", _spec(9, sleep=0.5))
    proc = subprocess.Popen([sys.executable, "-m", "pvae_lib.models.tuning", str(tmp_path), "q", storage, "1"])
    deadline = time.time() + 60
    while len(_complete(open_study("q", storage))) < 5 and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)  # killed in the middle of the study
    proc.wait()
    killed = len(_complete(open_study("q", storage)))
    assert 5 <= killed < 9
    study = run_study(tmp_path, _spec(9), study_name="q", storage=storage)
    assert len(_complete(study)) == 9  # resumed: only the missing trials ran
    assert len({t.params["x"] for t in _complete(study)}) == 9
