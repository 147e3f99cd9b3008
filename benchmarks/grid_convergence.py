"""Grid convergence of the permeability labels, with lbmpy as an independent peer LBM.

    python benchmarks/grid_convergence.py [--cases sphere_array sphere_pack square_pores foam]
        [--max-level 3] [--peer] [--out pvae_lib/data/shipped/grid_convergence.csv]

Every structure is computed at several resolutions; ``level`` is the resolution factor
relative to the base image (1 = base, 2 = every voxel edge halved, ...):

* ``refinement = rasterised``: the analytic geometry drawn again at ``level`` times the base
  resolution (simple cubic sphere array, c = 0.125, base 16³; periodic random sphere pack,
  porosity 0.55, radii 3/40-6/40 of the box, base 20³; Voronoi foam, strain 0, base 32³ =
  the foam sub-volume size of the quick profile, levels 1, 1.5, 2).
* ``refinement = split``: the base voxel image with every voxel split into ``level**d``
  voxels (:func:`pvae_lib.convergence.refine`) -- the same staircase geometry.

Solvers: ``lbm`` (``pvae_lib.lbm.permeability``, D3Q19 TRT Lambda = 3/16, Guo force, periodic,
tau = 1.5, tolerance 1e-7), ``lbmpy`` (the same scheme in lbmpy, ``--peer``, optional extra
``peer``) and ``stokes2d`` (exact duct flow of the extruded square-pore pattern).
The body force is ``1e-5 / level**3`` (column ``force``, l.u.): at a fixed force the velocity
in lattice units grows like ``level**2`` and the Reynolds number like ``level**3``, so fine
grids would leave Stokes flow (the 16³ sphere array at level 6 reaches Re of about 4, and
inertia lowers K by tenths of a percent); scaling the force keeps the same physical flow
(Re about 0.02) at every level.
``K`` is along x (array axis 0) in units of the BASE voxel edge squared (a value computed on a
grid ``level`` times finer is divided by ``level**2``); ``throat_voxels`` is the percolation
throat width (:func:`pvae_lib.convergence.throat_width`) in voxels of that grid.

Rows are merged into ``--out`` (same structure/refinement/solver/level replaced) and the file is
rewritten atomically after every case, so an interrupted run keeps what it finished.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pvae_lib.convergence import (
    random_spheres,
    rasterize_spheres,
    refine,
    sphere_array,
    throat_width,
    to_coarse_units,
)
from pvae_lib.fileio import write_text_atomic
from pvae_lib.lbm import LBMConfig, permeability
from pvae_lib.stokes2d import stokes2d_permeability

ROOT = Path(__file__).resolve().parents[1]
CONFIG = LBMConfig(tau=1.5, tolerance=1e-7, max_steps=200_000)
BASE_FORCE = 1e-5  # l.u., at level 1


def config_for(level: float) -> LBMConfig:
    """The study's LBM configuration at ``level``: the same Reynolds number at every level."""
    from dataclasses import replace

    return replace(CONFIG, force=BASE_FORCE / float(level) ** 3)
SEED = 2025
KEY = ["structure", "refinement", "solver", "level"]


def sphere_pack_spec(seed: int = SEED):
    """The random sphere pack of the study (unit box): centres, radii."""
    return random_spheres(0.55, (3.0 / 40, 6.0 / 40), rng=seed)


def square_pore_pattern(seed: int = SEED) -> np.ndarray:
    """One quick-profile synthetic pattern: 40² pixels, 4-px square pores (True = pore)."""
    from pvae_lib.data.synthetic import generate_synthetic

    return generate_synthetic(1, 40, 4, 10, 40, rng=seed)[0]


def foam_image(level: float, seed: int = SEED) -> np.ndarray:
    """Unstrained Voronoi foam, 32³ at level 1 (cell size 16 voxels), drawn at ``32 * level``."""
    from pvae_lib.data.foam import FoamConfig, generate_foams

    size = int(round(32 * level))
    return generate_foams(FoamConfig(size=size, cell_size=16.0 * level), strains=(0.0,), rng=seed)[0].image


def images(structure: str, refinement: str, level: float):
    """The image of one case (3-D, or the 2-D pattern for square pores)."""
    if structure == "sphere_array":
        base = 16
        return sphere_array(int(base * level), 0.125) if refinement == "rasterised" else refine(sphere_array(base), level)
    if structure == "sphere_pack":
        centres, radii = sphere_pack_spec()
        if refinement == "rasterised":
            return rasterize_spheres(int(20 * level), centres, radii)
        return refine(rasterize_spheres(20, centres, radii), level)
    if structure == "square_pores":
        return refine(square_pore_pattern(), level)
    if structure == "foam":
        return foam_image(level) if refinement == "rasterised" else refine(foam_image(1), level)
    raise ValueError(structure)


