"""Jobs for the asset worker tests: top-level functions, so a worker process can import them by name."""

from __future__ import annotations

import os
import time
from pathlib import Path


def allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def spin() -> None:
    while True:
        pass


def wait_for(gate: str) -> int:
    """Run until the file ``gate`` exists: a job the test ends when it chooses."""
    while not Path(gate).exists():
        time.sleep(0.01)
    return os.getpid()


def refuse(message: str) -> None:
    raise ValueError(message)


def data_segment_mb() -> int:
    """This process's data segment (what RLIMIT_DATA limits), in MB."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmData:"))
