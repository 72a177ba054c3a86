"""A class on one machine: memory per kernel, tick latency under contention, time to first tick.

    .venv/bin/python bench/bench_classroom.py [--ticks 8] [--rounds 18] [--max-students 8]
                                              [--no-hub] [--no-browser]

1. Memory. Starts 1, 2, 4, then 8 simulated students: plain processes that do what a kernel
   of the lesson does (import helpers, load the embedded model from the class's shared
   read-only folder, tick the clock). For each class size, from /proc/PID/smaps_rollup: the
   class's total PSS, the PSS added per additional student, each student's USS (pages no
   other process shares) and, from /proc/PID/smaps, the model.safetensors mapping: its PSS
   summed over the class (goal: about one file, the weights counted once). Goal: at most
   350 MiB private per additional kernel (sizes in MiB, 2**20 bytes).
2. Latency. The same processes tick at the same moment (each: a fresh clock, the prefill tick,
   then --ticks decode ticks, timed). Median decode tick per student for 1, 2, 4, 8 at once,
   against one student alone. Goal: every student's median within max(1, N / cores) x the
   solo median + 25%.
   The solo tick is measured in rounds interleaved with the class's rounds (solo, class, solo,
   class, ...; --rounds of each), because on a shared or virtual machine the speed of a core
   drifts by 20-40 % within minutes: one solo figure taken at the start and compared with
   class rounds taken a minute later mostly measures that drift. A student's median is over
   all their ticks of all rounds, as in a lesson, where a student steps through many ticks;
   the worst single round is printed too.
   --tick-queue measures the alternative that was tried and not adopted: a machine-wide queue
   in which each forward pass first takes one of `cores` lock files, in turn.
3. Start-up, through JupyterHub (classroom/jupyterhub_config.py, everyone as this Unix user):
   a student's "start server", then a kernel, then load_model + the first tick, and what the
   student's server + kernel hold in memory afterwards (sizes classroom's mem_limit). Needs
   classroom/install.sh to have run (./classroom.sh does it); --no-hub skips it.
4. The same as a student does it, in headless Chromium at 1280x720: log in with the class
   password (the hub starts the server), JupyterLab on screen, open 06_tick_by_tick, run its
   cells down to the clock widget, press Step, until "tick 0" shows in the widget. Needs
   Chromium (scripts/install-browser.sh) and Playwright; --no-browser skips it.

The machine may be shared with other work: the load average is printed; compare ratios more
than absolute numbers, and rerun on a quiet machine for the figures in docs/teaching.md.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "classroom"))
sys.path.insert(0, str(REPO))

from helpers.tick_view import byte_size  # noqa: E402
from students import Hub, Student, clock_code, mapping_facts, memory_rollup  # noqa: E402

MODELS = REPO / "classroom" / "state" / "models"
WEIGHTS = MODELS / "SmolLM2-135M-Instruct" / "model.safetensors"
PROMPT = "Once upon a time, in a small village by the sea,"
KIB_PER_MIB = 1024  # smaps counts kB (KiB); figures are printed in MiB


class TickQueue:
    """At most `slots` forward passes at once across processes: each takes the next of `slots`
    lock files in turn (the one the oldest running tick holds, which frees first). flock locks
    die with their process, so a killed kernel never keeps a slot."""

    def __init__(self, folder: Path, slots: int):
        self.door = os.open(folder / "door", os.O_RDWR | os.O_CREAT, 0o600)
        self.slots = [os.open(folder / f"slot{i}", os.O_RDWR | os.O_CREAT, 0o600)
                      for i in range(slots)]

    @contextlib.contextmanager
    def turn(self):
        fcntl.flock(self.door, fcntl.LOCK_EX)  # one process at a time takes a ticket
        try:
            raw = os.pread(self.door, 8, 0)
            ticket = int.from_bytes(raw, "little") if len(raw) == 8 else 0
            os.pwrite(self.door, ((ticket + 1) % 2**32).to_bytes(8, "little"), 0)
            slot = self.slots[ticket % len(self.slots)]
            fcntl.flock(slot, fcntl.LOCK_EX)
        finally:
            fcntl.flock(self.door, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(slot, fcntl.LOCK_UN)


def queue_every_forward_pass(folder: str) -> None:
    import helpers.clock as clock_module

    tick_queue = TickQueue(Path(folder), os.cpu_count() or 1)
    read_tokens = clock_module.read_tokens

    def queued_read_tokens(*args, **kwargs):
        with tick_queue.turn():
            return read_tokens(*args, **kwargs)

    clock_module.read_tokens = queued_read_tokens


def worker() -> None:
    """One simulated student: load, tick once, then tick on command ("tick K" / "quit")."""
    import torch  # noqa: F401 (imported before helpers, as in a notebook)

    if os.environ.get("LLM_CLOCK_BENCH_TICK_QUEUE"):
        queue_every_forward_pass(os.environ["LLM_CLOCK_BENCH_TICK_QUEUE"])

    from helpers import load_model
    from helpers.clock import Clock
    from helpers.sampling import SamplingConfig

    lm = load_model()
    Clock(lm, PROMPT, SamplingConfig(temperature=0.7), seed=0).run(3)  # a lesson's first cell
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            return
        clock = Clock(lm, PROMPT, SamplingConfig(temperature=0.7), seed=0)
        clock.tick()  # the prefill, not timed: decode ticks are what a student steps through
        times = []
        for _ in range(int(words[1])):
            start = time.perf_counter()
            clock.tick()
            times.append((time.perf_counter() - start) * 1000)
        print(json.dumps(times), flush=True)


def start_students(n: int) -> list[subprocess.Popen]:
    env = dict(os.environ, LLM_CLOCK_MODEL_DIR=str(MODELS), LLM_CLOCK_TICK_THREADS="1",
               OMP_NUM_THREADS="1")
    procs = [subprocess.Popen([sys.executable, __file__, "--worker"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env) for _ in range(n)]
    for proc in procs:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("a simulated student did not start (see the error above)")
    return procs


def memory_table(procs: list[subprocess.Popen], rows: list[dict]) -> None:
    rollups = [memory_rollup(p.pid) for p in procs]
    weights = [mapping_facts(p.pid, WEIGHTS) for p in procs]
    rows.append({
        "n": len(procs),
        "total_pss": sum(r["Pss"] for r in rollups) / KIB_PER_MIB,
        "uss": statistics.median(r["USS"] for r in rollups) / KIB_PER_MIB,
        "rss": statistics.median(r["Rss"] for r in rollups) / KIB_PER_MIB,
        "weights_pss": sum(w["Pss"] for w in weights) / KIB_PER_MIB,
        "weights_private": statistics.median(w["Private"] for w in weights) / KIB_PER_MIB,
    })


def tick_together(procs: list[subprocess.Popen], ticks: int) -> list[list[float]]:
    """Every process ticks at the same moment; each one's decode tick times in ms."""
    for proc in procs:
        proc.stdin.write(f"tick {ticks}\n")
        proc.stdin.flush()
    return [json.loads(proc.stdout.readline()) for proc in procs]


