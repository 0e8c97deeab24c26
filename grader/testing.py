"""Helpers shared by tests/test_grading*.py: the tiny sample assignment and leak checks."""
from __future__ import annotations

import glob
import html
import os
import re
import shutil
import tempfile

from . import mutation, workflow

SAMPLES = os.path.join(workflow.REPO, "grader", "samples")
TINY = "ex00_tiny"
EXPECTED = re.compile(r"(\d+) of (\d+)")


_TEMPLATE: dict = {}


def tiny_course(tmp_path, timeout: int = 3) -> workflow.Course:
    """A scratch course holding only the tiny sample assignment, generated (once per
    process: later calls copy that course, gradebook included)."""
    if "root" not in _TEMPLATE:
        base = tempfile.mkdtemp(prefix="grader-tiny-")
        src = os.path.join(base, "src")
        os.makedirs(src)
        shutil.copy(os.path.join(SAMPLES, TINY, TINY + ".ipynb"), src)
        template = workflow.scratch_course([], into=os.path.join(base, "course"),
                                           extra_sources=[(TINY, src)])
        # a fresh course with no venv on PATH: nbgrader_config.py must find `alembic`
        # itself when it creates the gradebook (first run on a fresh clone)
        template.env_extra = {"PATH": "/usr/bin:/bin"}
        template.generate([TINY])
        assert os.path.exists(os.path.join(template.root, "grader", "gradebook.db"))
        _TEMPLATE["root"] = template.root
    root = str(tmp_path / "course")
    shutil.copytree(_TEMPLATE["root"], root)
    course = workflow.Course(root, exchange=os.path.join(root, "exchange"), timeout=timeout)
    course.inprocess = True
    return course


def sample_submissions(port: int = 9, course: str = "/nonexistent") -> dict:
    """name -> (Mutant, expected score) for grader/samples/submissions/*.py; the expected
    score is the "N of 3" their docstrings state. __PORT__ and __COURSE__ in their code become
    a listening port and the grading course's folder (an attacker may know both)."""
    out = {}
    for path in sorted(glob.glob(os.path.join(SAMPLES, "submissions", "*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        with open(path, encoding="utf-8") as f:
            text = f.read().replace("__PORT__", str(port)).replace("__COURSE__", course)
            m = mutation.parse_mutant(text, name)
        with open(path, encoding="utf-8") as f:
            doc = f.read().split('"""')[1]
        found = EXPECTED.findall(doc)
        assert found, f"{path}: docstring must say the expected score as 'N of M'"
        out[name] = (m, float(found[-1][0]))
    return out


def html_text(page: str) -> str:
    """The visible text of an HTML page (tags dropped, entities decoded)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def hidden_lines(source_nb, visible_sources) -> list[str]:
    """Lines of the source notebook's hidden-test blocks that a student never sees
    elsewhere (in the release or in their own answer): those must not leak."""
    from .preprocessors import HIDDEN_BEGIN, HIDDEN_END
    visible = set()
    for text in visible_sources:
        visible.update(line.strip() for line in text.splitlines())
    out = []
    for cell in source_nb.cells:
        inside = False
        for line in cell.source.splitlines():
            if HIDDEN_BEGIN in line:
                inside = True
            elif HIDDEN_END in line:
                inside = False
            elif inside and line.strip() and line.strip() not in visible and len(line.strip()) > 3:
                out.append(line.strip())
    return out


def public_library_sources() -> list[str]:
    import course_lib
    root = os.path.dirname(course_lib.__file__)
    out = []
    for path in glob.glob(os.path.join(root, "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as f:
            out.append(f.read())
    return out


def leaked_lines(course: workflow.Course, aid: str, student: str) -> list[str]:
    """Hidden-test lines found in the student's feedback HTML (lines the student can see
    anyway, in the release, their answer or course_lib, do not count)."""
    text = html_text(course.feedback_html(student, aid))
    text_lines = {line.strip() for line in text.splitlines()}
    visible = [c.source for c in course.release_nb(aid).cells]
    visible += [c.source for c in mutation.read(course.path(
        "grader", "submitted", student, aid, aid + ".ipynb")).cells]
    visible += public_library_sources()  # students see course_lib (inspect.getsource)
    # a hidden line leaks when shown as a line; a long one also inside another line
    # (short fragments such as "pass" or "dtype=np.float64)" are everywhere)
    return [line for line in hidden_lines(course.source_nb(aid), visible)
            if line in text_lines or (len(line) >= 30 and line in text)]
