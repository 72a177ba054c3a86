"""./demo.sh: the clock widget as a Voila app. It listens on 127.0.0.1 only, refuses a visitor
without the token, loads in headless Chromium with every request off the machine refused, and
Step changes the text on screen. Its kernels (issue 24): never more than DEMO_MAX_VISITORS at
once (one more visitor gets the "too many visitors" page), culled when no page is connected to
them, freed at once when their page goes away, and talking to Voila over Unix sockets.

The server runs with a cap of 2 kernels and a 15 s idle time, so the tests stay small; every
wait is bounded. A test leaves no kernel for the next one to wait out: pages go away (which
frees their kernels at once), and the tests whose page loads leave a kernel nobody connects to
(the culling test, and the token test: its page load starts a kernel too) run last."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lab_driver import ARTIFACTS, REPO, PageGuard, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# anywidget gives a widget's front end 2 s to load its module; plotly's FigureWidget module is
# ~4.6 MB of JavaScript, which a heavily shared CPU can take longer than that to parse. Then the
# two figures stay empty ("no tick yet") while the rest of the app works. Reported, not hidden:
# the test prints it; every other console error fails the test.
ANYWIDGET_TIMEOUT = "[anywidget] Failed to initialize model."

CAP = 2  # DEMO_MAX_VISITORS for the server under test
# DEMO_IDLE_SECONDS: the culler then checks every 3 s (demo/config/voila.py). A page connects to
# its kernel well within a second of loading (0.2-0.6 s measured with the machine under load),
# so no kernel of a page is culled before its page connects.
IDLE_SECONDS = 15
TOO_MANY = "Too many visitors right now: please try again in a minute."


def _listening_addresses(port: int) -> list[str]:
    """Local addresses of the sockets listening on `port` (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                address, port_hex = local.rsplit(":", 1)
                if state == "0A" and int(port_hex, 16) == port:  # 0A = LISTEN
                    found.append(address)
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    port, token = free_port(), "llmclock-test-token-" + os.urandom(6).hex()
    log_path = tmp_path_factory.mktemp("demo") / "demo.log"
    env = {**os.environ, "PORT": str(port), "DEMO_TOKEN": token, "HF_HUB_OFFLINE": "1",
           "DEMO_MAX_VISITORS": str(CAP), "DEMO_IDLE_SECONDS": str(IDLE_SECONDS)}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(REPO / "demo.sh")],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            assert process.poll() is None, f"demo.sh exited:\n{log_path.read_text()[-3000:]}"
            if _listening_addresses(port):
                break
            time.sleep(0.5)
        else:
            pytest.fail(
                f"demo.sh did not listen on {port} within 240 s:\n{log_path.read_text()[-3000:]}"
            )
        yield port, token, log_path, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _get(url: str) -> tuple[int, str]:
    """(status, Location header) of a GET, redirects not followed."""
    try:
        with urllib.request.build_opener(_NoRedirect).open(url, timeout=120) as response:
            return response.status, ""
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers.get("Location", "")


def test_demo_app_steps_the_clock_offline(browser, demo):
    port, token, _, server = demo
    _wait_for_kernels(server, lambda n: n < CAP, "a free place for the page")
    context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1)
    guard = PageGuard()
    guard.attach(context)
    page = context.new_page()
    try:
        page.goto(f"http://127.0.0.1:{port}/?token={token}", timeout=180_000)
        step = page.locator(".llmclock-step")
        step.wait_for(timeout=240_000)
        # No code cells: Voila shows outputs only.
        assert "load_model" not in page.locator("body").inner_text()
        status = page.locator(".llmclock-status")
        before_text, before_status = (
            page.locator(".llmclock-text").inner_text(),
            status.inner_text(),
        )
        assert "not started" in before_status
        step.click()
        page.wait_for_function(
            "(s) => document.querySelector('.llmclock-status').innerText !== s",
            arg=before_status,
            timeout=120_000,
        )
        assert re.match(r"tick 0 · prefill", status.inner_text())
        after_text = page.locator(".llmclock-text").inner_text()
        assert after_text != before_text and "Paris" in after_text
        page.wait_for_timeout(1500)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "demo-app.png"))
        problems = guard.problems()
        slow_module = [p for p in problems if ANYWIDGET_TIMEOUT in p]
        if slow_module:
            print(
                f"NOTE: {len(slow_module)} plotly figure(s) did not initialise in time "
                f"on this machine: "
                f"{ANYWIDGET_TIMEOUT}"
            )
        assert [p for p in problems if ANYWIDGET_TIMEOUT not in p] == []
        # Leave no kernel for the next test to wait out (culling takes IDLE_SECONDS): without
        # the guard's routing, the page's shutdown request goes out as it goes away (see
        # test_a_page_that_goes_away_frees_its_kernel).
        context.unroute("**/*")
        page.goto("about:blank")
    finally:
        context.close()


