"""The README's first command: ./lab.sh serves JupyterLab on 127.0.0.1 on the notebooks."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_lab_command_serves_the_notebooks_on_loopback(tmp_path):
    port = _free_port()
    env = dict(os.environ, PORT=str(port), OPEN_BROWSER="False", JUPYTER_RUNTIME_DIR=str(tmp_path))
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
        status = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=10)
        assert status.status == 200
        contents = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=10))
        names = {item["name"] for item in contents["content"]}
        assert any(n.endswith(".ipynb") for n in names), names
        # bound to loopback only: the socket's local address is 127.0.0.1
        listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
        local_addresses = [line.split()[3] for line in listening.splitlines() if line.strip()]
        assert local_addresses and all(a == f"127.0.0.1:{port}" for a in local_addresses), listening
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
