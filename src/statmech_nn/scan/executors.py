"""Where a scan's tasks run: a local process pool, a Dask ``LocalCluster``, or an existing Dask scheduler.

All three give the engine the same three things: ``submit(function, *args)`` (Dask: ``pure=False``, so that
a re-submitted cell is computed again, not served from a cache), ``as_completed(futures)`` (an iterator of
finished futures to which more can be added) and ``recoverable`` (the exceptions that mean a worker died, not
that the task failed: the engine re-submits the block). Results come back to the driver, the only writer.

A worker killed mid-task: Dask re-runs the task on another worker by itself (up to
``distributed.scheduler.allowed-failures`` times, then ``KilledWorker``); the local pool breaks, and is
rebuilt by the next ``submit``.

:func:`~statmech_nn.scan.engine.run_scan` starts and closes an executor it is given unstarted; one already
started (``with executor:``) is used as it is and left open (e.g. one pool for several scans).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from ..errors import ParameterError
from ..params import require_int


class LocalPool:
    """A process pool of ``workers`` processes (default: the machine's cores), started with ``spawn``."""

    name = "local"
    recoverable = (BrokenProcessPool,)

    def __init__(self, workers: int | None = None):
        self.workers = require_int("workers", workers, 1) if workers is not None else (os.cpu_count() or 1)
        self._pool = None
        self.inline = False

    @property
    def started(self) -> bool:
        return self._pool is not None

    def limit(self, tasks: int) -> None:
        """No more processes than tasks; a single task runs in the driver (nothing to overlap, no start-up)."""
        self.workers = max(1, min(self.workers, tasks))
        self.inline = tasks == 1

    def __enter__(self):
        if not self.inline:
            self._start()
        return self

    def __exit__(self, *exc):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _start(self) -> None:
        self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=die_with_parent, initargs=(os.getpid(),))

    def submit(self, function, *args):
        if self.inline:
            future = Future()
            future.set_result(function(*args))
            return future
        if self._pool is None or getattr(self._pool, "_broken", False):
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
            self._start()
        return self._pool.submit(function, *args)

    def as_completed(self, futures):
        return _Completed(futures)


PR_SET_PDEATHSIG = 1   # prctl(2) option: the signal this process gets when its parent dies (Linux)
WATCH_INTERVAL_S = 1.0


def die_with_parent(parent: int) -> None:
    """Make a pool worker end when its driver ``parent`` dies, however it dies (SIGKILL included), so that no worker
    is left computing (and holding memory) for a driver that is gone: on Linux the kernel sends it SIGKILL
    (``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon thread checks the parent every second."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:   # the driver died before the worker started
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_INTERVAL_S)
    os._exit(1)


class _Completed:
    """``distributed.as_completed`` for concurrent.futures: iterate finished futures, ``add`` more on the way."""

    def __init__(self, futures):
        self._pending = set(futures)
        self._ready = []

    def add(self, future):
        self._pending.add(future)

    def __iter__(self):
        return self

    def __next__(self):
        if not self._ready:
            if not self._pending:
                raise StopIteration
            done, self._pending = wait(self._pending, return_when=FIRST_COMPLETED)
            self._ready = list(done)
        return self._ready.pop()


class DaskExecutor:
    """Tasks on a Dask cluster: a new ``LocalCluster`` of ``local_cluster`` worker processes (one thread each,
    loopback only), or the scheduler at ``address`` (``tcp://HOST:PORT``)."""

    name = "dask"

    def __init__(self, local_cluster: int | None = None, address: str | None = None):
        if (local_cluster is None) == (address is None):
            raise ParameterError("executor", (local_cluster, address), "either a LocalCluster size or an address")
        self.local_cluster = None if local_cluster is None else require_int("local_cluster", local_cluster, 1)
        if address is not None and not str(address).startswith(("tcp://", "tls://", "inproc://", "ucx://")):
            raise ParameterError("scheduler", address, "a scheduler address such as tcp://HOST:PORT")
        self.address = address
        self.cluster = self.client = None

    @property
    def started(self) -> bool:
        return self.client is not None

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info()["workers"]) if self.client else (self.local_cluster or 1)

    @property
    def recoverable(self):
        from distributed import KilledWorker

        return (KilledWorker,)

    def __enter__(self):
        from distributed import Client, LocalCluster

        if self.address is None:
            self.cluster = LocalCluster(n_workers=self.local_cluster, threads_per_worker=1, processes=True,
                                        host="127.0.0.1", dashboard_address=None)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(self.address, timeout="10s")
            except OSError as exc:
                raise ParameterError("scheduler", self.address, f"a reachable Dask scheduler ({exc})") from None
        return self

    def __exit__(self, *exc):
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None

    def submit(self, function, *args):
        return self.client.submit(function, *args, pure=False)

    def as_completed(self, futures):
        from distributed import as_completed

        return as_completed(futures)


def make_executor(workers: int | None = None, local_cluster: int | None = None, scheduler: str | None = None):
    """The executor the command line asks for (at most one of the three; default a local pool)."""
    chosen = [name for name, value in (("workers", workers), ("local_cluster", local_cluster),
                                       ("scheduler", scheduler)) if value is not None]
    if len(chosen) > 1:
        raise ParameterError("executor", chosen, "one of --workers, --local-cluster, --scheduler")
    if local_cluster is not None or scheduler is not None:
        return DaskExecutor(local_cluster, scheduler)
    return LocalPool(workers)
