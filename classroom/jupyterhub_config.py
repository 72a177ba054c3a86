# JupyterHub for a class on one machine: every student gets their own Jupyter server and
# kernels, all reading the SAME read-only model folder (the weights are memory-mapped from
# safetensors, so the page cache holds them once for the whole class). Start it with
# ./classroom.sh; docs/teaching.md explains each setting and the measured figures behind them.
#
# Settings come from environment variables (./classroom.sh sets the defaults):
#   CLASSROOM_PORT         the port students open on 127.0.0.1 (8000); the proxy's API and the
#                          hub use the next two ports
#   CLASSROOM_STATE        folder for the hub's database, secrets and (shared-user mode) homes
#   CLASSROOM_MODEL_DIR    the shared read-only model folder (classroom/install.sh makes it)
#   CLASSROOM_PASSWORD     the shared password (SharedPasswordAuthenticator); unset with
#                          CLASSROOM_UNIX_USERS=1 means each student's own Unix password (PAM)
#   CLASSROOM_STUDENTS     comma-separated user names allowed to log in (unset: anyone, but
#                          only without CLASSROOM_UNIX_USERS)
#   CLASSROOM_GROUP        with CLASSROOM_UNIX_USERS=1: a Unix group made for the class, whose
#                          members may log in (read at start-up: restart the hub after changes)
#   CLASSROOM_UNIX_USERS   1: each student is a real Unix user (hub runs as root, creates missing
#                          users with a private home): one student cannot read another's files
#                          or kernels. Needs CLASSROOM_STUDENTS or CLASSROOM_GROUP; never starts
#                          a server as root or a system account (classroom/accounts.py). Unset:
#                          everyone runs as the teacher's Unix user, which is fine for trying it
#                          out alone and gives NO isolation between students.
#   CLASSROOM_ADMIN_TOKEN  an API token for scripts (tests, bench): service "classroom-admin"
#   CLASSROOM_MEM_LIMIT, CLASSROOM_CPU_LIMIT   per-student limits (defaults below)
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by JupyterHub when it reads this file)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV_BIN = Path(sys.executable).parent  # the .venv that runs the hub runs the students too
STATE = Path(os.environ.get("CLASSROOM_STATE", HERE / "state")).resolve()
MODEL_DIR = Path(os.environ.get("CLASSROOM_MODEL_DIR", STATE / "models")).resolve()
PORT = int(os.environ.get("CLASSROOM_PORT", "8000"))
UNIX_USERS = os.environ.get("CLASSROOM_UNIX_USERS", "") == "1"
NOTEBOOKS = REPO / "notebooks"
students = [s.strip() for s in os.environ.get("CLASSROOM_STUDENTS", "").split(",") if s.strip()]

if UNIX_USERS:
    # Only the class's own accounts, ever: checked before anything else starts.
    sys.path.insert(0, str(HERE))
    from accounts import ClassroomConfigError, account_problem, class_members, login_defs_range

    UIDS = login_defs_range("UID")
    try:
        CLASS = class_members(students, os.environ.get("CLASSROOM_GROUP") or None, UIDS,
                              login_defs_range("GID"))
    except ClassroomConfigError as err:
        sys.exit(f"classroom: {err}")
    if os.getuid() != 0:
        sys.exit("CLASSROOM_UNIX_USERS=1 needs the hub to run as root (it starts each student's "
                 "server as that student's Unix user). Run ./classroom.sh as root, or unset it.")
    students = sorted(CLASS)
STATE.mkdir(parents=True, exist_ok=True)

# --- Network: loopback only. Put a TLS reverse proxy in front for a real class (teaching.md).
c.JupyterHub.bind_url = f"http://127.0.0.1:{PORT}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{PORT + 2}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 1}"
# The proxy is the npm package configurable-http-proxy, installed by classroom/install.sh into
# classroom/node_modules (not globally).
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every student's server

# --- Who logs in.
if UNIX_USERS and not os.environ.get("CLASSROOM_PASSWORD"):
    c.JupyterHub.authenticator_class = "pam"  # each student's own Unix password
else:
    # One password for the class: convenient, but anyone who knows it can log in as ANY
    # student. For a real class use a per-person login (PAM, OAuth, LTI): see teaching.md.
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = os.environ.get("CLASSROOM_PASSWORD",
                                                                 "llm-clock-class")
if students:
    c.Authenticator.allowed_users = set(students)
    if UNIX_USERS:  # not even a name from an earlier run's database
        c.Authenticator.allow_existing_users = False
else:
    c.Authenticator.allow_all = True

