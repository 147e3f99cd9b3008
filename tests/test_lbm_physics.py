"""Physics checks of the D3Q19 lattice Boltzmann engine (pvae_lib.lbm)."""
from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from pvae_lib.analytic import (  # noqa: E402
    plane_poiseuille_permeability,
    plane_poiseuille_velocity,
    rectangular_duct_mean_velocity,
    square_duct_mean_velocity,
)
from pvae_lib.lbm import LBMConfig, numpy_simulate, permeability, permeability_tensor, simulate  # noqa: E402
from pvae_lib.lbm.collision import trt_collide  # noqa: E402
from pvae_lib.lbm.equilibrium import equilibrium  # noqa: E402
from pvae_lib.lbm.stencil import CS2, E, OPPOSITE, W  # noqa: E402

H = 16  # nodes across the gap


def plates(h=H, length=2, depth=2):
    """Two solid plates normal to axis 1 with a gap of ``h`` fluid nodes."""
    img = np.ones((length, h + 2, depth), dtype=bool)
    img[:, 0] = img[:, -1] = False
    return img


def duct(a=H, length=2):
    img = np.zeros((length, a + 2, a + 2), dtype=bool)
    img[:, 1:-1, 1:-1] = True
    return img


def plates_K(cfg, h=H):
    return permeability(plates(h), 0, cfg).K


# ---------------------------------------------------------------- stencil, collision
def test_d3q19_invariants():
    assert E.shape == (19, 3) and np.isclose(W.sum(), 1.0)
    assert np.allclose(W @ E, 0.0)
    assert np.allclose(np.einsum("i,ia,ib->ab", W, E, E), CS2 * np.eye(3))
    assert (E[OPPOSITE] == -E).all() and (OPPOSITE[OPPOSITE] == np.arange(19)).all()
    # fourth-order isotropy needed for Navier-Stokes: sum w e_x^2 e_y^2 = cs^4
    assert np.isclose(np.sum(W * E[:, 0] ** 2 * E[:, 1] ** 2), CS2**2)
    assert (np.abs(E).sum(axis=1)[1:7] == 1).all() and (np.abs(E).sum(axis=1)[7:] == 2).all()


def test_equilibrium_moments():
    rng = np.random.default_rng(0)
    rho = 1 + 0.01 * rng.standard_normal(50)
    u = 0.02 * rng.standard_normal((3, 50))
    feq = equilibrium(tf.constant(rho), tf.constant(u)).numpy()
    assert np.allclose(feq.sum(axis=0), rho)
    assert np.allclose(E.T @ feq, rho * u)
    assert np.allclose(np.einsum("ia,ib,in->abn", E, E, feq),
                       rho * (CS2 * np.eye(3)[:, :, None] + u[:, None] * u[None]))


@pytest.mark.parametrize("collision", ["bgk", "trt"])
def test_collision_conserves_mass_and_momentum(collision):
    rng = np.random.default_rng(1)
    f = tf.constant(0.01 * rng.standard_normal((19, 40)))
    cfg = LBMConfig(tau=0.8, collision=collision)
    post = trt_collide(f, cfg.omega_plus, cfg.omega_minus).numpy()
    assert np.allclose(post.sum(axis=0), f.numpy().sum(axis=0), atol=1e-14)
    assert np.allclose(E.T @ post, E.T @ f.numpy(), atol=1e-14)
    # with a force the momentum gains exactly F per step
    force = np.array([1e-3, -2e-3, 5e-4])
    post_f = trt_collide(f, cfg.omega_plus, cfg.omega_minus, force).numpy()
    assert np.allclose(post_f.sum(axis=0), f.numpy().sum(axis=0), atol=1e-14)
    assert np.allclose(E.T @ post_f - E.T @ f.numpy(), force[:, None], atol=1e-12)


