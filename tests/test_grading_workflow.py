"""The instructor's nbgrader loop end to end (COURSE.md sections 2 and 6): the config,
the committed releases, release -> fetch -> submit -> collect -> autograde -> feedback
-> export through a local exchange, and zip_collect for LMS downloads."""
import csv
import os
import subprocess
import sys
import warnings
import zipfile

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from grader import __main__ as grader_cli
from grader import mutation, settings, workflow
from grader.testing import TINY, leaked_lines, sample_submissions, tiny_course

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's own
REPO = workflow.REPO
ASSIGNMENTS = workflow.Course(REPO).assignments()


def test_config_maps_the_course_layout():
    cfg = PyFileConfigLoader("nbgrader_config.py", path=REPO).load_config()
    cd = cfg.CourseDirectory
    assert cd.root == REPO
    assert (cd.source_directory, cd.release_directory) == ("solutions", "exercises")
    for name in ("submitted", "autograded", "feedback"):
        assert cd[f"{name}_directory"] == f"grader/{name}"
    assert cd.db_url == "sqlite:///" + os.path.join(REPO, "grader", "gradebook.db")
    assert cfg.Exchange.root == os.environ.get("COURSE_EXCHANGE", os.path.join(REPO, "grader", "exchange"))
    assert "grader.execute.SplitExecute" in cfg.Autograde.autograde_preprocessors
    assert "grader.preprocessors.RebuildFromRelease" in cfg.Autograde.sanitize_preprocessors


def test_all_five_assignments_are_present():
    assert set(ASSIGNMENTS) >= {"ex01_sigmoid_tanh", "ex02_softplus", "ex03_cifar100",
                                "ex04_pooling", "ex05_conv_backward"}


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """A fresh generation of every assignment, in a scratch copy of the course."""
    course = workflow.scratch_course(ASSIGNMENTS, into=str(tmp_path_factory.mktemp("regen")))
    course.generate()
    return course


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_committed_release_equals_a_fresh_generation(regenerated, aid):
    committed = os.path.join(REPO, "exercises", aid, aid + ".ipynb")
    assert os.path.exists(committed), f"{committed} missing: run `make release` and commit exercises/"
    fresh = regenerated.release_nb(aid)
    assert workflow.normalized(mutation.read(committed)) == workflow.normalized(fresh), (
        f"exercises/{aid} is out of date with solutions/{aid}: run `python -m grader generate {aid}`")
    # no solution and no hidden test reaches the students
    text = nbformat.writes(fresh)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text


def test_mutant_files_parse_and_name_solution_cells(regenerated):
    for aid in ASSIGNMENTS:
        release, source = regenerated.release_nb(aid), regenerated.source_nb(aid)
        for m in mutation.load_mutants(os.path.join(REPO, "grader", "mutants", aid)):
            mutation.build_submission(release, source, m.cells, name=f"{aid}/{m.name}")
            assert m.description


def test_mutant_parser_rejects_bad_files():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "x = 1", metadata={"nbgrader": {"grade_id": "answer", "solution": True, "grade": False,
                                        "locked": False, "schema_version": 3}}),
        nbformat.v4.new_code_cell("assert x", metadata={"nbgrader": {
            "grade_id": "test_answer", "solution": False, "grade": True, "points": 1,
            "locked": True, "schema_version": 3}})])
    ok = mutation.parse_mutant('"""Off by one."""\n# %% answer\nx = 2\n')
    assert ok.description == "Off by one." and ok.cells == {"answer": "x = 2\n"}
    assert mutation.build_submission(nb, nb, ok.cells).cells[0].source == "x = 2\n"
    with pytest.raises(mutation.MutantError, match="unknown grade_id.*'answr'"):
        mutation.build_submission(nb, nb, mutation.parse_mutant('"""d"""\n# %% answr\nx = 2\n').cells)
    with pytest.raises(mutation.MutantError, match="not a solution cell.*'test_answer'"):
        mutation.build_submission(nb, nb, {"test_answer": "pass"})
    with pytest.raises(mutation.MutantError, match="docstring"):
        mutation.parse_mutant("# %% answer\nx = 2\n")
    with pytest.raises(mutation.MutantError, match="twice"):
        mutation.parse_mutant('"""d"""\n# %% answer\nx = 2\n# %% answer\nx = 3\n')
    with pytest.raises(mutation.MutantError, match="no '# %%"):
        mutation.parse_mutant('"""d"""\nx = 2\n')


