"""Configuration of a lattice Boltzmann permeability run (frozen dataclass, lbmpy style)."""
from __future__ import annotations

from dataclasses import dataclass, replace

from .stencil import CS2

__all__ = ["LBMConfig", "MAGIC_TRT", "RUN_DEFAULTS", "run_config"]

#: TRT "magic" parameter Lambda = 3/16: half-way bounce-back walls sit exactly half-way
#: between nodes for plane Poiseuille flow, and the permeability does not depend on tau.
MAGIC_TRT = 3.0 / 16.0

_COLLISIONS = ("bgk", "trt")
_DRIVES = ("force", "pressure")
_BOUNDARIES = ("periodic", "noslip", "freeslip")
_DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class LBMConfig:
    """Parameters of one D3Q19 lattice Boltzmann run (all in lattice units, l.u.).

    Parameters
    ----------
    tau : float
        Relaxation time (paper Eq. 16), ``nu = c_s^2 (tau - 1/2)``; must be > 0.5.
    collision : {'trt', 'bgk'}
        ``'bgk'`` single relaxation time (paper Eq. 16/20); ``'trt'`` two relaxation times with
        the magic parameter ``magic`` (Ginzburg), whose permeability does not depend on ``tau``.
    magic : float
        TRT parameter Lambda = (tau+ - 1/2)(tau- - 1/2); 3/16 puts bounce-back walls exactly
        half-way between nodes.
    drive : {'force', 'pressure'}
        ``'force'``: uniform body force density ``force`` (Guo forcing) with the flow axis periodic.
        ``'pressure'``: Zou-He density (pressure) inlet/outlet with density difference
        ``density_difference`` (paper Appendix A), the flow axis open.
    boundary : {'periodic', 'noslip', 'freeslip'}
        Condition on the domain faces parallel to the flow: periodic, no-slip (half-way
        bounce-back, a wall at the face) or free-slip (specular reflection). Paper Appendix B
        uses no-slip for the diagonal and free-slip for the off-diagonal components.
    force : float
        Body force density g (l.u.) for ``drive='force'``; acts like a pressure gradient ``-dp/dx = g``.
    density_difference : float
        ``rho_in - rho_out`` for ``drive='pressure'``; pressure drop = c_s^2 * density_difference.
    max_steps : int
        Step cap; a run that reaches it without converging is flagged ``converged=False``.
    tolerance : float
        Converged when the relative change of the mean velocity over one ``check_interval`` is
        below this.
    check_interval : int
        Steps run inside one compiled call between convergence checks.
    min_steps : int
        Never stop before this many steps (or ``max_steps`` if that is smaller).
    dtype : {'float32', 'float64'}
        Floating point type of the populations (stored as deviations from the rest state).
    max_mach : float
        Largest allowed ``|u| / c_s``; a run exceeding it raises ``FloatingPointError``.
    """

    tau: float = 1.0
    collision: str = "trt"
    magic: float = MAGIC_TRT
    drive: str = "force"
    boundary: str = "periodic"
    force: float = 1e-5
    density_difference: float = 1e-3
    max_steps: int = 20_000
    tolerance: float = 1e-6
    check_interval: int = 100
    min_steps: int = 200
    dtype: str = "float32"
    max_mach: float = 0.1

    def __post_init__(self):
        if not self.tau > 0.5:
            raise ValueError(
                f"tau = {self.tau} is unstable: the viscosity c_s^2 (tau - 1/2) must be positive. "
                "Use tau > 0.5 (e.g. 0.8 to 1.5)."
            )
        if self.tau > 20:
            raise ValueError(f"tau = {self.tau} is too large to be accurate; use 0.5 < tau <= 20")
        if self.collision not in _COLLISIONS:
            raise ValueError(f"collision must be one of {_COLLISIONS}, got {self.collision!r}")
        if not self.magic > 0:
            raise ValueError(f"magic (TRT Lambda) must be > 0 (3/16 is the usual choice), got {self.magic}")
        if self.drive not in _DRIVES:
            raise ValueError(f"drive must be one of {_DRIVES}, got {self.drive!r}")
        if self.boundary not in _BOUNDARIES:
            raise ValueError(f"boundary must be one of {_BOUNDARIES}, got {self.boundary!r}")
        if not self.force > 0:
            raise ValueError(f"force must be a positive body force density (l.u.), e.g. 1e-5; got {self.force}")
        if not 0 < self.density_difference < 0.2:
            raise ValueError(
                f"density_difference must be in (0, 0.2) to stay nearly incompressible (e.g. 1e-3); "
                f"got {self.density_difference}"
            )
        for name in ("max_steps", "check_interval", "min_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.check_interval > self.max_steps:
            raise ValueError(
                f"check_interval ({self.check_interval}) is larger than max_steps ({self.max_steps}); "
                "lower check_interval or raise max_steps"
            )
        if not self.tolerance > 0:
            raise ValueError(f"tolerance must be > 0, got {self.tolerance}")
        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {_DTYPES}, got {self.dtype!r}")
        if not 0 < self.max_mach < 1:
            raise ValueError(f"max_mach must be in (0, 1) (0.1 keeps compressibility errors small), got {self.max_mach}")

    @property
    def viscosity(self) -> float:
        """Kinematic lattice viscosity ``nu = c_s^2 (tau - 1/2)`` (paper Eq. 16), l.u."""
        return CS2 * (self.tau - 0.5)

    @property
    def omega_plus(self) -> float:
        """Relaxation rate of the symmetric (even) part, ``1/tau``."""
        return 1.0 / self.tau

    @property
    def omega_minus(self) -> float:
        """Relaxation rate of the antisymmetric (odd) part (= ``1/tau`` for BGK)."""
        if self.collision == "bgk":
            return 1.0 / self.tau
        return 1.0 / (0.5 + self.magic / (self.tau - 0.5))

    def replace(self, **changes) -> "LBMConfig":
        """Copy with some fields changed (validated again)."""
        return replace(self, **changes)


#: Settings of a permeability run that a user chooses (the defaults of the ``pvae permeability`` and
#: ``pvae label`` flags ``--collision --tau --drive --boundary --max-steps --tolerance``).
RUN_DEFAULTS = {"collision": "trt", "tau": 1.0, "drive": "force", "boundary": "periodic", "max_steps": 20_000,
                "tolerance": 1e-6}


def run_config(**settings) -> LBMConfig:
    """The :class:`LBMConfig` of a permeability run from the settings a user chooses.

    The one place that turns those settings into a configuration, for the command line and for
    library callers that must match it (the foam labels): unnamed settings take
    :data:`RUN_DEFAULTS`; convergence is checked every ``min(100, max_steps // 2)`` steps after at
    least ``min(200, max_steps)``.

    Parameters
    ----------
    **settings
        Any of the keys of :data:`RUN_DEFAULTS` (``max_steps`` in steps; ``tau`` in lattice time units).

    Raises
    ------
    TypeError
        For a setting that is not one of :data:`RUN_DEFAULTS`.
    """
    unknown = sorted(set(settings) - set(RUN_DEFAULTS))
    if unknown:
        raise TypeError(f"unknown run settings {unknown}; known: {sorted(RUN_DEFAULTS)}")
    s = {**RUN_DEFAULTS, **settings}
    steps = int(s["max_steps"])
    return LBMConfig(tau=float(s["tau"]), collision=s["collision"], drive=s["drive"], boundary=s["boundary"],
                     max_steps=steps, check_interval=min(100, max(1, steps // 2)), min_steps=min(200, steps),
                     tolerance=float(s["tolerance"]))
