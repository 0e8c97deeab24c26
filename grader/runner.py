"""Grading one notebook with student code and the grade in separate processes (COURSE.md section 7).

    grader (this module, in nbgrader's process)
      |-- student worker (worker.py, in the bubblewrap sandbox): setup, solution and demo cells
      |-- trusted tester (tester.py): setup cells and test cells; the student's names are proxies
      '-- tester <-> worker: the data-only channel (wire.py)

Each code cell up to the last test runs, in order, where it belongs: a test cell in the tester, any
other cell in the worker (and, if it is the instructor's and uses no student name, in the tester
too, for the names tests use). The grader enforces the limits (settings.LIMITS): a cell past its
time is interrupted, then the worker killed; a worker that dies or hits a limit is restarted and
the cells that had run are replayed silently; one wall-clock budget covers the whole submission.
Cell outputs come from the grader's records: a test cell's from the tester, a solution or demo
cell's from the worker (which never saw a test), filtered to plain text and PNG.
"""
from __future__ import annotations

import ast
import base64
import binascii
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from nbformat.notebooknode import NotebookNode

from . import forbidden, sandbox, wire

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
IDENT = re.compile(r"[^A-Za-z0-9_.]")
TEXT_LIMIT = 100_000


def error_output(ename: str, evalue: str, traceback=None) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=list(traceback or [f"{ename}: {evalue}"]))


