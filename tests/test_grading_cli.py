"""The instructor's commands as a newcomer meets them (issue 8): each says what it did, release
never overwrites exercises/ (where students work), generate refuses over uncommitted changes,
the exchange exists before the first release, and feedback shows its math with no network."""
import os
import stat
import subprocess
import sys

import nbformat
import pytest

from grader import mutation, workflow
from grader.preprocessors import markdown_with_mathml
from grader.testing import SAMPLES, TINY

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's own
MATH = r"The softplus is $\log(1 + e^{x})$; its gradient, $$\sigma(x) = \dfrac{1}{1 + e^{-x}}$$"


@pytest.fixture
def course(tmp_path):
    """A scratch course of the tiny sample assignment, with math in a markdown cell."""
    src = tmp_path / "src"
    src.mkdir()
    nb = mutation.read(os.path.join(SAMPLES, TINY, TINY + ".ipynb"))
    cell = nbformat.v4.new_markdown_cell(MATH)
    if nb.nbformat_minor < 5:
        del cell["id"]
    nb.cells.insert(0, cell)
    nbformat.write(nb, str(src / (TINY + ".ipynb")))
    c = workflow.scratch_course([], into=str(tmp_path / "course"), extra_sources=[(TINY, str(src))])
    c.timeout = 5
    return c


def cli(course, *args, env=None):
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=course.root,
                          env=env or course.env(), capture_output=True, text=True)


def git(root, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root,
                   check=True, capture_output=True)


def test_exchange_exists_before_the_first_release(course):
    assert not os.path.exists(course.exchange)
    r = course.nbgrader("list", f"--Exchange.root={course.exchange}")  # what the Assignment List asks
    assert r.returncode == 0
    mode = os.stat(course.exchange).st_mode
    assert stat.S_IMODE(mode) == 0o777 | stat.S_ISVTX, oct(mode)


def test_release_leaves_exercises_alone_and_says_where_it_went(course):
    r = cli(course, "generate")
    assert r.returncode == 0, r.stderr
    assert "generated 1 assignments" in r.stdout
    answer = course.path("exercises", TINY, TINY + ".ipynb")
    nb = mutation.read(answer)
    nb.cells[-1].source += "\n# my answer, typed in JupyterLab\n"
    nbformat.write(nb, answer)
    before = open(answer).read()
    r = cli(course, "release")
    assert r.returncode == 0, r.stderr
    outbound = os.path.join(course.exchange, "cnn-backprop", "outbound", TINY, TINY + ".ipynb")
    assert f"released 1 assignments to {os.path.join(course.exchange, 'cnn-backprop')}" in r.stdout
    assert os.path.exists(outbound)
    assert open(answer).read() == before  # the student's edit survives
    assert f"exercises/{TINY} differs from what was released" in r.stderr


def test_generate_refuses_to_overwrite_uncommitted_changes(course):
    course.generate()
    git(course.root, "init", "-q")
    git(course.root, "add", ".")
    git(course.root, "commit", "-q", "-m", "course")
    answer = course.path("exercises", TINY, TINY + ".ipynb")
    with open(answer, "a") as f:
        f.write("\n")
    r = cli(course, "generate", TINY)
    assert r.returncode == 1
    assert "not regenerating exercises/" in r.stderr and f"exercises/{TINY}/{TINY}.ipynb" in r.stderr
    assert "--force" in r.stderr
    assert open(answer).read().endswith("\n\n")  # untouched
    r = cli(course, "generate", TINY, "--force")
    assert r.returncode == 0, r.stderr
    assert not open(answer).read().endswith("\n\n")


def test_feedback_before_grading_says_what_to_do(course):
    course.generate()
    r = cli(course, "feedback", TINY)
    assert r.returncode == 1 and "run `make grade`" in r.stderr


def test_collect_grade_feedback_say_what_they_did_and_math_is_mathml(course, tmp_path):
    course.generate()
    assert cli(course, "release").returncode == 0
    home = tmp_path / "alice"
    home.mkdir()
    env = course.env(USER="alice", LOGNAME="alice", HOME=str(home))
    student = (f"--Exchange.root={course.exchange}", "--CourseDirectory.course_id=cnn-backprop")
    course.nbgrader("fetch_assignment", TINY, *student, cwd=str(home), env=env)
    course.nbgrader("submit", TINY, *student, cwd=str(home), env=env)
    # every "student" here is this test's own system user: say so, as grader/README.md explains
    r = cli(course, "collect", env=course.env(GRADER_CHECK_OWNER="off"))
    assert r.returncode == 0, r.stderr
    assert f"{TINY}: collected 1 submissions (1 in grader/submitted/)" in r.stdout
    course.autograde(TINY)
    r = cli(course, "feedback", TINY, "--release")
    assert r.returncode == 0, r.stderr
    assert f"feedback for 1 students at {course.path('grader', 'feedback')}, released to" in r.stdout
    (who,) = course.submitted(TINY)  # nbgrader names the system user
    page = course.feedback_html(who, TINY)
    assert "cdnjs" not in page and "MathJax.Hub" not in page  # no MathJax: nothing to fetch
    assert page.count("<math ") == 2 and 'display="block"' in page
    assert r"\log(1" not in page and "$$" not in page  # no raw LaTeX left


def test_markdown_math_becomes_mathml_and_prices_stay_text():
    html = markdown_with_mathml(r"costs $5 or $10; $\sum f \cdot \text{top\_diff}$ *em*")
    assert "$5 or $10" in html and "<em>em</em>" in html
    assert html.count("<math ") == 1 and "top_diff" in html


def test_every_formula_of_the_exercises_converts():
    """latex2mathml reads every formula the releases' markdown holds (none falls back to code)."""
    for aid in workflow.Course().assignments():
        nb = mutation.read(os.path.join(workflow.REPO, "exercises", aid, aid + ".ipynb"))
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                html = markdown_with_mathml(cell.source)
                assert "<code>\\" not in html, (aid, cell.source[:200])