# ---------------------------------------------------------------- analytic flows
def test_plane_poiseuille_trt_profile_and_permeability():
    cfg = LBMConfig(tau=1.0, tolerance=1e-7, max_steps=20_000)
    sim = simulate(plates(), cfg, 0)
    assert sim.converged
    y = np.arange(H) + 0.5  # walls half-way between the solid and first fluid node
    exact = plane_poiseuille_velocity(y, H, G=cfg.force, mu=cfg.viscosity)
    profile = sim.velocity[0, 1:-1, 0, 0]
    assert np.max(np.abs(profile - exact)) < 1e-3 * exact.max()  # TRT at Lambda=3/16: exact parabola
    K = plates_K(cfg)
    K_exact = plane_poiseuille_permeability(H, porosity=H / (H + 2))
    assert abs(K / K_exact - 1) < 0.01
    assert np.abs(sim.velocity[..., 1:]).max() < 1e-5 * exact.max()  # float32 round-off only


def test_square_duct_trt():
    cfg = LBMConfig(tau=1.0, tolerance=1e-7, max_steps=30_000)
    sim = simulate(duct(), cfg, 0)
    mean_pore = sim.velocity[0, 1:-1, 1:-1, 0].mean()
    exact = square_duct_mean_velocity(cfg.force, H, mu=cfg.viscosity)
    assert sim.converged and abs(mean_pore / exact - 1) < 0.01


def test_noslip_domain_walls_equal_solid_walls():
    """boundary='noslip' puts the walls on the domain faces: an all-pore box is a square duct."""
    cfg = LBMConfig(tau=1.0, tolerance=1e-7, boundary="noslip")
    sim = simulate(np.ones((2, H, H), dtype=bool), cfg, 0)
    exact = square_duct_mean_velocity(cfg.force, H, mu=cfg.viscosity)
    assert abs(sim.mean_velocity[0] / exact - 1) < 0.01


def test_freeslip_walls_do_not_slow_the_flow():
    """Free-slip faces parallel to the plates change nothing; no-slip faces turn the slit into a duct."""
    img = plates(H, length=2, depth=8)
    base = simulate(img, LBMConfig(tolerance=1e-7), 0).mean_velocity[0]
    free = simulate(img, LBMConfig(tolerance=1e-7, boundary="freeslip"), 0).mean_velocity[0]
    wall = simulate(img, LBMConfig(tolerance=1e-7, boundary="noslip"), 0).mean_velocity[0]
    assert abs(free / base - 1) < 1e-3
    exact = rectangular_duct_mean_velocity(1e-5, H, 8, mu=LBMConfig().viscosity) * H * 8 / img[0].size
    assert abs(wall / exact - 1) < 0.015


def test_bgk_depends_on_tau_trt_does_not():
    taus = (0.6, 1.0, 2.0)
    K_trt = [plates_K(LBMConfig(tau=t, collision="trt", tolerance=1e-7, max_steps=40_000)) for t in taus]
    K_bgk = [plates_K(LBMConfig(tau=t, collision="bgk", tolerance=1e-7, max_steps=40_000)) for t in taus]
    spread = lambda k: (max(k) - min(k)) / np.mean(k)  # noqa: E731
    assert spread(K_trt) < 0.01
    assert spread(K_bgk) > 0.05  # BGK walls move with tau (slip ~ (tau - 1/2)^2)
    assert K_bgk[-1] > K_bgk[0]


def test_pressure_drive_matches_force_drive():
    img = duct(10, length=12)
    K_force = permeability(img, 0, LBMConfig(tolerance=1e-7)).K
    K_press = permeability(img, 0, LBMConfig(drive="pressure", tolerance=1e-7)).K
    assert abs(K_press / K_force - 1) < 0.03


def random_section(shape, rng, sigma=2.0, fraction=0.55):
    from scipy import ndimage

    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    return field < np.quantile(field, fraction)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_lbm_matches_stokes2d_on_extruded_structures(seed):
    stokes2d = pytest.importorskip("pvae_lib.stokes2d")
    section = random_section((24, 24), np.random.default_rng(seed))
    img = np.broadcast_to(section, (8, 24, 24)).copy()
    K_ref = stokes2d.stokes2d_permeability(img, axis=0, boundary="periodic")
    K_lbm = permeability(img, 0, LBMConfig(tau=1.0, tolerance=1e-7, max_steps=40_000)).K
    assert abs(K_lbm / K_ref - 1) < 0.02


