"""Property tables in the authors' CSV format: ``case, n_F, ..., Permeability_x, _y, _z``.

One row per sample. ``case`` is the sample's index in the dataset's image array, ``n_F`` its
porosity (paper Eq. 1, dimensionless) and ``Permeability_x|y|z`` the diagonal intrinsic
permeabilities K11, K22, K33 in lattice units (l.u., pixel spacing squared), x = array axis 0.
A full-tensor table (``pvae label --tensor``) adds the off-diagonal components
``Permeability_xy|xz|yz`` (K12, K13, K23 of the symmetric tensor, may be negative) and
``K_asymmetry``, the largest ``|K_ij - K_ji|`` of the unsymmetrised tensor relative to its
largest diagonal component (a measure of the solver's error). Extra columns (e.g. ``strain``, ``n_pores``) are kept as they are.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..fileio import write_text_atomic

__all__ = [
    "CASE",
    "POROSITY",
    "PERMEABILITY_COLUMNS",
    "OFF_DIAGONAL_COLUMNS",
    "ASYMMETRY",
    "PATTERN_PROPERTIES",
    "VOLUME_PROPERTIES",
    "Property",
    "PROPERTIES",
    "property_values",
    "permeability_column",
    "read_properties",
    "write_properties",
    "validate_properties",
]

CASE = "case"
POROSITY = "n_F"
PERMEABILITY_COLUMNS = ("Permeability_x", "Permeability_y", "Permeability_z")
#: Off-diagonal components K12, K13, K23 of a full-tensor table (symmetric part, l.u.²; any sign).
OFF_DIAGONAL_COLUMNS = ("Permeability_xy", "Permeability_xz", "Permeability_yz")
#: Relative asymmetry of the unsymmetrised tensor of a full-tensor table (dimensionless).
ASYMMETRY = "K_asymmetry"


@dataclass(frozen=True)
class Property:
    """One material property, named the same in every layer.

    Attributes
    ----------
    name : the name used by models, design, CLI and results (``"n"``, ``"k11"``, ...)
    column : its column in the authors' CSV (``"n_F"``, ``"Permeability_x"``, ...)
    symbol : its symbol in figures (matplotlib TeX)
    unit : its unit (``""`` for dimensionless; ``"l.u.²"``: lattice units, voxel spacing squared)
    """

    name: str
    column: str
    symbol: str
    unit: str

    @property
    def label(self) -> str:
        """Axis label: symbol and unit, e.g. ``$K_{11}$ (l.u.²)``."""
        return f"{self.symbol} ({self.unit})" if self.unit else self.symbol


#: The properties of the book, by name: porosity (paper Eq. 1) and the diagonal intrinsic
#: permeabilities K11, K22, K33 for flow along array axes 0, 1, 2, and the off-diagonal
#: components K12, K13, K23 of a full-tensor table.
PROPERTIES = {p.name: p for p in (
    Property("n", POROSITY, "$n^F$", ""),
    Property("k11", PERMEABILITY_COLUMNS[0], "$K_{11}$", "l.u.²"),
    Property("k22", PERMEABILITY_COLUMNS[1], "$K_{22}$", "l.u.²"),
    Property("k33", PERMEABILITY_COLUMNS[2], "$K_{33}$", "l.u.²"),
    Property("k12", OFF_DIAGONAL_COLUMNS[0], "$K_{12}$", "l.u.²"),
    Property("k13", OFF_DIAGONAL_COLUMNS[1], "$K_{13}$", "l.u.²"),
    Property("k23", OFF_DIAGONAL_COLUMNS[2], "$K_{23}$", "l.u.²"),
)}

#: what the models of extruded 2-D patterns are mapped to (the synthetic set: the paper's (n, K11))
PATTERN_PROPERTIES = ("n", "k11")
#: what the models of 3-D samples are mapped to (the foam study: a permeability per axis)
VOLUME_PROPERTIES = ("n", "k11", "k22", "k33")


def property_values(table: pd.DataFrame, names=("n", "k11")) -> np.ndarray:
    """``(N, P)`` float array of the properties ``names`` (see :data:`PROPERTIES`) from a property table.

    Raises ``ValueError`` naming an unknown property or a column the table lacks.
    """
    names = (names,) if isinstance(names, str) else tuple(names)
    unknown = [n for n in names if n not in PROPERTIES]
    if unknown:
        raise ValueError(f"unknown properties {unknown}; known: {list(PROPERTIES)}")
    missing = [PROPERTIES[n].column for n in names if PROPERTIES[n].column not in table.columns]
    if missing:
        raise ValueError(f"the property table has no column(s) {missing} (columns: {list(table.columns)})")
    return table[[PROPERTIES[n].column for n in names]].to_numpy(dtype=float)


def permeability_column(axis: int) -> str:
    """Column name of the permeability for flow along array ``axis`` (0 -> ``Permeability_x``)."""
    return PERMEABILITY_COLUMNS[int(axis)]


def _row_name(df: pd.DataFrame, i: int) -> str:
    case = df[CASE].iloc[i] if CASE in df.columns else None
    return f"row {i + 1} (case {case})" if case is not None else f"row {i + 1}"


def validate_properties(
    table: pd.DataFrame,
    *,
    n_images: int | None = None,
    images=None,
    porosity_tol: float = 1e-6,
    source: str = "properties",
) -> pd.DataFrame:
    """Check a property table and return it (``case`` as int, sorted by ``case``).

    Checks: columns ``case`` and ``n_F`` exist; no NaN/Inf in ``n_F`` or permeability
    columns (off-diagonal ones included); ``0 < n_F < 1``; diagonal permeabilities ``>= 0``; ``case`` unique integers; with
    ``n_images``, every case lies in ``[0, n_images)``; with ``images`` (array-like indexed
    by case, ``True`` = pore), each row's ``n_F`` equals the image's porosity within
    ``porosity_tol``.

    Raises
    ------
    ValueError
        Naming the first offending row (1-based data row and its case) and column.
    """
    df = table.copy()
    for column in (CASE, POROSITY):
        if column not in df.columns:
            raise ValueError(f"{source}: missing column {column!r} (columns: {list(df.columns)})")
    signed = [c for c in (*OFF_DIAGONAL_COLUMNS, ASYMMETRY) if c in df.columns]
    numeric = [POROSITY, *[c for c in PERMEABILITY_COLUMNS if c in df.columns]]
    for column in numeric + signed:
        values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ValueError(f"{source}: {_row_name(df, bad[0])}: {column} is {df[column].iloc[bad[0]]!r} (NaN, Inf or not a number)")
        df[column] = values
    n_f = df[POROSITY].to_numpy()
    bad = np.flatnonzero((n_f <= 0) | (n_f >= 1))
    if bad.size:
        raise ValueError(f"{source}: {_row_name(df, bad[0])}: porosity n_F = {n_f[bad[0]]} is outside (0, 1)")
    for column in numeric[1:]:
        bad = np.flatnonzero(df[column].to_numpy() < 0)
        if bad.size:
            raise ValueError(f"{source}: {_row_name(df, bad[0])}: {column} = {df[column].iloc[bad[0]]} is negative")
    case = pd.to_numeric(df[CASE], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(case) | (case != np.round(case)))
    if bad.size:
        raise ValueError(f"{source}: row {bad[0] + 1}: case {df[CASE].iloc[bad[0]]!r} is not an integer sample index")
    df[CASE] = case.astype(np.int64)
    dup = df[CASE].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValueError(f"{source}: {_row_name(df, i)}: case appears twice")
    if images is not None and n_images is None:
        n_images = len(images)
    if n_images is not None:
        bad = np.flatnonzero((df[CASE] < 0) | (df[CASE] >= n_images))
        if bad.size:
            raise ValueError(
                f"{source}: {_row_name(df, bad[0])}: no such image (the dataset has {n_images} images, cases 0..{n_images - 1})"
            )
    if images is not None:
        for i, (case_i, n_i) in enumerate(zip(df[CASE].to_numpy(), n_f)):
            actual = np.count_nonzero(images[case_i]) / np.size(images[case_i])
            if abs(actual - n_i) > porosity_tol:
                raise ValueError(
                    f"{source}: {_row_name(df, i)}: n_F = {n_i} does not match the image's porosity {actual:.6f}"
                )
    return df.sort_values(CASE, kind="stable").reset_index(drop=True)


def read_properties(path: str | os.PathLike, *, n_images: int | None = None, images=None) -> pd.DataFrame:
    """Read and validate a property CSV (see :func:`validate_properties`)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such property file")
    try:
        table = pd.read_csv(path, skipinitialspace=True)
    except Exception as exc:  # noqa: BLE001
        raise ValueError(f"{path}: cannot be parsed as CSV ({exc})") from exc
    table.columns = [str(c).strip() for c in table.columns]
    return validate_properties(table, n_images=n_images, images=images, source=str(path))


def write_properties(table: pd.DataFrame, path: str | os.PathLike, *, validate: bool = True) -> Path:
    """Write a property table as CSV atomically (floats round-trip exactly), validated first."""
    df = validate_properties(table, source=str(path)) if validate else table
    tensor = (*PERMEABILITY_COLUMNS, *OFF_DIAGONAL_COLUMNS, ASYMMETRY)
    columns = [CASE, POROSITY] + [c for c in df.columns if c not in (CASE, POROSITY, *tensor)]
    columns += [c for c in tensor if c in df.columns]
    buffer = io.StringIO()
    df[columns].to_csv(buffer, index=False)  # shortest repr: floats round-trip exactly
    return write_text_atomic(path, buffer.getvalue())
