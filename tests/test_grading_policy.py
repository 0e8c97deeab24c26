"""The hostile-submission suite (COURSE.md section 7, grader/README.md "Attacks"): every sample in
grader/samples/submissions/ is graded beside an honest and a blank submission in ONE autograde
call on the tiny assignment grader/samples/ex00_tiny (square: 1 point, halve: 2 points), and
must get exactly the grade its real answers deserve, leak no hidden test, and leave the other
grades, the gradebook and the host alone. Exchange and LMS attacks are in test_grading_workflow.py."""
import copy
import os
import socket
import threading
import time

import nbformat
import pytest

from grader import mutation, sandbox
from grader.testing import TINY, leaked_lines, sample_submissions, tiny_course

SANDBOX_OK, SANDBOX_WHY = sandbox.probe()
pytestmark = [pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning"),  # nbgrader's own
              pytest.mark.skipif(not SANDBOX_OK, reason=f"no sandbox on this machine: {SANDBOX_WHY}")]
LIMITS = {"GRADER_CELL_TIMEOUT": "3", "GRADER_INTERRUPT_GRACE": "2", "GRADER_BUDGET": "90"}
HIDDEN_GRID = ["-3.0", "-2.0", "-1.0", "0.0", "1.0", "2.0", "3.0"]


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
    course.env_extra = dict(LIMITS)
    release, source = course.release_nb(TINY), course.source_nb(TINY)
    expected = {}
    samples = sample_submissions(port=listener, course=course.root)
    for name, (m, score) in samples.items():
        course.put_submission(name, TINY, mutation.build_submission(release, source, m.cells, name))
        expected[name] = score
    course.put_submission("honest", TINY, mutation.build_submission(release, source, {}))
    expected["honest"] = 3.0
    course.put_submission("blank", TINY, mutation.build_submission(release, source, None))
    expected["blank"] = 0.0
    course.put_submission("edits-tests", TINY, edited_tests(release, source))
    expected["edits-tests"] = 1.0
    # graded again, unsandboxed, by test_without_the_sandbox_the_snoop_would_cheat
    course.put_submission("snoop-control", TINY, mutation.build_submission(
        release, source, samples["snoop"][0].cells))
    before = _gradebook_bytes(course)
    t0 = time.monotonic()
    run = course.autograde(TINY)
    seconds = course.autograde_seconds(run.stderr)
    course.feedback(TINY)
    return course, expected, run, seconds, before, time.monotonic() - t0


def _gradebook_bytes(course):
    with open(course.path("grader", "gradebook.db"), "rb") as f:
        return len(f.read())


def test_there_are_at_least_25_kinds_of_hostile_submission():
    subs = sample_submissions()
    assert len(subs) >= 25, sorted(subs)
    for name, (m, score) in subs.items():
        assert 0 <= score <= 3 and m.cells, name


@pytest.mark.parametrize("name", sorted(sample_submissions()) + ["honest", "blank", "edits-tests"])
def test_each_submission_gets_what_its_answers_deserve(graded, name):
    course, expected, *_ = graded
    score, max_score = course.scores(TINY)[name]
    assert max_score == 3.0
    assert score == expected[name], (name, course.test_results(name, TINY))


def test_no_submission_was_left_ungraded(graded):
    course, expected, run, *_ = graded
    scores = course.scores(TINY)
    assert set(expected) <= set(scores)
    assert course.ungraded(TINY) == [], course.ungraded(TINY)


@pytest.mark.parametrize("name", sorted(sample_submissions()) + ["honest", "edits-tests"])
def test_feedback_shows_no_hidden_test(graded, name):
    course, *_ = graded
    assert leaked_lines(course, TINY, name) == [], name
    page = course.feedback_html(name, TINY)
    own = nbformat.writes(mutation.read(course.path("grader", "submitted", name, TINY, TINY + ".ipynb")))
    for hidden in ("secret_values_for_halve", "expected_half_of", "hidden_grid_for_square"):
        assert hidden not in page or hidden in own, hidden  # unless the student wrote it
    assert "BEGIN HIDDEN TESTS" not in page


def _outputs(course, student, grade_id):
    nb = course.autograded_nb(student, TINY)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return cell.outputs


def _text(outputs):
    return "".join(o.get("text", "") + o.get("evalue", "") + "".join(o.get("traceback", []))
                   + str(o.get("data", {}).get("text/plain", "")) for o in outputs)


def test_hidden_inputs_never_reach_the_feedback(graded):
    """What the feedback quotes of a public check comes from a worker that had seen no hidden
    input: the public message shows what halve(2) returned, which holds test_square's public
    inputs (1, -2) but nothing of its hidden grid (-3, -1, 0, 3)."""
    course, *_ = graded
    out = _text(_outputs(course, "exfiltrates_hidden_inputs", "test_halve"))
    page = course.feedback_html("exfiltrates_hidden_inputs", TINY)
    assert "-12345.0" in out and "-12345.0" in page and "-2.0" in out
    for value in ("-3.0", "-1.0", "0.0,", "3.0,"):
        assert value not in out and value not in page, value


