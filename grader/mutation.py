"""Mutants (known wrong answers) and other scripted submissions.

A mutant file ``grader/mutants/<aid>/<name>.py`` reads::

    \"\"\"One line: the mistake a student makes.\"\"\"
    # %% <grade_id of a solution cell>
    <replacement source for that whole solution cell>
    # %% <another grade_id>
    ...

Solution cells it does not name keep the instructor's solution (markers stripped).
`build_submission` turns it into the notebook a student would hand in: the released
notebook with its solution cells filled.
"""
from __future__ import annotations

import ast
import copy
import os
import re
from dataclasses import dataclass

import nbformat
from nbgrader import utils

SECTION = re.compile(r"^# %%[ \t]+(\S+)[ \t]*$", re.MULTILINE)
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


class MutantError(ValueError):
    pass


@dataclass
class Mutant:
    name: str
    description: str
    cells: dict  # grade_id -> replacement source


def parse_mutant(text: str, name: str = "<mutant>") -> Mutant:
    parts = SECTION.split(text)
    head, rest = parts[0], parts[1:]
    try:
        doc = ast.get_docstring(ast.parse(head))
    except SyntaxError as e:
        raise MutantError(f"{name}: the text before the first '# %%' line is not Python: {e}") from e
    if not doc or not doc.strip():
        raise MutantError(f"{name}: must start with a docstring describing the mistake")
    if not rest:
        raise MutantError(f"{name}: no '# %% <grade_id>' section")
    cells = {}
    for grade_id, body in zip(rest[::2], rest[1::2]):
        if grade_id in cells:
            raise MutantError(f"{name}: grade_id {grade_id!r} appears twice")
        cells[grade_id] = body.strip("\n") + "\n"
    return Mutant(name, doc.strip().splitlines()[0], cells)


def load_mutant(path: str) -> Mutant:
    with open(path, encoding="utf-8") as f:
        return parse_mutant(f.read(), os.path.splitext(os.path.basename(path))[0])


def load_mutants(folder: str) -> list[Mutant]:
    if not os.path.isdir(folder):
        return []
    return [load_mutant(os.path.join(folder, f)) for f in sorted(os.listdir(folder))
            if f.endswith(".py") and not f.startswith("_")]


def strip_solution_markers(source: str) -> str:
    return "\n".join(line for line in source.split("\n") if not MARKER.match(line))


def solution_cells(nb) -> dict:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if utils.is_solution(c)}


def build_submission(release_nb, source_nb, replacements: dict | None = None, name="<mutant>"):
    """The released notebook with every solution cell filled: from `replacements`
    (grade_id -> source) where given, else the instructor's solution without markers.
    `replacements=None` fills nothing (the blank release)."""
    nb = copy.deepcopy(release_nb)
    if replacements is None:
        return nb
    source = solution_cells(source_nb)
    released = solution_cells(nb)
    unknown = sorted(set(replacements) - set(released))
    if unknown:
        others = sorted({c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                         if "nbgrader" in c.metadata and "grade_id" in c.metadata["nbgrader"]})
        kind = "not a solution cell" if set(unknown) & set(others) else "unknown grade_id"
        raise MutantError(f"{name}: {kind} {unknown}; the solution cells are {sorted(released)}")
    for grade_id, cell in released.items():
        if grade_id in replacements:
            cell.source = replacements[grade_id]
        else:
            cell.source = strip_solution_markers(source[grade_id].source)
    return nb


def read(path):
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)
