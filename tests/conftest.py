import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# pvae_lib before any test module imports keras or tensorflow: its runtime settings (threads, oneDNN,
# instruction set) apply only then, and a test's numbers must not depend on which tests were selected
import pvae_lib  # noqa: E402,F401
