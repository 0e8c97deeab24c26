"""Run each grading kernel in a sandbox (COURSE.md section 7).

The kernel is started through ``unshare`` (util-linux, present on every Debian/Ubuntu
machine) with private user, mount, network and PID namespaces.  ``sandbox_init.py``
then builds a fresh root file system holding only the Python install, the virtual
environment, ``course_lib`` (read-only), the submission's own folder and the kernel's
connection folder, pivots into it and drops every capability before starting
ipykernel.  So student code cannot read ``solutions/``, the gradebook or other
submissions, has no network (only a loopback that is down), and sees no other process.

ZMQ over TCP cannot cross a network namespace, so the kernel talks over ``ipc``
(Unix sockets in the connection folder).

Where namespaces are not allowed (some hosts forbid unprivileged user namespaces),
grading still works but unsandboxed, with a loud warning; set
``GRADER_REQUIRE_SANDBOX=1`` to make that an error instead.
"""
from __future__ import annotations

import functools
import importlib.util
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile

from jupyter_client.manager import AsyncKernelManager

HERE = os.path.dirname(os.path.abspath(__file__))
INIT_SCRIPT = os.path.join(HERE, "sandbox_init.py")
log = logging.getLogger("grader.sandbox")

# /etc files a Python process may want; the rest of /etc stays invisible.
ETC_FILES = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
             "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/mime.types", "/etc/fonts"]
SYSTEM_DIRS = ["/usr", "/bin", "/lib", "/lib32", "/lib64", "/libx32", "/sbin"]
MEM_LIMIT_MB = int(os.environ.get("GRADER_MEM_LIMIT_MB", "8192"))


def readonly_paths() -> list[str]:
    """What student code may read: the system, the Python install, the venv, course_lib."""
    paths = [p for p in SYSTEM_DIRS if os.path.lexists(p)]
    paths += [p for p in ETC_FILES if os.path.exists(p)]
    paths += [os.path.realpath(sys.base_prefix), sys.prefix]
    spec = importlib.util.find_spec("course_lib")
    if spec is not None and spec.submodule_search_locations:
        paths += list(spec.submodule_search_locations)
    out = []
    for p in paths:  # no duplicates, no path inside another (mount order matters)
        if p not in out:
            out.append(p)
    return out


def wrap(cmd: list[str], root: str, cwd: str, writable: list[str], user_ns: bool = True) -> list[str]:
    """The command line that runs `cmd` inside the sandbox, in `cwd`; `root` is an empty
    folder (outside `writable`) on which the sandbox's / is built."""
    ns = ["--user", "--map-root-user"] if user_ns else []
    args = ["unshare", *ns, "--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child",
            sys.executable, "-I", "-S", INIT_SCRIPT, "--root", root, "--cwd", cwd, "--mem-mb", str(MEM_LIMIT_MB)]
    for p in readonly_paths():
        args += ["--ro", p]
    for p in writable:
        args += ["--rw", p]
    return args + ["--", *cmd]


@functools.lru_cache(maxsize=None)
def probe() -> tuple[bool, bool, str]:
    """(works, with_user_namespace, reason). Runs a tiny sandboxed Python once per process."""
    if shutil.which("unshare") is None:
        return False, False, "the `unshare` command (util-linux) is not installed"
    tmp = tempfile.mkdtemp(prefix="grader-probe-")
    try:
        code = ("import os, socket\n"
                "assert not os.path.exists(%r)\n"
                "s = socket.socket(); s.settimeout(1)\n"
                "assert s.connect_ex(('127.0.0.1', 9)) != 0\n"
                "print('sandbox-ok')" % os.path.join(os.path.dirname(HERE), "grader", "sandbox.py"))
        reasons = []
        for user_ns in (True, False):
            if not user_ns and os.geteuid() != 0:
                break
            work = os.path.join(tmp, "work")
            os.makedirs(work, exist_ok=True)
            os.makedirs(os.path.join(tmp, "root"), exist_ok=True)
            cmd = wrap([sys.executable, "-c", code], root=os.path.join(tmp, "root"), cwd=work,
                       writable=[work], user_ns=user_ns)
            try:
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            except subprocess.TimeoutExpired:
                reasons.append("probe timed out")
                continue
            if "sandbox-ok" in r.stdout:
                return True, user_ns, ""
            reasons.append((r.stderr or r.stdout).strip().splitlines()[-1:] or ["no output"])
        return False, False, "namespaces are not permitted here (%s)" % reasons
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def enabled() -> bool:
    """Whether kernels will be sandboxed; warns (or raises) when they cannot be."""
    if os.environ.get("GRADER_SANDBOX", "1") == "0":
        log.warning("GRADER_SANDBOX=0: grading kernels run WITHOUT a sandbox")
        return False
    ok, _, reason = probe()
    if not ok:
        msg = ("cannot sandbox the grading kernels: %s. Student code will be able to read "
               "solutions/, the gradebook and other submissions, and reach the network. "
               "Run as root, or enable unprivileged user namespaces "
               "(sysctl kernel.unprivileged_userns_clone=1)." % reason)
        if os.environ.get("GRADER_REQUIRE_SANDBOX") == "1":
            raise RuntimeError(msg)
        log.warning("WARNING: " + msg)
    return ok


def kernel_env() -> dict[str, str]:
    """A clean environment for the kernel: nothing of the instructor's leaks in."""
    venv_bin = os.path.dirname(sys.executable)
    return {
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp", "IPYTHONDIR": "/tmp/.ipython", "MPLCONFIGDIR": "/tmp/.mpl",
        "MPLBACKEND": "Agg", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
        # one BLAS thread: grading machines are shared, and timing stays predictable
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "NBGRADER_EXECUTION": os.environ.get("NBGRADER_EXECUTION", "autograde"),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }


class SandboxKernelManager(AsyncKernelManager):
    """An ipykernel from this Python, over ipc, wrapped in the sandbox when possible."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._sandbox_dir = tempfile.mkdtemp(prefix="grader-k-")
        conn = os.path.join(self._sandbox_dir, "conn")
        os.makedirs(conn)
        os.makedirs(os.path.join(self._sandbox_dir, "root"))
        self.transport = "ipc"
        self.ip = os.path.join(conn, "k")
        self.connection_file = os.path.join(conn, "kernel.json")
        self._sandboxed = enabled()

    async def _async_pre_start_kernel(self, **kw):
        kw["env"] = kernel_env()
        return await super()._async_pre_start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file,
               *(extra_arguments or [])]
        if not self._sandboxed:
            return cmd
        cwd = os.path.abspath(self._launch_args.get("cwd") or os.getcwd())
        _, user_ns, _ = probe()
        return wrap(cmd, root=os.path.join(self._sandbox_dir, "root"), cwd=cwd, writable=[cwd, os.path.dirname(self.connection_file)],
                    user_ns=user_ns)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        # The kernel is PID 1 of its namespace, which ignores SIGTERM from outside: make
        # sure nothing of it survives (a kernel whose loop was stopped, say).
        pgid = getattr(self.provisioner, "pgid", None)
        if pgid:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except OSError:
                pass
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self._sandbox_dir, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources  # the async class binds the base's otherwise
