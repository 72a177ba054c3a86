"""Simulated students for the classroom hub: used by tests/test_classroom.py and
bench/bench_classroom.py (one place for the hub's REST API and the kernels' websocket API).

    with Hub(state_dir, port, students=["s1"], admin_token="...") as hub:
        student = Student(hub, "s1")
        student.start_server()
        kernel = student.start_kernel()
        print(kernel.execute("print(1 + 1)"))   # "2\n"

Also: `mapping_facts(pid, path)`, what /proc/PID/smaps says about one mapped file, and
`memory_rollup(pid)`, the process's PSS and USS from /proc/PID/smaps_rollup.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import websocket  # websocket-client

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "classroom" / "jupyterhub_config.py"
JUPYTERHUB = REPO / ".venv" / "bin" / "jupyterhub"

# A clock run in a student's kernel: prints one JSON line (text, pid, per-tick milliseconds).
CLOCK_CODE = """
import json, os, time
from helpers import load_model
from helpers.clock import Clock
from helpers.sampling import SamplingConfig
_clock = Clock(load_model(), {prompt!r}, SamplingConfig(temperature=0.7), seed={seed})
_ms = []
for _ in range({ticks}):
    _t = time.perf_counter()
    _clock.tick()
    _ms.append((time.perf_counter() - _t) * 1000)
