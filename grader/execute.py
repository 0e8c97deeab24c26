"""The autograder's executor: nbgrader's Execute step, replaced by out-of-process grading
(COURSE.md section 7; the processes are in runner.py).

It gives every code cell up to the last test a role:
- test cells (nbgrader grade cells that are not solutions) run in the trusted tester;
- solution cells run in the sandboxed student worker;
- the instructor's other cells (setup, fixtures, demos) run in the worker, and also in the
  tester when they use no name that a solution cell defines (so tests see the setup's names);
- cells after the last test cannot change a grade (demos) and are not run.
The names that solution cells define, taken from the RELEASED notebook's solution cells (the
instructor's stubs, not the student's text), are the ones tests see as proxies.
"""
from __future__ import annotations

import time

import nbformat
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

from . import runner, sandbox
from .settings import Limits


def is_test(cell) -> bool:
    return utils.is_grade(cell) and not utils.is_solution(cell)


def label_of(cell, index: int) -> str:
    gid = cell.metadata.get("nbgrader", {}).get("grade_id")
    return str(gid) if gid else f"cell {index}"


def plan(cells, exports: set) -> list[str]:
    """The role of each cell: test, solution, context, worker or skip."""
    last_test = max((i for i, c in enumerate(cells) if c.cell_type == "code" and is_test(c)), default=-1)
    roles = []
    for i, cell in enumerate(cells):
        if cell.cell_type != "code" or not cell.source.strip() or i > last_test:
            roles.append("skip")
        elif is_test(cell):
            roles.append("test")
        elif utils.is_solution(cell):
            roles.append("solution")
        elif runner.used_names(cell.source) & exports:
            roles.append("worker")
        else:
            roles.append("context")
    return roles


def release_exports(release_nb) -> set:
    """The names tests see from student code: what the released solution cells define with
    def, class or assignment; never an imported module, a builtin, or a name the instructor's
    other cells define (tests keep the trusted np, check_layer, ...)."""
    import builtins
    out, trusted = set(), set(dir(builtins))
    for cell in release_nb.cells:
        if cell.cell_type != "code":
            continue
        if utils.is_solution(cell):
            out |= runner.defined_names(cell.source, imports=False)
        elif not is_test(cell):
            trusted |= runner.defined_names(cell.source)
    return out - trusted


class SplitExecute(NbGraderPreprocessor):
    """Execute the notebook with student code and tests in separate processes."""

    def preprocess(self, nb, resources):
        from .preprocessors import RebuildFromRelease
        aid = resources["nbgrader"]["assignment"]
        release_path = RebuildFromRelease(config=self.config)._release_path(resources)
        release = nbformat.read(release_path, as_version=nbformat.NO_CONVERT)
        exports = release_exports(release)
        limits = Limits.from_env()
        roles = plan(nb.cells, exports)
        labels = [label_of(c, i) for i, c in enumerate(nb.cells)]
        solution_labels = {labels[i] for i, r in enumerate(roles) if r == "solution"}
        session = runner.Session(aid, limits, sandboxed=sandbox.enabled(), log=self.log)
        t0 = time.monotonic()
        try:
            session.run(nb.cells, roles, labels, exports, solution_labels)
        finally:
            session.close()
        stats = session.stats
        self.log.info("graded %s in %.2f s (%d workers started, %.2f s in new workers and replays, "
                      "tester start %.2f s)", resources["nbgrader"]["notebook"], time.monotonic() - t0,
                      stats["worker_starts"], stats.get("restart", 0.0), stats["tester_start"])
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.execution_count = None
        # for the grading benchmark: where the time went (no student text)
        nb.metadata["grader"] = {"seconds": round(time.monotonic() - t0, 3),
                                 "workers_started": stats["worker_starts"],
                                 "worker_start_seconds": round(stats["worker_start"], 3),
                                 "restart_and_replay_seconds": round(stats.get("restart", 0.0), 3),
                                 "tester_start_seconds": round(stats["tester_start"], 3)}
        return nb, resources