def interleaved_rounds(procs: list[subprocess.Popen], ticks: int, rounds: int) -> dict:
    """Alternate rounds of one student alone and of the whole class at once.

    Returns the solo ticks (pooled over the solo rounds; the lone student changes every round),
    each student's ticks pooled over the class rounds, and each class round's worst median
    against the solo round just before it."""
    solo: list[float] = []
    pooled: list[list[float]] = [[] for _ in procs]
    round_ratios = []
    for r in range(rounds):
        alone = tick_together([procs[r % len(procs)]], ticks)[0]
        together = tick_together(procs, ticks)
        solo += alone
        for student, times in zip(pooled, together):
            student += times
        worst = max(statistics.median(times) for times in together)
        round_ratios.append(worst / statistics.median(alone))
    return {"solo": solo, "students": pooled, "round_ratios": round_ratios}


def part_memory_and_latency(sizes: list[int], ticks: int, rounds: int) -> None:
    cores = os.cpu_count() or 1
    procs: list[subprocess.Popen] = []
    rows: list[dict] = []
    latency: dict[int, dict] = {}
    try:
        for n in sizes:
            procs += start_students(n - len(procs))
            memory_table(procs, rows)
            latency[n] = interleaved_rounds(procs, ticks, rounds)
    finally:
        for proc in procs:
            proc.stdin.close()
        for proc in procs:
            proc.wait(60)

    file_size = byte_size(WEIGHTS.stat().st_size)
    print(f"\n1. Memory in MiB (model.safetensors: {file_size}, mapped read-only from "
          f"{MODELS})")
    print("students  total PSS  PSS added per  median USS   median RSS  weights' PSS  weights'")
    print("                     extra student  per student  per student summed        private each")
    base = rows[0]["total_pss"]
    for row in rows:
        extra = "" if row["n"] == 1 else f"{(row['total_pss'] - base) / (row['n'] - 1):.0f}"
        print(f"{row['n']:>8}  {row['total_pss']:>9.0f}  {extra:>13}  {row['uss']:>11.0f}  "
              f"{row['rss']:>11.0f}  {row['weights_pss']:>12.0f}  {row['weights_private']:>8.1f}")
    shared = [r for r in rows if r["n"] > 1]  # alone, a process's mapped weights are all its own
    if shared:
        worst_extra = max((r["total_pss"] - base) / (r["n"] - 1) for r in shared)
        worst_uss = max(r["uss"] for r in shared)
        print(f"goal: at most 350 MiB private per additional kernel: worst {worst_extra:.0f} MiB "
              f"added, {worst_uss:.0f} MiB USS -> "
              f"{'met' if max(worst_extra, worst_uss) <= 350 else 'NOT met'}")

    print(f"\n2. Decode tick latency, all students ticking at once ({cores} cores, 1 torch thread"
          f" each; {rounds} rounds of {ticks} ticks, interleaved with rounds of one student alone)")
    print("students  solo  median tick per student (ms)          worst/solo  bound/solo  goal"
          "     worst/solo per round")
    for n in sizes:
        solo = statistics.median(latency[n]["solo"])
        medians = [statistics.median(times) for times in latency[n]["students"]]
        bound = max(1.0, n / cores) * 1.25
        worst = max(medians) / solo
        shown = ", ".join(f"{t:.0f}" for t in medians)
        rounds_shown = ", ".join(f"{r:.2f}" for r in latency[n]["round_ratios"])
        print(f"{n:>8}  {solo:>4.0f}  {shown:<37} {worst:>10.2f}  {bound:>10.2f}  "
              f"{'met' if worst <= bound else 'NOT met':<7}  {rounds_shown}")
    print("(1 student: the same process in both columns, so its ratios show how much this"
          " machine's speed drifts between rounds)")