def test_numpy_reference_agrees_with_tensorflow():
    rng = np.random.default_rng(3)
    img = rng.random((10, 8, 6)) > 0.3
    cfg = LBMConfig(tau=0.9, max_steps=150, check_interval=150, min_steps=1, dtype="float64")
    tf_run = simulate(img, cfg, 0)
    np_run = numpy_simulate(img, cfg, steps=150)
    assert tf_run.steps == 150
    scale = np.abs(np_run.velocity).max()
    assert np.abs(tf_run.velocity - np_run.velocity).max() < 1e-7 * scale
    # float32 with zero-centred storage (f - w) stays close to the float64 answer
    tf32 = simulate(img, cfg.replace(dtype="float32"), 0)
    assert np.abs(tf32.velocity - np_run.velocity).max() < 1e-4 * scale


# ---------------------------------------------------------------- tensor
def test_tensor_of_straight_ducts_is_diagonal():
    img = duct(8, length=6)
    res = permeability_tensor(img, LBMConfig(tolerance=1e-7))
    mean_pore = rectangular_duct_mean_velocity(1.0, 8, 8)  # G = mu = 1
    K_exact = mean_pore * 64 / 100
    assert abs(res.K[0, 0] / K_exact - 1) < 0.03  # 8 nodes across: TRT duct error ~1.4 %
    off = res.K - np.diag(np.diag(res.K))
    assert np.abs(off).max() < 1e-6 * res.K[0, 0]
    assert res.K[1, 1] == res.K[2, 2] == 0.0  # nothing percolates across the ducts


def test_tensor_of_inclined_slabs_is_symmetric_with_off_diagonals():
    """Pore slabs along the (1, -1, 0) diagonal: flow along x drags fluid along -y."""
    x, y, _ = np.indices((16, 16, 2))
    img = ((x + y) % 8) < 4
    res = permeability_tensor(img, LBMConfig(tolerance=1e-7))
    K = res.K_raw
    assert abs(K[0, 1] - K[1, 0]) < 0.01 * K[0, 0]
    assert K[0, 1] < 0 and abs(-K[0, 1] / K[0, 0] - 1) < 0.05  # K ~ k t t^T, t = (1, -1)/sqrt 2
    assert np.allclose(res.K, res.K.T)
    assert np.all(np.linalg.eigvalsh(res.K) > -1e-6 * K[0, 0])


def test_fused_collision_matches_textbook_formulas():
    """The pairwise (fused) TRT collision equals Eq. 17 + Guo forcing written out in full."""
    from pvae_lib.lbm.equilibrium import equilibrium_parts
    from pvae_lib.lbm.forcing import guo_source
    from pvae_lib.lbm.observables import moments

    rng = np.random.default_rng(5)
    f = tf.constant(0.01 * rng.standard_normal((19, 30)))
    force = tf.constant([2e-4, -1e-4, 3e-4], tf.float64)
    cfg = LBMConfig(tau=0.7, collision="trt")
    wp, wm = cfg.omega_plus, cfg.omega_minus
    drho, _, u = moments(f, force)
    even_eq, odd_eq = equilibrium_parts(drho, u)
    f_opp = tf.gather(f, OPPOSITE)
    s_even, s_odd = guo_source(u, force)
    expected = (f - wp * (0.5 * (f + f_opp) - even_eq) - wm * (0.5 * (f - f_opp) - odd_eq)
                + (1 - wp / 2) * s_even + (1 - wm / 2) * s_odd)
    assert np.allclose(trt_collide(f, wp, wm, force).numpy(), expected.numpy(), atol=1e-15)


@pytest.mark.slow
def test_paper_tensor_method_noslip_and_freeslip_runs():
    """Kuhn et al. (paper Eq. 22-23) with Zou-He pressure drive: ducts give the duct value, no off-diagonals."""
    img = duct(8, length=8)
    res = permeability_tensor(img, LBMConfig(boundary="noslip", drive="pressure", tolerance=1e-7))
    periodic = permeability_tensor(img, LBMConfig(tolerance=1e-7))
    assert "Kuhn" in res.method and res.converged
    assert abs(res.K[0, 0] / periodic.K[0, 0] - 1) < 0.01
    assert np.abs(res.K - np.diag(np.diag(res.K))).max() < 1e-6 * res.K[0, 0]
    assert {k[0] for k in res.runs} == {"noslip", "freeslip"}