def test_solution_markers_are_stripped():
    src = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    assert mutation.strip_solution_markers(src) == "def f():\n    return 1\n"


def _student(course, name, tmp_path):
    home = tmp_path / name
    home.mkdir(exist_ok=True)
    return str(home), course.env(USER=name, LOGNAME=name, HOME=str(home))


def _as_student(course, *args):
    """A student's nbgrader command: no course config of theirs, just the exchange."""
    return (*args, f"--Exchange.root={course.exchange}",
            f"--CourseDirectory.course_id={settings.COURSE_ID}")


def test_exchange_round_trip_and_export(tmp_path):
    """release -> fetch -> submit (two students) -> collect -> autograde -> feedback ->
    release_feedback -> fetch_feedback -> export, all through a temporary exchange."""
    course = tiny_course(tmp_path / "c")
    course.nbgrader("release_assignment", TINY, "--force")
    answers = {"alice": {}, "bob": sample_submissions()["wrong_halve"][0].cells}
    for name, cells in answers.items():
        home, env = _student(course, name, tmp_path)
        course.nbgrader(*_as_student(course, "fetch_assignment", TINY), cwd=home, env=env)
        path = os.path.join(home, TINY, TINY + ".ipynb")
        fetched = mutation.read(path)
        nbformat.write(mutation.build_submission(fetched, course.source_nb(TINY), cells), path)
        # every test student is the same OS user here, so name them explicitly
        course.nbgrader(*_as_student(course, "submit", TINY), f"--CourseDirectory.student_id={name}",
                        cwd=home, env=env)
    # every test student is the same system user here: the owner check must be switched off
    # explicitly (test_exchange_refuses_impersonation_and_links shows it on)
    assert course.collect([TINY], "--ExchangeCollect.check_owner=False") == []
    assert sorted(os.listdir(course.path("grader", "submitted"))) == ["alice", "bob"]
    course.autograde(TINY)
    course.feedback(TINY, release=True)
    home, env = _student(course, "bob", tmp_path)
    course.nbgrader(*_as_student(course, "fetch_feedback", TINY), cwd=home, env=env)
    fetched = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(home, TINY)) for f in fs
               if f.endswith(".html")]
    assert fetched, "bob got no feedback"
    with open(fetched[0], encoding="utf-8") as f:
        assert "FAILED test test_halve (2 points)" in f.read()
    assert leaked_lines(course, TINY, "bob") == []
    rows = {r["student_id"]: r for r in csv.DictReader(open(course.export(str(tmp_path / "g.csv"))))}
    assert float(rows["alice"]["score"]) == 3.0 and float(rows["bob"]["score"]) == 1.0
    assert float(rows["alice"]["max_score"]) == 3.0