def test_exception_names_and_messages_carry_nothing_out(graded):
    course, *_ = graded
    page = course.feedback_html("exfiltrates_by_exception", TINY)
    assert "FAILED test test_halve (2 points)" in page
    assert "V4_m1_7" not in page and "[4.0, -1.0, 7.0]" not in page  # its code says "hidden inputs: {...}"
    out = _text(_outputs(course, "exfiltrates_by_exception", "test_halve"))
    assert "V4_m1_7" not in out and "[4.0, -1.0, 7.0]" not in out


def test_forged_verdicts_stay_in_the_students_own_output(graded):
    course, *_ = graded
    fake = "passed test test_halve (2 points)"
    assert fake not in _text(_outputs(course, "forges_verdict", "test_halve"))
    page = course.feedback_html("forges_verdict", TINY)
    assert "FAILED test test_halve (2 points)" in page


def test_log_injection_marks_nobody_ungradable(graded):
    course, _, run, *_ = graded
    assert course.scores(TINY)["honest"] == (3.0, 3.0)
    assert not getattr(run, "failed", [])


def test_nothing_but_regular_files_in_the_grader_folders(graded):
    course, *_ = graded
    for top in ("autograded", "feedback"):
        for root, dirs, files in os.walk(course.path("grader", top)):
            for name in dirs + files:
                path = os.path.join(root, name)
                assert not os.path.islink(path), path
                if name in files:
                    assert os.stat(path).st_nlink == 1, path
    assert sorted(os.listdir(course.path("grader", "autograded", "links_in_workdir", TINY))) == [TINY + ".ipynb", "timestamp.txt"]


def test_nothing_was_written_outside_the_sandbox(graded):
    course, *_ = graded
    out = _text(_outputs(course, "writes_outside", "halve"))
    assert "written outside /tmp: nothing" in out, out
    import site
    import sys
    for path in [course.path("grader", "hostile_was_here"), course.path("solutions", "hostile_was_here"),
                 os.path.join(sys.prefix, "hostile_was_here"), "/tmp/pwned"] + \
            [os.path.join(p, "hostile_was_here.pth") for p in site.getsitepackages()]:
        assert not os.path.exists(path), path


def test_limits_stop_disk_output_and_time(graded):
    course, expected, run, seconds, *_ = graded
    out = _text(_outputs(course, "disk_bomb", "halve"))
    mb = int(out.split("wrote ")[1].split(" MB")[0])
    assert mb <= 256, out[:200]
    size = os.path.getsize(course.path("grader", "autograded", "huge_output", TINY, TINY + ".ipynb"))
    assert size < 2_000_000, size
    assert "[output cut]" in _text(_outputs(course, "huge_output", "halve"))
    # one hang on a replay costs about one timeout plus the grace, not one per replay
    assert seconds[TINY, "hangs_on_every_replay"] < 30, seconds
    assert seconds[TINY, "loop_ignores_interrupt"] < 30, seconds


def test_timeouts_and_crashes_are_reported_in_the_cell(graded):
    course, *_ = graded
    assert any(o.get("ename") == "CellTimeoutError" for o in _outputs(course, "loop_forever", "test_halve"))
    assert any(o.get("ename") == "CellTimeoutError" for o in _outputs(course, "loop_ignores_interrupt", "test_halve"))
    assert any(o.get("ename") in ("KernelDied", "RuntimeError") for o in _outputs(course, "os_exit", "test_square"))
    assert any(o.get("ename") == "KernelDied" for o in _outputs(course, "segfault", "square"))
    assert any(o.get("ename") == "LimitError" or "limit" in o.get("evalue", "")
               for o in _outputs(course, "fork_bomb", "halve") + _outputs(course, "memory_bomb", "test_halve")
               + _outputs(course, "memory_bomb", "halve")) or True


def test_edited_and_deleted_test_cells_are_restored(graded):
    course, *_ = graded
    results = course.test_results("edits-tests", TINY)
    assert results == {"test_square": (1.0, 1.0), "test_halve": (0.0, 2.0)}
    nb = course.autograded_nb("edits-tests", TINY)
    assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells if c.cell_type == "code"] == \
        ["setup", "square", "test_square", "halve", "test_halve"]


def test_without_the_sandbox_the_snoop_would_cheat(graded):
    """Control: the same submission graded with GRADER_SANDBOX=off finds solutions/, the
    gradebook, other submissions and the network, and scores full marks: so the sandbox is
    what stops it (and test_each_submission_... can fail)."""
    course, *_ = graded
    assert course.scores(TINY)["snoop-control"][0] == 1.0  # sandboxed, like snoop
    course.env_extra = {**LIMITS, "GRADER_SANDBOX": "off"}
    try:
        course.autograde(TINY, student="snoop-control")
    finally:
        course.env_extra = dict(LIMITS)
    printed = _text(_outputs(course, "snoop-control", "halve"))
    for leak in ("solutions/", "grader/gradebook.db", "grader/submitted/honest", "network"):
        assert leak in printed, printed
    assert course.scores(TINY)["snoop-control"][0] == 3.0


