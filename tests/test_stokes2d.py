"""The exact extruded-structure solver against analytic duct flows."""
import numpy as np
import pytest

from pvae_lib.analytic import (
    SQUARE_DUCT_COEFFICIENT,
    plane_poiseuille_permeability,
    plane_poiseuille_velocity,
    rectangular_duct_mean_velocity,
)
from pvae_lib.stokes2d import cross_section, duct_velocity, stokes2d_permeability


def test_square_duct_coefficient_matches_literature():
    # 0.0351443 G a^2 / mu (e.g. White, Viscous Fluid Flow)
    assert SQUARE_DUCT_COEFFICIENT == pytest.approx(0.0351443, rel=1e-5)


@pytest.mark.parametrize("a", [16, 24])
def test_square_duct_within_one_percent(a):
    section = np.ones((a, a), dtype=bool)
    mean_u = stokes2d_permeability(section, boundary="noslip")  # G = mu = 1
    assert mean_u == pytest.approx(SQUARE_DUCT_COEFFICIENT * a * a, rel=0.01)


def test_rectangular_duct():
    section = np.ones((12, 30), dtype=bool)
    assert stokes2d_permeability(section, boundary="noslip") == pytest.approx(
        rectangular_duct_mean_velocity(1.0, 12, 30), rel=0.01
    )


def test_plane_poiseuille_profile_is_exact_at_nodes():
    h = 16
    section = np.zeros((h + 2, 3), dtype=bool)
    section[1:-1] = True  # plates are the solid rows; periodic along the plates
    u = duct_velocity(section, G=2.0, mu=0.5)
    y = np.arange(h) + 0.5  # nodes sit half a spacing from the walls
    np.testing.assert_allclose(u[1:-1, 1], plane_poiseuille_velocity(y, h, G=2.0, mu=0.5), rtol=1e-10)
    K = stokes2d_permeability(section)
    assert K == pytest.approx(plane_poiseuille_permeability(h, porosity=h / (h + 2)), rel=0.01)


def test_freeslip_faces_leave_plates_unaffected():
    h = 10
    section = np.zeros((h + 2, 7), dtype=bool)
    section[1:-1] = True
    assert stokes2d_permeability(section, boundary="freeslip") == pytest.approx(
        stokes2d_permeability(section, boundary="periodic"), rel=1e-12
    )
    # no-slip faces across the plates add walls and reduce K
    assert stokes2d_permeability(section, boundary="noslip") < 0.9 * stokes2d_permeability(section)


def test_extruded_stack_and_axis():
    rng = np.random.default_rng(3)
    pattern = rng.random((20, 20)) < 0.5
    stack = np.broadcast_to(pattern, (6, 20, 20))
    K0 = stokes2d_permeability(stack, axis=0)
    assert K0 == pytest.approx(stokes2d_permeability(pattern))
    moved = np.moveaxis(stack, 0, 2)
    assert stokes2d_permeability(moved, axis="z") == pytest.approx(K0)
    assert K0 > 0


def test_non_extruded_stack_is_rejected():
    stack = np.ones((4, 8, 8), dtype=bool)
    stack[2, 3, 3] = False
    with pytest.raises(ValueError, match="not extruded"):
        cross_section(stack, axis=0)


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((8, 8)), "no pore space"),
        (np.ones((8, 8)), "all pore"),
        (np.full((8, 8), 2), "not binary"),
        (np.array([[np.nan, 1.0], [0.0, 1.0]]), "NaN"),
        (np.ones((2, 2, 2, 2)), "dimensions"),
    ],
)
def test_bad_input(image, message):
    with pytest.raises(ValueError, match=message):
        stokes2d_permeability(image)


def test_bad_boundary():
    with pytest.raises(ValueError, match="boundary"):
        duct_velocity(np.eye(4, dtype=bool), boundary="slippery")
