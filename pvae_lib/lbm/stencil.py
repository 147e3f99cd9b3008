"""The D3Q19 velocity set (paper Eqs. 15 and 18).

Order of the 19 directions follows paper Eq. 15: rest, the 6 axis neighbours, then the 12
edge (face-diagonal) neighbours. Opposite directions are adjacent pairs (1/2, 3/4, ...).
"""
from __future__ import annotations

import numpy as np

__all__ = ["E", "W", "OPPOSITE", "CS2", "Q", "e", "w", "opposite", "cs2"]

#: Lattice velocities e_i (19 x 3, integers), paper Eq. 15.
E = np.array(
    [
        (0, 0, 0),
        (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1),
        (1, 1, 0), (-1, -1, 0), (1, -1, 0), (-1, 1, 0),
        (1, 0, 1), (-1, 0, -1), (1, 0, -1), (-1, 0, 1),
        (0, 1, 1), (0, -1, -1), (0, 1, -1), (0, -1, 1),
    ],
    dtype=np.int64,
)
E.setflags(write=False)

#: Lattice weights w_i, paper Eq. 18.
W = np.array([1 / 3] + [1 / 18] * 6 + [1 / 36] * 12, dtype=np.float64)
W.setflags(write=False)

#: Index of the opposite direction: E[OPPOSITE[i]] == -E[i].
OPPOSITE = np.array([int(np.flatnonzero((E == -E[i]).all(axis=1))[0]) for i in range(len(E))], dtype=np.int64)
OPPOSITE.setflags(write=False)

#: Squared lattice speed of sound c_s^2 = 1/3 (l.u.).
CS2 = 1.0 / 3.0
Q = len(E)

# lower-case aliases (paper notation)
e, w, opposite, cs2 = E, W, OPPOSITE, CS2
