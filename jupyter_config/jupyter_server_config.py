# Jupyter server settings for LLM Clock: ./lab.sh passes this file with --config, and a
# classroom server can do the same
# (jupyter lab --config=/path/to/jupyter_config/jupyter_server_config.py).
import sys
from pathlib import Path

from jupyter_core.paths import jupyter_runtime_dir

c = get_config()  # noqa: F821 (provided by Jupyter when it reads this file)

# Kernels talk to the server over Unix domain sockets in the user's private runtime folder
# (mode 0700), not over loopback TCP ports that any local user of a shared machine can reach.
# It also silences ipykernel's "Kernel is running over TCP without encryption" warning, which
# a teacher cannot act on. A socket path holds at most 107 bytes on Linux (103 on macOS):
# with a very long runtime folder, kernels stay on TCP (set a shorter JUPYTER_RUNTIME_DIR).
_longest_socket = Path(jupyter_runtime_dir()) / "kernel-00000000-0000-0000-0000-000000000000-ipc-5"
if len(str(_longest_socket).encode()) <= 103:
    c.KernelManager.transport = "ipc"
else:
    print(f"LLM Clock: the Jupyter runtime folder {jupyter_runtime_dir()} is too long a path "
          f"for Unix sockets; kernels use loopback TCP. "
          f"Set JUPYTER_RUNTIME_DIR to a shorter folder.", file=sys.stderr)

# No first-run "Would you like to get notified about official Jupyter news?" pop-up and no
# requests to the internet: news and update checks are off (settings in lab-settings/).
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.app_settings_dir = str(Path(__file__).resolve().parent / "lab-settings")