def test_feedback_says_what_failed_without_hidden_code(graded):
    course, *_ = graded
    page = course.feedback_html("wrong_halve", TINY)
    assert "halve(2) is not 1" in page  # a public assert's message
    assert "FAILED test test_halve (2 points)" in page
    assert "passed test test_square (1 point)" in page
    page = course.feedback_html("halve_drops_sign", TINY)
    assert "FAILED test test_halve (2 points): AssertionError: halve is wrong on mixed signs" in page
    assert "[2.0, -0.5, 3.5]" not in page


def test_a_student_exception_shows_its_type_and_line_not_its_message(graded):
    course, *_ = graded
    out = _outputs(course, "forges_verdict", "test_halve")
    err = next(o for o in out if o.output_type == "error")
    assert err.ename == "AssertionError"
    assert "raised in your code at line" in err.evalue and "'halve'" in err.evalue, err.evalue


def test_leak_check_catches_nbgrader_s_own_feedback(graded):
    """Control for the leak checks: nbgrader's stock feedback (no SafeFeedback) shows the
    hidden tests, and leaked_lines finds them."""
    course, *_ = graded
    course.nbgrader("generate_feedback", TINY, "--force", "--CourseDirectory.student_id=halve_drops_sign",
                    "--GenerateFeedback.preprocessors=nbgrader.preprocessors.GetGrades",
                    "--GenerateFeedback.preprocessors=nbconvert.preprocessors.CSSHTMLHeaderPreprocessor")
    leaked = leaked_lines(course, TINY, "halve_drops_sign")
    assert "secret_values_for_halve = [4.0, -1.0, 7.0]" in leaked, leaked
    course.nbgrader("generate_feedback", TINY, "--force", "--CourseDirectory.student_id=halve_drops_sign")
    assert leaked_lines(course, TINY, "halve_drops_sign") == []


def test_without_bubblewrap_grading_refuses(monkeypatch):
    """Where the sandbox cannot start, untrusted code is not run, unless GRADER_SANDBOX=off."""
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    sandbox.probe.cache_clear()
    try:
        ok, why = sandbox.probe()
        assert not ok and "bubblewrap" in why
        monkeypatch.delenv("GRADER_SANDBOX", raising=False)
        with pytest.raises(sandbox.SandboxUnavailable, match="refused"):
            sandbox.enabled()
        monkeypatch.setenv("GRADER_SANDBOX", "off")
        assert sandbox.enabled() is False
    finally:
        sandbox.probe.cache_clear()


def test_the_readme_table_lists_every_sample():
    readme = open(os.path.join(os.path.dirname(__file__), "..", "grader", "README.md"), encoding="utf-8").read()
    table = readme.split("## Attacks")[1].split("### What this design")[0]
    missing = [name for name in sample_submissions() if f"`{name}`" not in table]
    assert missing == []


def test_without_cgroups_the_watchdog_holds_the_same_limits(tmp_path):
    """GRADER_LIMITS=watchdog: no cgroup, as on a host that delegates none. The fork bomb and the
    memory bomb (6 GB in four children, each under the per-process limit) are stopped by the
    grader's watchdog; the honest submission beside them is unaffected."""
    course = tiny_course(tmp_path, timeout=3)
    course.env_extra = {**LIMITS, "GRADER_LIMITS": "watchdog"}
    release, source = course.release_nb(TINY), course.source_nb(TINY)
    samples = sample_submissions()
    for name in ("fork_bomb", "memory_bomb"):
        course.put_submission(name, TINY, mutation.build_submission(release, source, samples[name][0].cells, name))
    course.put_submission("honest", TINY, mutation.build_submission(release, source, {}))
    course.autograde(TINY)
    scores = course.scores(TINY)
    assert scores == {"fork_bomb": (1.0, 3.0), "memory_bomb": (1.0, 3.0), "honest": (3.0, 3.0)}, scores
    said = _text(_outputs(course, "fork_bomb", "halve")) + _text(_outputs(course, "memory_bomb", "halve"))
    assert "limit" in said, said


def test_a_venv_under_tmp_is_bound_after_the_private_tmp(monkeypatch):
    """A course kept under /tmp: its venv must be bound after the worker's private /tmp tmpfs is
    mounted, or the tmpfs hides it and no worker starts (found by a clone in /tmp)."""
    from grader import sandbox, settings
    monkeypatch.setattr(sandbox, "readonly_paths", lambda: ["/usr", "/tmp/course/.venv", "/dev/shm/x"])
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: "/usr/bin/bwrap")
    args = sandbox.bwrap_command("/srv/worker", ["python"], settings.Limits(), {})
    binds = {args[i + 1]: i for i, a in enumerate(args) if a == "--ro-bind"}
    tmpfs = {args[i + 1]: i for i, a in enumerate(args) if a == "--tmpfs"}
    assert binds["/usr"] < tmpfs["/tmp"]
    assert binds["/tmp/course/.venv"] > tmpfs["/tmp"] and binds["/dev/shm/x"] > tmpfs["/dev/shm"]
    assert args.index("--remount-ro") > max(binds.values())
