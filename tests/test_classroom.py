"""Issue 14: the classroom hub (classroom/jupyterhub_config.py) with simulated students.

One JupyterHub on 127.0.0.1, three students who are real Unix users (the hub runs as root and
creates them; they are deleted afterwards). Each starts their server and a kernel through the
REST and websocket APIs, as JupyterLab would, and runs the clock at the same time as the
others. Checked: the text equals this process's single-user result for the same seed; the
weights are one copy in memory (the kernels' mappings of model.safetensors add up to about
one file); one student cannot use another's server, files or kernels, nor write the shared
model folder. Needs root (to create Unix users), useradd and npm; skipped with the reason
otherwise. classroom/install.sh installs JupyterHub and its proxy on first use.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "classroom"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="the classroom server is tested on Linux"),
    pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0,
                       reason="needs root: the test creates throwaway Unix users for the students"),
    pytest.mark.skipif(shutil.which("useradd") is None or shutil.which("npm") is None,
                       reason="needs useradd (Unix users) and npm (the hub's proxy)"),
]

STUDENTS = ["llmclock-s1", "llmclock-s2", "llmclock-s3"]  # a prefix no real user has
PROMPT = "The capital of France is"
TICKS = 6
ADMIN_TOKEN = "llmclock-test-" + os.urandom(16).hex()
MODELS = REPO / "classroom" / "state" / "models"  # the shared read-only folder install.sh makes


def _free_port_block() -> int:
    """A port p with p, p+1 and p+2 free (students, proxy API, hub)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port > 65000:
            continue
        try:
            for offset in (1, 2):
                with socket.socket() as other:
                    other.bind(("127.0.0.1", port + offset))
            return port
        except OSError:
            continue
    raise RuntimeError("no three free consecutive ports on 127.0.0.1")


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _maps(pid: int, path: Path) -> bool:
    try:
        return str(path) in Path(f"/proc/{pid}/maps").read_text()
    except OSError:  # gone, or not ours to read
        return False


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _remove_students() -> None:
    """Kill what still runs as a student (processes this test started), then delete them."""
    import psutil

    for name in STUDENTS:
        if not _user_exists(name):
            continue
        uid = pwd.getpwnam(name).pw_uid
        for proc in psutil.process_iter(["uids"]):
            if proc.info["uids"] and proc.info["uids"].real == uid:
                try:
                    proc.kill()
                except psutil.NoSuchProcess:
                    pass
        subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)


@pytest.fixture(scope="module")
def installed():
    """classroom/install.sh, run once for the module, with CLASSROOM_UNIX_USERS=1 so that it
    also makes the students' interpreter; yields the state folder it was given."""
    # Not under pytest's tmp_path (mode 0700): students run the interpreter made in here.
    state = Path(tempfile.mkdtemp(prefix="llmclock-classroom-"))
    state.chmod(0o755)
    env = dict(os.environ, CLASSROOM_UNIX_USERS="1", CLASSROOM_STATE=str(state))
    try:
        install = subprocess.run([str(REPO / "classroom" / "install.sh")], cwd=REPO, env=env,
                                 capture_output=True, text=True, timeout=600)
        assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
        yield state
    finally:
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="module")
def classroom(installed):
    from students import Hub, Student

    state = installed
    _remove_students()  # left by an earlier run that was killed
    hub = Hub(state, _free_port_block(), STUDENTS, ADMIN_TOKEN, unix_users=True)
    try:
        with hub:
            students = [Student(hub, name) for name in STUDENTS]
            yield hub, students
    except BaseException:
        print(hub.log_path.read_text(errors="replace")[-4000:])  # the state folder goes below
        raise
    finally:
        _remove_students()
        assert not any(_user_exists(name) for name in STUDENTS)


