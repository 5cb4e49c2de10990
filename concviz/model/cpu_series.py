"""A ring buffer of CPU samples: per-core busy fraction, machine total, the lab's own CPU.

Pure numpy, no Qt. One sampler thread appends; any thread reads a consistent copy.
Times are ``time.perf_counter_ns()``, the clock every lab event uses, so samples and
task bars share one time axis.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .session import CpuSamples


class CpuSeries:
    """Fixed-capacity history of CPU samples (oldest dropped first).

    ``cores``: per-core busy fraction 0..1; ``lab``: the lab's process tree CPU in
    cores (1.0 = one core fully busy); ``own``: the sampling process's own CPU (the
    window, or the CLI); the machine total in cores is the row sum.
    """

    def __init__(self, n_cores: int, capacity: int = 20 * 60 * 30) -> None:
        self.n_cores = n_cores
        self.capacity = capacity
        self._t = np.zeros(capacity, np.int64)
        self._cores = np.zeros((capacity, n_cores), np.float32)
        self._lab = np.zeros(capacity, np.float32)
        self._own = np.zeros(capacity, np.float32)
        self._n = 0  # samples ever appended
        self._lock = threading.Lock()
        self.version = 0

    def append(
        self, t_ns: int, per_core: np.ndarray, lab_cores: float, own_cores: float = 0.0
    ) -> None:
        with self._lock:
            i = self._n % self.capacity
            self._t[i] = t_ns
            self._cores[i] = per_core
            self._lab[i] = lab_cores
            self._own[i] = own_cores
            self._n += 1
            self.version += 1

    def __len__(self) -> int:
        return min(self._n, self.capacity)

    def snapshot(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies in time order: ``(t_ns, per_core[n, cores], lab_cores)``."""
        with self._lock:
            n = min(self._n, self.capacity)
            if self._n <= self.capacity:
                sl = slice(0, n)
                return self._t[sl].copy(), self._cores[sl].copy(), self._lab[sl].copy()
            k = self._n % self.capacity
            order = np.r_[k : self.capacity, 0:k]
            return self._t[order], self._cores[order], self._lab[order]

    def mean_between(self, t0_ns: int, t1_ns: int) -> tuple[float, float] | None:
        """Average machine and lab CPU (in cores) over samples in ``[t0, t1]``."""
        t, cores, lab = self.snapshot()
        keep = (t >= t0_ns) & (t <= t1_ns)
        if not keep.any():
            return None
        return float(cores[keep].sum(axis=1).mean()), float(lab[keep].mean())

    def others_between(self, t0_ns: int, t1_ns: int) -> float | None:
        """Cores that programs other than the lab and this process used in ``[t0, t1]``.

        ``others = mean(machine - lab - own)``, each sample floored at 0 (the readings
        come from two clocks of the kernel and may cross by a little). None when no
        sample fell inside the interval.
        """
        with self._lock:
            n = min(self._n, self.capacity)
            t, cores = self._t[:n], self._cores[:n]
            lab, own = self._lab[:n], self._own[:n]
            keep = (t >= t0_ns) & (t <= t1_ns)
            if not keep.any():
                return None
            rest = cores[keep].sum(axis=1) - lab[keep] - own[keep]
            return float(np.maximum(rest, 0.0).mean())

    def between(self, t0_ns: int, t1_ns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The samples in ``[t0, t1]``, in time order: ``(t_ns, per_core, others)``.

        ``others`` is each sample's cores used by other programs, as in
        ``others_between`` (floored at 0).
        """
        with self._lock:
            n = min(self._n, self.capacity)
            if self._n <= self.capacity:
                order = np.arange(n)
            else:
                k = self._n % self.capacity
                order = np.r_[k : self.capacity, 0:k]
            t = self._t[order]
            keep = order[(t >= t0_ns) & (t <= t1_ns)]
            cores = self._cores[keep].copy()
            rest = cores.sum(axis=1) - self._lab[keep] - self._own[keep]
            return self._t[keep].copy(), cores, np.maximum(rest, 0.0).astype(np.float32)

    def samples_between(self, t0_ns: int, t1_ns: int) -> CpuSamples:
        """The samples in ``[t0, t1]`` as a run keeps them (``Run.cpu``), copied.

        ``percent`` is each core's busy share × 100; ``others`` the cores neither the
        lab nor this process used (floored at 0, as in ``others_between``).
        """
        from .session import CpuSamples

        with self._lock:
            n = min(self._n, self.capacity)
            t, cores = self._t[:n], self._cores[:n]
            lab, own = self._lab[:n], self._own[:n]
            keep = (t >= t0_ns) & (t <= t1_ns)
            order = np.argsort(t[keep], kind="stable")  # the ring may have wrapped
            t_k = t[keep][order]
            cores_k = cores[keep][order]
            lab_k = lab[keep][order]
            own_k = own[keep][order]
        others = np.maximum(cores_k.sum(axis=1) - lab_k - own_k, 0.0).astype(np.float32)
        return CpuSamples(
            t_ns=t_k.astype(np.int64),
            percent=(cores_k * 100.0).astype(np.float32).reshape(len(t_k), self.n_cores),
            others=others,
            lab=lab_k.astype(np.float32),
        )

    @classmethod
    def from_samples(cls, samples: CpuSamples, n_cores: int | None = None) -> CpuSeries:
        """A finished series holding a run's kept samples (to draw a past run's CPU).

        Without ``lab`` samples the lab's curve is the machine's less ``others``.
        """
        n = len(samples.t_ns)
        cores = samples.cores or int(n_cores or 1)
        series = cls(cores, capacity=max(n, 1))
        if n:
            per_core = np.asarray(samples.percent, np.float32).reshape(n, cores) / 100.0
            if samples.lab is not None:
                lab = np.asarray(samples.lab, np.float32)
            elif samples.others is not None:
                lab = np.maximum(per_core.sum(axis=1) - np.asarray(samples.others), 0.0)
            else:
                lab = np.zeros(n, np.float32)
            series._t[:n] = np.asarray(samples.t_ns, np.int64)
            series._cores[:n] = per_core
            series._lab[:n] = lab
            series._n = n
            series.version = 1
        return series
