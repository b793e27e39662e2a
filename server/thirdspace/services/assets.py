"""Asset work off the event loop: import checks, recipes, levels of detail and compression in worker processes.

Importing one real controller model takes the pipeline tens of seconds of CPU and a
large mesh gigabytes of memory; every room of the node is ticked by the one event
loop, so none of it may run there.  ``AssetWorkers`` is a
``concurrent.futures.ProcessPoolExecutor`` bounded three ways:

- **concurrency**: ``asset_workers`` processes (default 1), so asset work takes at most
  that many cores from the rooms;
- **queue**: at most ``asset_queue`` jobs wait for a worker; a request that would make
  the queue longer is refused at once (``AssetWorkersBusy``: the HTTP layer answers 503
  with ``Retry-After``) instead of waiting behind a long line.  Work the server owes
  (a scene just published, scenes at start-up) waits for its turn instead;
- **priority**: workers run at a niceness 10 above the server's, so when the machine is
  busy the event loop that ticks the rooms is scheduled first;
- **memory and processor time**, per job: each worker's data segment (heap and private
  mappings, ``RLIMIT_DATA``) is limited to ``asset_worker_memory_mb``, so an allocation
  beyond it raises ``MemoryError`` in the worker (``WorkerOutOfMemory``) and the worker
  lives on; a job that uses more than ``asset_job_cpu_s`` seconds of CPU is stopped by
  ``SIGXCPU`` (``JobTooLong``).  A worker that dies (killed, crashed) fails its job with
  ``WorkerStopped``, and a new pool takes the next one;
- **wall-clock time**, per job: a job still running ``asset_job_timeout_s`` seconds after it
  started is stopped by ``SIGALRM`` in its worker (``JobTimedOut``).  If the worker is stuck
  in library code that does not let the signal in, the server stops waiting ``TIMEOUT_GRACE_S``
  later: it kills the pool's processes, starts a new pool, and the request gets the same
  ``JobTimedOut`` (any other job that was running in that pool fails with ``WorkerStopped``).
  The event loop only ever awaits the job, so a stuck job holds a worker, never a room.

Workers are started with "spawn": the server has threads (the store's, aiohttp's) and
numba's compiled kernels, which a forked child must not inherit half-way.

The store's in-memory index (``AssetStore.record``/``file``) and the library's cache
live in the server process: a worker writes the files and returns the record, and
``AsyncAssetLibrary`` remembers it.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import math
import multiprocessing
import os
import resource
import signal
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

import numpy

from thirdspace.assets.checks import ImportLimits, check_upload
from thirdspace.assets.gltf import pack, unpack
from thirdspace.assets.library import Asset, AssetLibrary, label
from thirdspace.assets.provenance import Provenance
from thirdspace.assets.recipes import build_glb
from thirdspace.assets.store import AssetStore, StoreSettings

log = logging.getLogger(__name__)
T = TypeVar("T")
WORKER_NICENESS = 10  # added to the workers' scheduling niceness: asset work is throughput, ticks are latency
TIMEOUT_GRACE_S = 5.0  # after a job's wall-clock limit, how long its worker has to stop by itself before it is killed


class AssetWorkersBusy(Exception):
    """Every worker is busy and the queue is full: try again after ``retry_after_s``."""

    def __init__(self, waiting: int, retry_after_s: int):
        super().__init__(f"the asset workers are busy ({waiting} job(s) waiting); try again in {retry_after_s} s")
        self.waiting = waiting
        self.retry_after_s = retry_after_s


class AssetJobFailed(Exception):
    """A job the workers could not finish, for a reason of their own (not the asset's)."""


class WorkerOutOfMemory(AssetJobFailed):
    def __init__(self, limit_mb: int, exit_status: int | None = None):
        super().__init__(limit_mb, exit_status)
        self.limit_mb = limit_mb
        self.exit_status = exit_status  # set when a library ended the worker instead of raising MemoryError

    def __str__(self) -> str:
        why = "" if self.exit_status is None else f"; the worker exited with status {self.exit_status} when an allocation failed"
        return f"this needs more memory than an asset worker may use ({self.limit_mb} MB, the asset_worker_memory_mb setting){why}"


class JobTooLong(AssetJobFailed):
    def __init__(self, cpu_s: int):
        super().__init__(cpu_s)
        self.cpu_s = cpu_s

    def __str__(self) -> str:
        return f"this took more processor time than an asset job may use ({self.cpu_s} s, the asset_job_cpu_s setting)"


class JobTimedOut(AssetJobFailed):
    def __init__(self, timeout_s: float):
        super().__init__(timeout_s)
        self.timeout_s = timeout_s

    def __str__(self) -> str:
        return f"this took longer than an asset job may take ({self.timeout_s:g} s, the asset_job_timeout_s setting)"


class WorkerStopped(AssetJobFailed):
    def __init__(self, exit_status: int | None = None):
        super().__init__(exit_status)
        self.exit_status = exit_status  # negative: the signal that ended it

    def __str__(self) -> str:
        status = self.exit_status
        if status is not None and status < 0:
            try:
                how = f"killed by {signal.Signals(-status).name}"
            except ValueError:
                how = f"killed by signal {-status}"
        elif status is not None:
            how = f"exited with status {status}"
        else:
            how = "killed or crashed"
        return f"the asset worker stopped while working on this ({how}); a new worker takes the next job"


# -- in the worker process -------------------------------------------------------------------------

_limits: dict[str, float] = {"memory_mb": 0, "cpu_s": 0, "timeout_s": 0}


class _OutOfCpu(BaseException):
    """Raised by the SIGXCPU handler; a BaseException so that no ``except Exception`` in a library swallows it."""


class _OutOfTime(BaseException):
    """Raised by the SIGALRM handler when a job passes its wall-clock limit."""


def _on_cpu_limit(signum: int, frame: Any) -> None:
    raise _OutOfCpu()


def _on_alarm(signum: int, frame: Any) -> None:
    raise _OutOfTime()


def _start_worker(memory_mb: int, cpu_s: int, timeout_s: float = 0) -> None:
    """The pool's initializer: the modules a job needs are imported by now (unpickling this function did it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is for the server, which stops the workers
    os.nice(WORKER_NICENESS)  # the rooms' event loop gets the processor first whenever both want it
    signal.signal(signal.SIGXCPU, _on_cpu_limit)
    signal.signal(signal.SIGALRM, _on_alarm)
    # OpenBLAS allocates its buffers at the first matrix product and exits the process if it cannot:
    # let it take them before the limit, so that a job over the limit gets MemoryError instead.
    numpy.dot(numpy.ones((512, 512)), numpy.ones((512, 512)))
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    _limits.update(memory_mb=memory_mb, cpu_s=cpu_s, timeout_s=timeout_s)


def _run_job(function: Callable[..., T], args: tuple) -> T:
    """Run one job under the per-job processor-time limit; turn hitting a limit into an error the server can show."""
    cpu_s, timeout_s = int(_limits["cpu_s"]), _limits["timeout_s"]
    if cpu_s:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        soft = math.ceil(usage.ru_utime + usage.ru_stime + cpu_s)  # RLIMIT_CPU counts the whole life of the process
        resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
    failure: AssetJobFailed
    try:
        if timeout_s:
            signal.setitimer(signal.ITIMER_REAL, timeout_s)
        return function(*args)
    except MemoryError:
        failure = WorkerOutOfMemory(int(_limits["memory_mb"]))
    except _OutOfCpu:
        failure = JobTooLong(cpu_s)
    except _OutOfTime:
        failure = JobTimedOut(timeout_s)
    finally:
        if timeout_s:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if cpu_s:
            resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
    # Raised out here, not in the except clause: the job's frames (and what they hold) are gone by now,
    # so the worker has the memory to send the error back.
    gc.collect()
    raise failure


def worker_ready() -> int:
    """The start-up probe: the worker has imported everything and can still allocate under its limit."""
    bytearray(16 * 1024 * 1024)
    return os.getpid()


def build_library_asset(source_dir: Path, limits: ImportLimits, store_root: Path, store_settings: StoreSettings, asset_id: str) -> dict:
    """``AssetLibrary.build`` for a file in the asset directory: a model's checks, or a preset's recipe; then levels."""
    return AssetLibrary(source_dir, AssetStore(store_root, store_settings), limits).build(asset_id)


def ingest_upload(
    data: bytes | Path,
    limits: ImportLimits,
    source_type: str,
    made_by: str,
    made_at: str,
    title: str | None,
    store_root: Path,
    store_settings: StoreSettings,
) -> dict:
    """A curator's upload (its bytes, or the file it was spooled to): checked, labelled with what the curator declared,
    stored with its levels."""
    gltf = check_upload(data.read_bytes() if isinstance(data, Path) else data, limits)
    generator = str(gltf.document.get("asset", {}).get("generator", "unknown"))
    declared = Provenance(source_type, generator, "", made_by, made_at, title=title)
    glb = pack(label(gltf, declared))
    return AssetStore(store_root, store_settings).ingest(unpack(glb))


def ingest_glb(glb: bytes, store_root: Path, store_settings: StoreSettings) -> dict:
    """A generated GLB (already checked and labelled) stored with its levels."""
    return AssetStore(store_root, store_settings).ingest(unpack(glb))


# -- in the server process -------------------------------------------------------------------------


class AssetWorkers:
    """A bounded pool of asset worker processes; ``start()`` before use, ``close()`` after."""

    def __init__(
        self, workers: int = 1, queue: int = 4, memory_mb: int = 2048, cpu_s: int = 600, retry_after_s: int = 10, timeout_s: float = 300
    ):
        if workers < 1:
            raise ValueError("asset_workers must be 1 or more")
        if queue < 0:
            raise ValueError("asset_queue must be 0 or more")
        if memory_mb < 0 or cpu_s < 0 or timeout_s < 0:
            raise ValueError("asset_worker_memory_mb, asset_job_cpu_s and asset_job_timeout_s must be 0 (no limit) or more")
        self.workers, self.queue, self.memory_mb, self.cpu_s, self.timeout_s = workers, queue, memory_mb, cpu_s, timeout_s
        self.retry_after_s = retry_after_s
        self.admitted = 0  # jobs running or waiting for a worker
        self.running = 0  # jobs handed to a worker process
        self._slots = asyncio.Semaphore(workers)
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self.memory_mb, self.cpu_s, self.timeout_s),
        )

    async def start(self) -> None:
        """Start every worker now (each imports numpy, trimesh and scipy: a second or two) and check it works under its limits."""
        self._pool = self._new_pool()
        try:
            await asyncio.gather(*(self.run(worker_ready, wait=True) for _ in range(self.workers)))
        except AssetJobFailed as err:
            await self.close()
            raise RuntimeError(f"the asset workers cannot start: {err}") from None

    async def close(self) -> None:
        """Stop the workers, also in the middle of a job (its files are written whole or not at all)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
        if terminate is not None:
            terminate()
        else:
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
        await asyncio.get_running_loop().run_in_executor(None, functools.partial(pool.shutdown, wait=True, cancel_futures=True))

    async def run(self, function: Callable[..., T], *args: Any, wait: bool = False) -> T:
        """``function(*args)`` in a worker process.

        When every worker is busy and ``asset_queue`` jobs already wait, raise
        ``AssetWorkersBusy`` at once, or with ``wait`` queue anyway.  Raises what the
        function raised, or an ``AssetJobFailed``."""
        if self._pool is None:
            raise RuntimeError("the asset workers are not started (AssetWorkers.start) or already closed")
        if not wait and self.admitted >= self.workers + self.queue:
            raise AssetWorkersBusy(self.admitted - self.running, self.retry_after_s)
        self.admitted += 1
        try:
            await self._slots.acquire()
        except BaseException:
            self.admitted -= 1
            raise
        try:
            pool, future = self._submit(function, args)
        except BaseException:
            self._finished()
            raise
        self.running += 1
        loop = asyncio.get_running_loop()
        # The slot is free when the worker is, even if the caller stops waiting (a cancelled request).
        future.add_done_callback(lambda _: loop.call_soon_threadsafe(self._finished, True))
        try:
            waiting = asyncio.wrap_future(future)
            try:
                done, _ = await asyncio.wait({waiting}, timeout=self.timeout_s + TIMEOUT_GRACE_S if self.timeout_s else None)
            except asyncio.CancelledError:
                waiting.cancel()  # as awaiting it would: a job that has not started yet does not start
                raise
            if not done:
                # The worker did not stop at its alarm: kill it (and its pool); the BrokenProcessPool that follows is expected.
                waiting.add_done_callback(lambda f: f.cancelled() or f.exception())
                log.warning("an asset job passed asset_job_timeout_s (%s s) and its worker did not stop; killing it", self.timeout_s)
                self._kill(pool)
                raise JobTimedOut(self.timeout_s)
            return waiting.result()
        except BrokenProcessPool:
            status = await self._exit_status(pool)
            self._replace(pool)
        # A worker that exits on its own (status > 0) under a memory limit ran out of it: brotli and OpenBLAS
        # end the process when an allocation fails, instead of reporting it.  A signal is someone else's doing.
        if status is not None and status > 0 and self.memory_mb:
            raise WorkerOutOfMemory(self.memory_mb, status)
        raise WorkerStopped(status)

    @staticmethod
    async def _exit_status(pool: ProcessPoolExecutor) -> int | None:
        """How the worker that broke the pool ended (the others are stopped with SIGTERM after it)."""
        processes = list((getattr(pool, "_processes", None) or {}).values())  # ProcessPoolExecutor has no public view
        for _ in range(100):
            statuses = [p.exitcode for p in processes]
            first = next((s for s in statuses if s is not None and s != -signal.SIGTERM), None)
            if first is not None or (statuses and all(s is not None for s in statuses)):
                return first if first is not None else statuses[0]
            await asyncio.sleep(0.01)
        return None

    def _submit(self, function: Callable[..., T], args: tuple) -> tuple[ProcessPoolExecutor, Future]:
        for _ in range(2):
            pool = self._pool
            if pool is None:
                raise RuntimeError("the asset workers are closed")
            try:
                return pool, pool.submit(_run_job, function, args)
            except BrokenProcessPool:  # a worker died and nobody was waiting to see it: start again
                self._replace(pool)
        raise WorkerStopped()

    def _kill(self, pool: ProcessPoolExecutor) -> None:
        """Kill a pool's processes (the job they run fails with BrokenProcessPool, freeing its slot) and start a new pool."""
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        self._replace(pool)

    def _replace(self, pool: ProcessPoolExecutor) -> None:
        if self._pool is not pool:  # replaced already, or closed
            return
        log.warning("an asset worker stopped; starting a new pool")
        pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()

    def _finished(self, ran: bool = False) -> None:
        if ran:
            self.running -= 1
        self.admitted -= 1
        self._slots.release()


class AsyncAssetLibrary:
    """The asset library for the server: ``AssetLibrary``'s heavy step in the workers, its caches here.

    ``resolve(..., wait=False)`` is for a request a person waits on (it may raise
    ``AssetWorkersBusy``); the publisher's work waits for a worker."""

    def __init__(self, library: AssetLibrary, workers: AssetWorkers, registry: Callable[[str], Awaitable[str | None]]):
        self.library = library
        self.workers = workers
        self.registry = registry  # asset id -> sha256 of an asset added through the authoring API (the store)

    @property
    def store(self) -> AssetStore:
        return self.library.store

    @property
    def limits(self) -> ImportLimits:
        return self.library.limits

    async def resolve(self, asset_id: str, wait: bool = True) -> Asset:
        cached = self.library.cached(asset_id)
        if cached is not None:
            return cached
        sha = await self.registry(asset_id)
        if sha is not None:
            record = await asyncio.to_thread(self.library.stored, asset_id, sha)
        else:
            store = self.library.store
            record = await self.workers.run(
                build_library_asset, self.library.source_dir, self.limits, store.root, store.settings, asset_id, wait=wait
            )
        return self.library.remember(asset_id, record)

    async def file_ids(self) -> list[str]:
        return await asyncio.to_thread(self.library.file_ids)

    async def ingest_upload(self, data: bytes | Path, source_type: str, made_by: str, made_at: str, title: str | None) -> dict:
        """Check, label and store an upload (bytes, or a file the worker reads); the record (``ImportRefused`` if refused)."""
        store = self.store
        record = await self.workers.run(ingest_upload, data, self.limits, source_type, made_by, made_at, title, store.root, store.settings)
        store.remember(record)
        return record

    async def ingest(self, glb: bytes) -> dict:
        """Store a generated, labelled GLB with its levels; the record."""
        record = await self.workers.run(ingest_glb, glb, self.store.root, self.store.settings)
        self.store.remember(record)
        return record

    async def build_glb(self, name: str, params: Any, seed: int, made_by: str, made_at: str | None) -> bytes:
        """``recipes.build_glb`` in a worker (``RecipeError`` if the parameters are wrong)."""
        return await self.workers.run(build_glb, name, params, seed, made_by, made_at)

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Any picklable job, refused when the queue is full: what the generators are given as ``run``."""
        return await self.workers.run(function, *args)
