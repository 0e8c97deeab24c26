"""WORK IN PROGRESS (not collected by pytest until renamed tests/test_browser_e2e.py): Run All in
lecture 01 runs only the first cell in this harness (see the issue-8 report). The student's and the instructor's loop in a real browser (issue 8), as the READMEs tell it.

Playwright for Python drives Debian's chromium (/usr/bin/chromium, headless; `.ci/run` installs
it) against `jupyter lab` on 127.0.0.1, started and stopped here, in a student copy of the course
(`python -m grader student-copy`). A scratch copy of the instructor's repository releases ex02
to a private exchange with `make release`; the student opens lecture 01 from the address
JupyterLab printed and runs it, moves lecture 06's slider, opens ex02, types an answer, validates
and submits it from the Assignment List; the instructor runs `make grade` and `make feedback`;
the student fetches the feedback and reads it, math included, with no network.

Every "student" here is this test's own system user, so the instructor's collect is told so
(GRADER_CHECK_OWNER=off, grader/README.md). Screenshots: tests/artifacts/browser/ (git-ignored).
Marker `browser`: `make test PYTEST_ARGS='-m "not browser"'` leaves it out.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import mutation, workflow

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

ROOT = Path(workflow.REPO)
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
AID = "ex02_softplus"
LECTURE1 = "lectures/01_gradient_based_learning.ipynb"
LECTURE6 = "lectures/06_conv_backward.ipynb"
VIEW = {"width": 1440, "height": 900}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _why_no_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (`make test` installs it: pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (Debian: `apt-get install chromium`, as .ci/run does)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _make(course: Path, *args, env) -> subprocess.CompletedProcess:
    # -o: never reinstall the shared venv from the copy (`pip install -e` there would point this
    # checkout's course_lib at a temporary folder)
    stamp = ROOT / ".venv" / ".installed"
    r = subprocess.run(["make", "-s", "-C", str(course), "-o", str(stamp), *args, f"VENV={ROOT / '.venv'}"],
                       env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, f"make {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}"
    return r


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    why = _why_no_browser()
    if why:
        pytest.skip(why)
    tmp = tmp_path_factory.mktemp("e2e")
    exchange = tmp / "exchange"
    # the instructor: a copy of the repository's tracked files (mtimes kept: make sees the
    # venv as installed), sharing this checkout's .venv
    instructor = tmp / "instructor"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        if (ROOT / rel).is_file():
            (instructor / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, instructor / rel)
    home = tmp / "home"
    home.mkdir()
    env = dict(os.environ, COURSE_EXCHANGE=str(exchange), HOME=str(home),
               PATH=f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}")
    for name in ("MPLBACKEND", "JUPYTER_CONFIG_DIR", "COURSE_FAST"):
        env.pop(name, None)
    r = _make(instructor, "release", f"AID={AID}", env=env)
    assert f"released 1 assignments to {exchange / 'cnn-backprop'}" in r.stdout
    student = tmp / "student"
    r = subprocess.run([sys.executable, "-m", "grader", "student-copy", str(student), "--exchange", str(exchange)],
                       cwd=ROOT, env=env, capture_output=True, text=True)  # the copy is of git's files
    assert r.returncode == 0, r.stderr
    # the student's JupyterLab, with the flags of the student copy's `make lab`
    lab_cmd = subprocess.run(["make", "-n", "-s", "-C", str(student), "lab"], capture_output=True,
                             text=True).stdout
    assert "--LabApp.default_url=/lab/tree/" + LECTURE1 in lab_cmd
    port = _free_port()
    log = open(tmp / "lab.log", "w")
    lab = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--notebook-dir=.", "--allow-root", f"--LabApp.default_url=/lab/tree/{LECTURE1}",
         "--LabApp.expose_app_in_browser=True", "--ServerApp.open_browser=False"],
        cwd=student, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and url is None:
            time.sleep(0.5)
            assert lab.poll() is None, (tmp / "lab.log").read_text()
            m = re.search(r"(http://127\.0\.0\.1:\d+/\S+\?token=\w+)", (tmp / "lab.log").read_text())
            url = m and m.group(1)
        assert url, "JupyterLab printed no address:\n" + (tmp / "lab.log").read_text()
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        ARTIFACTS.mkdir(parents=True)
        yield {"tmp": tmp, "instructor": instructor, "student": student, "env": env, "url": url,
               "exchange": exchange, "measured": {}}
    finally:
        os.killpg(lab.pid, 15)
        try:
            lab.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, 9)
            lab.wait()
        log.close()


@pytest.fixture(scope="module")
def page(world):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        # a fresh profile folder each run; Playwright passes it as --user-data-dir
        context = pw.chromium.launch_persistent_context(
            str(world["tmp"] / "chromium-profile"), executable_path=CHROMIUM, args=FLAGS, viewport=VIEW)
        pg = context.pages[0] if context.pages else context.new_page()
        pg.set_default_timeout(60_000)
        yield pg
        context.close()


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def run_all_and_wait(page, timeout=240):
    """Run every cell of the current notebook (Run > Run All Cells) once its kernel is ready, and
    wait until every code cell has an execution count and the kernel is idle."""
    kernel_ready(page)
    page.wait_for_timeout(5000)  # JupyterLab builds a freshly opened notebook's cells lazily
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    try:
        try:
            _wait_all_ran(page, 30)
        except Exception:  # a Run All issued while the notebook was still settling ran one cell:
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")  # again, as a student would
            _wait_all_ran(page, timeout)
    except Exception:
        shot(page, "timeout")
        state = page.evaluate("""() => { const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            return [nb.querySelector('.jp-Notebook-ExecutionIndicator').getAttribute('data-status'),
                    [...nb.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent),
                    [...nb.querySelectorAll('.jp-CodeCell .jp-OutputArea')].slice(0, 3).map(o => o.innerText.slice(0, 1500))]; }""")
        raise AssertionError(f"cells did not all run in {timeout} s: kernel, prompts = {state}")


def kernel_ready(page):
    """Wait until the current notebook's kernel has started and is idle (an indicator that says
    idle before any kernel is connected would let Run All run nothing)."""
    page.evaluate("async () => { await window.jupyterapp.shell.currentWidget.sessionContext.ready; }")
    page.wait_for_function("""() => { const k = window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel;
        return k && k.connectionStatus === 'connected' && k.status === 'idle'; }""", timeout=180_000)


def _wait_all_ran(page, timeout):
    page.wait_for_function(
        """() => {
            const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const prompts = [...nb.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent);
            const idle = nb.querySelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]');
            return prompts.length > 0 && prompts.every(t => /\\[\\d+\\]/.test(t)) && idle;
        }""", timeout=timeout * 1000)


def open_file(page, path):
    page.evaluate(f"window.jupyterapp.commands.execute('docmanager:open', {{path: {json.dumps(path)}}})")
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell")
    page.wait_for_function("""() => {
        const s = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
        return !s || s.getAttribute('data-status') === 'idle'; }""", timeout=60_000)


def errors_in_outputs(page):
    return page.evaluate("""() => [...document.querySelectorAll(
            '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
        .map(e => e.innerText).filter(t => /Error|Traceback|Warning/.test(t))""")


def test_student_runs_lecture_01_from_the_printed_address(world, page):
    t = time.monotonic()
    page.goto(world["url"])
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    title = page.evaluate("document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)').id && "
                          "window.jupyterapp.shell.currentWidget.context.path")
    assert title == LECTURE1, title
    run_all_and_wait(page)
    assert errors_in_outputs(page) == []
    imgs = page.evaluate("""() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output img')]
        .map(i => ({natural: i.naturalWidth, shown: i.getBoundingClientRect().width, ok: i.complete && i.naturalWidth > 0}))""")
    assert imgs and all(i["ok"] for i in imgs), imgs
    world["measured"]["lecture01_figures"] = imgs
    world["measured"]["lecture01_seconds"] = round(time.monotonic() - t, 1)
    shot(page, "01_lecture01_ran")


def test_student_moves_lecture_06_slider(world, page):
    open_file(page, LECTURE6)
    run_all_and_wait(page)
    assert errors_in_outputs(page) == []
    widget = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .widget-vbox").last
    widget.scroll_into_view_if_needed()
    box, notebook = widget.bounding_box(), page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer").bounding_box()
    assert box["x"] + box["width"] <= notebook["x"] + notebook["width"], (box, notebook)  # fits the window
    before = widget.locator(".jp-OutputArea-output img").first.get_attribute("src")
    table_before = widget.inner_text()
    shot(page, "02_lecture06_widget_before")
    handle = widget.locator(".widget-slider .noUi-handle").nth(2)  # "row"
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("""([before]) => {
        const w = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .widget-vbox')].pop();
        const img = w && w.querySelector('.jp-OutputArea-output img');
        return img && img.getAttribute('src') !== before; }""", arg=[before], timeout=60_000)
    page.wait_for_timeout(500)
    assert widget.inner_text() != table_before
    assert "row" in widget.inner_text()
    shot(page, "03_lecture06_widget_after")


def test_student_answers_validates_and_submits_ex02(world, page):
    nb_path = f"exercises/{AID}/{AID}.ipynb"
    open_file(page, nb_path)
    source = mutation.read(str(ROOT / "solutions" / AID / f"{AID}.ipynb"))
    answer = next(mutation.strip_solution_markers(c.source) for c in source.cells
                  if c.metadata.get("nbgrader", {}).get("solution"))
    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell", has_text="NotImplementedError").first
    cell.scroll_into_view_if_needed()
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(answer)
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    page.wait_for_timeout(1500)
    saved = mutation.read(str(world["student"] / nb_path))
    assert any("np.logaddexp" in c.source or "log1p" in c.source or "exp" in c.source for c in saved.cells
               if c.metadata.get("nbgrader", {}).get("solution") and "NotImplementedError" not in c.source)
    shot(page, "04_ex02_answer_typed")
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar button", has_text="Validate").click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=180_000)
    page.wait_for_function("() => /Success|fail|error/i.test(document.querySelector('.jp-Dialog').innerText)",
                           timeout=180_000)
    text = dialog.inner_text()
    shot(page, "05_ex02_validated")
    assert "Success" in text, text
    dialog.locator("button").last.click()
    # submit from the Assignment List
    page.evaluate("window.jupyterapp.commands.execute('nbgrader:open-assignment-list')")
    row = page.locator(".list_item", has_text=AID).first
    row.wait_for()
    shot(page, "06_assignment_list")
    row.locator("button", has_text="Submit").click()
    page.locator("#submitted_assignments_list .list_item", has_text=AID).first.wait_for(timeout=60_000)
    shot(page, "07_submitted")
    assert list((world["exchange"] / "cnn-backprop" / "inbound").iterdir())


def test_instructor_grades_and_releases_feedback_student_reads_it(world, page):
    env = dict(world["env"], GRADER_CHECK_OWNER="off")  # one system user plays every student
    t = time.monotonic()
    r = _make(world["instructor"], "grade", f"AID={AID}", env=env)
    world["measured"]["make_grade_seconds"] = round(time.monotonic() - t, 1)
    assert re.search(rf"{AID}: 1 graded, mean score 10\.00", r.stdout) or "mean score 10.00" in r.stdout, r.stdout
    r = _make(world["instructor"], "feedback", f"AID={AID}", env=env)
    assert "feedback for 1 students at" in r.stdout and "released to" in r.stdout, r.stdout
    # the student: refresh the list, fetch feedback, view it
    page.evaluate("window.jupyterapp.commands.execute('nbgrader:open-assignment-list')")
    page.locator("button[title*='Refresh'], button:has-text('Refresh'), .fa-refresh").first.click()
    row = page.locator("#submitted_assignments_list .list_item", has_text=AID).first
    row.locator("button", has_text="Fetch Feedback").click()
    row.locator("text=view feedback").wait_for(timeout=60_000)
    shot(page, "08_feedback_fetched")
    fb = sorted((world["student"] / "exercises" / AID / "feedback").glob(f"*/{AID}.html"))
    assert fb, "no feedback fetched"
    rel = fb[-1].relative_to(world["student"]).as_posix()
    page.evaluate(f"window.jupyterapp.commands.execute('docmanager:open', {{path: {json.dumps(rel)}}})")
    frame = page.frame_locator(".jp-HTMLViewer iframe, iframe").last
    frame.locator("math").first.wait_for(timeout=60_000)
    sizes = frame.locator("math").evaluate_all("ms => ms.map(m => m.getBoundingClientRect().height)")
    body = frame.locator("body").inner_text()
    shot(page, "09_feedback_math")
    assert sizes and all(h > 5 for h in sizes), sizes  # drawn, not raw text
    assert "$" not in "".join(re.findall(r"\$[^$\n]{1,80}\$", body))  # no LaTeX left
    assert "passed test" in body and "FAILED" not in body
    (ARTIFACTS / "measured.json").write_text(json.dumps(world["measured"], indent=1))
