"""Grades out to an LMS: the gradebook as Canvas's and Moodle's gradebook-import CSV, beside
nbgrader's own CSV (`python -m grader export --format canvas|moodle|nbgrader`).

- Canvas (Grades > Import): the columns Student, ID, SIS User ID, SIS Login ID, Section, then one
  column per assignment; a second row "Points Possible". Rows are matched on SIS Login ID, which
  is the nbgrader student id here (ID and SIS User ID are left empty: Canvas fills them).
- Moodle (Grades > Import > CSV file): Username, then one column per assignment (map "Username"
  to the user field "username" in the import form, each assignment column to its grade item).
A submission not handed in is an empty cell (not 0): the LMS keeps its own rule for missing work.
"""
from __future__ import annotations

import csv
import os


def table(course) -> tuple[list[str], dict, dict]:
    """(assignments, {assignment: max score}, {student: {assignment: score}}) from the gradebook."""
    from nbgrader.api import Gradebook
    with Gradebook(course.db_url()) as gb:
        aids = [a.name for a in gb.assignments]
        maxima = {a.name: a.max_score for a in gb.assignments}
        scores = {s.id: {} for s in gb.students}
        for a in gb.assignments:
            for sub in a.submissions:
                scores.setdefault(sub.student.id, {})[a.name] = sub.score
    return sorted(aids), maxima, scores


def write(course, kind: str, to: str) -> str:
    aids, maxima, scores = table(course)
    os.makedirs(os.path.dirname(os.path.abspath(to)), exist_ok=True)
    tmp = to + ".part"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if kind == "canvas":
            w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *aids])
            w.writerow(["    Points Possible", "", "", "", "", *(_num(maxima[a]) for a in aids)])
            for student in sorted(scores):
                w.writerow([student, "", "", student, "", *(_num(scores[student].get(a)) for a in aids)])
        elif kind == "moodle":
            w.writerow(["Username", *aids])
            for student in sorted(scores):
                w.writerow([student, *(_num(scores[student].get(a)) for a in aids)])
        else:
            raise ValueError(f"unknown LMS format {kind!r}: canvas or moodle")
    os.replace(tmp, to)  # a half-written file never takes the old one's place
    return to


def _num(value) -> str:
    return "" if value is None else f"{float(value):g}"
