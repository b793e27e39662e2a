"""What the server is doing while it starts, for the person who started it.

``thirdspace serve`` prints one line per start-up step, numbered (``[3/4] compiling the sync
kernels ...: 5 of 11``), and the address only once the port takes connections.  The steps
themselves live where the work is (the CLI builds the client, the application's ``on_startup``
opens the store, warms the kernels and loads the scenes); they report here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

# Later counts of one step are printed at most this often (the first and the last always are).
COUNT_EVERY_S = 1.0


class Steps:
    """Numbered start-up steps written as lines; silent when ``write`` is None (tests, embedding).

    Whoever adds steps says how many first (:meth:`plan`), so the numbering is known from the
    first line on.
    """

    def __init__(self, write: Callable[[str], None] | None = None, clock: Callable[[], float] = time.monotonic):
        self.write = write
        self.clock = clock
        self.started = clock()
        self.total = 0
        self.number = 0
        self.what = ""
        self._step_started = self.started
        self._counted_at = 0.0
        self._last_done = -1

    def plan(self, steps: int) -> None:
        self.total += steps

    def begin(self, what: str) -> None:
        self._finish()
        self.number += 1
        self.what = what
        self._step_started = self.clock()
        self._last_done = -1
        self._emit(what)

    def count(self, done: int, total: int, what: str = "") -> None:
        """``done`` of ``total`` things of the current step (or of ``what`` within it) are done."""
        now = self.clock()
        if done == self._last_done:
            return
        if done not in (0, total) and now - self._counted_at < COUNT_EVERY_S:
            return
        self._counted_at = now
        self._last_done = done
        self._emit(f"{self.what}: {what + ': ' if what else ''}{done} of {total}")

    def note(self, text: str) -> None:
        """A line about the current step."""
        self._emit(f"{self.what}: {text}")

    def finish(self) -> float:
        """End the last step; the seconds since the start."""
        self._finish()
        return self.clock() - self.started

    def _finish(self) -> None:
        took = self.clock() - self._step_started
        if self.number and took >= 2.0:  # only slow steps: a quick start stays a few lines
            self._emit(f"{self.what}: done in {took:.1f} s")
        self.what = ""

    def _emit(self, text: str) -> None:
        if self.write is not None:
            self.write(f"[{self.number}/{max(self.total, self.number)}] {text}")


# -- the sync kernels --------------------------------------------------------------------------------


def sync_kernels() -> list[Any]:
    """The numba dispatchers that ``sync.engine.warm_up`` compiles (those inlined into others have no code of their own)."""
    from numba.core.registry import CPUDispatcher

    from thirdspace.rooms import inbox
    from thirdspace.sync import kernels, validate
    from thirdspace.voice import selection

    found: dict[int, Any] = {}
    for module in (kernels, validate, inbox, selection):
        for value in vars(module).values():
            if isinstance(value, CPUDispatcher) and value.targetoptions.get("inline", "never") != "always":
                found[id(value)] = value
    return list(found.values())


def kernels_cached(dispatchers: list[Any]) -> bool:
    """Whether numba's cache holds every kernel for the present source (then warming up takes a second, not a minute).

    numba keeps compiled kernels next to their source in ``sync/__pycache__`` when it may write
    there, else in a cache of the user's; ``NUMBA_CACHE_DIR`` puts them elsewhere.  An index
    written for an older source does not count.
    """
    try:
        return all(dispatcher._cache._cache_file._load_index() for dispatcher in dispatchers)
    except Exception:  # numba's cache layout is its own business: when in doubt, say it may compile
        return False


async def warm_up_kernels(steps: Steps) -> None:
    """Load or compile every sync kernel in a thread, counting them as they are ready."""
    from thirdspace.rooms import inbox
    from thirdspace.sync import engine
    from thirdspace.voice import selection

    def warm_up() -> None:
        engine.warm_up()
        inbox.warm_up()
        selection.warm_up()

    dispatchers = await asyncio.to_thread(sync_kernels)
    if await asyncio.to_thread(kernels_cached, dispatchers):
        steps.begin("loading the sync kernels from numba's cache")
    else:
        steps.begin("compiling the sync kernels (first start only: about a minute; later starts load them from the cache)")
    work = asyncio.ensure_future(asyncio.to_thread(warm_up))
    while True:
        steps.count(sum(1 for dispatcher in dispatchers if dispatcher.overloads), len(dispatchers))
        done, _ = await asyncio.wait({work}, timeout=0.25)
        if done:
            break
    await work
    steps.count(len(dispatchers), len(dispatchers))


# -- memory ---------------------------------------------------------------------------------------

GC_YOUNG_THRESHOLD = 20_000  # container allocations between collections of the youngest generation (Python's default: 700)


def settle_memory() -> None:
    """Once start-up is done, before listening: what start-up built (modules, kernels, scenes) stays for the life of
    the process, so the cyclic collector stops walking it (``gc.freeze``), and the youngest generation is collected
    every GC_YOUNG_THRESHOLD allocations instead of 700.

    Measured with 1,000 walking visitors (BENCHMARKS.md, "Load test"): with Python's defaults the collector took about
    a tenth of the server's core, and each full collection paused the loop for about 200 ms, which was most of the
    p99 latency.  Reference counting still frees everything at once; only garbage in cycles waits a little longer."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)
