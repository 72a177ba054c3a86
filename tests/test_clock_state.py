"""The run/pause/pacing state machine on its own: fake ticks, a fake screen, simulated clicks.

A fake screen acknowledges each frame after a delay (a slow browser); the tests check that
the kernel never runs more than a frame ahead of it, that frames are coalesced instead of
queued, and that Pause mid-burst stops the ticks with the screen on the kernel's last tick.
"""

from __future__ import annotations

import threading
import time

import pytest

from helpers.threads import TickWorker
from helpers.widgets.clock_state import Busy, ClockRunner, FrameGate


class FakeScreen:
    """Draws a frame `delay` seconds after it is sent, then acknowledges it (like FrameAck)."""

    def __init__(self, gate: FrameGate, delay: float):
        self.gate, self.delay = gate, delay
        self.showing: int | None = None  # the tick on screen
        self.draws: list[tuple[float, int]] = []
        self.in_flight_max = 0
        self._pending: list[int] = []
        self._lock = threading.Lock()

    def send(self, tick: int) -> None:
        frame = self.gate.next_frame()
        with self._lock:
            self._pending.append(frame)
            self.in_flight_max = max(self.in_flight_max, len(self._pending))

        def draw() -> None:
            with self._lock:
                self._pending.remove(frame)
                self.showing = tick
                self.draws.append((time.monotonic(), tick))
            self.gate.ack(frame)

        threading.Timer(self.delay, draw).start()


class Burst:
    """A kernel whose ticks take `tick_s`: counts ticks, presents through a FakeScreen."""

    def __init__(self, screen: FakeScreen, tick_s: float = 0.002):
        self.screen, self.tick_s = screen, tick_s
        self.ticks = 0
        self.sent_ahead_max = 0
        self.finished: tuple[int, bool] | None = None

    def tick(self) -> bool:
        gate = self.screen.gate
        self.sent_ahead_max = max(self.sent_ahead_max, gate.sent - gate.drawn)
        time.sleep(self.tick_s)
        self.ticks += 1
        return True

    def present(self) -> None:
        self.screen.send(self.ticks)

    def done(self, n: int, paused: bool) -> None:
        self.finished = (n, paused)


@pytest.fixture
def worker():
    w = TickWorker("test-tick")
    yield w
    w.stop()


def start(worker, delay=0.05, tick_s=0.002, timeout=1.0):
    gate = FrameGate(timeout_s=timeout)
    screen = FakeScreen(gate, delay)
    kernel = Burst(screen, tick_s)
    runner = ClockRunner(gate, worker)
    kernel.present()  # the widget shows its first state when displayed
    time.sleep(delay * 2)
    return runner, screen, kernel


def test_a_slow_screen_paces_the_kernel_one_frame_ahead_at_most(worker):
    runner, screen, kernel = start(worker, delay=0.03)
    runner.run(20, kernel.tick, kernel.present, kernel.done)
    assert runner.wait(30)
    assert kernel.ticks == 20 and kernel.finished == (20, False)
    assert screen.in_flight_max <= 2  # the newest frame, plus at most the final one
    assert kernel.sent_ahead_max <= 1  # never a tick started with more than one frame undrawn
    time.sleep(0.1)
    assert screen.showing == kernel.ticks  # the screen ends on the kernel's last tick


def test_pause_mid_burst_stops_ticks_and_leaves_the_screen_on_the_last_tick(worker):
    runner, screen, kernel = start(worker, delay=0.08, tick_s=0.01)
    runner.run(1000, kernel.tick, kernel.present, kernel.done)
    time.sleep(0.4)
    clicked = time.monotonic()
    assert runner.pause()
    assert runner.wait(5)
    stopped_at = kernel.ticks
    assert kernel.finished == (stopped_at, True) and 1 <= stopped_at < 1000
    time.sleep(0.5)
    assert kernel.ticks == stopped_at, "no tick after Pause"
    assert screen.showing == stopped_at, "the screen shows the tick the kernel stopped at"
    last_draw = max(t for t, _ in screen.draws)
    assert last_draw - clicked < 0.5, "the screen settled within 0.5 s of Pause"
    n_draws = len(screen.draws)
    time.sleep(0.3)
    assert len(screen.draws) == n_draws, "nothing changes on screen after that"


def test_a_screen_that_stops_answering_is_coalesced_not_queued(worker):
    runner, screen, kernel = start(worker, delay=0.02, timeout=0.1)
    screen.delay = 5.0  # the tab went to the background: frames are no longer drawn
    runner.run(200, kernel.tick, kernel.present, kernel.done)
    assert runner.wait(30)
    assert kernel.ticks == 200
    assert runner.gate.sent <= 4, f"{runner.gate.sent} frames sent to a screen that draws none"
    assert runner.gate.skipped >= 190


def test_without_any_screen_every_frame_is_presented(worker):
    gate = FrameGate(timeout_s=1.0)  # nobody ever acknowledges: a script or a test
    runner = ClockRunner(gate, worker)
    shown = []
    count = {"ticks": 0}

    def tick():
        count["ticks"] += 1
        return True

    started = time.monotonic()
    runner.run(
        30,
        tick,
        lambda: (shown.append(count["ticks"]), gate.next_frame()),
        lambda n, p: None,
        background=False,
    )
    assert shown == list(range(1, 31)) and time.monotonic() - started < 2.0


def test_speed_limit_spaces_the_ticks(worker):
    runner, screen, kernel = start(worker, delay=0.005)
    runner.ticks_per_second = 20.0
    started = time.monotonic()
    runner.run(6, kernel.tick, kernel.present, kernel.done, background=False)
    assert time.monotonic() - started >= 5 / 20.0


def test_one_action_at_a_time(worker):
    runner, screen, kernel = start(worker, delay=0.01, tick_s=0.02)
    runner.run(50, kernel.tick, kernel.present, kernel.done)
    with pytest.raises(Busy):
        runner.do(lambda: None)
    with pytest.raises(Busy):
        runner.run(1, kernel.tick, kernel.present, kernel.done)
    runner.pause()
    assert runner.wait(5)
    assert runner.do(lambda: 42) == 42
    assert not runner.pause()  # nothing runs any more


def test_an_exception_in_a_tick_ends_the_run_and_frees_the_runner(worker):
    runner, screen, kernel = start(worker, delay=0.005)

    def broken():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        runner.run(5, broken, kernel.present, kernel.done, background=False)
    assert not runner.running and runner.do(lambda: "free") == "free"