print(json.dumps({{"text": _clock.text, "pid": os.getpid(), "tick_ms": _ms}}))
"""


def clock_code(prompt: str = "The capital of France is", seed: int = 0, ticks: int = 8) -> str:
    return CLOCK_CODE.format(prompt=prompt, seed=seed, ticks=ticks)


class HubError(RuntimeError):
    pass


class Hub:
    """A JupyterHub started from classroom/jupyterhub_config.py; stopped (with every student's
    server) when the `with` block ends."""

    def __init__(self, state: Path, port: int, students: list[str], admin_token: str,
                 unix_users: bool = False, model_dir: Path | None = None, log=None,
                 password: str = "not-used-by-the-api", group: str | None = None):
        self.state, self.port, self.token = Path(state), port, admin_token
        self.url = f"http://127.0.0.1:{port}"
        env = dict(os.environ, CLASSROOM_STATE=str(self.state), CLASSROOM_PORT=str(port),
                   CLASSROOM_STUDENTS=",".join(students), CLASSROOM_ADMIN_TOKEN=admin_token,
                   CLASSROOM_PASSWORD=password)
        env.pop("CLASSROOM_GROUP", None)
        if group:
            env["CLASSROOM_GROUP"] = group
        env["CLASSROOM_MODEL_DIR"] = str(model_dir or REPO / "classroom" / "state" / "models")
        env.pop("CLASSROOM_UNIX_USERS", None)
        if unix_users:
            env["CLASSROOM_UNIX_USERS"] = "1"
        self.state.mkdir(parents=True, exist_ok=True)
        self.log_path = self.state / "hub.log"
        self._log = open(self.log_path, "ab") if log is None else log
        self.proc = subprocess.Popen([str(JUPYTERHUB), "-f", str(CONFIG)], cwd=self.state, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.students: list[Student] = []

    def __enter__(self) -> "Hub":
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HubError(f"the hub exited ({self.proc.returncode}); see {self.log_path}")
            try:
                self.api("GET", "/")
                return
            except (OSError, HubError):
                time.sleep(0.5)
        raise HubError(f"the hub did not answer within {timeout} s; see {self.log_path}")

    def api(self, method: str, path: str, token: str | None = None, body=None, base="/hub/api"):
        """One REST call; returns the decoded JSON (or None). HubError carries the status."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + base + path, data=data, method=method,
                                     headers={"Authorization": f"token {token or self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as err:
            raise HubError(f"{method} {base}{path}: HTTP {err.code}", err.code) from None
        return json.loads(raw) if raw else None

    def login(self, name: str, password: str) -> bool:
        """Log in through the hub's login form, as a person would; True if the hub let them in
        (it redirects onwards), False if it refused (HTTP 403, "Invalid username or password")."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
        with opener.open(self.url + "/hub/login", timeout=60) as page:
            page.read()
        xsrf = next(cookie.value for cookie in jar if cookie.name == "_xsrf")
        form = urllib.parse.urlencode({"username": name, "password": password, "_xsrf": xsrf})
        try:
            with opener.open(self.url + "/hub/login", data=form.encode(), timeout=60) as answer:
                status = answer.status
        except urllib.error.HTTPError as err:
            status = err.code
        if status not in (302, 403):
            raise HubError(f"logging in as {name!r}: HTTP {status}", status)
        return status == 302

    def stop(self) -> None:
        """Stop every student's server through the API, then the hub (and its proxy)."""
        for student in self.students:
            try:
                student.stop_server()
            except Exception:
                pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the hub stops servers it still knows
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        for student in self.students:  # anything left of a student's server
            student.kill_leftovers()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Student:
    """One simulated student: their own API token, server and kernels."""

    def __init__(self, hub: Hub, name: str):
        self.hub, self.name = hub, name
        self.server_pid: int | None = None
        hub.students.append(self)
        try:
            hub.api("POST", "/users", body={"usernames": [name]})
        except HubError as err:
            if err.args[1] != 409:  # 409: exists already
                raise
        self.token = hub.api("POST", f"/users/{name}/tokens",
                             body={"note": "simulated student"})["token"]

    def start_server(self, timeout: float = 180) -> float:
        """Start the student's server as they would with "Start My Server"; seconds it took."""
        start = time.perf_counter()
        try:
            self.hub.api("POST", f"/users/{self.name}/server", token=self.token)
        except HubError as err:
            if err.args[1] != 400:  # 400: already running
                raise
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.hub.api("GET", f"/users/{self.name}", token=self.token)
            server = model.get("servers", {}).get("", {})
            if server.get("ready"):
                elapsed = time.perf_counter() - start
                # The process id (to measure it, and to kill what is left): admin scope only.
                state = self.hub.api("GET", f"/users/{self.name}")["servers"][""].get("state")
                self.server_pid = (state or {}).get("pid")
                return elapsed
            time.sleep(0.25)
        raise HubError(f"{self.name}'s server did not start within {timeout} s")

    def stop_server(self) -> None:
        self.hub.api("DELETE", f"/users/{self.name}/server")

    def kill_leftovers(self) -> None:
        if self.server_pid:
            try:
                os.killpg(self.server_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def server_api(self, method: str, path: str, token: str | None = None, body=None):
        """A call to a student's single-user server (as this student, or with another token)."""
        return self.hub.api(method, path, token=token or self.token, body=body,
                            base=f"/user/{self.name}/api")

    def start_kernel(self) -> "Kernel":
        kernel = self.server_api("POST", "/kernels", body={"name": "python3"})
        return Kernel(self, kernel["id"])


class Kernel:
    """A kernel of a student's server, driven over its websocket as JupyterLab does."""

    def __init__(self, student: Student, kernel_id: str):
        self.student, self.id = student, kernel_id
        hub = student.hub
        url = f"ws://127.0.0.1:{hub.port}/user/{student.name}/api/kernels/{kernel_id}/channels"
        self.session = uuid.uuid4().hex
        self.ws = websocket.create_connection(
            url, header=[f"Authorization: token {student.token}"], timeout=600)

    def execute(self, code: str, timeout: float = 600) -> str:
        """Run code; returns what it printed. A Python error in the kernel raises HubError."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": self.student.name, "session": self.session,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        out, error, replied, idle = [], None, False, False
        deadline = time.monotonic() + timeout
        while not (replied and idle):
            if time.monotonic() > deadline:
                raise HubError(f"no reply from {self.student.name}'s kernel within {timeout} s")
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content.get("name") == "stdout":
                out.append(content["text"])
            elif kind == "error":
                error = f"{content['ename']}: {content['evalue']}"
            elif kind == "execute_reply":
                replied = True
            elif kind == "status" and content.get("execution_state") == "idle":
                idle = True
        if error:
            raise HubError(f"{self.student.name}'s kernel: {error}")
        return "".join(out)

    def close(self) -> None:
        self.ws.close()


def mapping_facts(pid: int, path: Path) -> dict:
    """Rss, Pss and private kB of the process's mappings of one file (from /proc/PID/smaps)."""
    facts = {"Rss": 0, "Pss": 0, "Private": 0}
    inside = False
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            field = line.split()
            if len(field) >= 5 and "-" in field[0] and ":" in field[3]:  # a mapping's header
                inside = len(field) >= 6 and field[5] == str(path)
            elif inside and field[0] in ("Rss:", "Pss:"):
                facts[field[0][:-1]] += int(field[1])
            elif inside and field[0] in ("Private_Clean:", "Private_Dirty:"):
                facts["Private"] += int(field[1])
    return facts


def memory_rollup(pid: int) -> dict:
    """The process's Rss, Pss and USS (private pages) in kB, from /proc/PID/smaps_rollup."""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            field = line.split()
            if field and field[0].endswith(":") and len(field) >= 2 and field[1].isdigit():
                values[field[0][:-1]] = int(field[1])
    return {"Rss": values.get("Rss", 0), "Pss": values.get("Pss", 0),
            "USS": values.get("Private_Clean", 0) + values.get("Private_Dirty", 0)}