# A token for scripts (the test and bench/bench_classroom.py start servers with it).
if os.environ.get("CLASSROOM_ADMIN_TOKEN"):
    c.JupyterHub.services = [{"name": "classroom-admin",
                              "api_token": os.environ["CLASSROOM_ADMIN_TOKEN"]}]
    c.JupyterHub.load_roles = [{
        "name": "classroom-admin",
        "scopes": ["admin:users", "admin:servers", "admin:server_state", "tokens", "list:users",
                   "read:users"],
        "services": ["classroom-admin"],
    }]

# --- Each student's server.
# The interpreter: .venv's, or (CLASSROOM_UNIX_USERS=1, when students cannot reach .venv's own
# interpreter) the small venv classroom/install.sh made for them, which reads .venv's packages.
STUDENT_PYTHON = STATE / "student-venv" / "bin" / "python"
if not (UNIX_USERS and STUDENT_PYTHON.exists()):
    STUDENT_PYTHON = VENV_BIN / "python"
c.Spawner.cmd = [str(STUDENT_PYTHON), "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~/llm-clock"
c.Spawner.environment = {
    # The shared model folder: weights mapped read-only, counted once in memory for the class.
    "LLM_CLOCK_MODEL_DIR": str(MODEL_DIR),
    # One torch thread per tick: on a shared machine a second thread only waits for a busy core
    # (helpers/threads.py has the measurements).
    "LLM_CLOCK_TICK_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    # ./lab.sh's Jupyter settings: kernels over Unix sockets in the student's private runtime
    # folder (not loopback TCP ports any local user can reach), no JupyterLab news pop-up.
    "JUPYTER_CONFIG_PATH": str(REPO / "jupyter_config"),
    "PATH": f"{STUDENT_PYTHON.parent}:{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
}
# Sized from bench/bench_classroom.py (docs/teaching.md): a kernel that has loaded the model
# and ticked holds about 0.32 GiB of its own besides the shared weights, the student's Jupyter
# server about 0.12 GiB; 1 GiB ("1G": JupyterHub reads G as 2**30 bytes) leaves room for a
# second notebook's kernel. With this local spawner the limits are ADVISORY: they reach the
# server as MEM_LIMIT / CPU_LIMIT and are not enforced (Kubernetes enforces them:
# classroom/z2jh-values.yaml).
c.Spawner.mem_limit = os.environ.get("CLASSROOM_MEM_LIMIT", "1G")
c.Spawner.cpu_limit = float(os.environ.get("CLASSROOM_CPU_LIMIT", "1"))
c.Spawner.start_timeout = 180  # a busy machine starts servers slowly
c.Spawner.http_timeout = 120


def _give_notebooks(home: Path, owner: str | None) -> None:
    """A private copy of the notebooks in ~/llm-clock on the first start (kept afterwards)."""
    target = home / "llm-clock"
    if target.exists():
        return
    shutil.copytree(NOTEBOOKS, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    if owner:
        subprocess.run(["chown", "-R", f"{owner}:{owner}", str(target)], check=True)


if UNIX_USERS:
    c.JupyterHub.spawner_class = "localprocess"

    def _prepare_unix_user(spawner):
        name = spawner.user.name
        # Again at every start: a user the admin API made, or an account changed since start-up.
        problem = (account_problem(name, UIDS) if name in CLASS
                   else "is not one of the class's students (CLASSROOM_STUDENTS/CLASSROOM_GROUP)")
        if problem:
            raise PermissionError(f"classroom: no server is started as {name!r}: it {problem}.")
        try:
            entry = pwd.getpwnam(name)
        except KeyError:  # a new student: a Unix user with a private home, no login shell
            subprocess.run(["useradd", "--create-home", "--shell", "/usr/sbin/nologin", name],
                           check=True)
            entry = pwd.getpwnam(name)
            if account_problem(name, UIDS):  # useradd gave a uid outside the students' range
                raise PermissionError(f"classroom: {name}'s new account "
                                      f"{account_problem(name, UIDS)}.")
        home = Path(entry.pw_dir)
        home.chmod(0o700)  # the isolation: nobody but the student (and root) enters it
        _give_notebooks(home, name)

    c.Spawner.pre_spawn_hook = _prepare_unix_user
else:
    print("classroom: every student runs as this Unix user - no isolation between students "
          "(fine to try it out; CLASSROOM_UNIX_USERS=1 as root for a class).", file=sys.stderr)
    c.JupyterHub.spawner_class = "simple"  # SimpleLocalProcessSpawner
    c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "homes" / "{username}")

    def _prepare_home(spawner):
        home = Path(spawner.home_dir)
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        _give_notebooks(home, None)

    c.Spawner.pre_spawn_hook = _prepare_home
    if os.getuid() == 0:
        c.Spawner.args = ["--allow-root"]