def part_hub() -> None:
    if not (REPO / "classroom" / "node_modules" / ".bin" / "configurable-http-proxy").exists():
        print("\n3. Start-up through JupyterHub: skipped (run classroom/install.sh first)")
        return
    state = Path(tempfile.mkdtemp(prefix="llmclock-bench-classroom-"))
    port = 18600 + os.getpid() % 300
    try:
        with Hub(state, port, ["bench-student"], "bench-" + os.urandom(16).hex()) as hub:
            student = Student(hub, "bench-student")
            start = time.perf_counter()
            server_s = student.start_server()
            kernel = student.start_kernel()
            kernel.execute("1")
            kernel_s = time.perf_counter() - start - server_s
            first = json.loads(kernel.execute(clock_code(PROMPT, 0, 1)))
            total_s = time.perf_counter() - start
            server = memory_rollup(student.server_pid) if student.server_pid else None
            kern = memory_rollup(first["pid"])
            kernel.close()
    finally:
        shutil.rmtree(state, ignore_errors=True)
    print("\n3. One student through JupyterHub's REST API: start server -> first tick")
    print(f"server ready {server_s:.1f} s, kernel ready +{kernel_s:.1f} s, "
          f"load model + first tick"
          f" +{total_s - server_s - kernel_s:.1f} s (prefill tick {first['tick_ms'][0]:.0f} ms):"
          f" {total_s:.1f} s in all")
    if server:
        mib = {key: round(value / KIB_PER_MIB) for key, value in server.items()}
        kmib = {key: round(value / KIB_PER_MIB) for key, value in kern.items()}
        print(f"memory in MiB: single-user server PSS {mib['Pss']} (USS {mib['USS']}), "
              f"kernel PSS {kmib['Pss']} (USS {kmib['USS']}, RSS {kmib['Rss']})")


