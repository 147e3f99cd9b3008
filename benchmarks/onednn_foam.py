"""Training-step time of the foam pVAE with oneDNN's graph rewrites on and off (why the foam chapter sets PVAE_ONEDNN=1).

    python benchmarks/onednn_foam.py [--profile quick] [--steps 10] [--out _build/benchmarks/onednn_foam_quick.json]

TensorFlow reads oneDNN's switch once, when it starts, so each setting runs in a fresh Python
process (``--child on|off``). Each builds the profile's foam pVAE (:func:`pvae_lib.profiles.foam_pvae_section`:
latent size, base filters, batch size) for 32³ sub-volumes, compiles it with Adam, runs 2
warm-up steps (tracing, excluded) and then ``--steps`` training steps on random binary batches
(the time does not depend on the voxel values), and reports the median seconds per step and per
sample. The parent prints both and their ratio and writes JSON atomically. The thread count
follows :mod:`pvae_lib.runtime` (``PVAE_THREADS``). Timings are measured, never asserted in tests;
run it on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

EDGE = 32  # the quick profile's sub-volume edge (voxels)


def _child(profile_name: str | None, steps: int) -> dict:
    import numpy as np

    import pvae_lib  # noqa: F401  (sets threads and oneDNN before TensorFlow starts)
    import keras

    from pvae_lib.models.pvae import build_pvae
    from pvae_lib.profiles import foam_pvae_section, get_profile
    from pvae_lib.runtime import runtime_summary

    runtime = runtime_summary()
    want = "1" if os.environ.get("PVAE_ONEDNN") == "1" else "0"
    if runtime.get("onednn") != want:  # before any work: a run under the wrong setting times nothing useful
        raise SystemExit(f"oneDNN is {runtime.get('onednn')!r}, not {want!r}: TF_ENABLE_ONEDNN_OPTS was set")
    profile = get_profile(profile_name)
    sec = foam_pvae_section(profile)
    model = build_pvae((EDGE, EDGE, EDGE), latent_dim=sec.latent_dim, base_filters=sec.base_filters,
                       n_properties=4, beta=sec.beta, lam=sec.lam, seed=profile.seed,
                       regressor_units=sec.regressor_units, regressor_output=sec.regressor_output)
    model.compile(optimizer=keras.optimizers.Adam(sec.learning_rate))
    rng = np.random.default_rng(profile.seed)
    x = (rng.random((sec.batch_size, EDGE, EDGE, EDGE, 1)) < 0.8).astype("float32")
    y = rng.random((sec.batch_size, 4)).astype("float32")
    times = []
    for i in range(steps + 2):
        t0 = time.perf_counter()
        model.train_on_batch(x, y)
        if i >= 2:
            times.append(time.perf_counter() - t0)
    step = float(np.median(times))
    return {"onednn": runtime.get("onednn"), "threads": runtime.get("intra_op_threads"),
            "batch_size": sec.batch_size, "latent_dim": sec.latent_dim, "base_filters": sec.base_filters,
            "edge": EDGE, "steps": steps, "s_per_step": step, "ms_per_sample": 1e3 * step / sec.batch_size}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, help="quick or paper (default: $PVAE_PROFILE or quick)")
    parser.add_argument("--steps", type=int, default=10, help="timed training steps per setting (default 10)")
    parser.add_argument("--out", default=None, help="JSON file (default: _build/benchmarks/onednn_foam_<profile>.json)")
    parser.add_argument("--child", choices=("on", "off"), default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps {args.steps}: give at least 1")
    if args.child:
        print("RESULT " + json.dumps(_child(args.profile, args.steps)), flush=True)
        return 0
    from pvae_lib.fileio import write_json_atomic
    from pvae_lib.profiles import get_profile
    from pvae_lib.results import build_dir

    profile = get_profile(args.profile)  # checks --profile before the expensive runs
    out = Path(args.out) if args.out else build_dir() / "benchmarks" / f"onednn_foam_{profile.name}.json"
    rows = {}
    for setting in ("on", "off"):
        env = dict(os.environ, PVAE_ONEDNN="1" if setting == "on" else "0")
        env.pop("TF_ENABLE_ONEDNN_OPTS", None)  # set by this process's pvae_lib; the child sets its own
        cmd = [sys.executable, __file__, "--child", setting, "--steps", str(args.steps)]
        if args.profile:
            cmd += ["--profile", args.profile]
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")]
        if r.returncode != 0 or not lines:
            print(r.stderr[-3000:], file=sys.stderr)
            print(f"the oneDNN-{setting} run failed (exit {r.returncode})", file=sys.stderr)
            return 1
        rows[setting] = json.loads(lines[-1][len("RESULT "):])
        print(f"oneDNN {setting:>3}: {rows[setting]['s_per_step']:.3f} s per step of {rows[setting]['batch_size']}, "
              f"{rows[setting]['ms_per_sample']:.0f} ms per sample", flush=True)
    ratio = rows["off"]["s_per_step"] / rows["on"]["s_per_step"]
    print(f"off / on: {ratio:.1f}")
    write_json_atomic(out, {"profile": profile.name, "on": rows["on"], "off": rows["off"], "off_over_on": ratio,
                            "command": "python benchmarks/onednn_foam.py" + (f" --profile {args.profile}"
                                                                              if args.profile else "")})
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
