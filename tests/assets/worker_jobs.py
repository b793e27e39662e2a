"""Jobs for the asset-job timeout tests: top-level functions, so a worker process can import them by name."""

from __future__ import annotations

import signal

from tests.services.jobs import wait_for


def deaf_wait_for(gate: str) -> int:
    """``wait_for`` with the wall-clock alarm blocked: a job stuck where the worker's own timeout cannot reach it."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    return wait_for(gate)
