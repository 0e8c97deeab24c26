"""A copy of the course for students: everything but the answers.

The repository is the instructor's: ``solutions/`` holds the hidden tests and ``grader/`` the
known wrong answers and the grading machinery. Students who clone the course should clone this
copy instead (``python -m grader student-copy DEST``, ``make student-copy DEST=...``).
"""
from __future__ import annotations

import os
import shutil
import subprocess

# what only the instructor may see, as path prefixes relative to the repository root
PRIVATE = ("solutions/", "grader/", "nbgrader_config.py", "tests/test_grading_", "tests/test_student_copy.py",
           "tests/test_browser_e2e.py", "tests/test_jupyterhub.py")
# replaced by the students' own versions (below): no instructor targets, a student's guide
REPLACED = ("README.md", "Makefile")
# text that marks a solution or a hidden test in an nbgrader source notebook
MARKERS = ("BEGIN HIDDEN TESTS", "BEGIN SOLUTION")


def public_files(repo: str) -> list[str]:
    """Tracked files that a student may receive."""
    out = subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True).stdout
    files = [f for f in out.decode().split("\0") if f]
    return [f for f in files if not f.startswith(PRIVATE) and f not in REPLACED]


def leaks(folder: str) -> list[str]:
    """Files under ``folder`` that contain a solution or hidden-test marker."""
    found = []
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                data = f.read()
            if any(m.encode() in data for m in MARKERS):
                found.append(os.path.relpath(path, folder))
    return sorted(found)


STUDENT_MAKEFILE = """\
# The course, for students: two commands (README.md).
#   make lab   -> JupyterLab on lecture 01      make test -> the tests of course_lib and the lectures
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \\
\tcommand -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \\
\t&& { echo $$p; break; }; done)
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
FIRST := lectures/01_gradient_based_learning.ipynb

.PHONY: lab test

$(STAMP): pyproject.toml
\t@test -n "$(PYTHON)" || { echo "error: Python >= 3.11 is required; install python3.11 or newer" >&2; exit 1; }
\t@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
\t$(BIN)/python -m pip install --upgrade --quiet pip
\t$(BIN)/python -m pip install --quiet -e .
\t@touch $@

lab: $(STAMP)
\tPATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab --notebook-dir=. $(ROOT_FLAG) \\
\t\t--LabApp.default_url=/lab/tree/$(FIRST) $(LAB_ARGS)

test: $(STAMP)
\tPATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest tests
"""

STUDENT_CONFIG = """\
# nbgrader settings for students (README.md, "Fetch, validate, submit"): the course and the
# exchange your instructor shares. COURSE_EXCHANGE overrides the folder written here.
import os
c = get_config()  # noqa: F821 (provided by nbgrader)
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = os.environ.get("COURSE_EXCHANGE") or {exchange!r}
# fetched assignments go to exercises/<assignment>/, where this copy already has them
# (a fetch never overwrites a folder that exists); feedback lands in exercises/<assignment>/feedback/
c.Exchange.assignment_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exercises")
"""


# nbgrader 0.9.6's Assignment List reads the settings again from Exchange.assignment_dir
# (exercises/) only, so the exchange named above must be loaded from there too
EXERCISES_CONFIG = """\
# the course's settings (../nbgrader_config.py), for nbgrader's Assignment List, which reads them from here
import os
load_subconfig(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "nbgrader_config.py"))  # noqa: F821
"""


def student_readme(repo: str) -> str:
    """The students' README: their quickstart and guide, then the course description."""
    with open(os.path.join(repo, "grader", "STUDENT_README.md"), encoding="utf-8") as f:
        return f.read()


def student_copy(repo: str, dest: str, exchange: str | None = None) -> list[str]:
    """Copy the public files of ``repo`` into the new folder ``dest``; returns the copied paths.

    Refuses an existing ``dest`` (nothing is overwritten) and removes the copy again if a
    solution or hidden-test marker turns up in it. The copy gets the students' README.md
    (grader/STUDENT_README.md), a Makefile with only `make lab` and `make test`, and an
    nbgrader_config.py naming the course and the exchange (`exchange`, default this course's).
    """
    if os.path.exists(dest):
        raise FileExistsError(f"student copy: {dest} already exists; choose a new folder")
    files = public_files(repo)
    try:
        for rel in files:
            target = os.path.join(dest, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.join(repo, rel), target)
        from . import settings
        with open(os.path.join(dest, "README.md"), "w", encoding="utf-8") as f:
            f.write(student_readme(repo))
        with open(os.path.join(dest, "Makefile"), "w") as f:
            f.write(STUDENT_MAKEFILE)
        with open(os.path.join(dest, "nbgrader_config.py"), "w") as f:
            f.write(STUDENT_CONFIG.format(course_id=settings.COURSE_ID,
                                          exchange=exchange or settings.exchange_root(repo)))
        os.makedirs(os.path.join(dest, "exercises"), exist_ok=True)
        with open(os.path.join(dest, "exercises", "nbgrader_config.py"), "w") as f:
            f.write(EXERCISES_CONFIG)
        files = files + ["README.md", "Makefile", "nbgrader_config.py", "exercises/nbgrader_config.py"]
        bad = leaks(dest)
        if bad:
            raise RuntimeError(f"student copy: answers would leak through {', '.join(bad)}")
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return files
