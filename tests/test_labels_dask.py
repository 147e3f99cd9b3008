"""Labelling on Dask: same table as a serial run, and no loss or duplicate when a worker dies."""
import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

from distributed import Client, LocalCluster  # noqa: E402

from pvae_lib.data.container import save_dataset  # noqa: E402
from pvae_lib.data.labels import label_dataset  # noqa: E402
from pvae_lib.data.synthetic import generate_synthetic  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes (one thread each), closed after the module: no process is left."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=40) as c, Client(c) as client:
        yield c, client


def _dataset(folder, n, size, seed):
    return save_dataset(folder, generate_synthetic(n, size, 4, 5, 20, rng=seed), meta={"kind": "synthetic"},
                        extruded_length=size)


def test_dask_table_equals_serial_table(tmp_path, cluster):
    _, client = cluster
    serial = _dataset(tmp_path / "serial", 60, 32, 5)
    dask = _dataset(tmp_path / "dask", 60, 32, 5)
    a = label_dataset(serial, workers=1, progress=False, every=7)
    b = label_dataset(dask, client=client, progress=False, every=7)
    pd.testing.assert_frame_equal(a, b)
    assert (serial / "properties.csv").read_bytes() == (dask / "properties.csv").read_bytes()
    assert (serial / "properties.json").read_text() == (dask / "properties.json").read_text()


def test_local_cluster_from_workers(tmp_path, monkeypatch):
    import pvae_lib.data.labels as labels

    monkeypatch.setattr(labels, "PARALLEL_MIN_SAMPLES", 1)
    folder = _dataset(tmp_path / "ds", 10, 32, 1)
    seen = {}
    real = labels.dask_client

    def spy(*args, **kwargs):
        seen["args"] = args
        return real(*args, **kwargs)

    monkeypatch.setattr(labels, "dask_client", spy)
    table = label_dataset(folder, workers=2, progress=False)
    assert seen["args"][:2] == (None, 2) and len(table) == 10
    serial = label_dataset(_dataset(tmp_path / "s", 10, 32, 1), workers=1, progress=False)
    pd.testing.assert_frame_equal(table, serial)


def test_killed_worker_loses_and_duplicates_nothing(tmp_path, cluster):
    cl, client = cluster
    folder = _dataset(tmp_path / "ds", 600, 64, 9)
    csv = folder / "properties.csv"
    pids = client.run(os.getpid)  # worker address -> pid
    killed = {}

    def kill_when_running():
        deadline = time.time() + 120
        while not csv.exists() and time.time() < deadline:  # first checkpoint written: work is under way
            time.sleep(0.02)
        # then wait for a worker that is running tasks (between two submission windows none may be)
        busy = {}
        while not busy and time.time() < deadline:
            busy = {w: len(t) for w, t in client.processing().items() if t and w in pids}
            if not busy:
                time.sleep(0.005)
        killed["rows_before"] = len(pd.read_csv(csv)) if csv.exists() else -1
        killed["busy"] = sum(busy.values())
        os.kill(pids[next(iter(busy))] if busy else next(iter(pids.values())), signal.SIGKILL)
        killed["at"] = time.time()

    thread = threading.Thread(target=kill_when_running)
    thread.start()
    table = label_dataset(folder, client=client, progress=False, every=4)
    finished = time.time()
    thread.join()
    print(f"worker killed with {killed['rows_before']} of 600 rows saved and {killed['busy']} tasks running; "
          f"labelling ended {finished - killed['at']:.2f} s later")
    assert 0 <= killed["rows_before"] < 600 and killed["busy"] > 0 and killed["at"] < finished
    assert list(table["case"]) == list(range(600))  # nothing lost, nothing twice
    reference = label_dataset(_dataset(tmp_path / "ref", 600, 64, 9), workers=1, progress=False)
    pd.testing.assert_frame_equal(table, reference)
    client.wait_for_workers(2, timeout=60)  # the nanny restarted the worker