WIDGET_NOTEBOOK = "06_tick_by_tick.ipynb"
CHROMIUM = Path("/usr/bin/chromium")


def part_browser() -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("\n4. Start-up in a browser: skipped (Playwright is not installed: "
              "scripts/setup.sh test)")
        return
    if not CHROMIUM.exists():
        print("\n4. Start-up in a browser: skipped (no Chromium: scripts/install-browser.sh)")
        return
    state = Path(tempfile.mkdtemp(prefix="llmclock-bench-browser-"))
    port = 18900 + os.getpid() % 300
    name, password = "browser-student", "bench-" + os.urandom(8).hex()
    marks: dict[str, float] = {}
    try:
        with Hub(state, port, [name], "bench-" + os.urandom(16).hex(), password=password), \
                sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM))
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.set_default_timeout(180_000)
            page.goto(f"http://127.0.0.1:{port}/hub/login")
            page.fill("#username_input", name)
            page.fill("#password_input", password)
            start = time.perf_counter()
            page.click("#login_submit")  # logging in starts the student's server
            listing = page.locator(".jp-DirListing-item", has_text=WIDGET_NOTEBOOK)
            listing.wait_for()
            marks["JupyterLab on screen with the notebooks"] = time.perf_counter()
            listing.dblclick()
            page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for()
            marks["notebook open, kernel ready"] = time.perf_counter()
            # Shift+Enter from the first cell down to the widget's, as a student runs them.
            page.locator(".jp-Notebook .jp-Cell").first.click()
            page.keyboard.press("Escape")
            for _ in range(_widget_cell_index() + 1):
                page.keyboard.press("Shift+Enter")
            page.locator(".llmclock-step").first.wait_for(state="visible")
            marks["cells run, widget on screen"] = time.perf_counter()
            page.locator(".llmclock-step").first.click()
            page.locator(".llmclock-status", has_text="tick 0").first.wait_for()
            marks["Step pressed, tick 0 on screen"] = time.perf_counter()
            browser.close()
    finally:
        shutil.rmtree(state, ignore_errors=True)
    print("\n4. One student in a browser (1280x720): log in -> first tick on screen")
    previous = start
    for what, when in marks.items():
        print(f"  +{when - previous:5.1f} s  {what}")
        previous = when
    print(f"  {previous - start:.1f} s in all")


def _widget_cell_index() -> int:
    cells = json.loads((REPO / "notebooks" / WIDGET_NOTEBOOK).read_text())["cells"]
    return next(i for i, cell in enumerate(cells)
                if "".join(cell["source"]).startswith("clock_widget = ClockWidget("))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=18)
    parser.add_argument("--max-students", type=int, default=8)
    parser.add_argument("--no-hub", action="store_true")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--tick-queue", action="store_true",
                        help="queue forward passes machine-wide (the alternative not adopted)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker()
    if not WEIGHTS.exists():
        sys.exit("No shared model folder yet: run classroom/install.sh (or ./classroom.sh) first.")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    sizes = [n for n in (1, 2, 4, 8) if n <= args.max_students]
    with tempfile.TemporaryDirectory(prefix="llmclock-tick-queue-") as queue_folder:
        if args.tick_queue:
            os.environ["LLM_CLOCK_BENCH_TICK_QUEUE"] = queue_folder  # the students inherit it
            print(f"tick queue: at most {os.cpu_count()} forward passes at once, in turn")
        part_memory_and_latency(sizes, args.ticks, args.rounds)
    if not args.no_hub:
        part_hub()
    if not args.no_browser:
        part_browser()


if __name__ == "__main__":
    main()