def test_lms_zip_and_folder_are_collected_and_graded(tmp_path):
    course = tiny_course(tmp_path / "c")
    release, source = course.release_nb(TINY), course.source_nb(TINY)
    wrong = sample_submissions()["wrong_halve"][0].cells
    zpath = tmp_path / "lms.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr(f"carol_{TINY}.ipynb", nbformat.writes(mutation.build_submission(release, source, {})))
        z.writestr(f"dave_{TINY}.ipynb", nbformat.writes(mutation.build_submission(release, source, wrong)))
    # what `python -m grader grade-lms` runs (the CLI's own start is tested below)
    assert grader_cli.run(course, grader_cli.parse(["grade-lms", TINY, str(zpath)])) == 0
    assert course.scores(TINY) == {"carol": (3.0, 3.0), "dave": (1.0, 3.0)}
    assert os.path.exists(course.path("grader", "feedback", "dave", TINY, TINY + ".html"))
    # a folder laid out <student>/<notebook>.ipynb works the same way
    folder = tmp_path / "lms"
    (folder / "erin").mkdir(parents=True)
    nbformat.write(mutation.build_submission(release, source, wrong), str(folder / "erin" / f"{TINY}.ipynb"))
    course.import_lms(TINY, str(folder))
    assert os.path.exists(course.path("grader", "submitted", "erin", TINY, TINY + ".ipynb"))


def test_cli_reports_the_sandbox():
    r = subprocess.run([sys.executable, "-m", "grader", "sandbox"], cwd=REPO,
                       capture_output=True, text=True)
    assert r.stdout.startswith("sandbox: "), r.stdout + r.stderr


def test_an_unreadable_submission_does_not_stop_the_others(tmp_path):
    course = tiny_course(tmp_path / "c")
    release, source = course.release_nb(TINY), course.source_nb(TINY)
    course.put_submission("fine", TINY, mutation.build_submission(release, source, {}))
    folder = course.put_submission("garbled", TINY, mutation.build_submission(release, source, {}))
    with open(os.path.join(folder, TINY + ".ipynb"), "w") as f:
        f.write("{ this is not a notebook")
    r = course.autograde(TINY)
    assert r.failed == [(TINY, "garbled")]
    assert course.scores(TINY)["fine"] == (3.0, 3.0)


# -- attacks through the exchange and LMS downloads (grader/README.md, "Attacks") ----------------
def _inbound(course, student, tmp_path, cells=None, owner=None):
    """`student` submits (as this system user) through the exchange; returns the inbound folder."""
    home, env = _student(course, student, tmp_path)
    course.nbgrader(*_as_student(course, "fetch_assignment", TINY), cwd=home, env=env)
    path = os.path.join(home, TINY, TINY + ".ipynb")
    nbformat.write(mutation.build_submission(mutation.read(path), course.source_nb(TINY), cells or {}), path)
    course.nbgrader(*_as_student(course, "submit", TINY), f"--CourseDirectory.student_id={student}",
                    cwd=home, env=env)
    inbound = os.path.join(course.exchange, settings.COURSE_ID, "inbound")
    return [os.path.join(inbound, d) for d in os.listdir(inbound) if d.startswith(student + "+")][0]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand a folder to another system user")
def test_exchange_refuses_impersonation_and_links(tmp_path):
    """A submission is taken only from the system user it names (nobody, uid 65534, here);
    one that holds a symbolic or hard link is refused whoever sends it."""
    import pwd
    nobody = pwd.getpwnam("nobody")
    course = tiny_course(tmp_path / "c")
    course.nbgrader("release_assignment", TINY, "--force")
    own = _inbound(course, "nobody", tmp_path)
    forged = _inbound(course, "alice", tmp_path)  # in alice's name, by someone else
    linked = _inbound(course, "carol", tmp_path)
    os.symlink(course.path("grader", "gradebook.db"), os.path.join(linked, "gradebook.db"))
    hard = _inbound(course, "dave", tmp_path)
    os.link(course.path("nbgrader_config.py"), os.path.join(hard, "config.py"))
    for folder in (own, forged):
        for root, dirs, files in os.walk(folder):
            for name in [root] + [os.path.join(root, f) for f in files]:
                os.chown(name, nobody.pw_uid, nobody.pw_gid)
    for folder, user in ((linked, "carol"), (hard, "dave")):
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)  # owner mismatch too, but links come first
    refused = {r["student"]: r["why"] for r in course.collect([TINY])}
    assert sorted(os.listdir(course.path("grader", "submitted"))) == ["nobody"]
    assert "owned by 'nobody', not by 'alice'" in refused["alice"]
    assert "symbolic link" in refused["carol"] and "hard link" in refused["dave"]
    course.autograde(TINY)
    assert course.scores(TINY)["nobody"] == (3.0, 3.0)