def defined_names(source: str, imports: bool = True) -> set:
    """Top-level names a cell defines (def, class, assignment; import too unless imports=False)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    out = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                out.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
        elif imports and isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in node.names)
    return out


def used_names(source: str) -> set:
    try:
        return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
    except SyntaxError:
        return set()


class Process:
    """A started worker or tester: its Popen, channel, and (worker) limiter and pid 1."""

    def __init__(self, proc, channel, limiter=None, pid=None):
        self.proc, self.channel, self.limiter, self.pid = proc, channel, limiter, pid or proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self):
        sandbox.kill_tree(self.proc, self.pid)
        self.channel.close()
        if self.limiter:
            self.limiter.close()


class Stop(Exception):
    """The worker stopped during a request: why (a limit, a crash, the time)."""


class Session:
    """Grades one notebook: `run(cells, roles)` fills the cells' outputs."""

    def __init__(self, aid: str, limits, sandboxed: bool, log=None):
        self.aid, self.limits, self.sandboxed = aid, limits, sandboxed
        self.log = log or logging.getLogger("grader.runner")
        self.job = tempfile.mkdtemp(prefix="grader-job-")
        os.chmod(self.job, 0o755)
        self.shared = os.path.join(self.job, "shared")  # the tester's TMPDIR: fixtures students read
        self.worker_dir = os.path.join(self.job, "worker")
        os.makedirs(self.shared)
        os.makedirs(self.worker_dir)
        os.chmod(self.shared, 0o755)
        for name in ("worker.py", "wire.py"):
            shutil.copy(os.path.join(HERE, name), self.worker_dir)
        forbidden.build(aid, self.worker_dir)
        self.deadline = time.monotonic() + limits.budget
        self.restarts = 0
        self.worker: Process | None = None
        self.tester: Process | None = None
        self.tester_cells: list[int] = []   # context cells the tester ran (replayed on its restart)
        self.replay: list[int] = []         # worker cells that ran (replayed on a worker restart)
        self.broken: str | None = None
        self._limit_hit: str | None = None
        self.stats = {"worker_start": 0.0, "tester_start": 0.0, "worker_starts": 0}

    # -- processes ------------------------------------------------------------------------
    def _start_worker(self) -> socket.socket:
        """Start a worker; returns the tester's end of its channel."""
        t0 = time.monotonic()
        hub_end, w_hub = socket.socketpair()
        t_end, w_t = socket.socketpair()
        info_r, info_w = os.pipe()
        fds = (w_hub.fileno(), w_t.fileno())
        limiter = sandbox.Limiter(self.limits)
        env = sandbox.worker_env(self.limits)
        if self.sandboxed:
            cmd = [sys.executable, "-I", f"{sandbox.INSIDE}/worker.py", *map(str, fds)]
            argv = sandbox.bwrap_command(self.worker_dir, cmd, self.limits, env, info_fd=info_w,
                                         extra_ro=[self.shared])
            pass_fds = (*fds, info_w)
        else:
            scratch = os.path.join(self.job, "scratch")
            os.makedirs(scratch, exist_ok=True)
            env.update(HOME=scratch, TMPDIR=scratch, MPLCONFIGDIR=scratch)
            argv = [sys.executable, "-I", os.path.join(self.worker_dir, "worker.py"), *map(str, fds)]
            pass_fds = fds
        proc = subprocess.Popen(argv, pass_fds=pass_fds, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=env, cwd=self.job, preexec_fn=limiter.preexec)
        os.close(info_w)
        w_hub.close()
        w_t.close()
        pid = sandbox.read_child_pid(info_r) if self.sandboxed else proc.pid
        os.close(info_r)
        self.worker = Process(proc, wire.Channel(hub_end, limit=self.limits.output_kb * 1024 * 8 + 4 * 2**20),
                              limiter, pid)
        self.stats["worker_start"] += time.monotonic() - t0
        self.stats["worker_starts"] += 1
        return t_end

    def _start_tester(self, t_end: socket.socket):
        t0 = time.monotonic()
        hub_end, t_hub = socket.socketpair()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
        env.update(TMPDIR=self.shared, PYTHONPATH=REPO, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1",
                   OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", NBGRADER_EXECUTION="autograde")
        cwd = os.path.join(self.job, "tester")
        os.makedirs(cwd, exist_ok=True)
        memory = 2 * self.limits.memory_mb * 1024 * 1024  # data from student code cannot swamp the host

        def cap():
            import resource
            os.setsid()
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

        proc = subprocess.Popen([sys.executable, "-m", "grader.tester", str(t_hub.fileno()), str(t_end.fileno())],
                                pass_fds=(t_hub.fileno(), t_end.fileno()), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd,
                                preexec_fn=cap)
        t_hub.close()
        t_end.close()
        self.tester = Process(proc, wire.Channel(hub_end))
        self.stats["tester_start"] += time.monotonic() - t0

    def start(self):
        self._start_tester(self._start_worker())

    def close(self):
        for p in (self.worker, self.tester):
            if p is not None:
                try:
                    p.channel.send({"op": "bye"})
                except OSError:
                    pass
                p.kill()
        shutil.rmtree(self.job, ignore_errors=True)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    # -- requests -------------------------------------------------------------------------
    def _wait(self, proc: Process, timeout: float, watch_worker: bool = True):
        """The next message from `proc`, watching the worker's limits meanwhile. Raises Stop."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise Stop("time")
            try:
                return proc.channel.recv(timeout=min(0.2, left))
            except TimeoutError:
                pass
            except (EOFError, OSError, wire.WireError) as e:
                raise Stop("output" if isinstance(e, wire.WireError) else "died") from e
            if watch_worker and self.worker is not None and self.worker.alive():
                hit = self.worker.limiter.check(self.worker.pid)
                if hit:
                    self.worker.kill()
                    if proc is self.worker:
                        raise Stop("limit:" + hit)
                    self._limit_hit = hit

    def _stop_message(self, why: str, what: str) -> NotebookNode:
        if why.startswith("limit:"):
            return error_output("LimitError", f"{what} reached the {why[6:]} limit and was stopped")
        if why == "output":
            return error_output("LimitError", f"{what} produced more output than the grader accepts "
                                              f"({self.limits.output_kb} KB per cell) and was stopped")
        if why == "budget":
            return error_output("LimitError", f"the submission's time budget ({self.limits.budget} s) "
                                              "ran out; this cell was not run")
        if why == "time":
            return error_output("CellTimeoutError", f"{what} ran longer than {self.limits.cell_timeout} s "
                                                    "and was stopped")
        return error_output("KernelDied", f"{what} stopped: the process running it died (an exit, a "
                                          "crash, or running out of memory)")

    def _timeout(self) -> float:
        return max(0.0, min(self.limits.cell_timeout, self.remaining()))

    def worker_cell(self, cell, label: str, quiet=False) -> list:
        """Run a setup/solution/demo cell in the worker; its outputs."""
        timeout = self._timeout()
        if timeout <= 0:
            return [self._stop_message("budget", "")]
        try:
            self.worker.channel.send({"op": "run", "code": cell.source, "label": label, "quiet": quiet})
            reply, _ = self._wait(self.worker, timeout)
        except (Stop, OSError) as stop:  # OSError: it died (or stopped reading) before the request
            why = str(stop) if isinstance(stop, Stop) else "died"
            if why == "time" and self.worker.alive():
                reply = self._interrupt()
                if reply is not None:
                    outs = [] if quiet else worker_outputs(reply, self.limits.output_kb * 1024)
                    return outs + [error_output("CellTimeoutError", f"this cell ran longer than "
                                                f"{self.limits.cell_timeout} s and was interrupted")]
                why = "time"
            self.worker.kill()
            return [self._stop_message(why, "this cell")]
        return [] if quiet else worker_outputs(reply, self.limits.output_kb * 1024)

    def _interrupt(self):
        """SIGINT to the worker after a timeout; its reply if it stops within a few seconds."""
        try:
            os.kill(self.worker.pid, signal.SIGINT)
        except OSError:
            return None
        try:
            reply, _ = self._wait(self.worker, min(self.limits.interrupt_grace, max(self.remaining(), 0.5)))
            return reply
        except Stop:
            return None

    def tester_cell(self, cell, label: str, test: bool, exports=(), cells=(), source=None) -> tuple[list, dict]:
        """Run a test (or context) cell, or `source` in its place, in the tester; (outputs, reply)."""
        timeout = self._timeout()
        if timeout <= 0:
            return [self._stop_message("budget", "")], {}
        self._limit_hit = None
        try:
            self.tester.channel.send({"op": "run", "code": cell.source if source is None else source,
                                      "label": label, "test": test,
                                      "exports": sorted(exports), "cells": sorted(cells)})
        except OSError as e:
            raise Stop("died") from e
        note = None
        try:
            reply, _ = self._wait(self.tester, timeout)
        except Stop as stop:
            if str(stop) != "time":
                raise  # the tester itself died: the caller restarts everything
            # student code in the worker is the likely runaway: stop it, let the test finish
            note = self._stop_message("time", "this test (with your code)")
            if self.worker.alive():
                self.worker.kill()
            try:
                reply, _ = self._wait(self.tester, self.limits.interrupt_grace + 5, watch_worker=False)
            except Stop:
                self.tester.kill()
                raise
        if reply.get("worker_dead") and self.worker.alive():
            # the tester lost the worker (an exit, a crash) before its process is reaped here:
            # make sure the next test starts a new one
            self.worker.kill()
        outs = []
        if self._limit_hit:
            note = note or self._stop_message("limit:" + self._limit_hit, "your code, during this test,")
        elif reply.get("worker_dead") and note is None:
            note = error_output("KernelDied", "your code's process died during this test (an exit, a "
                                              "crash, or running out of memory)")
        for name in ("stdout", "stderr"):
            if reply.get(name):
                outs.append(NotebookNode(output_type="stream", name=name, text=_cut(str(reply[name]), TEXT_LIMIT)))
        if reply.get("status") == "error":
            outs.append(error_output(str(reply.get("ename", "Error")), str(reply.get("evalue", "")),
                                     [str(x) for x in reply.get("traceback", [])]))
        if note is not None:
            # first: the verdict line names the limit
            errors = [o for o in outs if o.output_type == "error"]
            outs = [o for o in outs if o.output_type != "error"] + [note] + errors
        return outs, reply

    # -- restarts -------------------------------------------------------------------------
    def restart_worker(self, cells, labels, fresh: bool = False) -> bool:
        """A new worker with the cells that had run replayed silently. `fresh`: a planned restart
        before a test (not counted against max_restarts); else one after a crash or a limit.
        False when out of restarts or time."""
        while True:
            if self.worker is not None:
                self.worker.kill()
            if not fresh:
                self.restarts += 1
                if self.restarts > self.limits.max_restarts:
                    self.broken = "not run: the worker was restarted too many times"
                    return False
                self.log.warning("Restarting the student worker (restart %d)", self.restarts)
            if self.remaining() <= 0:
                self.broken = "budget"
                return False
            t0 = time.monotonic()
            t_end = self._start_worker()
            try:
                self.tester.channel.send({"op": "worker"})
                socket.send_fds(self.tester.channel.sock, [b"w"], [t_end.fileno()])
                self._wait(self.tester, 10.0, watch_worker=False)
            except (Stop, OSError):
                return False
            finally:
                t_end.close()
            bad = None
            for index in self.replay:
                outs = self.worker_cell(cells[index], labels[index], quiet=True)
                if outs or not self.worker.alive():
                    bad = index
                    break
            self.stats["restart"] = self.stats.get("restart", 0.0) + time.monotonic() - t0
            if bad is None:
                return True
            self.replay.remove(bad)
            fresh = False
            cells[bad].outputs.append(error_output(
                "KernelDied", "this cell broke the worker when it was run again before a test, "
                              "so the tests after that ran without it"))

    def restart_tester(self, cells, labels) -> bool:
        """A new tester (after it hung or died) and a new worker; both replayed."""
        for p in (self.tester, self.worker):
            if p is not None:
                p.kill()
        self.restarts += 1
        if self.restarts > self.limits.max_restarts or self.remaining() <= 0:
            self.broken = "not run: the grader was restarted too many times"
            return False
        self.start()
        for index in self.tester_cells:
            try:
                self.tester_cell(cells[index], labels[index], test=False)
            except Stop:
                return False
        replay, self.replay = self.replay, []
        for index in replay:
            if not self.worker_cell(cells[index], labels[index], quiet=True) and self.worker.alive():
                self.replay.append(index)
        return True

    # -- the notebook -----------------------------------------------------------------------
    def run(self, cells, roles: list[str], labels: list[str], exports: set, solution_labels: set):
        """roles[i]: "test", "solution", "context" (instructor's, also run in the tester),
        "worker" (instructor's, uses student names: worker only) or "skip".

        Phase 1 runs every non-test cell in the worker, in order, and keeps its outputs: the
        worker has not seen a test yet, so nothing a student shows can carry a hidden input.
        Pass A runs the PUBLIC part of every test (the code before its hidden block), in order,
        on that same worker: what the feedback quotes of a public check comes from here.
        Pass B runs every test cell whole, on a new worker (setup and solution cells replayed
        silently) and a cleared tester: the grades come from here. A failure in a test's public
        part during pass B is shown with pass A's message (or a fixed one), since student code
        could make such a message carry what it saw of earlier hidden tests."""
        self.start()
        for index, cell in enumerate(cells):
            if roles[index] in ("solution", "context", "worker"):
                cell.outputs = self._phase1_cell(cell, cells, labels, index, roles[index])
        public = self._tests(cells, roles, labels, exports, solution_labels, public_only=True)
        if not self.broken:
            try:
                self.tester.channel.send({"op": "reset"})
                self._wait(self.tester, 10.0, watch_worker=False)
            except Stop:
                self.restart_tester(cells, labels)
            self.tester_cells = []
            if self.worker is not None:
                self.restart_worker(cells, labels, fresh=True)
        whole = self._tests(cells, roles, labels, exports, solution_labels, public_only=False)
        for index, (outs, reply) in whole.items():
            cells[index].outputs = merge_passes(cells[index].source, outs, reply, *public.get(index, ([], {})))

    def _tests(self, cells, roles, labels, exports, solution_labels, public_only: bool) -> dict:
        """One pass over the context and test cells in the tester: {test index: (outputs, reply)}."""
        out = {}
        for index, cell in enumerate(cells):
            role = roles[index]
            if role not in ("test", "context"):
                continue
            if self.broken or self.remaining() <= 0:
                if role == "test":
                    out[index] = ([self._stop_message("budget", "") if self.broken in (None, "budget")
                                   else error_output("GradingError", self.broken)], {})
                continue
            if role == "context":
                try:
                    _, reply = self.tester_cell(cell, labels[index], False)
                    if reply.get("status") == "error":
                        self.log.warning("cell %s failed in the tester: %s: %s", labels[index],
                                         reply.get("ename"), str(reply.get("evalue", ""))[:200])
                    self.tester_cells.append(index)
                except Stop:
                    self.restart_tester(cells, labels)
                continue
            if not self.worker.alive() and not self.restart_worker(cells, labels):
                out[index] = ([self._stop_message("budget", "") if self.broken == "budget"
                               else error_output("GradingError", self.broken or "not run")], {})
                continue
            source = public_part(cell.source) if public_only else cell.source
            try:
                out[index] = self.tester_cell(cell, labels[index], True, exports, solution_labels, source=source)
            except Stop:
                out[index] = ([error_output("GradingError", "the test runner stopped during this test; "
                                            "it was restarted")], {})
                self.restart_tester(cells, labels)
        return out

    def _phase1_cell(self, cell, cells, labels, index, role) -> list:
        if self.broken or self.remaining() <= 0:
            return [self._stop_message("budget", "")]
        if not self.worker.alive() and not self.restart_worker(cells, labels):
            return [error_output("GradingError", self.broken or "not run")]
        outs = self.worker_cell(cell, labels[index])
        stopped = any(o.get("ename") in ("KernelDied", "LimitError", "CellTimeoutError")
                      for o in outs if o.output_type == "error")
        if role != "worker" and self.worker.alive() and not stopped:
            self.replay.append(index)  # demos ("worker") are not replayed: tests cannot see them
        return outs


HIDDEN_BEGIN = "BEGIN HIDDEN TESTS"


def hidden_start(source: str):
    """The 1-based line of a cell's first hidden block, or None."""
    for number, line in enumerate(source.split("\n"), 1):
        if HIDDEN_BEGIN in line:
            return number
    return None


def public_part(source: str) -> str:
    start = hidden_start(source)
    return source if start is None else "\n".join(source.split("\n")[:start - 1])


def merge_passes(source: str, outs_b: list, reply_b: dict, outs_a: list, reply_a: dict) -> list:
    """A test cell's outputs: pass B's verdict, with whatever quotes its public part taken from
    pass A (run before student code saw any hidden input)."""
    start = hidden_start(source)
    notes = [o for o in outs_b if o.output_type == "error" and o.ename in ("LimitError", "CellTimeoutError",
                                                                            "KernelDied", "GradingError")]
    if reply_b.get("status") == "ok":
        if start is None:  # all public: what pass A printed (pass B's print could be tainted)
            return [o for o in outs_a if o.output_type == "stream"] if reply_a.get("status") == "ok" else []
        return outs_b  # feedback shows no output of a cell with a hidden block
    if start is not None and (reply_b.get("line") or 0) >= start:
        return outs_b  # failed in the hidden block: the author's hidden message
    if reply_a.get("status") == "error":  # failed in the public part, as it did in pass A
        return notes + [o for o in outs_a if not (o.output_type == "error" and o.ename in
                                                  ("LimitError", "CellTimeoutError", "KernelDied", "GradingError")
                                                  and notes)]
    return notes + [error_output("AssertionError", "the public checks of this test failed when it ran after "
                                                   "the other tests (they passed when run on their own)")]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "\n[output cut]\n"


def worker_outputs(reply: dict, limit: int = TEXT_LIMIT) -> list:
    """Notebook outputs from what the worker sent: text streams, text/plain and PNG only (no
    HTML or JavaScript a student could plant in the instructor's browser), each cut to size."""
    outs = []
    items = reply.get("outputs") if isinstance(reply.get("outputs"), list) else []
    for item in items[:50]:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("stream"), str) and isinstance(item.get("text"), str):
            name = "stderr" if item["stream"] == "stderr" else "stdout"
            outs.append(NotebookNode(output_type="stream", name=name, text=_cut(item["text"], limit)))
        elif isinstance(item.get("display"), dict) or isinstance(item.get("result"), dict):
            data = item.get("display") or item.get("result")
            clean = {}
            if isinstance(data.get("text/plain"), str):
                clean["text/plain"] = _cut(data["text/plain"], limit)
            png = data.get("image/png")
            if isinstance(png, str) and len(png) < 4_000_000:
                try:
                    if base64.b64decode(png, validate=True)[:8] == b"\x89PNG\r\n\x1a\n":
                        clean["image/png"] = png
                except (binascii.Error, ValueError):
                    pass
            if clean:
                kind = "display_data" if "display" in item else "execute_result"
                node = NotebookNode(output_type=kind, data=NotebookNode(clean), metadata=NotebookNode())
                if kind == "execute_result":
                    node.execution_count = None
                outs.append(node)
        elif isinstance(item.get("error"), dict):
            err = item["error"]
            ename = IDENT.sub("", str(err.get("ename", "Error")))[:80] or "Error"
            tb = err.get("traceback") if isinstance(err.get("traceback"), list) else []
            outs.append(error_output(ename, str(err.get("evalue", ""))[:2000],
                                     [str(x)[:500] for x in tb[:40]]))
    return outs