@pytest.fixture(scope="module")
def results(classroom):
    """Every student starts their server and a kernel and runs the clock, all at once."""
    _, students = classroom
    outcome: dict[str, dict] = {}
    errors: list[BaseException] = []

    def lesson(seed: int, student) -> None:
        try:
            from students import clock_code

            student.start_server()
            kernel = student.start_kernel()
            student.kernel = kernel
            outcome[student.name] = json.loads(kernel.execute(clock_code(PROMPT, seed, TICKS)))
        except BaseException as err:  # reported in the main thread
            errors.append(err)

    threads = [threading.Thread(target=lesson, args=(seed, s)) for seed, s in enumerate(students)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return outcome


def test_each_student_gets_the_single_user_text(classroom, results):
    from helpers import load_model
    from helpers.clock import Clock
    from helpers.sampling import SamplingConfig

    lm = load_model()
    _, students = classroom
    for seed, student in enumerate(students):
        clock = Clock(lm, PROMPT, SamplingConfig(temperature=0.7), seed=seed)
        clock.run(TICKS)
        assert results[student.name]["text"] == clock.text, student.name
        assert len(results[student.name]["tick_ms"]) == TICKS


def test_kernels_run_as_the_student_with_the_classroom_settings(classroom, results):
    _, students = classroom
    for student in students:
        facts = json.loads(student.kernel.execute(
            "import json, os, pwd, torch, ipykernel.connect as c\n"
            "print(json.dumps({'user': pwd.getpwuid(os.getuid()).pw_name,"
            " 'threads': torch.get_num_threads(),"
            " 'transport': c.get_connection_info(unpack=True)['transport'],"
            " 'models': os.environ['LLM_CLOCK_MODEL_DIR']}))"))
        assert facts["user"] == student.name
        assert facts["threads"] == 1  # helpers.threads policy for a shared machine
        assert facts["transport"] == "ipc"  # jupyter_config: Unix sockets, not TCP ports
        assert facts["models"] == str(MODELS)


def test_weights_are_in_memory_once_for_the_class(classroom, results):
    from students import mapping_facts

    weights = MODELS / "SmolLM2-135M-Instruct" / "model.safetensors"
    file_kb = weights.stat().st_size / 1024
    facts = [mapping_facts(results[name]["pid"], weights) for name in STUDENTS]
    for name, fact in zip(STUDENTS, facts):
        # Each kernel maps (nearly) the whole file and reads it: the weights were used.
        assert fact["Rss"] > 0.9 * file_kb, (name, fact)
        # ... and holds almost none of it privately: the pages are shared, not copied.
        assert fact["Private"] < 0.1 * file_kb, (name, fact)
    # Proportional set sizes split each shared page between its users: summed over every
    # process that maps the file (the three kernels, and anything else), one file in total.
    mappers = [pid for pid in _pids() if _maps(pid, weights)]
    assert {results[name]["pid"] for name in STUDENTS} <= set(mappers)
    total_pss = sum(mapping_facts(pid, weights)["Pss"] for pid in mappers)
    assert 0.85 * file_kb < total_pss < 1.15 * file_kb, (total_pss, file_kb, mappers, facts)


def test_one_student_cannot_use_anothers_server_files_or_kernels(classroom, results):
    from students import HubError

    hub, (first, second, _) = classroom
    # The hub and the proxy: the first student's token does not open the second's server.
    with pytest.raises(HubError) as refused:
        second.server_api("GET", "/kernels", token=first.token)
    assert refused.value.args[1] == 403
    assert second.server_api("GET", "/kernels")  # ... while the owner's token does
    with pytest.raises(HubError) as refused:
        hub.api("POST", f"/users/{second.name}/server", token=first.token)
    assert refused.value.args[1] in (403, 404)
    # Files and kernels: the second student's home (notebooks, the kernels' Unix sockets and
    # connection files with their keys) is closed to the first student's kernel.
    home = Path(pwd.getpwnam(second.name).pw_dir)
    probe = first.kernel.execute(
        "import json, os\nout = {}\n"
        f"for path in [{str(home / 'llm-clock' / '00_the_clock.ipynb')!r}, "
        f"{str(home / '.local' / 'share' / 'jupyter' / 'runtime')!r}, {str(home)!r}]:\n"
        "    try:\n"
        "        os.listdir(path) if os.path.isdir(path) else open(path).read(1)\n"
        "        out[path] = 'readable'\n"
        "    except PermissionError:\n"
        "        out[path] = 'refused'\n"
        f"models = {str(MODELS / 'SmolLM2-135M-Instruct')!r}\n"
        "try:\n"
        "    open(os.path.join(models, 'model.safetensors'), 'r+b')\n"
        "    out['models'] = 'writable'\n"
        "except PermissionError:\n"
        "    out['models'] = 'refused'\n"
        "print(json.dumps(out))")
    assert set(json.loads(probe).values()) == {"refused"}, probe
    # ... while the second student's own kernel reads its notebooks.
    assert second.kernel.execute(
        f"print(len(open({str(home / 'llm-clock' / '00_the_clock.ipynb')!r}).read()) > 0)"
    ) == "True\n"


# --------------------------------------------------------------------------- who may be spawned
# Issue 24: with CLASSROOM_UNIX_USERS=1 the hub starts servers as Unix accounts, so only the
# class's own students may ever be spawned: never root or a system account, never a name outside
# CLASSROOM_STUDENTS / CLASSROOM_GROUP, and no start at all without a class list.

LISTED = "llmclock-l1"          # in CLASSROOM_STUDENTS, no account yet (made on first start)
NOT_LISTED = "llmclock-nobody"  # not in the class: must never get an account or a server
GROUP, GROUP_MEMBER = "llmclock-class", "llmclock-g1"
PASSWORD = "llmclock-test-" + os.urandom(8).hex()


REFUSED = [  # (settings, what the refusal says)
    ({}, "the hub must know who the students are: set CLASSROOM_STUDENTS"),
    ({"CLASSROOM_STUDENTS": "llmclock-a,root"}, "root is the superuser's account (uid 0)"),
    ({"CLASSROOM_STUDENTS": "daemon"}, "daemon is a system account (uid 1;"),
    ({"CLASSROOM_STUDENTS": "nobody"}, "nobody is a system account (uid 65534;"),
    ({"CLASSROOM_STUDENTS": "Robert');DROP"}, "is not a valid Unix user name"),
    ({"CLASSROOM_GROUP": "root"}, "CLASSROOM_GROUP=root is a system group (gid 0;"),
    ({"CLASSROOM_GROUP": "llmclock-no-such-group"}, "there is no such Unix group"),
]


@pytest.fixture(scope="module")
def refused_starts(installed, tmp_path_factory) -> dict[str, tuple[Path, int | None, str]]:
    """The hub run with CLASSROOM_UNIX_USERS=1 and each of REFUSED's settings until it exits
    (bounded): {settings as JSON: (its state folder, exit code or None if it still ran after
    120 s, stderr)}. The hubs start all at once: each exits at its own check, so none waits
    for another (most of a start is importing JupyterHub; on 2 cores the seven take about half
    as long as one after the other)."""
    from students import CONFIG, JUPYTERHUB

    running = {}
    for env, _ in REFUSED:
        state = tmp_path_factory.mktemp("refused")
        full = dict(os.environ, CLASSROOM_UNIX_USERS="1", CLASSROOM_STATE=str(state),
                    CLASSROOM_PASSWORD=PASSWORD, CLASSROOM_PORT=str(_free_port_block()))
        for name in ("CLASSROOM_STUDENTS", "CLASSROOM_GROUP"):
            full.pop(name, None)
        full.update(env)
        running[json.dumps(env)] = (state, subprocess.Popen(
            [str(JUPYTERHUB), "-f", str(CONFIG)], cwd=state, env=full,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    deadline = time.monotonic() + 120
    ran = {}
    for key, (state, process) in running.items():
        try:
            _, stderr = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
            ran[key] = (state, process.returncode, stderr)
        except subprocess.TimeoutExpired:  # it started: the configuration was accepted
            process.kill()
            ran[key] = (state, None, process.communicate()[1] or "")
    return ran


@pytest.mark.parametrize("env, says", REFUSED)
def test_a_configuration_that_allows_more_than_the_class_fails_at_start_up(
        refused_starts, env, says):
    state, returncode, stderr = refused_starts[json.dumps(env)]
    assert returncode is not None, f"the hub started with {env}:\n{stderr[-2000:]}"
    assert returncode != 0
    assert "classroom: " in stderr and says in stderr, stderr[-2000:]
    assert not (state / "jupyterhub.sqlite").exists()  # stopped before the hub started


@pytest.fixture(scope="module")
def class_hub(installed):
    """A hub with Unix users for a class of one listed student; nobody is spawned by it."""
    from students import Hub

    state = Path(tempfile.mkdtemp(prefix="llmclock-logins-"))
    subprocess.run(["userdel", "--remove", NOT_LISTED], capture_output=True)
    hub = Hub(state, _free_port_block(), [LISTED], ADMIN_TOKEN, unix_users=True,
              password=PASSWORD)
    try:
        with hub:
            yield hub
    finally:
        shutil.rmtree(state, ignore_errors=True)


def test_only_listed_students_log_in_with_the_class_password(class_hub):
    for name in ("root", "daemon", "nobody", NOT_LISTED):
        assert not class_hub.login(name, PASSWORD), name
    assert not class_hub.login(LISTED, "wrong-" + PASSWORD)
    assert class_hub.login(LISTED, PASSWORD)


def test_no_server_starts_as_root_or_an_unlisted_name_even_through_the_admin_api(class_hub):
    from students import HubError

    for name in ("root", NOT_LISTED):
        class_hub.api("POST", "/users", body={"usernames": [name]})
        try:  # the refusal comes back at once (500), or as a failed start (202, then gone)
            class_hub.api("POST", f"/users/{name}/server")
        except HubError as err:
            assert err.args[1] in (400, 500), err
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            server = class_hub.api("GET", f"/users/{name}")["servers"].get("", {})
            if not server.get("pending"):
                break
            time.sleep(0.5)
        assert not server.get("ready"), (name, server)
        assert f"classroom: no server is started as {name!r}" in class_hub.log_path.read_text()
    assert not _user_exists(NOT_LISTED)  # no useradd for a name outside the class


@pytest.fixture(scope="module")
def class_group():
    """A throwaway Unix group for the class with one member (removed afterwards)."""
    subprocess.run(["userdel", GROUP_MEMBER], capture_output=True)
    subprocess.run(["groupdel", GROUP], capture_output=True)
    subprocess.run(["groupadd", GROUP], check=True)
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "--groups",
                    GROUP, GROUP_MEMBER], check=True)
    try:
        yield GROUP
    finally:
        subprocess.run(["userdel", GROUP_MEMBER], capture_output=True)
        subprocess.run(["groupdel", GROUP], capture_output=True)


def test_a_class_group_lets_in_its_members_only(installed, class_group):
    from students import Hub

    state = Path(tempfile.mkdtemp(prefix="llmclock-group-"))
    try:
        with Hub(state, _free_port_block(), [], ADMIN_TOKEN, unix_users=True,
                 password=PASSWORD, group=class_group) as hub:
            assert hub.login(GROUP_MEMBER, PASSWORD)
            for name in ("root", "nobody", LISTED):
                assert not hub.login(name, PASSWORD), name
    finally:
        shutil.rmtree(state, ignore_errors=True)