def test_a_submitted_link_is_quarantined_not_followed(tmp_path):
    """A notebook in grader/submitted/ replaced by a link (to the instructor's source, which
    holds the answers) is moved aside before grading; the others are graded."""
    course = tiny_course(tmp_path / "c")
    release, source = course.release_nb(TINY), course.source_nb(TINY)
    course.put_submission("fine", TINY, mutation.build_submission(release, source, {}))
    folder = course.put_submission("linker", TINY, mutation.build_submission(release, source, None))
    os.remove(os.path.join(folder, TINY + ".ipynb"))
    os.symlink(course.path("solutions", TINY, TINY + ".ipynb"), os.path.join(folder, TINY + ".ipynb"))
    r = course.autograde(TINY)
    assert [(s, "symbolic link" in why) for _, s, why in r.quarantined] == [("linker", True)]
    assert "linker" not in course.scores(TINY) and course.scores(TINY)["fine"] == (3.0, 3.0)
    assert os.path.isdir(course.path("grader", "quarantine", "linker"))


def test_lms_zip_with_traversal_links_and_duplicate_names(tmp_path):
    """Traversal and absolute names, links and files named for no student are skipped; a
    student named twice is skipped and reported; everyone else is graded."""
    course = tiny_course(tmp_path / "c")
    release, source = course.release_nb(TINY), course.source_nb(TINY)
    good = nbformat.writes(mutation.build_submission(release, source, {}))
    zpath = tmp_path / "lms.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr(f"carol_{TINY}.ipynb", good)
        z.writestr("../../grader/gradebook.db", "overwritten?")
        z.writestr(f"/tmp/evil_{TINY}.ipynb", good)
        z.writestr(f"mallory_{TINY}.ipynb", good)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about the duplicate name: the attack
            z.writestr(f"mallory_{TINY}.ipynb", good.replace("** 2", "* 2"))
        z.writestr(f"x' for student 'carol'\n_{TINY}.ipynb", good)  # a log line as a name
        link = zipfile.ZipInfo(f"eve_{TINY}.ipynb")
        link.external_attr = (0o120777 << 16)
        z.writestr(link, course.path("solutions", TINY, TINY + ".ipynb"))
    before = os.path.getsize(course.path("grader", "gradebook.db"))
    report = course.import_lms(TINY, str(zpath))
    assert report["imported"] == ["carol"], report
    why = dict(report["skipped"])
    assert "mallory" in why and "none was taken" in why["mallory"]
    assert any("outside" in w for n, w in report["skipped"] if "gradebook" in n)
    assert any("link" in w for n, w in report["skipped"] if n.startswith("eve"))
    course.autograde(TINY)
    assert course.scores(TINY) == {"carol": (3.0, 3.0)}
    assert os.path.getsize(course.path("grader", "gradebook.db")) >= before
    assert not os.path.exists(tmp_path / "evil_" f"{TINY}.ipynb")


def test_lms_folder_with_links_is_read_without_following_them(tmp_path):
    course = tiny_course(tmp_path / "c")
    release, source = course.release_nb(TINY), course.source_nb(TINY)
    folder = tmp_path / "lms"
    folder.mkdir()
    nbformat.write(mutation.build_submission(release, source, {}), str(folder / f"fred_{TINY}.ipynb"))
    os.symlink(course.path("solutions", TINY, TINY + ".ipynb"), folder / f"gina_{TINY}.ipynb")
    report = course.import_lms(TINY, str(folder))
    assert report["imported"] == ["fred"] and "gina" in report["skipped"][0][0]


