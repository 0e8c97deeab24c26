"""Inside fresh namespaces (see sandbox.py): build a minimal root, pivot into it, drop
every capability, then exec the command.  Runs with ``python -I -S`` before anything
else, so it uses the standard library only.

usage: sandbox_init.py --root EMPTY_DIR --cwd DIR [--ro PATH]... [--rw PATH]... [--mem-mb N] -- CMD...
"""
import ctypes
import os
import platform
import resource
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "ppc64le": 203, "s390x": 217}
DEVICES = ["null", "zero", "full", "random", "urandom"]

libc = ctypes.CDLL(None, use_errno=True)


def check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, "sandbox: %s: %s" % (what, os.strerror(err)))


def mount(src, dst, fstype, flags, data=None):
    enc = lambda s: None if s is None else s.encode()
    check(libc.mount(enc(src), enc(dst), enc(fstype), ctypes.c_ulong(flags), enc(data)),
          "mount %s on %s" % (src, dst))


def bind(root, path, writable):
    """Make `path` visible at the same place inside `root` (read-only unless writable)."""
    target = root + path
    if os.path.islink(path):  # merged-/usr symlinks such as /bin -> usr/bin
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.lexists(target):
            os.symlink(os.readlink(path), target)
        return
    if os.path.isdir(path):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    mount(path, target, None, MS_BIND | MS_REC)
    flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (0 if writable else MS_RDONLY)
    mount(None, target, None, flags)


def build_root(root, ro, rw):
    """`root`: an empty folder that becomes the sandbox's / (a tmpfs mounted on it)."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing propagates back to the host
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=16m")
    os.makedirs(root + "/tmp")
    mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=512m")
    for path in ro:
        bind(root, path, writable=False)
    for path in rw:
        bind(root, path, writable=True)
    os.makedirs(root + "/proc", exist_ok=True)
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.makedirs(root + "/dev", exist_ok=True)
    mount("tmpfs", root + "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=1m")
    for dev in DEVICES:
        if os.path.exists("/dev/" + dev):
            open(root + "/dev/" + dev, "a").close()
            mount("/dev/" + dev, root + "/dev/" + dev, None, MS_BIND)
    os.makedirs(root + "/dev/shm")
    mount("tmpfs", root + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=256m")
    os.symlink("/proc/self/fd", root + "/dev/fd")
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink("/proc/self/fd/%d" % fd, root + "/dev/" + name)
    # pivot_root(".", ".") then detach the old root: the host tree is gone, not just hidden
    os.chdir(root)
    nr = SYS_PIVOT_ROOT.get(platform.machine())
    if nr is None:
        raise OSError("sandbox: unsupported machine %s" % platform.machine())
    check(libc.syscall(nr, b".", b"."), "pivot_root")
    check(libc.umount2(b".", MNT_DETACH), "detach old root")
    os.chdir("/")


def drop_privileges(mem_mb):
    for cap in range(64):  # empty bounding set: exec'd uid 0 gets no capabilities
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    if mem_mb > 0:
        limit = mem_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(argv):
    ro, rw, cwd, mem_mb, root = [], [], "/", 0, None
    i = 0
    while argv[i] != "--":
        opt, val = argv[i], argv[i + 1]
        if opt == "--ro":
            ro.append(val)
        elif opt == "--rw":
            rw.append(val)
        elif opt == "--root":
            root = val
        elif opt == "--cwd":
            cwd = val
        elif opt == "--mem-mb":
            mem_mb = int(val)
        else:
            raise SystemExit("sandbox: unknown option %s" % opt)
        i += 2
    cmd = argv[i + 1:]
    build_root(root, ro, rw)
    os.chdir(cwd)
    drop_privileges(mem_mb)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
