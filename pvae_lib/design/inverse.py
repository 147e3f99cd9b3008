"""Gradient-based inverse design in the latent space of a pVAE (paper Section 3.3, Fig. 4, Section 4.5).

For every target ``(n, K11)`` the ``k`` training samples closest in (min-max scaled) property
space give the starting latent vectors (paper: 100). Each start ``z`` is optimised by gradient
descent (Adam or plain SGD) on the mean squared error between the predicted and target scaled
properties, predicted either

* ``mode="loop"`` (paper Fig. 4): ``regressor(encoder(decoder(z))[z_mean])`` - the decoded
  structure is re-encoded, so the prediction is tied to a structure the decoder can draw; or
* ``mode="loop_binary"``: the same loop, but the encoder sees the decoded image binarised by
  :data:`pvae_lib.binarize.DECODED_RULE` (each image keeps its expected porosity) - the
  structure that is finally built and evaluated - with a straight-through gradient (the
  binarisation is treated as the identity in the backward pass); or
* ``mode="direct"``: ``regressor(z)`` - cheaper, but ``z`` may drift to places whose decoded
  structure does not have the predicted properties.

All targets and starts are optimised together: one ``tf.function`` step updates the whole
batch. The stopping rule (paper: mean L2 < 1e-5, or no improvement for 400 steps) is applied
to every start separately by default (``criterion="per_target"``); finished rows leave the
batch, so the result of a row does not depend on which other rows share its batch.
``criterion="batch"`` applies the paper's rule to the batch mean instead.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..binarize import DECODED_RULE

__all__ = [
    "PAPER_TARGET_BOX",
    "PAPER_PORE_SIZE",
    "expected_porosity_tf",
    "target_box",
    "random_targets",
    "validate_targets",
    "property_names",
    "latent_properties",
    "initial_guesses",
    "optimize_latent",
    "OptimizationResult",
    "InverseResult",
    "inverse_design",
    "distinct_designs",
    "TargetCheck",
    "check_target",
]

#: Paper's target box (Section 4.5): porosity 0.1-0.5, K11 0.2-2.5 (l.u.², pore size 10 px).
PAPER_TARGET_BOX = ((0.1, 0.5), (0.2, 2.5))
#: Pore edge (pixels) of the paper's synthetic data set.
PAPER_PORE_SIZE = 10


def target_box(profile=None) -> np.ndarray:
    """Target box ``[[n_min, n_max], [k_min, k_max]]`` for a profile.

    The permeability of the square-pore structures scales with the pore area (pore_size²,
    lattice units), so the paper's K box is multiplied by ``(pore_size / 10)²``; the porosity
    box is unchanged (the pore-to-image ratio is the same in every profile).
    """
    from pvae_lib.profiles import get_profile

    profile = profile if profile is not None else get_profile()
    factor = (profile.data.synthetic_pore_size / PAPER_PORE_SIZE) ** 2
    (n0, n1), (k0, k1) = PAPER_TARGET_BOX
    return np.array([[n0, n1], [k0 * factor, k1 * factor]])


def validate_targets(targets, names=("n", "k11")) -> np.ndarray:
    """Check targets ``(T, P)`` (or one row) and return them as float64 ``(T, P)``.

    Parameters
    ----------
    targets : (T, P) or (P,) target properties in physical units
    names : the ``P`` property names, in column order (a model's ``property_scaler.names``):
        ``"n"`` (porosity, in the open interval (0, 1)), diagonal permeabilities ``"k11"``,
        ``"k22"``, ``"k33"`` (l.u.², non-negative) and off-diagonal ones such as ``"k12"`` (any
        sign). Default: the synthetic set's ``("n", "k11")``.

    Raises
    ------
    ValueError
        Wrong shape, non-finite values, porosity outside (0, 1), a negative diagonal permeability.
    """
    names = tuple(str(n).lower() for n in names)
    t = np.asarray(targets, dtype=np.float64)
    if t.ndim == 1:
        t = t[None]
    if t.ndim != 2 or t.shape[1] != len(names) or len(t) == 0:
        raise ValueError(f"targets must be rows of the {len(names)} properties {names}, shape (T, {len(names)}); "
                         f"got shape {np.shape(targets)}")
    if not np.all(np.isfinite(t)):
        raise ValueError("targets contain NaN or Inf")
    for j, name in enumerate(names):
        if name in ("n", "porosity"):
            bad = (t[:, j] <= 0) | (t[:, j] >= 1)
            if bad.any():
                raise ValueError(f"target porosity must lie in the open interval (0, 1); got {t[bad, j][:5].tolist()}")
        elif len(name) == 3 and name[0] == "k" and name[1] == name[2]:
            bad = t[:, j] < 0
            if bad.any():
                raise ValueError(f"target permeability {name.upper()} must be non-negative (l.u.²); "
                                 f"got {t[bad, j][:5].tolist()}")
    return t


def property_names(model) -> tuple:
    """The property names of a model's regressor, in its order: its scaler's names
    (:attr:`PVAE.property_names <pvae_lib.models.pvae.PVAE.property_names>`), else by the
    regressor's width (``("n", "k11")`` for two outputs)."""
    names = getattr(getattr(model, "property_scaler", None), "names", None)
    if names:
        return tuple(names)
    shape = getattr(getattr(model, "regressor", None), "output_shape", None)
    p = int(shape[-1]) if shape else 2
    return ("n", "k11", "k22", "k33")[:p] if p <= 4 else tuple(f"p{i}" for i in range(p))


def random_targets(n_targets: int, box=None, rng=None) -> np.ndarray:
    """``n_targets`` (porosity, K11) pairs uniform in ``box`` (default :func:`target_box`)."""
    rng = rng if rng is not None else np.random.default_rng()
    box = np.asarray(target_box() if box is None else box, dtype=np.float64)
    return rng.uniform(box[:, 0], box[:, 1], size=(int(n_targets), len(box)))


def _scaler(model):
    scaler = getattr(model, "property_scaler", None)
    if scaler is None:
        raise TypeError("model has no property_scaler (min-max scaler of the regressor's targets)")
    return scaler


def _scale(model, props) -> np.ndarray:
    return np.asarray(_scaler(model).transform(np.asarray(props, dtype=np.float64)), dtype=np.float32)


def _unscale(model, scaled) -> np.ndarray:
    return np.asarray(_scaler(model).inverse_transform(np.asarray(scaled, dtype=np.float64)), dtype=np.float64)


MODES = ("loop", "loop_binary", "direct")


def expected_porosity_tf(x):
    """:func:`pvae_lib.binarize.expected_porosity` in TensorFlow, for the design loop's forward pass.

    ``x`` : (N, ...) pore probabilities (1 = pore). Per image, the ``round(mean(x) * size)`` most
    probable voxels become 1, the rest 0, ties going to the voxel first in C order; returns a
    tensor of ``x``'s shape and dtype, equal to the NumPy rule's image for image (tested).
    """
    import tensorflow as tf

    n = tf.shape(x)[0]
    flat = tf.reshape(x, [n, -1])
    size = tf.shape(flat)[1]
    # the NumPy rule's count: the mean in float64, times the size, rounded half to even
    mean = tf.reduce_mean(tf.cast(flat, tf.float64), axis=1)
    k = tf.cast(tf.math.round(mean * tf.cast(size, tf.float64)), tf.int32)
    order = tf.argsort(-flat, axis=1, stable=True)  # most probable first, ties in C order
    rank = tf.argsort(order, axis=1, stable=True)  # each voxel's place in that order
    pore = tf.cast(rank < k[:, None], x.dtype)
    return tf.reshape(pore, tf.shape(x))


#: the design loop's binarisation, by the name of the NumPy rule it equals
_BINARIZE_TF = {"expected_porosity": expected_porosity_tf}


def _scaled_predictor(model, mode: str):
    if mode not in MODES:
        raise ValueError(f"mode must be 'loop' (decode -> encode -> regress, paper Fig. 4), 'loop_binary' "
                         f"(the same with the decoded image binarised) or 'direct', got {mode!r}")
    enc, dec, reg = model.encoder, model.decoder, model.regressor

    def predict(z):
        if mode == "direct":
            return reg(z, training=False)
        x = dec(z, training=False)
        if mode == "loop_binary":
            import tensorflow as tf

            # straight-through estimator: the encoder sees the binarised structure (the design that
            # is finally evaluated, binarised by the same rule); the gradient flows as if the
            # binarisation were the identity
            x = x + tf.stop_gradient(_BINARIZE_TF[DECODED_RULE](x) - x)
        mu = enc(x, training=False)
        mu = mu[0] if isinstance(mu, (list, tuple)) else mu
        return reg(mu, training=False)

    return predict


def latent_properties(model, z, mode: str = "loop", batch_size: int = 1024) -> np.ndarray:
    """Properties (physical units: porosity, K11 in l.u.²) the pVAE assigns to latent vectors ``z`` (N, d).

    ``mode`` is the design stage's view of a latent vector: ``"direct"`` the regressor on ``z``
    (:meth:`PVAE.predict_properties` of latent means), ``"loop"`` decode -> re-encode -> regress
    (paper Fig. 4), ``"loop_binary"`` the same with the decoded image binarised.
    """
    z = np.asarray(z, dtype=np.float32)
    if z.ndim == 1:
        z = z[None]
    predict = _scaled_predictor(model, mode)
    out = [np.asarray(predict(z[s:s + batch_size])) for s in range(0, len(z), batch_size)]
    return _unscale(model, np.concatenate(out, axis=0))


def initial_guesses(train_properties, targets, k: int, model=None, scale=None) -> np.ndarray:
    """Indices ``(T, k)`` of the ``k`` training samples nearest each target in scaled property space.

    Properties are min-max scaled by ``model.property_scaler`` (or by ``scale``, a callable, or
    by the training range if neither is given), so porosity and K11 weigh alike. Rows are
    sorted from nearest to farthest.
    """
    props = np.asarray(train_properties, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    if props.ndim != 2 or targets.ndim != 2 or props.shape[1] != targets.shape[1]:
        raise ValueError(f"train_properties {props.shape} and targets {targets.shape} must be (N, P) and (T, P)")
    k = int(k)
    if not 1 <= k <= len(props):
        raise ValueError(f"k must be in 1..{len(props)} (training samples), got {k}")
    if model is not None:
        f = lambda a: _scale(model, a).astype(np.float64)  # noqa: E731
    elif scale is not None:
        f = scale
    else:
        lo, span = props.min(axis=0), np.ptp(props, axis=0)
        span = np.where(span > 0, span, 1.0)
        f = lambda a: (a - lo) / span  # noqa: E731
    p, t = f(props), f(targets)
    out = np.empty((len(t), k), dtype=np.int64)
    for s in range(0, len(t), 256):
        d2 = ((t[s:s + 256, None, :] - p[None, :, :]) ** 2).sum(-1)
        part = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < len(p) else np.tile(np.arange(len(p)), (len(d2), 1))
        order = np.argsort(np.take_along_axis(d2, part, axis=1), axis=1, kind="stable")
        out[s:s + 256] = np.take_along_axis(part, order, axis=1)
    return out


@dataclass
class OptimizationResult:
    """Outcome of :func:`optimize_latent` for ``R`` rows (target-start pairs).

    Attributes
    ----------
    z : (R, d) best latent vector found for each row (lowest loss seen)
    loss : (R,) its loss: mean squared error of the scaled properties (the "mean L2")
    steps : (R,) gradient steps taken by the row
    stop_reason : (R,) ``"tol"``, ``"patience"`` or ``"max_iterations"``
    history : (S,) mean over all rows of the current loss after each step
    seconds : wall time
    """

    z: np.ndarray
    loss: np.ndarray
    steps: np.ndarray
    stop_reason: np.ndarray
    history: np.ndarray
    seconds: float


def _make_step(model, mode, optimizer, learning_rate, d, p, beta1=0.9, beta2=0.999, eps=1e-7):
    import tensorflow as tf

    predict = _scaled_predictor(model, mode)
    lr, b1, b2 = float(learning_rate), float(beta1), float(beta2)
    spec = [tf.TensorSpec((None, d), tf.float32), tf.TensorSpec((None, d), tf.float32),
            tf.TensorSpec((None, d), tf.float32), tf.TensorSpec((None,), tf.float32),
            tf.TensorSpec((None, p), tf.float32)]

    @tf.function(input_signature=spec)
    def step(z, m, v, t, target):
        with tf.GradientTape() as tape:
            tape.watch(z)
            row_loss = tf.reduce_mean(tf.square(predict(z) - target), axis=1)
            total = tf.reduce_sum(row_loss)  # rows are independent: d total/d z_r = d loss_r/d z_r
        g = tape.gradient(total, z)
        t1 = t + 1.0
        if optimizer == "adam":
            m1 = b1 * m + (1.0 - b1) * g
            v1 = b2 * v + (1.0 - b2) * tf.square(g)
            mhat = m1 / (1.0 - tf.pow(b1, t1))[:, None]
            vhat = v1 / (1.0 - tf.pow(b2, t1))[:, None]
            return z - lr * mhat / (tf.sqrt(vhat) + eps), m1, v1, t1, row_loss
        return z - lr * g, m, v, t1, row_loss

    return step


def optimize_latent(model, z0, targets, mode: str = "loop", optimizer: str = "adam",
                    learning_rate: float = 0.05, tol: float = 1e-5, patience: int = 400,
                    max_iterations: int = 2000, batch_size: int = 1000, criterion: str = "per_target",
                    progress: bool = False) -> OptimizationResult:
    """Minimise the scaled property error over latent vectors, all rows at once.

    Parameters
    ----------
    model : PVAE-like
        ``.encoder``, ``.decoder``, ``.regressor``, ``.property_scaler``.
    z0 : (R, d) starting latent vectors.
    targets : (R, P) target properties in physical units (porosity, K11 in l.u.²).
    mode : ``"loop"`` (paper Fig. 4), ``"loop_binary"`` or ``"direct"`` (module docstring).
    optimizer : ``"adam"`` or ``"sgd"`` (plain gradient descent).
    learning_rate : step size in latent units.
    tol : a row stops once its mean squared error of the scaled properties is below ``tol``
        (paper: mean L2 < 1e-5).
    patience : ... or after ``patience`` steps without a new best loss (paper: 400).
    max_iterations : hard cap on steps.
    batch_size : rows per batch (memory); every batch runs with one compiled step.
    criterion : ``"per_target"`` (default; each row stops on its own) or ``"batch"`` (the paper's
        rule on the batch-mean loss; then results depend on the batch composition).
    """
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    if criterion not in ("per_target", "batch"):
        raise ValueError(f"criterion must be 'per_target' or 'batch', got {criterion!r}")
    if tol < 0 or patience < 1 or max_iterations < 1 or batch_size < 1:
        raise ValueError("need tol >= 0, patience >= 1, max_iterations >= 1, batch_size >= 1")
    z0 = np.asarray(z0, dtype=np.float32)
    targets = np.asarray(targets, dtype=np.float64)
    if z0.ndim != 2 or targets.ndim != 2 or len(z0) != len(targets):
        raise ValueError(f"z0 {z0.shape} and targets {targets.shape} must be (R, d) and (R, P)")
    target_s = _scale(model, targets)
    R, d = z0.shape
    step = _make_step(model, mode, optimizer, learning_rate, d, targets.shape[1])
    t_start = time.perf_counter()
    z_out = np.empty_like(z0)
    loss_out = np.empty(R)
    steps_out = np.zeros(R, dtype=np.int64)
    reason_out = np.empty(R, dtype=object)
    histories = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=R, desc=f"inverse design ({mode})", unit="start")
    for s in range(0, R, batch_size):
        sl = slice(s, min(s + batch_size, R))
        res = _run_batch(step, z0[sl], target_s[sl], tol, patience, max_iterations, criterion, bar)
        z_out[sl], loss_out[sl], steps_out[sl], reason_out[sl], hist = res
        histories.append((hist, sl.stop - sl.start))
    if bar is not None:
        bar.close()
    n_hist = max(len(h) for h, _ in histories)
    padded = np.array([np.pad(h, (0, n_hist - len(h)), mode="edge") for h, _ in histories])
    weights = np.array([w for _, w in histories], dtype=np.float64)
    history = (padded * weights[:, None]).sum(0) / weights.sum()
    return OptimizationResult(z_out, loss_out, steps_out, reason_out.astype(str), history,
                              time.perf_counter() - t_start)


def _run_batch(step, z0, target_s, tol, patience, max_iterations, criterion, bar):
    R, d = z0.shape
    z = z0.copy()
    m = np.zeros_like(z)
    v = np.zeros_like(z)
    t = np.zeros(R, dtype=np.float32)
    best_loss = np.full(R, np.inf)
    best_z = z0.copy()
    since = np.zeros(R, dtype=np.int64)
    steps = np.zeros(R, dtype=np.int64)
    reason = np.full(R, "max_iterations", dtype=object)
    current = np.full(R, np.nan)
    active = np.arange(R)
    history = []
    g_best, g_since = np.inf, 0
    for _ in range(int(max_iterations)):
        idx = active
        zn, mn, vn, tn, loss = step(z[idx], m[idx], v[idx], t[idx], target_s[idx])
        loss = loss.numpy().astype(np.float64)
        improved = loss < best_loss[idx]
        best_loss[idx[improved]] = loss[improved]
        best_z[idx[improved]] = z[idx[improved]]
        since[idx] = np.where(improved, 0, since[idx] + 1)
        steps[idx] += 1
        current[idx] = loss
        z[idx], m[idx], v[idx], t[idx] = zn.numpy(), mn.numpy(), vn.numpy(), tn.numpy()
        history.append(float(np.mean(np.where(np.isnan(current), best_loss, current))))
        if criterion == "per_target":
            hit_tol = best_loss[idx] < tol
            hit_pat = since[idx] >= patience
            reason[idx[hit_tol]] = "tol"
            reason[idx[hit_pat & ~hit_tol]] = "patience"
            done = hit_tol | hit_pat
            if bar is not None and done.any():
                bar.update(int(done.sum()))
            active = idx[~done]
            if len(active) == 0:
                break
        else:
            mean_loss = float(loss.mean())
            if mean_loss < g_best:
                g_best, g_since = mean_loss, 0
            else:
                g_since += 1
            if mean_loss < tol or g_since >= patience:
                reason[:] = "tol" if mean_loss < tol else "patience"
                active = active[:0]
                if bar is not None:
                    bar.update(R)
                break
    if bar is not None and len(active):
        bar.update(len(active))
    return best_z, best_loss, steps, reason, np.asarray(history)


@dataclass
class InverseResult:
    """Result of :func:`inverse_design` for ``T`` targets with ``k`` starts each.

    Attributes
    ----------
    targets : (T, P) targets (porosity, K11 in l.u.²)
    start_index : (T, k) training samples used as starts, nearest first
    z : (T, k, d) optimised latent vectors
    loss : (T, k) final scaled mean squared error ("mean L2") of each start
    predicted : (T, k, P) properties predicted at ``z`` by the loss's own path (``mode``)
    steps, stop_reason : (T, k) steps taken and why each start stopped
    history : (S,) mean current loss per step over all starts
    mode : ``"loop"``, ``"loop_binary"`` or ``"direct"``; seconds : wall time of the optimisation
    """

    targets: np.ndarray
    start_index: np.ndarray
    z: np.ndarray
    loss: np.ndarray
    predicted: np.ndarray
    steps: np.ndarray
    stop_reason: np.ndarray
    history: np.ndarray
    mode: str
    seconds: float
    settings: dict = field(default_factory=dict)

    @property
    def n_targets(self) -> int:
        return len(self.targets)

    def best_index(self) -> np.ndarray:
        """(T,) start with the lowest loss for each target."""
        return np.argmin(self.loss, axis=1)

    def best_z(self) -> np.ndarray:
        """(T, d) latent vector of the best start of each target."""
        return self.z[np.arange(self.n_targets), self.best_index()]

    def best_predicted(self) -> np.ndarray:
        return self.predicted[np.arange(self.n_targets), self.best_index()]

    def best_loss(self) -> np.ndarray:
        return self.loss[np.arange(self.n_targets), self.best_index()]

    def summary(self) -> dict:
        reasons, counts = np.unique(self.stop_reason, return_counts=True)
        return {"targets": self.n_targets, "starts_per_target": self.z.shape[1], "mode": self.mode,
                "seconds": round(self.seconds, 2), "median_best_loss": float(np.median(self.best_loss())),
                "mean_steps": float(self.steps.mean()), **{f"stopped_{r}": int(c) for r, c in zip(reasons, counts)}}


def inverse_design(model, targets, train_latent, train_properties, n_starts: int = 5,
                   mode: str = "loop", optimizer: str = "adam", learning_rate: float = 0.05,
                   tol: float = 1e-5, patience: int = 400, max_iterations: int = 2000,
                   batch_size: int = 1000, criterion: str = "per_target",
                   progress: bool = False) -> InverseResult:
    """Design latent vectors whose predicted properties match ``targets`` (paper Section 3.3).

    Parameters
    ----------
    model : PVAE-like (encoder, decoder, regressor, property_scaler).
    targets : (T, P) or (P,) properties in the model's order (``model.property_scaler.names``, e.g.
        porosity and K11 in l.u.², or n, K11, K22, K33 of a 3-D model); checked by :func:`validate_targets`.
    train_latent : (N, d) latent means μ of the training images
        (:meth:`PVAE.encode_mean <pvae_lib.models.pvae.PVAE.encode_mean>`).
    train_properties : (N, P) their properties.
    n_starts : starts per target = nearest training samples in scaled property space (paper: 100).
    Other parameters as in :func:`optimize_latent`; all ``T * n_starts`` rows run batched.
    """
    targets = validate_targets(targets, property_names(model))
    train_latent = np.asarray(train_latent, dtype=np.float32)
    train_properties = np.asarray(train_properties, dtype=np.float64)
    if len(train_latent) != len(train_properties):
        raise ValueError(f"train_latent ({len(train_latent)}) and train_properties ({len(train_properties)}) differ in length")
    k = int(n_starts)
    idx = initial_guesses(train_properties, targets, k, model=model)
    T = len(targets)
    z0 = train_latent[idx.ravel()]
    rows_t = np.repeat(targets, k, axis=0)
    opt = optimize_latent(model, z0, rows_t, mode=mode, optimizer=optimizer, learning_rate=learning_rate,
                          tol=tol, patience=patience, max_iterations=max_iterations, batch_size=batch_size,
                          criterion=criterion, progress=progress)
    pred = latent_properties(model, opt.z, mode=mode)
    d = z0.shape[1]
    settings = dict(n_starts=k, optimizer=optimizer, learning_rate=learning_rate, tol=tol, patience=patience,
                    max_iterations=max_iterations, batch_size=batch_size, criterion=criterion)
    return InverseResult(targets, idx, opt.z.reshape(T, k, d), opt.loss.reshape(T, k),
                         pred.reshape(T, k, -1), opt.steps.reshape(T, k), opt.stop_reason.reshape(T, k),
                         opt.history, mode, opt.seconds, settings)


def distinct_designs(images, loss, n_designs: int, min_difference: float = 0.02) -> np.ndarray:
    """Pick up to ``n_designs`` mutually distinct structures, best (lowest loss) first.

    Parameters
    ----------
    images : (k, H, W) bool binarised designs of one target (one per start)
    loss : (k,) their losses
    min_difference : minimum fraction of differing pixels between any two kept designs

    Returns
    -------
    indices into ``images`` (at most ``n_designs``), ordered by loss.
    """
    images = np.asarray(images, dtype=bool).reshape(len(images), -1)
    order = np.argsort(np.asarray(loss), kind="stable")
    kept: list[int] = []
    for i in order:
        if len(kept) >= n_designs:
            break
        if all(np.mean(images[i] != images[j]) >= min_difference for j in kept):
            kept.append(int(i))
    return np.asarray(kept, dtype=np.int64)


@dataclass
class TargetCheck:
    """Where one target lies relative to the training data (:func:`check_target`).

    Attributes
    ----------
    status : ``"ok"`` (feasible), ``"off_band"`` (inside the training range but outside the part
        of property space the training structures cover: :func:`~pvae_lib.design.evaluate.feasible_mask`)
        or ``"out_of_range"`` (a property outside the training range)
    nearest : (P,) nearest feasible target (porosity [-], permeabilities [l.u.²]); the target itself when ok
    message : one line for the user naming the flag(s), the data's range and ``nearest``
    """

    status: str
    nearest: np.ndarray
    message: str


#: how :func:`check_target` names a property in its messages (else its name in capitals: K11, K22, ...)
_SPOKEN = {"n": "porosity"}


def check_target(target, train_properties=None, scaler=None, names=None) -> TargetCheck:
    """Check a design target against the training data before any expensive work.

    Parameters
    ----------
    target : (P,) target properties: porosity [-], permeabilities [l.u.²], in the order of ``names``
    train_properties : (N, P) the training data's properties; gives the range and the feasible
        region (:func:`~pvae_lib.design.evaluate.feasible_mask`: the (n, K11) band for two
        properties, the training points' neighbourhood for more). Without it only the range of
        ``scaler`` (the regressor's min-max scaler, fitted on the training data) is checked.
    scaler : min-max scaler with ``data_min``, ``data_max`` (``model.property_scaler``)
    names : the P property names of the registry (:data:`pvae_lib.data.properties.PROPERTIES`);
        default ``scaler.names``, else ``("n", "k11")``. The messages name each by its flag
        (``--n``, ``--k11``, ``--k22``, ...) as ``pvae design`` takes it.
    """
    from pvae_lib.data.properties import PROPERTIES

    if names is None:
        names = getattr(scaler, "names", None) or ("n", "k11")
    names = tuple(names)
    t = validate_targets(target, names)[0]
    if train_properties is not None:
        from .evaluate import feasible_mask, nearest_feasible

        p = np.asarray(train_properties, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != len(names):
            raise ValueError(f"train_properties must be (N, {len(names)}) for {names}, got shape {p.shape}")
        lo, hi = p.min(0), p.max(0)
        try:
            nearest = nearest_feasible(t[None], p)[0]
            feasible = bool(feasible_mask(t[None], p)[0])
        except ValueError:  # too few samples for a feasible region: check the range only
            nearest, feasible = np.clip(t, lo, hi), None
    elif scaler is not None:
        lo, hi = np.asarray(scaler.data_min, float), np.asarray(scaler.data_max, float)
        nearest, feasible = np.clip(t, lo, hi), None
    else:
        raise ValueError("check_target needs train_properties or a fitted scaler")
    flags = [f"--{name}" for name in names]
    spoken = [_SPOKEN.get(name, name.upper()) for name in names]
    units = [f" {PROPERTIES[name].unit}" if name in PROPERTIES and PROPERTIES[name].unit else "" for name in names]
    near = " ".join(f"{f} {v:.4g}" for f, v in zip(flags, nearest))
    outside = [i for i in range(len(names)) if not lo[i] - 1e-12 <= t[i] <= hi[i] + 1e-12]
    if outside:
        parts = "; ".join(f"{flags[i]} {t[i]:.4g} is outside the training data's {spoken[i]} range "
                          f"{lo[i]:.4g} .. {hi[i]:.4g}{units[i]}" for i in outside)
        return TargetCheck("out_of_range", nearest, f"{parts}; nearest feasible target: {near}")
    if feasible is False:
        given = " ".join(f"{f} {v:.4g}" for f, v in zip(flags, t))
        return TargetCheck("off_band", nearest,
                           f"target {given} lies outside the {'band' if len(names) == 2 else 'region'} of "
                           f"({', '.join(spoken)}) that the training structures cover; nearest feasible "
                           f"target: {near}")
    return TargetCheck("ok", t.copy(), "target lies inside the training data")
