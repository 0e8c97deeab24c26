"""Answers are not borrowed from course_lib (grader/README.md; settings.FORBIDDEN): the worker's
course_lib has each declared implementation taken out; the real one is untouched."""
import ast
import os
import subprocess
import sys

import numpy as np
import pytest

from grader import forbidden, settings


def _course_lib_functions():
    root = forbidden.package_dir()
    for dirpath, _, files in os.walk(root):
        for name in files:
            if name.endswith(".py"):
                tree = ast.parse(open(os.path.join(dirpath, name), encoding="utf-8").read())
                for node in ast.walk(tree):
                    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                        yield os.path.relpath(os.path.join(dirpath, name), root), node.name


def test_course_lib_computes_no_sigmoid_tanh_or_softplus():
    """ex01 and ex02 declare nothing to take out because course_lib has none of these: should
    one be added, it must be declared in settings.FORBIDDEN."""
    found = [(f, n) for f, n in _course_lib_functions()
             if any(k in n.lower() for k in ("sigmoid", "tanh", "softplus"))]
    assert found == []
    assert settings.FORBIDDEN["ex01_sigmoid_tanh"] == [] and settings.FORBIDDEN["ex02_softplus"] == []


def test_every_assignment_is_declared():
    from grader.workflow import Course
    assert set(Course().assignments()) <= set(settings.FORBIDDEN)


@pytest.mark.parametrize("aid", sorted(a for a, names in settings.FORBIDDEN.items() if names))
def test_declared_answers_raise_in_the_workers_copy(tmp_path, aid):
    dest = tmp_path / aid
    dest.mkdir()
    forbidden.build(aid, str(dest))
    calls = []
    for entry in settings.FORBIDDEN[aid]:
        module, qual = entry.split(":")
        owner, _, fn = qual.rpartition(".")
        target = f"getattr(getattr(m, {owner!r}), {fn!r})" if owner else f"getattr(m, {fn!r})"
        calls.append(f"""
m = importlib.import_module({module!r})
try:
    {target}(*([None] * 5)[:len(inspect.signature({target}).parameters)])
except Exception as e:
    print({entry!r}, type(e).__name__)
""")
    code = ("import importlib, inspect, sys\nsys.path.insert(0, %r)\n" % str(dest)) + "".join(calls) + \
        "import course_lib.layers as L\nprint('file', L.__file__)\nprint('forward', L.Conv(1, 1, 3).forward(__import__('numpy').ones((1, 1, 4, 4))).shape)\n"
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True).stdout
    for entry in settings.FORBIDDEN[aid]:
        assert f"{entry} CourseLibAnswerBlocked" in out, out
    assert f"file {dest}" in out and "forward (1, 1, 2, 2)" in out  # the rest still works


def test_the_real_course_lib_keeps_its_answers():
    from course_lib.layers import Conv
    from course_lib.layers.naive import conv_backward
    conv = Conv(1, 2, 3, seed=0)
    top = conv.forward(np.ones((1, 1, 4, 4)))
    assert conv.backward(np.ones_like(top)).shape == (1, 1, 4, 4)
    assert conv_backward(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)))[0].shape == (1, 1, 3, 3)


def test_a_wrong_declaration_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="has no Conv.backwrd"):
        forbidden.build("exX", str(tmp_path), {"exX": ["course_lib.layers.conv:Conv.backwrd"]})
    with pytest.raises(ValueError, match="not 'course_lib.module:Qualified.name'"):
        forbidden.build("exX", str(tmp_path / "b"), {"exX": ["numpy:sum"]})