def plan(cases, max_level: int, peer: bool, levels=None):
    """(structure, refinement, solver, level) tuples, cheapest first within a structure.

    ``levels`` (sphere array and pack): these resolution factors instead of 1..``max_level``.
    """
    levels = [k for k in (1, 2, 3, 4) if k <= max_level] if levels is None else list(levels)
    out = []
    for s in cases:
        if s == "square_pores":
            out += [(s, "split", "stokes2d", k) for k in (1, 2, 3, 4, 6, 8)]
            out += [(s, "split", "lbm", k) for k in levels]
            out += [(s, "split", "lbmpy", k) for k in levels if peer]
        elif s == "foam":
            foam_levels = [k for k in (1, 1.5, 2, 3) if k <= max_level]
            out += [(s, "rasterised", "lbm", k) for k in foam_levels]
            out += [(s, "split", "lbm", k) for k in (1, 2, 3) if k <= max_level]
            out += [(s, "rasterised", "lbmpy", k) for k in (1, 1.5, 2) if peer]
        else:
            for refinement in ("rasterised", "split"):
                out += [(s, refinement, "lbm", k) for k in levels]
            out += [(s, "rasterised", "lbmpy", k) for k in levels if peer]
    return out


def run_case(structure, refinement, solver, level) -> dict:
    img = images(structure, refinement, level)
    t0 = time.perf_counter()
    row = dict(structure=structure, refinement=refinement, solver=solver, level=float(level),
               n=int(img.shape[-1]), porosity=float(img.mean()))
    if structure == "square_pores":
        row["throat_voxels"] = _square_throat(img)
        if solver == "stokes2d":
            K, steps, raw = stokes2d_permeability(img), 0, np.nan
        else:
            slab = np.broadcast_to(img, (2, *img.shape)).copy()
            K, steps, raw = _lbm(slab, solver, level)
    else:
        row["throat_voxels"] = throat_width(img, axis=0)
        K, steps, raw = _lbm(img, solver, level)
    row["force"] = config_for(level).force if solver != "stokes2d" else np.nan
    row.update(K=to_coarse_units(K, level), steps=steps, seconds=time.perf_counter() - t0,
               K_lbmpy_uncorrected=to_coarse_units(raw, level))
    return row


def _square_throat(pattern) -> float:
    """Extruded pattern: the flow runs along the pores, whose narrowest width is the throat."""
    from scipy import ndimage

    pad = max(pattern.shape)
    dist = ndimage.distance_transform_edt(np.pad(pattern, pad, mode="wrap"))[pad:-pad, pad:-pad]
    labels, n = ndimage.label(pattern)
    # each duct's width: twice its largest inscribed distance; the narrowest duct is the throat
    return float(2.0 * min(ndimage.maximum(dist, labels, index=np.arange(1, n + 1))))


def _lbm(img, solver, level):
    config = config_for(level)
    if solver == "lbm":
        res = permeability(img, 0, config)
        if not res.converged:
            raise RuntimeError(f"LBM run did not converge in {config.max_steps} steps")
        return res.K, res.steps, np.nan
    from pvae_lib.lbm.peer import lbmpy_permeability

    res = lbmpy_permeability(img, 0, config)
    if not res["converged"]:
        raise RuntimeError("lbmpy run did not converge")
    return res["K"], res["steps"], res["K_uncorrected"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["sphere_array", "square_pores", "sphere_pack", "foam"])
    parser.add_argument("--max-level", type=int, default=3, help="finest resolution factor (4 where the budget allows)")
    parser.add_argument("--peer", action="store_true", help="also run lbmpy (pip install 'pvae-lib[peer]')")
    parser.add_argument("--only-solver", default=None, help="run only this solver (lbm, lbmpy, stokes2d)")
    parser.add_argument("--only-refinement", default=None, choices=("rasterised", "split"),
                        help="run only this refinement")
    parser.add_argument("--levels", type=int, nargs="+", default=None,
                        help="sphere array / pack: run these levels instead of 1..--max-level (e.g. --levels 5 6)")
    parser.add_argument("--out", default=str(ROOT / "pvae_lib" / "data" / "shipped" / "grid_convergence.csv"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    table = pd.read_csv(out) if out.exists() else pd.DataFrame(columns=KEY)
    todo = [c for c in plan(args.cases, args.max_level, args.peer, args.levels)
            if args.only_solver in (None, c[2]) and args.only_refinement in (None, c[1])]
    for i, case in enumerate(todo, 1):
        row = run_case(*case)
        print(f"[{i}/{len(todo)}] {row['structure']:>12} {row['refinement']:>10} {row['solver']:>8} "
              f"level {row['level']:<4} n = {row['n']:>3}: K = {row['K']:.6g} (base l.u.), "
              f"throat {row['throat_voxels']:.1f} vox, {row['steps']} steps, {row['seconds']:.1f} s", flush=True)
        same = np.ones(len(table), dtype=bool)
        for k in KEY:
            same &= table[k].astype(str).to_numpy() == str(row[k]) if len(table) else same
        table = pd.concat([table[~same], pd.DataFrame([row])], ignore_index=True)
        table = table.sort_values(KEY, kind="stable").reset_index(drop=True)
        write_text_atomic(out, table.to_csv(index=False, float_format="%.8g"))
    print("wrote", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
