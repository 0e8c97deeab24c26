"""The trusted test runner (COURSE.md section 7): runs an assignment's test cells, and never any
student code.

Started by runner.py as  python -m grader.tester HUB_FD WORKER_FD  (not sandboxed: it runs only
the instructor's cells from the release and the gradebook). Its namespace holds what the release's
setup cells define, plus, before each test cell, the names the solution cells define, fetched from
the student worker as proxies (proxy.py). The hub sends it cells; it answers with each cell's
outcome, decided here: a test passes when its code runs to the end without an exception.
"""
from __future__ import annotations

import ast
import linecache
import os
import shutil
import socket
import sys
import tempfile
import traceback
import warnings

from . import proxy, wire

OUTPUT_LIMIT = 256 * 1024


class Capture:
    def __init__(self):
        self.parts, self.size = [], 0

    def write(self, text):
        text = str(text)
        room = OUTPUT_LIMIT - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(len(text), room)
        return len(text)

    def flush(self):
        pass

    def getvalue(self):
        return "".join(self.parts)


class Tester:
    def __init__(self, hub: wire.Channel, worker: wire.Channel):
        self.hub = hub
        self.cells: set = set()
        self.link = proxy.Link(worker, self.cells)
        self.ns: dict = {"__name__": "__main__"}
        self.exported: set = set()
        # a warning re-issued from student code is shown only where a test asks for warnings
        warnings.filterwarnings("ignore", module="student")

    def serve(self):
        while True:
            try:
                header, _ = self.hub.recv()
            except EOFError:
                return
            op = header.get("op")
            if op == "worker":
                self.new_worker(header)
                self.hub.send({"ok": True})
            elif op == "run":
                self.hub.send(self.run(header))
            elif op == "reset":  # a new pass: nothing of the last one is left
                self.ns, self.exported = {"__name__": "__main__"}, set()
                self.hub.send({"ok": True})
            elif op == "bye":
                self.hub.send({"ok": True})
                return
            else:
                self.hub.send({"ok": False})

    def new_worker(self, header):
        """A restarted worker: its socket comes over the hub's channel (SCM_RIGHTS)."""
        _, fds, _, _ = socket.recv_fds(self.hub.sock, 16, 1)
        old, self.link = self.link, proxy.Link(wire.channel_from_fd(fds[0]) if fds else None, self.cells)
        if old.channel is not None:
            old.channel.close()
        old.dead = True

    def refresh(self, exports):
        """Bind every exported name to the worker's current value (a proxy, or data)."""
        for name in self.exported - set(exports):
            self.ns.pop(name, None)
        self.exported = set(exports)
        try:
            values = self.link.request("names", "your answers", names=list(exports))
        except proxy.StudentCodeError:
            values = {}
        if not isinstance(values, dict):
            values = {}
        for name in exports:
            if name in values:
                value = values[name]
                if isinstance(value, proxy.Remote):
                    object.__setattr__(value, "_label", name)
                self.ns[name] = value
            else:
                self.ns.pop(name, None)

    def run(self, header) -> dict:
        code, label = header["code"], header["label"]
        self.cells.update(header.get("cells", []))
        if header.get("test"):
            self.refresh(header.get("exports", []))
        # a test's files (fixtures student code reads) live in a folder of its own, removed
        # after it: the next test's worker cannot read an earlier test's hidden inputs
        shared = os.environ.get("TMPDIR") or tempfile.gettempdir()
        tempfile.tempdir = tempfile.mkdtemp(prefix="test-", dir=shared) if header.get("test") else shared
        filename = f"<test {label}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        out, err = Capture(), Capture()
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        result = {"status": "ok"}
        try:
            tree = ast.parse(code, filename=filename)
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, filename, "exec"), self.ns)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), filename, "eval"), self.ns)
                if value is not None:
                    print(repr(value))
        except BaseException as e:  # noqa: BLE001 - a failing test, whatever it raised
            result = self.failure(e)
        finally:
            sys.stdout, sys.stderr = old
            if header.get("test"):
                shutil.rmtree(tempfile.tempdir, ignore_errors=True)
            tempfile.tempdir = shared
        result.update(stdout=out.getvalue(), stderr=err.getvalue(), worker_dead=self.link.dead)
        return result

    @staticmethod
    def failure(exc) -> dict:
        ename = type(exc).__name__
        if isinstance(exc, proxy.StudentCodeError):
            base = next((c for c in type(exc).__mro__[1:] if c.__module__ == "builtins"), Exception)
            ename = base.__name__
        try:
            evalue = str(exc)
        except Exception:  # noqa: BLE001
            evalue = ""
        # the test's own lines only: the grader's plumbing (proxy.py) says nothing to anyone
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<test ")]
        lines = [f"{f.filename[1:-1]}, line {f.lineno}: {(f.line or '').strip()}" for f in frames[-20:]]
        return {"status": "error", "ename": ename, "evalue": evalue[:4000],
                "traceback": lines + [f"{ename}: {evalue[:4000]}"],
                # the cell's top-level statement that failed (public part or hidden block?)
                "line": frames[0].lineno if frames else None}


def main(argv):
    hub = wire.channel_from_fd(int(argv[1]))
    worker = wire.channel_from_fd(int(argv[2]), limit=256 * 1024 * 1024)
    Tester(hub, worker).serve()


if __name__ == "__main__":
    main(sys.argv)