def test_grades_export_to_canvas_and_moodle_csv(tmp_path):
    """Canvas's and Moodle's gradebook-import CSVs hold the gradebook's scores; a student with
    no submission of an assignment has an empty cell."""
    course = tiny_course(tmp_path / "c")
    release, source = course.release_nb(TINY), course.source_nb(TINY)
    course.put_submission("amy", TINY, mutation.build_submission(release, source, {}))
    course.put_submission("bo", TINY, mutation.build_submission(release, source, sample_submissions()["wrong_halve"][0].cells))
    course.autograde(TINY)
    from nbgrader.api import Gradebook
    with Gradebook(course.db_url()) as gb:
        gb.add_student("cy")  # enrolled, nothing handed in
    out = {}
    for kind in ("canvas", "moodle"):
        path = str(tmp_path / f"{kind}.csv")
        assert grader_cli.run(course, grader_cli.parse(["export", "--format", kind, "--to", path])) == 0
        out[kind] = list(csv.reader(open(path, encoding="utf-8")))
    canvas = out["canvas"]
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", TINY]
    assert canvas[1][0].strip() == "Points Possible" and canvas[1][-1] == "3"
    rows = {r[3]: r[-1] for r in canvas[2:]}
    assert rows == {"amy": "3", "bo": "1", "cy": ""}
    moodle = out["moodle"]
    assert moodle[0] == ["Username", TINY]
    assert {r[0]: r[1] for r in moodle[1:]} == {"amy": "3", "bo": "1", "cy": ""}


def test_a_written_answer_cannot_put_html_into_formgrader_or_feedback(tmp_path):
    """A markdown answer is shown to the instructor in formgrader (nbconvert HTML, raw HTML passed
    through): a tag in it would run script in a browser logged in to the gradebook's server."""
    from html.parser import HTMLParser

    from nbconvert import HTMLExporter

    from grader.preprocessors import RebuildFromRelease

    def answer_cell(source):
        cell = nbformat.v4.new_markdown_cell(source)
        cell.metadata["nbgrader"] = {"grade": True, "solution": True, "locked": False, "points": 4,
                                     "grade_id": "conclusion", "schema_version": 3}
        return cell

    (tmp_path / "ex" ).mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[answer_cell("YOUR ANSWER HERE")]), str(tmp_path / "ex" / "nb.ipynb"))
    attack = ('The deep net wins: $a < b$ and 3 < 4.\n\n<img src=x onerror="fetch(\'/api/contents\')">'
              '<script>alert(1)</script><iframe src="javascript:alert(2)"></iframe>\n\n'
              '[the table](javascript:alert(3)) [case](JaVaScRiPt:alert(4)) ![plot](javascript:alert(5)) '
              '[entity](&#106;avascript:alert(6)) [ref][c] <javascript:alert(7)>\n\n[c]: javascript:alert(8)')
    submitted = nbformat.v4.new_notebook(cells=[answer_cell(attack)])
    rebuilt, _ = RebuildFromRelease(release_directory=str(tmp_path)).preprocess(
        submitted, {"nbgrader": {"assignment": "ex", "notebook": "nb"}})
    html, _ = HTMLExporter().from_notebook_node(rebuilt)

    class Tags(HTMLParser):
        found = []

        def handle_starttag(self, tag, attrs):
            self.found.append((tag, dict(attrs)))

    parser = Tags()
    parser.feed(html)
    assert not [t for t, a in parser.found if t in ("img", "iframe") or any(k.startswith("on") for k in a)]
    cell = html[html.index("The deep net wins"):]
    links = Tags()
    links.found = []
    links.feed(cell)
    assert not [a for _, a in links.found if any(":" in (a.get(k) or "") and "javascript" in (a.get(k) or "").lower()
                                                for k in ("href", "src"))], links.found
    assert "alert(1)" not in "".join(a.get("src", "") for t, a in parser.found if t == "script")
    assert html.count("<script>alert(1)") == 0
    assert "The deep net wins" in html and "3 &lt; 4" in html  # the answer is still there, as text
