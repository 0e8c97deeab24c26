"""COURSE.md section 7 on purpose-made bad submissions (grader/samples/submissions/),
graded together with an honest student in ONE autograde call, on the tiny sample
assignment grader/samples/ex00_tiny (square: 1 point, halve: 2 points)."""
import copy
import socket
import threading

import pytest

from grader import mutation, sandbox
from grader.testing import TINY, leaked_lines, sample_submissions, tiny_course

SANDBOX_OK, _, SANDBOX_WHY = sandbox.probe()
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's own


@pytest.fixture(scope="module")
def listener():
    """A TCP server on loopback that the snooping submission tries to reach."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()

    def serve():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                srv.accept()[0].close()
            except OSError:
                pass
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join()
    srv.close()


def edited_tests(release, source):
    """square right, halve wrong (returns x); test_halve replaced by `pass`, test_square
    deleted, a test cell of the student's own added, the setup cell edited."""
    nb = mutation.build_submission(release, source, {"halve": "def halve(x):\n    return x\n"})
    cells = []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid == "test_square":
            continue
        if gid == "test_halve":
            cell.source = "pass"
        if gid == "setup":
            cell.source += "\nnp.allclose = lambda *a, **k: True"
        cells.append(cell)
    extra = copy.deepcopy(cells[-1])
    extra.source = "assert True"
    cells.append(extra)
    nb.cells = cells
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory, listener):
    course = tiny_course(tmp_path_factory.mktemp("policy"), timeout=3)
    release, source = course.release_nb(TINY), course.source_nb(TINY)
    expected = {}
    for name, (m, score) in sample_submissions(port=listener).items():
        course.put_submission(name, TINY, mutation.build_submission(release, source, m.cells, name))
        expected[name] = score
    course.put_submission("honest", TINY, mutation.build_submission(release, source, {}))
    expected["honest"] = 3.0
    course.put_submission("edits-tests", TINY, edited_tests(release, source))
    expected["edits-tests"] = 1.0
    # graded again, unsandboxed, by test_without_the_sandbox_the_snoop_would_cheat
    course.put_submission("snoop-control", TINY, mutation.build_submission(
        release, source, sample_submissions(port=listener)["snoop"][0].cells))
    course.autograde(TINY)
    return course, expected


def test_samples_are_well_formed():
    subs = sample_submissions()
    assert {"loop_forever", "loop_ignores_interrupt", "os_exit", "segfault", "exits",
            "warnings_and_stderr", "monkeypatch", "monkeypatch_during_test", "snoop",
            "skips_tests"} <= set(subs)
    for name, (m, score) in subs.items():
        assert 0 <= score <= 3 and m.cells, name


@pytest.mark.parametrize("name", sorted(sample_submissions()) + ["honest", "edits-tests"])
def test_bad_submission_gets_what_its_answers_deserve(graded, name):
    course, expected = graded
    if name == "snoop" and not SANDBOX_OK:
        pytest.skip(f"no sandbox on this machine: {SANDBOX_WHY}")
    score, max_score = course.scores(TINY)[name]
    assert max_score == 3.0
    assert score == expected[name], (name, course.test_results(name, TINY))


def _outputs(course, student, grade_id):
    nb = course.autograded_nb(student, TINY)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return cell.outputs


def test_timeouts_and_crashes_are_reported_in_the_cell(graded):
    course, _ = graded
    assert any(o.get("ename") == "CellTimeoutError" for o in _outputs(course, "loop_forever", "test_halve"))
    out = _outputs(course, "loop_ignores_interrupt", "test_halve")
    assert any("did not stop when interrupted" in o.get("evalue", "") for o in out), out
    assert any(o.get("ename") == "KernelDied" for o in _outputs(course, "os_exit", "test_square"))
    assert any(o.get("ename") == "KernelDied" for o in _outputs(course, "segfault", "square"))


def test_tampering_during_a_test_is_named(graded):
    course, _ = graded
    out = _outputs(course, "monkeypatch_during_test", "test_halve")
    assert any(o.get("ename") == "TamperingError" and "numpy.allclose" in o.get("evalue", "")
               for o in out), out


def test_edited_and_deleted_test_cells_are_restored(graded):
    course, _ = graded
    results = course.test_results("edits-tests", TINY)
    assert results == {"test_square": (1.0, 1.0), "test_halve": (0.0, 2.0)}
    nb = course.autograded_nb("edits-tests", TINY)
    assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells if c.cell_type == "code"] == \
        ["setup", "square", "test_square", "halve", "test_halve"]