# --------------------------------------------------------------------------- the kernels


def _kernels(server_pid: int) -> dict[str, int]:
    """{kernel id: pid} of the demo server's kernels (its child processes running ipykernel)."""
    import psutil

    found = {}
    for child in psutil.Process(server_pid).children(recursive=True):
        try:
            cmdline = child.cmdline()
        except psutil.NoSuchProcess:
            continue
        if "ipykernel_launcher" in " ".join(cmdline):
            match = re.search(r"kernel-([0-9a-f-]{36})\.json", " ".join(cmdline))
            if match:
                found[match.group(1)] = child.pid
    return found


def _wait_for_kernels(server_pid: int, wanted, what: str, timeout: float = 180,
                      pause=lambda: time.sleep(0.5)) -> dict:
    """Poll the kernels (pause() between looks, at most `timeout` s) until wanted(count)."""
    deadline = time.monotonic() + timeout
    while True:
        kernels = _kernels(server_pid)
        if wanted(len(kernels)):
            return kernels
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout} s for {what}; kernels: {kernels}")
        pause()


def _tcp_sockets(pid: int) -> int:
    """How many TCP sockets (IPv4 or IPv6, any state) the process holds."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            count += sum(row.split()[9] in inodes for row in list(rows)[1:])
    return count


def _load(url: str) -> tuple[int, str]:
    """(status, body) of a whole page load by a new visitor (no cookies)."""
    try:
        with urllib.request.urlopen(url, timeout=600) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read().decode()


def test_a_page_that_goes_away_frees_its_kernel(browser, demo):
    """Navigating away, reloading and closing the tab each shut the page's kernel down at once,
    through Voila's shutdown request (which used to be refused: "'_xsrf' argument missing")."""
    port, token, log_path, server = demo
    url = f"http://127.0.0.1:{port}/?token={token}"
    _wait_for_kernels(server, lambda n: n == 0, "earlier kernels to be freed or culled",
                      timeout=IDLE_SECONDS + 120)
    # No PageGuard here: its request routing holds up the request a page sends as it goes
    # away (seen with Playwright 1.65: the kernel was then culled, not shut down). The test above
    # checks that the app stays on the machine.
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    waiter = context.new_page()  # polls while `page` is away (Playwright events keep flowing)

    def open_app() -> str:
        page.goto(url, timeout=180_000)
        page.locator(".llmclock-step").wait_for(timeout=240_000)
        kernels = _kernels(server)
        assert len(kernels) == 1, kernels
        return next(iter(kernels))

    def freed(kernel_id: str, how: str) -> None:
        _wait_for_kernels(server, lambda n: kernel_id not in _kernels(server),
                          f"the kernel of a page to be freed after {how}", timeout=60,
                          pause=lambda: waiter.wait_for_timeout(500))
        log = log_path.read_text()
        assert f"Kernel shutdown: {kernel_id}" in log
        assert f"({kernel_id}) with" not in log, f"culled, not shut down by its page ({how})"

    try:
        kernel_id = open_app()
        page.goto("about:blank")
        freed(kernel_id, "navigating away")
        kernel_id = open_app()
        page.reload(timeout=180_000)
        page.locator(".llmclock-step").wait_for(timeout=240_000)
        freed(kernel_id, "a reload")
        kernels = _kernels(server)
        assert len(kernels) == 1, kernels  # the reloaded page's own kernel
        kernel_id = next(iter(kernels))
        page.close(run_before_unload=True)
        freed(kernel_id, "closing the tab")
        assert "'_xsrf' argument missing" not in log_path.read_text()
    finally:
        context.close()


