"""Where ticks run: one dedicated worker thread, with a fixed number of torch threads.

The thread policy, chosen by measurement (bench/bench_threads.py):

* Every widget tick runs on ONE dedicated worker thread (`tick_worker()`): Step waits for it,
  Run N hands it the whole loop. So a Step and a Run tick take the same path and cost the
  same; the kernel's main thread only draws and answers clicks (Pause stays responsive).
* That thread, and the kernel's main thread (`load_model` calls `apply_thread_policy`, so a
  plain `clock.tick()` in a notebook gets it too), use `tick_threads()` torch threads:
  1 by default. A 135M model gains little from a second thread on an idle laptop, and loses a
  lot when other programs (other kernels in a classroom) keep the cores busy: a thread that
  has to wait for a busy core holds every other thread of the forward pass at each barrier.
  Measured on a 2-core machine: see the table in bench/bench_threads.py's docstring.
* `torch.set_num_threads` is per thread (it sets the OpenMP thread count of the calling
  thread), which is why a thread created later would otherwise inherit whatever the process
  default was: the worker applies the policy itself when it starts.
* Override with LLM_CLOCK_TICK_THREADS=N (or OMP_NUM_THREADS=N) for a machine with free cores.
* At interpreter exit, runs are stopped and the worker is joined (`atexit`), so a process
  that exits during a Run does not abort inside a forward pass.
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
import weakref
from concurrent.futures import Future, wait
from typing import Callable, TypeVar

import torch

__all__ = ["tick_threads", "apply_thread_policy", "TickWorker", "tick_worker", "on_exit"]

T = TypeVar("T")
DEFAULT_TICK_THREADS = 1


def tick_threads() -> int:
    """The torch thread count for a tick: LLM_CLOCK_TICK_THREADS, else OMP_NUM_THREADS, else 1."""
    for name in ("LLM_CLOCK_TICK_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return DEFAULT_TICK_THREADS


def apply_thread_policy() -> None:
    """Give the calling thread the tick thread count (torch thread counts are per thread)."""
    n = tick_threads()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


class TickWorker:
    """One daemon thread that runs submitted jobs one after another, in order."""

    def __init__(self, name: str = "llmclock-tick"):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        apply_thread_policy()
        while True:
            job = self._jobs.get()
            if job is None:
                return
            future, fn = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as err:  # handed to the caller, the worker lives on
                future.set_exception(err)

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def alive(self) -> bool:
        return self._thread.is_alive()

    def submit(self, fn: Callable[[], T]) -> Future:
        """Run fn on the worker later; returns its Future."""
        future: Future = Future()
        if threading.current_thread() is self._thread:  # a job that submits a job: run it now
            try:
                future.set_result(fn())
            except BaseException as err:
                future.set_exception(err)
            return future
        self._jobs.put((future, fn))
        return future

    def call(self, fn: Callable[[], T]) -> T:
        """Run fn on the worker and wait for its result (its exception is raised here).

        An interrupt (Kernel > Interrupt) while waiting still waits for the job to finish
        before it is raised: the tick in progress completes or fails as a whole."""
        future = self.submit(fn)
        try:
            return future.result()
        except BaseException:
            if not future.done():
                wait([future])  # never leave a tick running behind the caller
            raise

    def stop(self, timeout: float | None = 10.0) -> None:
        """Finish the queued jobs, then end the thread."""
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._jobs.put(None)
            self._thread.join(timeout)


_worker: TickWorker | None = None
_worker_lock = threading.Lock()
_exit_callbacks: "weakref.WeakSet" = weakref.WeakSet()


def tick_worker() -> TickWorker:
    """The process's tick thread (started on first use, restarted if it ever died)."""
    global _worker
    with _worker_lock:
        if _worker is None or not _worker.alive():
            _worker = TickWorker()
        return _worker


def on_exit(obj) -> None:
    """Call obj.stop_for_exit() at interpreter exit (weakly held: no leak for closed widgets)."""
    _exit_callbacks.add(obj)


@atexit.register
def _stop_everything() -> None:
    # Daemon threads are frozen wherever they are once atexit handlers return; a thread frozen
    # inside a forward pass aborts the process ("terminate called without an active exception").
    for obj in list(_exit_callbacks):
        try:
            obj.stop_for_exit()
        except Exception:
            pass
    if _worker is not None:
        _worker.stop(timeout=30)