@pytest.mark.skipif(not SANDBOX_OK, reason=f"no sandbox on this machine: {SANDBOX_WHY}")
def test_sandbox_hides_the_course_and_the_network(graded):
    course, _ = graded
    printed = "".join(o.get("text", "") for o in _outputs(course, "snoop", "halve"))
    assert "leaks: []" in printed, printed


@pytest.mark.skipif(not SANDBOX_OK, reason=f"no sandbox on this machine: {SANDBOX_WHY}")
def test_without_the_sandbox_the_snoop_would_cheat(graded):
    """Control: the same submission graded unsandboxed finds solutions/, the gradebook,
    other submissions and the network, and scores full marks: so the sandbox test can
    fail."""
    course, _ = graded
    assert course.scores(TINY)["snoop-control"][0] == 1.0  # sandboxed, like snoop
    course.env_extra = {"GRADER_SANDBOX": "0"}
    try:
        course.autograde(TINY, student="snoop-control")
    finally:
        course.env_extra = {}
    printed = "".join(o.get("text", "") for o in _outputs(course, "snoop-control", "halve"))
    for leak in ("solutions/", "grader/gradebook.db", "grader/submitted/honest", "network"):
        assert leak in printed, printed
    assert course.scores(TINY)["snoop-control"][0] == 3.0


def test_feedback_hides_hidden_tests_but_says_what_failed(graded):
    course, _ = graded
    course.feedback(TINY)
    for student in ("wrong_halve", "monkeypatch", "honest", "edits-tests", "segfault"):
        assert leaked_lines(course, TINY, student) == [], student
    page = course.feedback_html("wrong_halve", TINY)
    assert "halve(2) is not 1" in page  # a public assert's message
    assert "FAILED test test_halve (2 points)" in page
    assert "passed test test_square (1 point)" in page
    assert "secret_values_for_halve" not in page and "BEGIN HIDDEN TESTS" not in page
    # a hidden assert's failure: its message only, never its code or expected values
    page = course.feedback_html("halve_drops_sign", TINY)
    assert leaked_lines(course, TINY, "halve_drops_sign") == []
    assert "FAILED test test_halve (2 points): AssertionError: halve is wrong on mixed signs" in page
    assert "expected_half_of" not in page and "[2.0, -0.5, 3.5]" not in page


def test_leak_check_catches_nbgrader_s_own_feedback(graded, tmp_path):
    """Control for the leak checks: nbgrader's stock feedback (no SafeFeedback) shows the
    hidden tests, and leaked_lines finds them."""
    course, _ = graded
    course.nbgrader("generate_feedback", TINY, "--force", "--CourseDirectory.student_id=halve_drops_sign",
                    "--GenerateFeedback.preprocessors=nbgrader.preprocessors.GetGrades",
                    "--GenerateFeedback.preprocessors=nbconvert.preprocessors.CSSHTMLHeaderPreprocessor")
    leaked = leaked_lines(course, TINY, "halve_drops_sign")
    assert "secret_values_for_halve = [4.0, -1.0, 7.0]" in leaked, leaked
    course.nbgrader("generate_feedback", TINY, "--force", "--CourseDirectory.student_id=halve_drops_sign")
    assert leaked_lines(course, TINY, "halve_drops_sign") == []


def test_without_namespaces_grading_warns_or_refuses(monkeypatch, caplog):
    """Where the sandbox cannot start, kernels run unsandboxed with a loud warning, or
    not at all with GRADER_REQUIRE_SANDBOX=1."""
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    sandbox.probe.cache_clear()
    try:
        ok, _, why = sandbox.probe()
        assert not ok and "unshare" in why
        monkeypatch.delenv("GRADER_REQUIRE_SANDBOX", raising=False)
        with caplog.at_level("WARNING", logger="grader.sandbox"):
            assert sandbox.enabled() is False
        assert "cannot sandbox the grading kernels" in caplog.text
        monkeypatch.setenv("GRADER_REQUIRE_SANDBOX", "1")
        with pytest.raises(RuntimeError, match="cannot sandbox"):
            sandbox.enabled()
    finally:
        sandbox.probe.cache_clear()
