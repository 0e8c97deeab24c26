"""Mutation testing of every assignment in solutions/ (COURSE.md sections 6 and 7): the
instructor's source scores full marks, the blank release 0, every mutant in
grader/mutants/<aid>/ less than full; the feedback of each leaks no hidden test.
The submissions of all assignments are students of one `nbgrader autograde` call per
parallel job (two jobs, each its own copy of the course)."""
import re

import pytest

from grader import workflow
from grader.testing import leaked_lines

ASSIGNMENTS = workflow.Course(workflow.REPO).assignments()


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    run, where, times = workflow.mutation_suite(
        ASSIGNMENTS, str(tmp_path_factory.mktemp("mutants")), jobs=2, feedback=True)
    for aid in ASSIGNMENTS:
        secs = [t for (a, _), t in times.items() if a == aid]
        print(f"\n{aid}: {len(secs)} submissions, autograde {sum(secs) / max(len(secs), 1):.1f} s "
              f"each on average (max {max(secs, default=0):.1f} s)")
    return where, run


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_source_full_blank_zero_mutants_lose_points(results, aid):
    where, run = results
    course, rows = where[aid, "source"], run[aid]
    full = rows["source"][1]
    assert full and full > 0
    assert rows["source"][0] == full, course.test_results("source", aid)
    assert rows["blank"][0] == 0, where[aid, "blank"].test_results("blank", aid)
    survivors = {s: (score, desc) for s, (score, _, desc) in rows.items()
                 if s.startswith("mutant-") and not (score is not None and score < full)}
    assert not survivors, f"mutants scoring full marks (or not graded): {survivors}"
    assert len(rows) > 2, f"no mutants in grader/mutants/{aid}/"


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_feedback_of_every_submission_leaks_no_hidden_test(results, aid):
    where, run = results
    for student in run[aid]:
        course = where[aid, student]
        assert leaked_lines(course, aid, student) == [], (aid, student)
        page = course.feedback_html(student, aid)
        assert "HIDDEN TESTS" not in page
        if student != "source":
            assert re.search(r"FAILED test \S+ \([\d.]+ points?\)", page), (aid, student)
