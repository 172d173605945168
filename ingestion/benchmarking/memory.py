"""Peak memory of a process tree (a `shopflow` run with its dbt subprocesses), from /proc.

A background thread samples the tree every ``SAMPLE_SECONDS``: the sum of the members'
resident memory (``VmRSS``), whose highest sample is the tree's peak, and each member's own
high-water mark (``VmHWM``), exact per process, whose largest is the biggest single process.
``ru_maxrss`` of ``RUSAGE_CHILDREN`` would only give the latter, and Linux carries the
parent's own peak over into a forked child. The database server is not part of the tree.
Linux only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.25
PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessTreeMemory:
    """Memory high-water marks of a process tree, in MB."""

    tree_peak_mb: float
    """Highest sampled sum of the resident memory of every process in the tree."""
    largest_process_mb: float
    """Largest ``VmHWM`` of any one process in the tree (exact, not sampled)."""


def parent_ids() -> dict[int, int]:
    """Parent process id of every process that can be read now."""
    parents: dict[int, int] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        # the command name (in parentheses) may hold spaces: the fields after it are plain
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def tree(root: int) -> set[int]:
    """``root`` and every process descending from it."""
    children: dict[int, list[int]] = {}
    for pid, parent in parent_ids().items():
        children.setdefault(parent, []).append(pid)
    members, pending = set(), [root]
    while pending:
        pid = pending.pop()
        members.add(pid)
        pending.extend(children.get(pid, []))
    return members


def memory_kb(pid: int) -> tuple[int, int]:
    """``VmRSS`` and ``VmHWM`` of one process in kB (zeros once it has ended)."""
    try:
        lines = (PROC / str(pid) / "status").read_text().splitlines()
    except OSError:
        return 0, 0
    values = {
        name: int(rest.split()[0])
        for name, _, rest in (line.partition(":") for line in lines)
        if name in ("VmRSS", "VmHWM")
    }
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


class TreeSampler:
    """Samples one process tree from a thread until stopped."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.tree_peak_kb = 0
        self.high_water_kb: dict[int, int] = {}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def sample(self) -> None:
        """One sample: the tree's summed resident memory and each member's high-water mark."""
        total = 0
        for pid in tree(self.root):
            resident, high_water = memory_kb(pid)
            total += resident
            self.high_water_kb[pid] = max(self.high_water_kb.get(pid, 0), high_water)
        self.tree_peak_kb = max(self.tree_peak_kb, total)

    def _sample_until_stopped(self) -> None:
        while not self.stopped.wait(SAMPLE_SECONDS):
            self.sample()

    def result(self) -> ProcessTreeMemory:
        largest = max(self.high_water_kb.values(), default=0)
        return ProcessTreeMemory(self.tree_peak_kb / 1024, largest / 1024)


@contextmanager
def sampling_memory(root: int) -> Iterator[TreeSampler]:
    """Sample the tree of ``root`` while the block runs (call ``result()`` afterwards)."""
    sampler = TreeSampler(root)
    sampler.sample()
    sampler.thread.start()
    try:
        yield sampler
    finally:
        sampler.stopped.set()
        sampler.thread.join()
