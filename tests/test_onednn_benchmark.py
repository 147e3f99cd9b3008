"""``benchmarks/onednn_foam.py`` refuses bad input before it starts any TensorFlow process."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_zero_steps_is_refused_without_a_traceback(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "onednn_foam.py"), "--steps", "0",
                        "--out", str(tmp_path / "o.json")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--steps 0" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "o.json").exists()
