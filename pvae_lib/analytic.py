"""Analytic solutions of steady Stokes flow used to validate the permeability solvers.

All quantities are in consistent units (lattice units in the tests): lengths in
node spacings, pressure gradient / body force density ``G`` and dynamic viscosity ``mu``.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "plane_poiseuille_velocity",
    "plane_poiseuille_permeability",
    "rectangular_duct_mean_velocity",
    "square_duct_mean_velocity",
    "SQUARE_DUCT_COEFFICIENT",
]


def plane_poiseuille_velocity(y, h: float, G: float = 1.0, mu: float = 1.0):
    """Velocity of pressure-driven flow between two plates a distance ``h`` apart.

    ``u(y) = G / (2 mu) * y * (h - y)`` for ``0 <= y <= h`` (walls at ``y = 0`` and ``y = h``).

    Parameters
    ----------
    y : array_like
        Distance from the first wall.
    h : float
        Gap width.
    G : float
        Driving pressure gradient magnitude ``-dp/dx`` (or body force density).
    mu : float
        Dynamic viscosity.
    """
    y = np.asarray(y, dtype=float)
    return G / (2.0 * mu) * y * (h - y)


def plane_poiseuille_permeability(h: float, porosity: float = 1.0) -> float:
    """Permeability of a slit of width ``h``: ``K = porosity * h**2 / 12``.

    The mean velocity in the gap is ``G h^2 / (12 mu)``; Darcy's law with the superficial
    velocity (averaged over the whole volume, solid included) multiplies it by the porosity.
    """
    return porosity * h * h / 12.0


def rectangular_duct_mean_velocity(G: float, a: float, b: float, mu: float = 1.0, n_terms: int = 200) -> float:
    """Mean velocity of fully developed flow in an ``a x b`` rectangular duct.

    Series solution (e.g. White, *Viscous Fluid Flow*, Eq. 3-48) with the half-widths
    ``a/2 >= b/2``::

        Q = 4 b'^3 a' G / (3 mu) * (1 - 192 b' / (pi^5 a') * sum_odd tanh(i pi a' / (2 b')) / i^5)

    where ``a' = a/2``, ``b' = b/2``; mean velocity = Q / (a b).
    """
    half_long, half_short = max(a, b) / 2.0, min(a, b) / 2.0
    i = np.arange(1, 2 * n_terms, 2, dtype=float)
    series = np.sum(np.tanh(i * np.pi * half_long / (2.0 * half_short)) / i**5)
    flow_rate = (4.0 * half_short**3 * half_long * G / (3.0 * mu)) * (
        1.0 - 192.0 * half_short / (np.pi**5 * half_long) * series
    )
    return flow_rate / (a * b)


#: ``mean velocity = SQUARE_DUCT_COEFFICIENT * G * a**2 / mu`` for a square duct of side ``a``.
SQUARE_DUCT_COEFFICIENT = rectangular_duct_mean_velocity(1.0, 1.0, 1.0)


def square_duct_mean_velocity(G: float, a: float, mu: float = 1.0) -> float:
    """Mean velocity in a square duct of side ``a``: ``0.035144 * G * a**2 / mu``."""
    return SQUARE_DUCT_COEFFICIENT * G * a * a / mu
