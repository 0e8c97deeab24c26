"""The autograder's executor: nbgrader's `Execute`, hardened (COURSE.md section 7).

- Before the first solution cell runs, the guard (see guard.py) snapshots the test
  machinery; before every test cell it is reset, after every test cell it is checked,
  and a test during which something was patched fails with a `TamperingError`.
- Code cells after the last test (demos, say) cannot change a grade and are not run.
- A cell that kills the kernel (``os._exit``, a segfault) or hangs it past the per-cell
  timeout even after an interrupt gets an error output; the kernel is restarted, the
  cells before it (setup and the solution cells that ran) are replayed silently, and
  grading goes on with the next cell.  Only the tests that need the broken code fail.
"""
from __future__ import annotations

import ast
import asyncio
import secrets
import time
from queue import Empty

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Integer

from .guard import install_code

REPLAY_TIMEOUT_FACTOR = 2


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


def is_test(cell) -> bool:
    return utils.is_grade(cell) and not utils.is_solution(cell)


class GuardedExecute(Execute):
    """Execute with a monkeypatch guard and recovery from dead or hung kernels."""

    max_restarts = Integer(10, help="Kernel restarts allowed per notebook").tag(config=True)
    ping_timeout = Integer(10, help="Seconds a timed-out kernel gets to answer after "
                                    "its interrupt before it is restarted").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        from nbclient import NotebookClient
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        cells = self.nb.cells
        self._first_solution = next((i for i, c in enumerate(cells) if utils.is_solution(c)), 0)
        # cells after the last test cannot change a grade (demos, say): not run
        self._last_test = max((i for i, c in enumerate(cells) if is_test(c)), default=len(cells))
        self._restarts, self._guard, self._broken = 0, None, None
        with self.setup_kernel():
            info = self.wait_for_reply(self.kc.kernel_info())
            self.nb.metadata["language_info"] = info["content"]["language_info"]
            self._run_all(cells)
        self.set_widgets_metadata()
        return self.nb, self.resources

    # -- the loop -----------------------------------------------------------------
    def _run_all(self, cells) -> None:
        self._prepare_kernel()
        replay: list[int] = []  # code cells (not tests) that ran and did not break the kernel
        for index, cell in enumerate(cells):
            if index == self._first_solution:
                self._install_guard()
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if index > self._last_test and not utils.is_grade(cell):
                continue
            if self._broken:
                cell.outputs = [error_output("GradingError", self._broken)]
                continue
            test = is_test(cell)
            if test:
                status, _ = self._guard_call("reset()")
                if status == "noreply":  # e.g. the kernel's loop was stopped: restart
                    self._recover(cells, replay)
                    status, _ = self._guard_call("reset()")
                if status != "ok":
                    cell.outputs = [error_output("TamperingError" if status == "error" else
                                                 "GradingError", "the grader's guard was "
                                                 "removed or broken by the submission")]
                    continue
            outcome = self._run_cell(cell, index)
            if outcome in ("dead", "hung"):
                self._recover(cells, replay)
                continue
            if test:
                status, patched = self._guard_call("check()")
                if status != "ok" or patched:
                    cell.outputs.append(error_output(
                        "TamperingError", "the test machinery was modified while this test "
                        "ran: " + ", ".join(map(str, (patched or ["the guard"])[:5]))))
            else:
                replay.append(index)
        if self._first_solution >= len(cells):
            self._install_guard()

    def _run_cell(self, cell, index) -> str:
        """Execute one cell: 'ok', 'error', 'dead' (kernel died) or 'hung'."""
        try:
            self.execute_cell(cell, index, store_history=True)
        except DeadKernelError:
            cell.outputs.append(error_output(
                "KernelDied", "the kernel died while running this cell (os._exit, exit of "
                "the process, a crash or running out of memory)"))
            return "dead"
        except CellTimeoutError:
            cell.outputs.append(error_output(
                "CellTimeoutError", f"this cell ran longer than {self.timeout} s and did not "
                "stop when interrupted; the kernel was restarted"))
            return "hung"
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if any(o.ename == "CellTimeoutError" for o in errors):
            for o in errors:
                if o.ename == "CellTimeoutError":
                    o.evalue = f"this cell ran longer than {self.timeout} s and was stopped"
                    o.traceback = [f"CellTimeoutError: {o.evalue}"]
            if not self._ping():
                errors[-1].evalue += "; it did not stop when interrupted, so the kernel was restarted"
                errors[-1].traceback = [f"CellTimeoutError: {errors[-1].evalue}"]
                return "hung"
        return "error" if errors else "ok"

    # -- hidden steps ---------------------------------------------------------------
    def _install_guard(self) -> None:
        self._guard = "_grader_guard_" + secrets.token_hex(6)
        ok = self._silent(install_code(self._guard), timeout=self.timeout or 60)
        if ok is None or ok["content"]["status"] != "ok":
            self.log.warning("could not install the grading guard")
            self._guard = None

    def _prepare_kernel(self) -> None:
        """exit()/quit() in IPython stop the kernel's event loop (a hang, not a death);
        keeping the kernel on exit makes them harmless."""
        self._silent("get_ipython().keepkernel_on_exit = True", timeout=self.ping_timeout)

    def _guard_call(self, call: str):
        """Run guard.reset()/check(): ("ok", value), ("error", None) when the guard is
        gone or raised, ("noreply", None) when the kernel does not answer."""
        if self._guard is None:
            return "ok", []
        reply = self._silent("", expressions={"r": f"{self._guard}.{call}"},
                             timeout=self.ping_timeout)
        if reply is None:
            return "noreply", None
        result = reply["content"].get("user_expressions", {}).get("r", {})
        if result.get("status") != "ok":
            return "error", None
        try:
            value = ast.literal_eval(result["data"]["text/plain"])
        except (ValueError, SyntaxError, KeyError):
            return "error", None
        return "ok", value

    def _ping(self) -> bool:
        return self._silent("", timeout=self.ping_timeout) is not None

    def _silent(self, code: str, expressions=None, timeout: float = 10):
        """Run code with no outputs recorded; the reply, or None if none came in time."""
        return run_sync(self._async_silent)(code, expressions or {}, timeout)

    async def _async_silent(self, code, expressions, timeout):
        msg_id = self.kc.execute(code, silent=True, store_history=False,
                                 user_expressions=expressions)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                msg = await self.kc.shell_channel.get_msg(timeout=min(1.0, remaining))
            except (Empty, asyncio.TimeoutError):
                if not await ensure_async(self.km.is_alive()):
                    return None  # died: no point waiting out the timeout
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    # -- recovery -------------------------------------------------------------------
    def _recover(self, cells, replay: list[int]) -> None:
        """Restart the kernel and silently replay the cells in `replay` (the guard goes in
        where it did).  A cell that breaks the kernel again is dropped from `replay`."""
        timeout = (self.timeout or 60) * REPLAY_TIMEOUT_FACTOR
        while True:
            self._restarts += 1
            if self._restarts > self.max_restarts:
                self._broken = "not run: the kernel was restarted too many times"
                return
            self.log.warning("Restarting the kernel (restart %d)", self._restarts)
            run_sync(self._async_restart)()
            self._prepare_kernel()
            self._guard, bad = None, None
            for index in replay + [None]:
                if self._guard is None and (index is None or index >= self._first_solution):
                    self._install_guard()
                if index is None:
                    break
                reply = self._silent(cells[index].source, timeout=timeout)
                if reply is None:
                    bad = index
                    break
            if bad is None:
                return
            replay.remove(bad)
            cells[bad].outputs.append(error_output(
                "KernelDied", "this cell broke the kernel when it was run again after a "
                "restart, so it was left out"))

    async def _async_restart(self) -> None:
        self.kc.stop_channels()
        await self.km.restart_kernel(now=True)
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=self.startup_timeout)
