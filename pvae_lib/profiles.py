"""Run profiles: one switch (``PVAE_PROFILE=quick|paper``) sets every size in the book.

``quick`` (the default) runs each chapter on 2 CPU cores inside the CI budget and still
shows meaningful results; ``paper`` is the paper's scale and wants a GPU.
Chapters never hard-code sizes: they read them from ``get_profile()``.

Each section is a frozen dataclass owned by one part of the library.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

__all__ = ["Profile", "get_profile", "PROFILE_NAMES"]


@dataclass(frozen=True)
class LBMSection:
    """Sizes for the Darcy / lattice Boltzmann chapter and benchmarks."""

    demo_size: int = 48  # edge (voxels) of the 3-D demo structure in the chapter
    demo_porosity: float = 0.6  # porosity of the demo sphere pack
    tensor_size: int = 24  # edge of the structure whose full 3x3 tensor the chapter computes
    channel_width: int = 16  # nodes across the gap in the Poiseuille validations
    tau_sweep: tuple[float, ...] = (0.6, 0.8, 1.0, 1.5, 2.0)
    max_steps: int = 20_000
    tolerance: float = 1e-6
    bench_sizes: tuple[int, ...] = (64, 100)
    bench_steps: int = 100  # timed TensorFlow steps per size (after a compile run)
    bench_numpy_steps: int = 3  # steps of the (slow) NumPy reference per size


@dataclass(frozen=True)
class DataSection:
    """Synthetic square-pore and foam datasets (paper Sections 4.1 and 5.1)."""

    synthetic_image_size: int = 40  # paper: 100
    synthetic_pore_size: int = 4  # paper: 10 (same pore-to-image ratio)
    synthetic_min_pores: int = 10
    synthetic_max_pores: int = 40
    synthetic_samples: int = 3000  # paper: 48,831
    synthetic_lbm_check: int = 12  # paper: 2,800 LBM-labelled samples
    foam_volume_size: int = 96  # edge of each generated foam volume (voxels)
    foam_subvolume_size: int = 32  # paper: 200 (sub-volumes of the CT scans)
    foam_stride: int = 32
    foam_strains: tuple[float, ...] = (0.0, 0.15, 0.25, 0.35, 0.50)
    foam_cells_per_subvolume: float = 2.0  # Voronoi cell size = foam_subvolume_size / this
    foam_porosity: float = 0.85  # porosity of the uncompressed foam (open-cell polymer foam)
    foam_lbm_samples: int = 3  # sub-volumes per strain labelled with the 3-D LBM in the chapter
    label_workers: int = 2  # processes for the stokes2d labelling


@dataclass(frozen=True)
class CNNSection:
    """CNN permeability surrogate (paper Section 3.1)."""

    epochs: int = 100  # paper: up to 175
    batch_size: int = 32  # paper: 16
    learning_rate: float = 2e-3  # peak of the cosine schedule; paper: 1e-5 (many more epochs on a GPU)
    train_samples: int = 2400  # training-set size (80 % split); paper: 2,800 samples in all
    width: float = 0.5  # filter multiplier: 1.0 gives the paper's 32-64-128-256 filters
    patience: int = 10  # EarlyStopping patience (epochs); ReduceLROnPlateau uses patience // 2
    schedule: str = "cosine"  # "plateau" (ReduceLROnPlateau + EarlyStopping) or "cosine" (all epochs)
    augment: bool = True  # one of the 8 symmetries of the square per sample and epoch (exact labels)
    symmetrize: bool = True  # test predictions averaged over the 8 symmetries (exact invariance)


@dataclass(frozen=True)
class PVAESection:
    """pVAE (paper Section 3.2, Table 2) and its staged training."""

    latent_dim: int = 128  # paper: 250
    base_filters: int = 16  # paper: 32 (Table 2 filters are 1.5, 1.5, 6, 4 x base)
    epochs_vae: int = 120
    epochs_regressor: int = 60
    epochs_joint: int = 40
    batch_size: int = 32  # paper: 16
    learning_rate: float = 2e-3  # stage 1 (VAE), cosine peak; paper: 1.2e-4 with many more (GPU) epochs
    learning_rate_regressor: float = 3e-3  # stage 2 (regressor on frozen mu)
    learning_rate_joint: float = 1e-3  # stage 3 (joint), cosine peak
    joint_train_decoder: bool = True  # stage 3 trains the decoder too (paper: frozen)
    beta: float = 0.02  # weight of the KL term (beta-VAE); small, so the latent code keeps every pore
    lam: float = 1e5  # weight of the property term; recon is summed over all voxels
    # hidden widths of the regressor; Table 2: 16-16-4. Measured on the cached quick VAE (seed 2025,
    # 40 joint epochs): 64-64-16 gives test R² K11 0.978 against 0.976, at the same cost.
    regressor_units: tuple[int, ...] = (64, 64, 16)
    patience: int = 10  # EarlyStopping patience (epochs)
    augment: bool = True  # one of the 8 symmetries of the square per sample and epoch (exact labels)
    schedule: str = "cosine"  # "plateau" (ReduceLROnPlateau + EarlyStopping) or "cosine" (all epochs)
    tuning_trials: int = 4  # Optuna trials in the chapter (paper: 50 trials of 50 epochs)
    tuning_epochs: int = 2


@dataclass(frozen=True)
class DesignSection:
    """Latent analysis, interpolation and inverse design (paper Sections 3.3, 4.3-4.5).

    Inverse design runs in stages: all ``n_targets x n_starts`` starts with the cheap direct
    loss (regressor on z, up to ``max_iterations`` steps), then the best start of each target
    is refined with the decode -> re-encode -> regress loop (paper Fig. 4) for up to
    ``loop_max_iterations`` steps, once per mode in ``loop_modes``. Stopping: mean L2 < ``tol``
    or ``patience`` steps without improvement (paper: 1e-5 and 400).
    """

    n_targets: int = 1000
    n_interpolation_steps: int = 100
    max_iterations: int = 2000
    patience: int = 400
    learning_rate: float = 0.05
    batch_size: int = 1000  # rows per compiled loop step (memory); direct steps use all rows at once
    tol: float = 1e-5
    n_starts: int = 8  # paper: 100 nearest training samples per target
    loop_max_iterations: int = 100  # paper-scale profile: 2000
    loop_learning_rate: float = 0.02
    # loop stages after the direct one: "loop_binary" (decoded image binarised, straight-through
    # gradient) and the paper's "loop" (continuous decoded image)
    loop_modes: tuple[str, ...] = ("loop_binary", "loop")
    n_designs: int = 4  # distinct designs shown per target (one-to-many)
    exact_jobs: int = 1  # worker processes for the exact K11 (~2.5 ms per 40² image; 2 gave no gain on 2 cores)
    pca_samples: int = 3000  # encoded samples in the latent-space figures (paper: all 48,831)


@dataclass(frozen=True)
class Profile:
    """All sizes of one run of the book."""

    name: str
    seed: int = 2025
    lbm: LBMSection = field(default_factory=LBMSection)
    data: DataSection = field(default_factory=DataSection)
    cnn: CNNSection = field(default_factory=CNNSection)
    pvae: PVAESection = field(default_factory=PVAESection)
    design: DesignSection = field(default_factory=DesignSection)


def _paper() -> Profile:
    return Profile(
        name="paper",
        lbm=LBMSection(demo_size=100, max_steps=200_000, tolerance=1e-7),
        data=DataSection(
            synthetic_image_size=100,
            synthetic_pore_size=10,
            synthetic_samples=48_831,
            synthetic_lbm_check=2_800,
            foam_volume_size=400,
            foam_subvolume_size=200,
            foam_stride=50,
        ),
        cnn=CNNSection(epochs=300, batch_size=16, learning_rate=1e-5, train_samples=2_800, schedule="plateau",
                       augment=False, symmetrize=False),
        pvae=PVAESection(
            latent_dim=250,
            base_filters=32,
            epochs_vae=300,
            epochs_regressor=300,
            epochs_joint=100,
            batch_size=16,
            learning_rate=1.2e-4,
            learning_rate_joint=1e-3,
            beta=0.5,
            schedule="plateau",
            augment=False,
            joint_train_decoder=False,
            regressor_units=(16, 16, 4),
        ),
        design=DesignSection(
            max_iterations=20_000, n_starts=100, loop_max_iterations=2_000, pca_samples=48_831
        ),
    )


PROFILE_NAMES = ("quick", "paper")


def get_profile(name: str | None = None) -> Profile:
    """Return the profile named ``name``, or the one in ``$PVAE_PROFILE`` (default ``quick``)."""
    name = (name or os.environ.get("PVAE_PROFILE") or "quick").strip().lower()
    if name == "quick":
        return Profile(name="quick")
    if name == "paper":
        return _paper()
    raise ValueError(f"unknown profile {name!r}; choose one of {PROFILE_NAMES} (environment variable PVAE_PROFILE)")


def with_overrides(profile: Profile, **sections) -> Profile:
    """Copy of ``profile`` with whole sections replaced (e.g. ``lbm=LBMSection(...)``)."""
    return replace(profile, **sections)
