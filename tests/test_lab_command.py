"""The README's first command: ./lab.sh serves JupyterLab on 127.0.0.1 on the notebooks."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from jupyter_client import BlockingKernelClient

REPO = Path(__file__).resolve().parent.parent


def _api(port: int, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=b"{}" if method == "POST" else None,
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
    return json.loads(body) if body else None


def _kernel_runs_over_unix_sockets(port: int, token: str, runtime_dir: Path,
                                   log_path: Path) -> None:
    """Issue 15 item 9: no kernel port on TCP, and no eavesdropping warning in the terminal."""
    kernel = _api(port, token, "/api/kernels", "POST")
    try:
        connection_file = runtime_dir / f"kernel-{kernel['id']}.json"
        deadline = time.time() + 120
        while time.time() < deadline and not connection_file.exists():
            time.sleep(0.2)
        # The server reports "starting" until a browser connects, so ask the kernel itself,
        # over the sockets its connection file names: it answers once it is up.
        client = BlockingKernelClient(connection_file=str(connection_file))
        client.load_connection_file()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=120)
        finally:
            client.stop_channels()
        time.sleep(1)  # start-up warnings reach the server's log through a pipe
        info = json.loads(connection_file.read_text())
        assert info["transport"] == "ipc", info
        assert Path(info["ip"]).parent == runtime_dir, info  # sockets in the private runtime folder
        log = log_path.read_text()
        assert f"Kernel started: {kernel['id']}" in log, log
        assert "without encryption" not in log and "TCP" not in log, log
    finally:
        _api(port, token, f"/api/kernels/{kernel['id']}", "DELETE")


def _no_news_pop_up(port: int, token: str) -> None:
    """JupyterLab asks about news on first start unless fetchNews is set (issue 10)."""
    settings = _api(port, token, "/lab/api/settings/@jupyterlab/apputils-extension:notification")
    defaults = {name: prop["default"] for name, prop in settings["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_lab_command_serves_the_notebooks_on_loopback(tmp_path):
    port = _free_port()
    # a short runtime folder: Unix socket paths hold at most 107 bytes (pytest's tmp_path is long)
    runtime_dir = Path(tempfile.mkdtemp(prefix="lab-", dir="/tmp"))
    env = dict(os.environ, PORT=str(port), OPEN_BROWSER="False",
               JUPYTER_RUNTIME_DIR=str(runtime_dir))
    log = open(tmp_path / "lab.log", "w+")
    proc = subprocess.Popen(["./lab.sh"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        token = None
        deadline = time.time() + 120
        while time.time() < deadline and token is None:
            time.sleep(0.5)
            log.seek(0)
            m = re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=(\w+)", log.read())
            token = m and m.group(1)
            assert proc.poll() is None, (tmp_path / "lab.log").read_text()
        assert token, "no URL with a token printed:\n" + (tmp_path / "lab.log").read_text()
        status = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}",
                                        timeout=10)
        assert status.status == 200
        contents = json.load(urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=10))
        names = {item["name"] for item in contents["content"]}
        assert any(n.endswith(".ipynb") for n in names), names
        # bound to loopback only: the socket's local address is 127.0.0.1
        listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True,
                                   text=True).stdout
        local_addresses = [line.split()[3] for line in listening.splitlines() if line.strip()]
        assert local_addresses and all(a == f"127.0.0.1:{port}" for a in local_addresses), listening
        _kernel_runs_over_unix_sockets(port, token, runtime_dir, tmp_path / "lab.log")
        _no_news_pop_up(port, token)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(runtime_dir, ignore_errors=True)


@pytest.mark.slow
def test_lab_zh_serves_the_chinese_notebooks_with_gemma_ready(tmp_path):
    zh = REPO / "notebooks" / "zh"
    if not zh.is_dir():
        pytest.skip("notebooks/zh is not in this checkout yet")
    port = _free_port()
    runtime_dir = Path(tempfile.mkdtemp(prefix="lab-", dir="/tmp"))
    env = dict(os.environ, PORT=str(port), OPEN_BROWSER="False",
               JUPYTER_RUNTIME_DIR=str(runtime_dir))
    log = open(tmp_path / "lab.log", "w+")
    proc = subprocess.Popen(["./lab.sh", "zh"], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        token = None
        deadline = time.time() + 600  # the first run converts Gemma
        while time.time() < deadline and token is None:
            time.sleep(0.5)
            log.seek(0)
            m = re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=(\w+)", log.read())
            token = m and m.group(1)
            assert proc.poll() is None, (tmp_path / "lab.log").read_text()
        assert token, "no URL with a token printed:\n" + (tmp_path / "lab.log").read_text()
        log.seek(0)
        assert ("Embedded model ready:" in log.read()
                and "gemma-3-270m" in (tmp_path / "lab.log").read_text())
        contents = json.load(urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=10))
        names = {item["name"] for item in contents["content"]}
        assert names >= {p.name for p in zh.glob("*.ipynb")} and names, names
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(runtime_dir, ignore_errors=True)
