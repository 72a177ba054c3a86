"""The clock widget's run/pause state machine, apart from any drawing (testable headless).

Display pacing. During Run N the kernel could tick faster than a browser draws; if every tick
were sent, updates would queue up and the screen would trail the kernel by seconds (Pause
then seems not to pause). So the screen tells the kernel which frame it has drawn
(`FrameGate.ack`, from a tiny front-end widget after `requestAnimationFrame`), and the run loop:

    tick -> wait until the screen has drawn the previous frame -> present the newest state

The kernel is then never more than one frame ahead of the screen. If the screen does not
answer within `timeout_s` (a closed tab, a slow machine) the loop stops waiting and keeps
ticking, but still presents a frame only once the previous one was drawn: updates are
coalesced, only the newest state is sent. The last state of a run is always presented.

Pause sets an event; the tick in progress completes (a forward pass cannot be cut in half),
no further tick starts, and the final frame shows the tick the kernel stopped at.

Speed: `ticks_per_second` (None = as fast as the screen allows) spaces the ticks for a
teacher who talks over each one.

Every tick runs on the process's tick worker thread (helpers/threads.py), whether it comes
from Step (the caller waits) or from Run (the loop runs there): one thread policy for both.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from ..threads import TickWorker, on_exit, tick_worker

__all__ = ["FrameGate", "ClockRunner", "Busy"]


class Busy(RuntimeError):
    """Another tick, run, rewind or reset is in progress."""


class FrameGate:
    """Frames the kernel has sent vs frames the screen has drawn."""

    def __init__(self, timeout_s: float = 1.0):
        self.timeout_s = timeout_s
        self._cond = threading.Condition()
        self.sent = 0  # number of the newest frame sent
        self.drawn = 0  # newest frame a screen has acknowledged
        self.screen = False  # a screen has answered and has not missed a deadline since
        self.skipped = 0  # frames coalesced away (not sent because the screen was behind)
        self.first_sent_at: float | None = None

    def next_frame(self) -> int:
        with self._cond:
            self.sent += 1
            if self.first_sent_at is None:
                self.first_sent_at = time.monotonic()
            return self.sent

    def never_answered(self, grace_s: float) -> bool:
        """True when frames went out more than grace_s ago and no screen ever said it drew one:
        the front end shows the widget but did not load the small widget that answers (an
        anywidget, which VS Code and Colab fetch from a CDN). Runs still work, unpaced."""
        with self._cond:
            return (self.drawn == 0 and self.first_sent_at is not None
                    and time.monotonic() - self.first_sent_at > grace_s)

    def ack(self, frame: int) -> None:
        """The screen has drawn `frame` (called from the front end's message; any thread)."""
        with self._cond:
            self.drawn = max(self.drawn, int(frame))
            self.screen = True
            self._cond.notify_all()

    def behind(self) -> bool:
        with self._cond:
            return self.screen and self.drawn < self.sent

    def wait_drawn(self, cancel: threading.Event | None = None) -> bool:
        """Wait until the newest frame sent is drawn. True: send the next frame now; False: the
        screen is behind (or gone, or `cancel` was set): skip this frame."""
        deadline = time.monotonic() + self.timeout_s
        with self._cond:
            while self.screen and self.drawn < self.sent:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.screen = False  # stop waiting for it until it answers again
                    break
                if cancel is not None and cancel.is_set():
                    return False
                self._cond.wait(min(left, 0.05))
            if self.screen or self.drawn >= self.sent:
                return True
            # No screen is answering: with no one having ever answered (not displayed, a test,
            # a script) every frame goes; once a screen fell behind, only when it catches up.
            return self.drawn == 0


class ClockRunner:
    """Run/pause state: one action at a time on the tick worker, runs paced by a FrameGate."""

    def __init__(self, gate: FrameGate | None = None, worker: TickWorker | None = None):
        self.gate = gate or FrameGate()
        self._worker = worker
        self._busy = threading.Lock()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._done.set()
        self.running = False
        self.ticks_per_second: float | None = None  # None: as fast as the screen draws
        on_exit(self)

    @property
    def worker(self) -> TickWorker:
        return self._worker or tick_worker()

    def do(self, action: Callable[[], object]) -> object:
        """Run action on the tick worker and return its result; Busy if something runs."""
        if not self._busy.acquire(blocking=False):
            raise Busy("Busy: a run is in progress. Click Pause first.")
        try:
            return self.worker.call(action)
        finally:
            self._busy.release()

    def run(
        self,
        n: int,
        tick: Callable[[], bool],
        present: Callable[[], None],
        finished: Callable[[int, bool], None],
        background: bool = True,
    ) -> None:
        """Up to n ticks. tick() returns False to stop (end of text, an error); present() draws
        the newest state; finished(ticks done, paused) runs last, after the final present."""
        if not self._busy.acquire(blocking=False):
            raise Busy("Busy: a run is in progress. Click Pause first.")
        self._stop.clear()
        self._done.clear()
        self.running = True
        try:
            job = self.worker.submit(lambda: self._loop(n, tick, present, finished))
        except BaseException:
            self._release()
            raise
        if not background:
            job.result()

    def _loop(self, n: int, tick, present, finished) -> None:
        done, shown = 0, 0
        try:
            while done < n and not self._stop.is_set():
                started = time.monotonic()
                if not tick():
                    break
                done += 1
                if self.gate.wait_drawn(self._stop):
                    present()
                    shown = done
                else:
                    self.gate.skipped += 1
                self._pace(started)
        finally:
            try:
                if shown != done or done == 0:
                    present()  # the screen ends on the tick the kernel stopped at
                finished(done, self._stop.is_set())
            finally:
                self._release()

    def _pace(self, started: float) -> None:
        tps = self.ticks_per_second
        if tps:
            self._stop.wait(max(0.0, started + 1.0 / tps - time.monotonic()))

    def _release(self) -> None:
        self.running = False
        self._busy.release()
        self._done.set()

    def pause(self) -> bool:
        """Stop a run after the tick in progress. False if nothing was running."""
        if not self.running:
            return False
        self._stop.set()
        return True

    @property
    def pausing(self) -> bool:
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a run has finished; True if it has."""
        return self._done.wait(timeout)

    def stop_for_exit(self) -> None:
        self._stop.set()
        self._done.wait(30)
