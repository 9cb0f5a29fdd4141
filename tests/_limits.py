"""Run a piece of a test under a time and a memory bound, so a reader that hangs or
allocates without bound fails its test (TimeoutError, MemoryError) instead of stalling
the suite or exhausting the machine."""

from __future__ import annotations

import os
import resource
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


def _address_space() -> int:
    """This process's virtual size in bytes (/proc/self/statm, first field, in pages)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


class Overtime(Exception):
    """Raised in the main thread when a bounded block runs past its time."""


@contextmanager
def bounded(seconds: float, megabytes: int) -> Iterator[None]:
    """At most `seconds` of wall time (Overtime) and `megabytes` more address space
    (MemoryError) for the block. Main thread only (SIGALRM)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _address_space() + megabytes * 2**20
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)

    def overtime(signum: int, frame: FrameType | None) -> None:
        raise Overtime(f"over {seconds} s")

    previous = signal.signal(signal.SIGALRM, overtime)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
