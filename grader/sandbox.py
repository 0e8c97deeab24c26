"""The student worker's sandbox: bubblewrap plus per-submission limits (COURSE.md section 7).

`bwrap` (Debian/Ubuntu package `bubblewrap`) starts worker.py with
- every namespace unshared (user, PID, network, IPC, UTS, cgroup): no network at all, no other
  process visible, an unprivileged uid (65534) with no capabilities and no nested user namespaces;
- a file system holding only the system libraries, the Python install and venv (read-only), the
  worker's own files and the assignment's course_lib with its answers taken out (forbidden.py);
  the working folder /tmp and /dev/shm are private tmpfs of a fixed size, gone when it ends;
- --die-with-parent and --new-session: it cannot outlive the grader or reach its terminal.

Limits (settings.LIMITS), for all the worker's processes together:
- cgroup v2 memory.max / pids.max where the host delegates a writable cgroup subtree; cgroup v1
  memory and pids controllers where those are writable (as root on a v1 host); otherwise
  rlimits per process (address space, processes, file size) and the grader's watchdog, which
  sums the resident memory and counts the processes of the sandbox and kills it over a limit;
- disk: the tmpfs sizes and RLIMIT_FSIZE; output: cut on the receiving side (runner.py);
- time: one wall-clock budget per submission (runner.py).
Where bubblewrap cannot run, `enabled()` refuses to grade unless the instructor sets GRADER_SANDBOX=off.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

log = logging.getLogger("grader.sandbox")
HERE = os.path.dirname(os.path.abspath(__file__))
INSIDE = "/opt/grader"  # where the worker's files appear in the sandbox
SANDBOX_UID = 65534

ETC_FILES = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
             "/etc/nsswitch.conf", "/etc/mime.types", "/etc/fonts", "/etc/alternatives"]
SYSTEM = ["/usr", "/bin", "/lib", "/lib32", "/lib64", "/libx32", "/sbin"]


class SandboxUnavailable(RuntimeError):
    pass


def readonly_paths() -> list[str]:
    """The system, the Python install and the venv: what the worker may read (no course files)."""
    paths = [p for p in SYSTEM if os.path.exists(p) and not os.path.islink(p)]
    paths += [p for p in ETC_FILES if os.path.exists(p)]
    for p in (os.path.realpath(sys.base_prefix), sys.prefix):
        if p not in paths and not any(p.startswith(q + "/") for q in paths):
            paths.append(p)
    return paths


def bwrap_command(worker_dir: str, cmd: list[str], limits, env: dict, info_fd: int | None = None,
                  extra_ro=()) -> list[str]:
    """The bwrap command line that runs `cmd` with `worker_dir` at /opt/grader (read-only), and
    `extra_ro` folders at their own paths (read-only)."""
    bw = shutil.which("bwrap")
    if bw is None:
        raise SandboxUnavailable("bubblewrap is not installed (apt-get install bubblewrap)")
    args = [bw, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--as-pid-1",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--disable-userns",
            "--cap-drop", "ALL", "--hostname", "grader", "--clearenv"]
    for p in SYSTEM:  # merged-/usr systems: /bin -> usr/bin and so on
        if os.path.islink(p):
            args += ["--symlink", os.readlink(p), p]
    # A folder under /tmp or /dev/shm (a venv in a course kept in /tmp) is bound after the private
    # tmpfs is mounted there; bound before, the tmpfs would hide it and the worker could not start.
    private = ("/tmp", "/dev/shm")
    late = [p for p in readonly_paths() if any(p == d or p.startswith(d + "/") for d in private)]
    for p in readonly_paths():
        if p not in late:
            args += ["--ro-bind", p, p]
    disk = str(limits.disk_mb * 1024 * 1024)
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", disk, "--tmpfs", "/tmp", "--size", str(64 * 1024 * 1024), "--tmpfs", "/dev/shm",
             "--ro-bind", worker_dir, INSIDE, "--chdir", "/tmp"]
    for p in [*late, *extra_ro]:
        args += ["--ro-bind", p, p]
    args += ["--remount-ro", "/"]  # the root tmpfs bwrap builds: no unlimited writable place
    for key, value in env.items():
        args += ["--setenv", key, value]
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    return args + ["--", *cmd]


def worker_env(limits) -> dict:
    venv_bin = os.path.dirname(sys.executable)
    return {
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp",
        "MPLCONFIGDIR": "/tmp/.mpl", "MPLBACKEND": "Agg", "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1", "NBGRADER_EXECUTION": "autograde",
        "GRADER_NPROC": str(limits.processes), "GRADER_FSIZE": str(limits.disk_mb * 1024 * 1024),
        "GRADER_WORKER_OUTPUT": str(limits.output_kb * 1024),
    }


@functools.lru_cache(maxsize=None)
def probe() -> tuple[bool, str]:
    """(works, reason): starts one sandboxed Python that must see no course file and no network."""
    from .settings import LIMITS
    if shutil.which("bwrap") is None:
        return False, "bubblewrap (`bwrap`) is not installed: apt-get install bubblewrap"
    tmp = tempfile.mkdtemp(prefix="grader-probe-")
    try:
        code = ("import os, socket\n"
                f"assert not os.path.exists({HERE!r})\n"
                "s = socket.socket(); s.settimeout(1)\n"
                "assert s.connect_ex(('127.0.0.1', 9)) != 0\n"
                "assert os.getuid() == %d\n"
                "print('sandbox-ok')" % SANDBOX_UID)
        cmd = bwrap_command(tmp, [sys.executable, "-I", "-c", code], LIMITS, worker_env(LIMITS))
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            return False, "the sandbox probe timed out"
        if "sandbox-ok" in r.stdout:
            return True, ""
        return False, "bubblewrap failed: " + ((r.stderr or r.stdout).strip().splitlines() or ["no output"])[-1]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def enabled() -> bool:
    """True: workers are sandboxed. GRADER_SANDBOX=off is the instructor's explicit opt-out
    (code they trust; a loud warning); otherwise, with no working bubblewrap, SandboxUnavailable."""
    if os.environ.get("GRADER_SANDBOX", "").lower() == "off":
        log.warning("WARNING: GRADER_SANDBOX=off: student code runs WITHOUT the sandbox, with the "
                    "grader's rights: it can read solutions/, the gradebook and other submissions")
        return False
    ok, reason = probe()
    if ok:
        return True
    raise SandboxUnavailable(
        f"cannot sandbox student code: {reason}. Grading untrusted code is refused; install "
        "bubblewrap (and allow unprivileged user namespaces), or set GRADER_SANDBOX=off to grade "
        "code you trust without it")


# -- limits on all the worker's processes together -------------------------------------------
class Limiter:
    """One sandbox's memory and process limits: a cgroup where possible, else a watchdog.
    `preexec()` runs in the child before bwrap; `check(pid)` -> None or the limit that was hit."""

    def __init__(self, limits):
        self.limits = limits
        self.kind, self.paths = "watchdog", {}
        forced = os.environ.get("GRADER_LIMITS")  # "watchdog" forces the fallback (tests)
        if forced != "watchdog":
            self.paths = _cgroup_v2(limits) or _cgroup_v1(limits) or {}
            if self.paths:
                self.kind = "cgroup v2" if "v2" in self.paths else "cgroup v1"
        self._oom0 = self._oom_count()

    def preexec(self):
        """In the forked child: join the cgroup(s), set the rlimits (address space per process)."""
        import resource
        pid = str(os.getpid())
        for path in self.paths.values():
            with open(os.path.join(path, "cgroup.procs"), "w") as f:
                f.write(pid)
        mem = self.limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.setsid()

    def _oom_count(self) -> int:
        for key, path in self.paths.items():
            name = "memory.events" if key == "v2" else "memory.oom_control" if key == "memory" else None
            if name and os.path.exists(os.path.join(path, name)):
                for line in open(os.path.join(path, name)):
                    if line.startswith("oom_kill "):
                        return int(line.split()[1])
        return 0

    def check(self, root_pid: int | None) -> str | None:
        """The limit the sandbox hit, if any (the watchdog kills it then)."""
        if self.paths:
            if self._oom_count() > self._oom0:
                return f"memory ({self.limits.memory_mb} MB for all its processes)"
            for key, path in self.paths.items():
                events = os.path.join(path, "pids.events")
                if os.path.exists(events):
                    for line in open(events):
                        if line.startswith("max ") and int(line.split()[1]) > 0:
                            return f"processes ({self.limits.processes})"
            return None
        if root_pid is None:
            return None
        pids = _tree(root_pid)
        if len(pids) > self.limits.processes:
            return f"processes ({self.limits.processes})"
        rss = sum(_rss(p) for p in pids)
        if rss > self.limits.memory_mb * 1024 * 1024:
            return f"memory ({self.limits.memory_mb} MB for all its processes)"
        return None

    def close(self):
        for path in self.paths.values():
            for _ in range(50):
                try:
                    os.rmdir(path)
                    break
                except OSError:
                    time.sleep(0.02)


def _cgroup_v2(limits) -> dict:
    root = "/sys/fs/cgroup"
    if not os.path.exists(os.path.join(root, "cgroup.controllers")):
        return {}
    try:
        own = next(line.split("::", 1)[1].strip() for line in open("/proc/self/cgroup") if line.startswith("0::"))
        parent = os.path.join(root, own.lstrip("/"))
        enabled_here = open(os.path.join(parent, "cgroup.subtree_control")).read().split()
        if not {"memory", "pids"} <= set(enabled_here):
            return {}  # not delegated with these controllers: not ours to change
        path = os.path.join(parent, "grader-" + uuid.uuid4().hex[:12])
        os.mkdir(path)
        with open(os.path.join(path, "memory.max"), "w") as f:
            f.write(str(limits.memory_mb * 1024 * 1024))
        if os.path.exists(os.path.join(path, "memory.swap.max")):
            with open(os.path.join(path, "memory.swap.max"), "w") as f:
                f.write("0")
        with open(os.path.join(path, "pids.max"), "w") as f:
            f.write(str(limits.processes))
        return {"v2": path}
    except (OSError, StopIteration):
        return {}


def _cgroup_v1(limits) -> dict:
    out = {}
    try:
        for ctl, files in (("memory", {"memory.limit_in_bytes": limits.memory_mb * 1024 * 1024}),
                           ("pids", {"pids.max": limits.processes})):
            base = os.path.join("/sys/fs/cgroup", ctl)
            if not os.path.exists(os.path.join(base, "cgroup.procs")):
                raise OSError("no v1 " + ctl)
            path = os.path.join(base, "grader-" + uuid.uuid4().hex[:12])
            os.mkdir(path)
            out[ctl] = path
            for name, value in files.items():
                with open(os.path.join(path, name), "w") as f:
                    f.write(str(value))
            if ctl == "memory" and os.path.exists(os.path.join(path, "memory.memsw.limit_in_bytes")):
                with open(os.path.join(path, "memory.memsw.limit_in_bytes"), "w") as f:
                    f.write(str(limits.memory_mb * 1024 * 1024))
        return out
    except OSError:
        for path in out.values():
            try:
                os.rmdir(path)
            except OSError:
                pass
        return {}


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo and len(out) < 100_000:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def read_child_pid(fd: int, timeout: float = 30.0) -> int | None:
    """bwrap's --info-fd JSON: the outer pid of the sandboxed worker (PID 1 inside)."""
    import select
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
            try:
                return int(json.loads(data.decode())["child-pid"])
            except (ValueError, KeyError):
                continue
    return None


def kill_tree(proc: subprocess.Popen, child_pid: int | None) -> None:
    """SIGKILL the sandbox: the worker is PID 1 of its namespace, so every process in it dies
    with it; then bwrap itself (its own session, from preexec)."""
    for pid in ([child_pid] if child_pid else []):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        proc.kill()
    except OSError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
