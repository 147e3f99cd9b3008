"""Atomic file writing: an interrupted run never leaves a half-written file behind."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary file lives in the same folder so the final ``os.replace`` is atomic
    on POSIX and Windows. On an exception the temporary file is removed and ``path``
    is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600 files; give the result the usual permissions (0666 minus umask)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(path: str | os.PathLike, obj, indent: int = 2) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically."""
    return write_text_atomic(path, json.dumps(obj, indent=indent, sort_keys=True) + "\n")


def save_npy_atomic(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Save ``array`` as ``.npy`` atomically."""
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, array)
    return Path(path)


class LockHeldError(RuntimeError):
    """Another process holds the lock; ``holder`` is what that process wrote into the lock file."""

    def __init__(self, path, holder: str):
        self.path, self.holder = Path(path), holder
        super().__init__(f"{path} is locked by another process ({holder or 'unknown'})")


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike, *, wait: bool = False, info: str = "") -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path``, or fail at once if another process holds it.

    The operating system releases the lock when the holder exits, however it exits (a killed
    process leaves no stale lock, only an unlocked file that the next run takes over). The
    lock file is removed when the lock is released; while held it contains ``info`` and the
    holder's process id, for the message of a second run.

    Parameters
    ----------
    path : path
        The lock file (created if missing).
    wait : bool
        Block until the lock is free instead of raising :class:`LockHeldError`.
    info : str
        Text written into the lock file while held (e.g. the command).

    Raises
    ------
    LockHeldError
        The lock is held by another process and ``wait`` is False.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
                os.close(fd)
                raise LockHeldError(path, holder) from None
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file while we waited: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}{'; ' + info if info else ''}\n".encode(), 0)
        yield
    finally:
        path.unlink(missing_ok=True)  # before unlocking: a waiter then sees a removed file
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Delete temporary files that :func:`atomic_path` left next to ``path`` when a run was killed.

    Call it only while holding the lock that serialises writers of ``path`` (a running writer's
    temporary file would otherwise be deleted). Returns the removed paths.
    """
    path = Path(path)
    removed = []
    if path.parent.is_dir():
        for tmp in path.parent.glob(f".{path.name}.*.tmp*"):
            if tmp.is_file():
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
    return removed


@contextlib.contextmanager
def file_lock(path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created if missing) for the block.

    Serialises processes that fill the same cache or results file (e.g. two chapters that
    both need a model that is not trained yet).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
