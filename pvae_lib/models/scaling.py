"""Min-max scaling of target properties (the paper's MinMaxScaler, Section 3.1)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..fileio import write_json_atomic

__all__ = ["MinMaxScaler"]


class MinMaxScaler:
    """Column-wise map of ``[min, max]`` onto ``[0, 1]``.

    Parameters
    ----------
    data_min, data_max : array_like, optional
        Column minima/maxima (set by :meth:`fit` otherwise).
    names : sequence of str, optional
        Column names (e.g. ``("n", "k11")``), kept in the JSON form.
    """

    def __init__(self, data_min=None, data_max=None, names=None):
        self.data_min = None if data_min is None else np.asarray(data_min, dtype=np.float64).reshape(-1)
        self.data_max = None if data_max is None else np.asarray(data_max, dtype=np.float64).reshape(-1)
        self.names = None if names is None else tuple(str(n) for n in names)
        if self.data_min is not None and self.data_max is not None and self.data_min.shape != self.data_max.shape:
            raise ValueError("data_min and data_max must have the same length")

    @staticmethod
    def _as_2d(y, name="y") -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2:
            raise ValueError(f"{name} must be 1-D or 2-D (samples, properties), got shape {y.shape}")
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{name} contains NaN or Inf")
        return y

    @property
    def fitted(self) -> bool:
        return self.data_min is not None and self.data_max is not None

    @property
    def n_features(self) -> int:
        self._check()
        return int(self.data_min.size)

    def _check(self):
        if not self.fitted:
            raise RuntimeError("MinMaxScaler is not fitted; call fit(y) first")

    def fit(self, y) -> "MinMaxScaler":
        """Store column minima and maxima of ``y`` (samples, properties)."""
        y = self._as_2d(y)
        if y.shape[0] == 0:
            raise ValueError("cannot fit a scaler on zero samples")
        self.data_min, self.data_max = y.min(axis=0), y.max(axis=0)
        if self.names is not None and len(self.names) != y.shape[1]:
            raise ValueError(f"{len(self.names)} names for {y.shape[1]} columns")
        return self

    @property
    def _range(self) -> np.ndarray:
        span = self.data_max - self.data_min
        return np.where(span > 0, span, 1.0)

    def transform(self, y) -> np.ndarray:
        """Scale ``y`` to ``[0, 1]`` per column (float32, always 2-D)."""
        self._check()
        y = self._as_2d(y)
        if y.shape[1] != self.data_min.size:
            raise ValueError(f"expected {self.data_min.size} columns, got {y.shape[1]}")
        return ((y - self.data_min) / self._range).astype(np.float32)

    def fit_transform(self, y) -> np.ndarray:
        return self.fit(y).transform(y)

    def inverse_transform(self, y) -> np.ndarray:
        """Map scaled values back to physical units (float64, 2-D)."""
        self._check()
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 1:
            y = y[:, None]
        if y.shape[-1] != self.data_min.size:
            raise ValueError(f"expected {self.data_min.size} columns, got {y.shape[-1]}")
        return y * self._range + self.data_min

    def to_dict(self) -> dict:
        self._check()
        return {"data_min": self.data_min.tolist(), "data_max": self.data_max.tolist(),
                "names": None if self.names is None else list(self.names)}

    @classmethod
    def from_dict(cls, d: dict) -> "MinMaxScaler":
        return cls(d["data_min"], d["data_max"], d.get("names"))

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """JSON text of the scaler; also written atomically to ``path`` if given."""
        if path is not None:
            write_json_atomic(path, self.to_dict())
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text_or_path) -> "MinMaxScaler":
        """Scaler from a JSON string or a path to a JSON file."""
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            text = Path(text_or_path).read_text(encoding="utf-8")
        return cls.from_dict(json.loads(text))

    def __repr__(self) -> str:
        if not self.fitted:
            return "MinMaxScaler(unfitted)"
        return f"MinMaxScaler(names={self.names}, min={self.data_min.tolist()}, max={self.data_max.tolist()})"