def test_page_loads_never_exceed_the_cap_and_unconnected_kernels_are_culled(demo):
    import psutil

    port, token, log_path, server = demo
    url = f"http://127.0.0.1:{port}/?token={token}"
    # Earlier tests' pages are gone and freed their kernels (or those are culled).
    _wait_for_kernels(server, lambda n: n == 0, "earlier kernels to be freed or culled",
                      timeout=IDLE_SECONDS + 120)
    most, stop = [0], threading.Event()

    def watch() -> None:
        while not stop.is_set():
            most[0] = max(most[0], len(_kernels(server)))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(5) as pool:  # five visitors arrive at once
            answers = list(pool.map(_load, [url] * 5))
        kernels = _kernels(server)
    finally:
        stop.set()
        watcher.join()
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * CAP + [503] * (5 - CAP), (statuses, log_path.read_text()[-3000:])
    assert most[0] <= CAP, most
    for status, body in answers:
        if status == 503:  # the clear page, not a traceback or Voila's bare error page
            assert TOO_MANY in body and "<script" not in body and "://" not in body, body[:500]
        else:
            assert "application/vnd.jupyter.widget-view+json" in body  # the app, with its widget
    assert len(kernels) == CAP, kernels
    # Each kernel talks to Voila over Unix sockets: its connection file says ipc, and the only
    # TCP socket it holds is ipykernel's own pipe for output from forked child processes
    # (ipykernel binds it on 127.0.0.1 whatever the transport; ./lab.sh's kernels have it too).
    # Before, each kernel had six (five channels and that pipe).
    uss = []
    for kernel_id, pid in kernels.items():
        cmdline = psutil.Process(pid).cmdline()
        connection = Path(cmdline[cmdline.index("-f") + 1])
        info = json.loads(connection.read_text())
        assert info["transport"] == "ipc", info
        assert all(Path(f"{info['ip']}-{info[name]}").is_socket()
                   for name in ("shell_port", "iopub_port", "stdin_port", "control_port",
                                "hb_port")), info
        assert _tcp_sockets(pid) <= 1, (kernel_id, _tcp_sockets(pid))
        uss.append(psutil.Process(pid).memory_full_info().uss / 2**20)
    assert "without encryption" not in log_path.read_text()
    print(f"{CAP} kernels after 5 simultaneous page loads; their own memory (USS): "
          + ", ".join(f"{mb:.0f} MB" for mb in uss))
    # No page ever connected to these kernels: culled after IDLE_SECONDS without activity.
    started = time.monotonic()
    _wait_for_kernels(server, lambda n: n == 0, "the unconnected kernels to be culled",
                      timeout=IDLE_SECONDS + 120)
    print(f"culled {time.monotonic() - started:.0f} s after the loads ended")
    log = log_path.read_text()
    assert all(f"({kernel_id}) with 0 connections" in log for kernel_id in kernels), log[-3000:]
    assert "Culling 'idle' kernel" in log
    # ... and there is room again.
    assert _load(url)[0] == 200


def test_demo_listens_on_localhost_only_and_wants_the_token(demo):
    # Last: its page load with the token starts a kernel that only culling would free.
    port, token, log_path, server = demo
    assert _listening_addresses(port) == ["0100007F"], _listening_addresses(
        port
    )  # 127.0.0.1, no IPv6
    assert f"http://127.0.0.1:{port}/?token={token}" in log_path.read_text()  # the URL is printed
    # Without the token (or with a wrong one) Voila sends the visitor to its login page.
    for query in ("", "?token=wrong"):
        status, location = _get(f"http://127.0.0.1:{port}/{query}")
        assert status == 302 and "/login" in location, (query, status, location)
    _wait_for_kernels(server, lambda n: n < CAP, "a free place for the page")
    assert _get(f"http://127.0.0.1:{port}/?token={token}")[0] == 200
