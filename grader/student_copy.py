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
PRIVATE = ("solutions/", "grader/", "nbgrader_config.py", "tests/test_grading_", "tests/test_student_copy.py")
# text that marks a solution or a hidden test in an nbgrader source notebook
MARKERS = ("BEGIN HIDDEN TESTS", "BEGIN SOLUTION")


def public_files(repo: str) -> list[str]:
    """Tracked files that a student may receive."""
    out = subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True).stdout
    files = [f for f in out.decode().split("\0") if f]
    return [f for f in files if not f.startswith(PRIVATE)]


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


def student_copy(repo: str, dest: str) -> list[str]:
    """Copy the public files of ``repo`` into the new folder ``dest``; returns the copied paths.

    Refuses an existing ``dest`` (nothing is overwritten) and removes the copy again if a
    solution or hidden-test marker turns up in it.
    """
    if os.path.exists(dest):
        raise FileExistsError(f"student copy: {dest} already exists; choose a new folder")
    files = public_files(repo)
    try:
        for rel in files:
            target = os.path.join(dest, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.join(repo, rel), target)
        bad = leaks(dest)
        if bad:
            raise RuntimeError(f"student copy: answers would leak through {', '.join(bad)}")
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return files
