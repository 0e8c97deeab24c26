"""The student's and the instructor's loop in a real browser (issue 8), as the READMEs tell it.

Playwright for Python drives Debian's chromium (/usr/bin/chromium, headless; `.ci/run` installs
it) against `jupyter lab` on 127.0.0.1, started and stopped here, in a student copy of the course
(`python -m grader student-copy`). A scratch copy of the instructor's repository releases ex02
to a private exchange with `make release`; the student opens lecture 01 from the address
JupyterLab printed and runs it, moves lecture 06's slider, opens ex02, types an answer, validates
and submits it from the Assignment List; the instructor runs `make grade` and `make feedback`;
the student fetches the feedback and reads it, math included, with no network.

Every "student" here is this test's own system user, so the instructor's collect is told so
(GRADER_CHECK_OWNER=off, grader/README.md). Screenshots: tests/artifacts/browser/ (git-ignored),
NN_<step>.png, failed_<test>.png when a step fails, and measured.json (figure sizes, durations,
any Run All stall). Marker `browser`: `make test PYTEST_ARGS='-m "not browser"'` leaves it out.

Waits are on state, never on time: the kernel's status and connection, each code cell's execution
count and running state and its outputs as the notebook model holds them (not the DOM: JupyterLab
need not build cells out of view), the saved model, the Validate dialog's verdict, the Assignment
List's rows. An earlier version reported Run All in lecture 01 running one cell (sometimes two or
three) and the kernel then idle; that did not recur here, neither with that version (2 runs) nor
with this one (12 runs, some with two extra CPU hogs on 2 cores), which issues Run All once the
kernel is connected and idle. Should it recur, the cells left unrun are run one at a time (each
waited for), the stall is recorded in measured.json with the browser's console, and a warning
says so. A failure shows the notebook's state, the console and the end of JupyterLab's
log.
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
import warnings
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
    started, world_measured = time.monotonic(), {}
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
    # no "get notified about official Jupyter news?" toast over the buttons (and no network asked)
    news = home / ".jupyter" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env = dict(os.environ, COURSE_EXCHANGE=str(exchange), HOME=str(home),
               PATH=f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}")
    for name in ("MPLBACKEND", "JUPYTER_CONFIG_DIR", "JUPYTERLAB_SETTINGS_DIR", "COURSE_FAST"):
        env.pop(name, None)
    r = _make(instructor, "release", f"AID={AID}", env=env)
    assert f"released 1 assignments to {exchange / 'cnn-backprop'}" in r.stdout
    student = tmp / "student"
    r = subprocess.run([sys.executable, "-m", "grader", "student-copy", str(student), "--exchange", str(exchange)],
                       cwd=ROOT, env=env, capture_output=True, text=True)  # the copy is of git's files
    assert r.returncode == 0, r.stderr
    # the Assignment List reads the settings from exercises/ (grader/student_copy.py writes them there)
    assert (student / "exercises" / "nbgrader_config.py").exists()
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
               "exchange": exchange, "measured": world_measured, "console": []}
    finally:
        if ARTIFACTS.is_dir():
            world_measured["seconds"] = round(time.monotonic() - started, 1)
            (ARTIFACTS / "measured.json").write_text(json.dumps(world_measured, indent=1))
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
        try:
            context = pw.chromium.launch_persistent_context(
                str(world["tmp"] / "chromium-profile"), executable_path=CHROMIUM, args=FLAGS, viewport=VIEW)
        except Exception as e:  # noqa: BLE001 (a browser that cannot start is no browser)
            pytest.skip(f"{CHROMIUM} does not start headless: {str(e).splitlines()[0]}")
        pg = context.pages[0] if context.pages else context.new_page()
        pg.on("console", lambda m: world["console"].append(f"{m.type}: {m.text[:300]}"))
        pg.set_default_timeout(60_000)
        yield pg
        context.close()


@pytest.fixture(autouse=True)
def shot_on_failure(request, page):
    """A failed step leaves a screenshot: failed_<test name>.png."""
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed > failed:
        shot(page, f"failed_{request.node.name}")


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


# the current notebook as its model says (not the DOM: JupyterLab may leave cells out of view unbuilt)
NOTEBOOK_STATE = """() => {
    const w = window.jupyterapp.shell.currentWidget;
    const k = w.sessionContext.session?.kernel;
    const cells = [];
    for (const c of w.content.model.cells) {
        if (c.type !== 'code') continue;
        const outs = c.outputs.toJSON();
        cells.push({n: c.executionCount, running: c.executionState === 'running',
                    errors: outs.filter(o => o.output_type === 'error' || (o.output_type === 'stream' && o.name === 'stderr'))
                                .map(o => o.output_type === 'error' ? `${o.ename}: ${o.evalue}` : String(o.text).slice(0, 500)),
                    images: outs.filter(o => o.data && o.data['image/png']).length});
    }
    return {path: w.context.path, kernel: k ? k.status : null, connection: k ? k.connectionStatus : null,
            pendingInput: w.sessionContext.pendingInput, dialog: document.querySelector('.jp-Dialog')?.innerText || null,
            cells};
}"""


def notebook_state(page) -> dict:
    return page.evaluate(NOTEBOOK_STATE)


def run_all_and_wait(page, world, timeout=240):
    """Run > Run All Cells once the notebook's kernel is ready, then wait until every code cell
    has an execution count, none is running and the kernel is idle. If the kernel goes idle with
    cells never run (the stall an earlier version of this test saw), the rest are run one at a
    time, each waited for; the stall is recorded in measured.json. An error output ends the wait
    (Run All stops there; the caller's check reports it)."""
    kernel_ready(page)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    deadline = time.monotonic() + timeout
    idle_since, last = None, None
    while True:
        st = notebook_state(page)
        counts = [c["n"] for c in st["cells"]]
        done = st["kernel"] == "idle" and all(counts) and not any(c["running"] for c in st["cells"])
        if done:
            return st
        if st["dialog"]:
            raise AssertionError(f"a dialog is in the way: {st['dialog']}")
        # idle, and no cell has run for 10 s: the requests still queued ([*]) were lost
        idle_since = (idle_since or time.monotonic()) if st["kernel"] == "idle" and counts == last else None
        last = counts
        if idle_since and errors_in_outputs(st):
            return st
        if idle_since and time.monotonic() - idle_since > 10:
            world["measured"].setdefault("run_all_stalled", []).append(
                {"path": st["path"], "counts": counts, "console": world["console"][-20:]})
            warnings.warn(f"Run All stopped in {st['path']} with cells unrun ({counts}); running the rest one at a time")
            return run_rest_one_by_one(page, world, deadline)
        if time.monotonic() > deadline:
            fail_with_state(page, world, f"the cells did not all run in {timeout} s")
        page.wait_for_timeout(500)


def run_rest_one_by_one(page, world, deadline):
    """Run each code cell that has no execution count (select it, Run > Run Selected Cell) and wait
    for its count and the kernel to be idle."""
    index = page.evaluate("""() => [...window.jupyterapp.shell.currentWidget.content.model.cells]
        .map((c, i) => [c.type, c.executionCount, i]).filter(([t, n]) => t === 'code' && !n).map(x => x[2])""")
    for i in index:
        page.evaluate("(i) => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = i; }", i)
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-cell'); }")
        try:
            page.wait_for_function("""(i) => { const w = window.jupyterapp.shell.currentWidget;
                const c = w.content.model.cells.get(i);
                return c.executionCount && c.executionState !== 'running'
                    && w.sessionContext.session?.kernel?.status === 'idle'; }""",
                                   arg=i, timeout=max(1, deadline - time.monotonic()) * 1000)
        except Exception:
            fail_with_state(page, world, f"cell {i} did not run")
    return notebook_state(page)


def fail_with_state(page, world, why):
    shot(page, "failure")
    log = (world["tmp"] / "lab.log").read_text()[-3000:]
    raise AssertionError(f"{why}: {json.dumps(notebook_state(page))}\nbrowser console: {world['console'][-20:]}"
                         f"\nJupyterLab log (end):\n{log}")


def kernel_ready(page):
    """Wait until the current notebook's kernel has started and is idle (an indicator that says
    idle before any kernel is connected would let Run All run nothing)."""
    page.evaluate("async () => { await window.jupyterapp.shell.currentWidget.sessionContext.ready; }")
    page.wait_for_function("""() => { const k = window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel;
        return k && k.connectionStatus === 'connected' && k.status === 'idle'; }""", timeout=180_000)


def command(page, name, args=None):
    """Run a JupyterLab command and wait for it (its result, often a widget, stays in the page)."""
    page.evaluate("async ([name, args]) => { await window.jupyterapp.commands.execute(name, args); }",
                  [name, args or {}])


def open_file(page, path):
    command(page, "docmanager:open", {"path": path})
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell")
    page.wait_for_function("""() => {
        const s = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
        return !s || s.getAttribute('data-status') === 'idle'; }""", timeout=60_000)


def errors_in_outputs(state):
    return [e for c in state["cells"] for e in c["errors"]]


def test_student_runs_lecture_01_from_the_printed_address(world, page):
    t = time.monotonic()
    page.goto(world["url"])
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    opened = page.evaluate("window.jupyterapp.shell.currentWidget.context.path")
    assert opened == LECTURE1, opened
    st = run_all_and_wait(page, world)
    assert errors_in_outputs(st) == [], st
    imgs = page.evaluate("""() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output img')]
        .map(i => ({natural: i.naturalWidth, shown: i.getBoundingClientRect().width, ok: i.complete && i.naturalWidth > 0}))""")
    assert imgs and all(i["ok"] for i in imgs), imgs
    assert len(imgs) == sum(c["images"] for c in st["cells"]) >= 3, (imgs, st)
    world["measured"]["lecture01_figures"] = imgs
    world["measured"]["lecture01_seconds"] = round(time.monotonic() - t, 1)
    shot(page, "01_lecture01_ran")


def test_student_moves_lecture_06_slider(world, page):
    open_file(page, LECTURE6)
    st = run_all_and_wait(page, world)
    assert errors_in_outputs(st) == [], st
    widget = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .widget-vbox").last
    widget.scroll_into_view_if_needed()
    box, notebook = widget.bounding_box(), page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer").bounding_box()
    assert box["x"] + box["width"] <= notebook["x"] + notebook["width"], (box, notebook)  # fits the window
    before = widget.locator(".jp-OutputArea-output img").first.get_attribute("src")
    table_before = widget.inner_text()
    shot(page, "02_lecture06_widget_before")
    handle = widget.locator(".widget-slider .noUi-handle").nth(2)  # "row"
    handle.focus()
    page.keyboard.press("ArrowRight")  # row 0 -> 1: one change, one redraw by the kernel
    page.wait_for_function("""([before]) => {
        const w = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .widget-vbox')].pop();
        const img = w && w.querySelector('.jp-OutputArea-output img');
        const k = window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel;
        return img && img.complete && img.getAttribute('src') !== before && k.status === 'idle'; }""",
                           arg=[before], timeout=60_000)
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
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
    saved = mutation.read(str(world["student"] / nb_path))
    answers = [c.source.strip() for c in saved.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert answer.strip() in answers, answers
    shot(page, "04_ex02_answer_typed")
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) jp-button.validate-button").click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=180_000)
    page.wait_for_function("() => /Success|fail|error/i.test(document.querySelector('.jp-Dialog').innerText)",
                           timeout=180_000)
    text = dialog.inner_text()
    shot(page, "05_ex02_validated")
    assert "Success" in text, text
    dialog.locator("button").last.click()
    # submit from the Assignment List
    command(page, "nbgrader:open-assignment-list")
    row = page.locator("#fetched_assignments_list .list_item", has_text=AID).first  # "Downloaded assignments"
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
    command(page, "nbgrader:open-assignment-list")
    page.locator("#refresh_assignments_list").click()
    row = page.locator("#submitted_assignments_list .list_item", has_text=AID).first
    row.locator("button", has_text="Fetch Feedback").click()
    row.locator("text=view feedback").wait_for(timeout=60_000)
    shot(page, "08_feedback_fetched")
    fb = sorted((world["student"] / "exercises" / AID / "feedback").glob(f"*/{AID}.html"))
    assert fb, "no feedback fetched"
    rel = fb[-1].relative_to(world["student"]).as_posix()
    command(page, "docmanager:open", {"path": rel})
    frame = page.frame_locator(".jp-HTMLViewer iframe, iframe").last
    frame.locator("math").first.wait_for(timeout=60_000)
    sizes = frame.locator("math").evaluate_all("ms => ms.map(m => m.getBoundingClientRect().height)")
    body = frame.locator("body").inner_text()
    shot(page, "09_feedback_math")
    assert sizes and all(h > 5 for h in sizes), sizes  # drawn, not raw text
    assert not re.findall(r"\$[^$\n]{1,80}\$", body)  # no LaTeX left
    assert "passed test" in body and "FAILED" not in body
