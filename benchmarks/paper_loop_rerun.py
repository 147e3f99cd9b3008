"""How far the paper loop's first batch moves under other arithmetic, and under a changed loop.

    python benchmarks/paper_loop_rerun.py                 # every variant (~15 min on 2 cores)
    python benchmarks/paper_loop_rerun.py --only nudge_1  # one of them

The inverse-design chapter runs the first batch of the stored paper loop again and compares it
with the stored rows (:func:`pvae_lib.experiments.paper_loop.reproduce_first_batch`). On the
machine that made it the rerun is bit for bit; on another CPU the last bits differ, and the loop
carries them on. This script measures what :func:`~pvae_lib.experiments.paper_loop.compare_rerun`
reports for reruns whose arithmetic differs on purpose - a nudge of every start by one unit in
the last place (three seeds), 1 thread instead of 2 (``PVAE_THREADS=1``), oneDNN's widest kernels
(``PVAE_CPU_ISA=ALL``, with and without ``PVAE_ONEDNN=1``) - and for loops that are *not* the
stored one (learning rate 5 % up and down), so that the bounds ``LOSS_MEDIAN_RTOL`` and ``MAX_T``
can be set between the two. The arithmetic variants run in their own processes, since the
runtime settings apply before TensorFlow starts.

Writes ``--out`` (default ``_build/paper_loop_rerun_<profile>.json``; one row per variant,
written after each) and prints each row as a JSON line.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

#: variants in their own process: name -> environment
ENV_VARIANTS = {"threads_1": {"PVAE_THREADS": "1"}, "isa_all": {"PVAE_CPU_ISA": "ALL"},
                "onednn_isa_all": {"PVAE_ONEDNN": "1", "PVAE_CPU_ISA": "ALL"}}
#: variants in this process: name -> (nudge seed or None, learning-rate factor)
IN_PROCESS = {"as_is": (None, 1.0), "nudge_1": (1, 1.0), "nudge_2": (2, 1.0), "nudge_3": (3, 1.0),
              "learning_rate_x1.05": (None, 1.05), "learning_rate_x0.95": (None, 0.95)}


def _setup(profile):
    """The chapter's model, starts and stored loop (shipped models; the study from the build's cache)."""
    from pvae_lib.data.datasets import load_synthetic_dataset
    from pvae_lib.experiments.inverse import run_inverse_study
    from pvae_lib.experiments.zoo import get_trained_cnn, get_trained_pvae

    data = load_synthetic_dataset(profile, progress=False)
    model = get_trained_pvae(profile, properties=("n", "k11"))
    cnn = get_trained_cnn(profile)
    train = np.column_stack([data.porosity, data.k11])
    study = run_inverse_study(model, data.images, train, cnn=cnn, profile=profile, progress=False)
    return model, study


def run_variant(profile, name: str) -> dict:
    """One in-process variant: the first batch rerun from (nudged) starts with a (scaled) learning rate."""
    from pvae_lib.experiments import paper_loop as pl

    seed, lr_factor = IN_PROCESS[name]
    model, study = _setup(profile)
    start_z = np.asarray(study.start_z, np.float32)
    if seed is not None:  # every coordinate one ulp up or down
        rng = np.random.default_rng(seed)
        toward = np.where(rng.random(start_z.shape) < 0.5, np.float32(-np.inf), np.float32(np.inf))
        start_z = np.nextafter(start_z, toward.astype(np.float32))
    design = dataclasses.replace(profile.design, loop_learning_rate=profile.design.loop_learning_rate * lr_factor)
    t0 = time.perf_counter()
    out = pl.reproduce_first_batch(model, start_z, study.targets, dataclasses.replace(profile, design=design),
                                   study.paper_loop)
    out.pop("checks")
    return {"variant": name, "seconds": time.perf_counter() - t0, **out}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, help="quick or paper (default: $PVAE_PROFILE or quick)")
    names = [*IN_PROCESS, *ENV_VARIANTS]
    parser.add_argument("--only", choices=names, default=None, help="run one variant (default: all)")
    parser.add_argument("--out", default=None, help="table to write (default: _build/paper_loop_rerun_<profile>.json)")
    args = parser.parse_args(argv)
    import pvae_lib
    from pvae_lib.fileio import write_json_atomic
    from pvae_lib.experiments.shipped import profile_or_none

    profile = profile_or_none(args.profile)
    if profile is None:
        return 2
    if args.only is not None:  # a single variant (also how the environment variants run)
        print(json.dumps(run_variant(profile, args.only if args.only in IN_PROCESS else "as_is")), flush=True)
        return 0
    out = Path(args.out or Path("_build") / f"paper_loop_rerun_{profile.name}.json")
    rows = []
    for name in names:
        env = {**os.environ, "PVAE_PROFILE": profile.name, **ENV_VARIANTS.get(name, {})}
        cmd = [sys.executable, __file__, "--only", name if name in IN_PROCESS else "as_is"]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
        if done.returncode != 0 or not lines:
            print(f"variant {name} failed (exit {done.returncode}):\n{done.stderr[-2000:]}", file=sys.stderr)
            return 1
        row = {**json.loads(lines[-1]), "variant": name, "environment": ENV_VARIANTS.get(name, {})}
        rows.append(row)
        print(json.dumps(row), flush=True)
        write_json_atomic(out, {"profile": profile.name, "runtime": pvae_lib.runtime_summary(), "rows": rows})
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
