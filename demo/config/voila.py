# Voila settings for ./demo.sh (it passes --Voila.config_file_paths=demo/config). Every page
# load starts a kernel of its own (about 0.33 GiB besides the shared weights), so a demo left
# running at an open day must give kernels back:
#   - a page that goes away (tab closed, reload, navigation) asks Voila to shut its kernel down;
#   - a kernel whose page never connected, or whose page's connection dropped without saying
#     goodbye (a crashed browser, a phone that went to sleep), is culled after
#     DEMO_IDLE_SECONDS without activity (120);
#   - at most DEMO_MAX_VISITORS kernels live at once (6); one more visitor gets a short
#     "too many visitors, try again in a minute" page (HTTP 503) instead of a kernel.
# An open page keeps its kernel however long nobody clicks: the presenter's screen never dies.
# Kernels talk to Voila over Unix sockets, as ./lab.sh's do (jupyter_config/).
import os
import sys
import tempfile

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import web
from traitlets import Integer

c = get_config()  # noqa: F821 (provided by Voila when it reads this file)


def _setting(name: str, default: int, least: int) -> int:
    raw = os.environ.get(name, str(default))
    if not raw.isdigit() or int(raw) < least:
        sys.exit(f"demo.sh: {name}={raw!r} must be a whole number of at least {least}.")
    return int(raw)


MAX_VISITORS = _setting("DEMO_MAX_VISITORS", 6, 1)
IDLE_SECONDS = _setting("DEMO_IDLE_SECONDS", 120, 5)


class DemoKernelManager(AsyncMappingKernelManager):
    """Voila's kernel manager with a cap on live kernels. The check and the booking of the new
    kernel's id happen without an `await` in between, so visitors arriving at the same moment
    cannot slip past the cap together. A kernel being shut down no longer counts: its process
    is gone within seconds, but jupyter_server can keep it listed far longer (seen here after
    culling a kernel whose page had disconnected)."""

    max_kernels = Integer(MAX_VISITORS, config=True, help="Most kernels alive at once.")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._starting: set[str] = set()  # ids of kernels being started, maybe not listed yet
        self._stopping: set[str] = set()  # ids of kernels being shut down, maybe still listed

    def live_kernels(self) -> set[str]:
        return (set(self.list_kernel_ids()) - self._stopping) | self._starting

    async def start_kernel(self, *, kernel_id=None, path=None, **kwargs):
        if kernel_id is not None:  # an existing kernel (Voila passes none for a page load)
            return await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        live = len(self.live_kernels())
        if live >= self.max_kernels:
            self.log.warning("Too many visitors: %d kernels live (the cap); page refused.", live)
            # Shown by the template's 503.html (demo/voila/templates/llmclock/).
            raise web.HTTPError(503, reason="Too many visitors")
        kernel_id = self.new_kernel_id()
        self._starting.add(kernel_id)
        try:
            return await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        finally:
            self._starting.discard(kernel_id)

    async def shutdown_kernel(self, kernel_id, now=False, restart=False):
        if not restart:
            self._stopping.add(kernel_id)
        try:
            return await super().shutdown_kernel(kernel_id, now=now, restart=restart)
        finally:
            if kernel_id not in self.list_kernel_ids():
                self._stopping.discard(kernel_id)


c.VoilaConfiguration.multi_kernel_manager_class = DemoKernelManager

# Culling: kernels with no page connected (never connected, or the connection dropped) that
# have been idle for IDLE_SECONDS; a kernel still running the notebook is busy and kept.
c.MappingKernelManager.cull_idle_timeout = IDLE_SECONDS
c.MappingKernelManager.cull_interval = max(2, min(30, IDLE_SECONDS // 4))
c.MappingKernelManager.cull_connected = False
c.MappingKernelManager.cull_busy = False


def _set_xsrf_cookie(handler, notebook, cwd):
    """Voila's prelaunch hook, run for each page load before its kernel starts. When the page
    goes away it posts the kernel's shutdown with the `_xsrf` cookie's value; Voila's own pages
    never ask for that cookie, so it was missing and every shutdown was refused (403 "'_xsrf'
    argument missing from POST", voila-dashboards/voila issue 1458). Reading the token sets the
    cookie on this response."""
    handler.xsrf_token  # noqa: B018 (read for its side effect)


c.VoilaConfiguration.prelaunch_hook = _set_xsrf_cookie

# Kernels over Unix sockets in Voila's private connection folder (tempfile.mkdtemp: mode 0700)
# instead of six loopback TCP ports each; also no "running over TCP without encryption"
# warning. A socket path holds at most 107 bytes on Linux (103 on macOS).
_longest_socket = os.path.join(tempfile.gettempdir(), "voila_XXXXXXXX",
                               "kernel-00000000-0000-0000-0000-000000000000-ipc-5")
if len(_longest_socket.encode()) <= 103:
    c.KernelManager.transport = "ipc"
else:
    print(f"demo.sh: the temporary folder {tempfile.gettempdir()} is too long a path for Unix "
          "sockets; kernels use loopback TCP. Set TMPDIR to a shorter folder.", file=sys.stderr)
