"""The students' copy of the course holds the lectures, exercises and course_lib, and no answer."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader.student_copy import leaks, student_copy

ROOT = Path(__file__).resolve().parents[1]


def test_student_copy_has_the_course_and_no_answers(tmp_path):
    dest = tmp_path / "course"
    files = student_copy(str(ROOT), str(dest))
    assert (dest / "exercises" / "ex05_conv_backward" / "ex05_conv_backward.ipynb").exists()
    assert (dest / "lectures" / "01_gradient_based_learning.ipynb").exists()
    assert (dest / "course_lib" / "layers" / "conv.py").exists() and (dest / "Makefile").exists()
    assert not (dest / "solutions").exists() and not (dest / "grader").exists()
    assert not any(f.startswith(("solutions/", "grader/")) for f in files)
    assert leaks(str(dest)) == []


def test_student_copy_has_the_students_guide_and_only_their_commands(tmp_path):
    dest = tmp_path / "course"
    student_copy(str(ROOT), str(dest), exchange="/srv/exchange")
    readme = (dest / "README.md").read_text()
    for step in ("make lab", "make test", "fetch_assignment", "validate", "submit", "fetch_feedback",
                 "Assignment List", "COURSE_EXCHANGE"):
        assert step in readme, step
    makefile = (dest / "Makefile").read_text()
    targets = {line.split(":")[0] for line in makefile.splitlines() if line[:1].isalpha() and ":" in line
               and ":=" not in line and "?=" not in line}
    assert targets == {"lab", "test"}, targets
    for word in ("release", "grade", "feedback", "mutants", "student-copy", "grader"):
        assert not re.search(rf"\b{word}\b", makefile), word
    config = (dest / "nbgrader_config.py").read_text()
    assert "'/srv/exchange'" in config and "'cnn-backprop'" in config
    out = subprocess.run(["make", "-n", "lab"], cwd=dest, capture_output=True, text=True)
    assert "--LabApp.default_url=/lab/tree/lectures/01_gradient_based_learning.ipynb" in out.stdout, out.stderr


def test_leak_check_finds_a_hidden_test_and_refuses_existing_folders(tmp_path):
    (tmp_path / "nb.ipynb").write_text('{"source": "### BEGIN HIDDEN TESTS\\nassert f(2) == 4"}')
    assert leaks(str(tmp_path)) == ["nb.ipynb"]
    with pytest.raises(FileExistsError, match="already exists"):
        student_copy(str(ROOT), str(tmp_path))
    assert (tmp_path / "nb.ipynb").exists()  # nothing overwritten


def test_cli_makes_the_copy(tmp_path):
    out = subprocess.run([sys.executable, "-m", "grader", "student-copy", str(tmp_path / "c")],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "files copied" in out.stdout and (tmp_path / "c" / "README.md").exists()
