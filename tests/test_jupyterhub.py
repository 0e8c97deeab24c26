"""The course on JupyterHub (grader/jupyterhub/, grader/JUPYTERHUB.md), end to end.

Starts JupyterHub on 127.0.0.1 with grader/jupyterhub/jupyterhub_config.py (configurable-http-proxy
from npm, the password-file authenticator, SimpleLocalProcessSpawner), logs in an instructor and
two students through the REST API and runs the whole loop over HTTP:

  instructor, formgrader API of the course service: generate + release
  students, their servers' Assignment List API:      list, fetch, (contents API: answer), submit
  instructor, formgrader API:                         collect, autograde each, feedback, release it
  students, Assignment List API:                      fetch feedback (then read it: contents API)
  instructor, `python -m grader export` (formgrader has no export API): the grades CSV

Every student is the same system user here, so the course service collects with
GRADER_CHECK_OWNER=off (grader/JUPYTERHUB.md says why a real class must not).
Skips, saying why, where jupyterhub or configurable-http-proxy is missing (`make jupyterhub-proxy`).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "grader" / "jupyterhub" / "jupyterhub_config.py"
CHP = os.environ.get("COURSE_PROXY_CMD") or str(REPO / ".jhub" / "node_modules" / ".bin" / "configurable-http-proxy")
COURSE = "cnn-backprop"
AID = "ex00_tiny"
INSTRUCTOR, STUDENTS = "teacher", ("alice", "bob")
START = 300  # seconds: servers start slowly on a loaded 2-core machine

pytestmark = pytest.mark.jupyterhub


def _missing() -> str | None:
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        return "jupyterhub is not installed in this environment (pip install -e . installs it)"
    if not (os.path.exists(CHP) or shutil.which(CHP)):
        return (f"configurable-http-proxy not found at {CHP}: run `make jupyterhub-proxy` "
                "(npm install --prefix .jhub configurable-http-proxy) or set COURSE_PROXY_CMD")
    if not shutil.which("node") and not shutil.which("nodejs"):
        return "node is not installed (configurable-http-proxy needs it)"
    return None


def _free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Hub:
    def __init__(self, base: Path):
        import requests
        self.requests = requests
        self.base = base
        self.port, self.api_port, self.proxy_port, self.service_port = _free_ports(4)
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_token = secrets.token_hex(32)
        self.passwords = {u: secrets.token_urlsafe(12) for u in (INSTRUCTOR, *STUDENTS)}
        self.tokens: dict[str, str] = {}
        self.proc = None
        self.pids: set[int] = set()

    # -- HTTP --------------------------------------------------------------------------
    def call(self, method, path, token=None, expect=(200,), **kw):
        headers = {"Authorization": f"token {token or self.admin_token}"}
        r = self.requests.request(method, self.url + path, headers=headers, timeout=240, **kw)
        if expect and r.status_code not in expect:
            raise AssertionError(f"{method} {path}: HTTP {r.status_code}\n{r.text[:2000]}\n"
                                 f"--- hub log (end) ---\n{self.log_tail()}")
        return r

    def as_user(self, user, method, path, **kw):
        return self.call(method, path, token=self.tokens[user], **kw)

    def log_tail(self, n=6000):
        try:
            return (self.base / "hub.log").read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def wait(self, what, check, timeout=START):
        t0 = time.monotonic()
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"JupyterHub exited ({self.proc.returncode}) while waiting for {what}:\n{self.log_tail()}")
            self.remember_processes()
            try:
                if check():
                    return time.monotonic() - t0
            except self.requests.RequestException:
                pass
            if time.monotonic() - t0 > timeout:
                raise AssertionError(f"{what} not ready after {timeout} s:\n{self.log_tail()}")
            time.sleep(1)

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, env):
        self.log = open(self.base / "hub.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)],
                                     cwd=self.base / "state", env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.wait("the hub's REST API", lambda: self.requests.get(
            self.url + "/hub/api", timeout=10).status_code == 200)

    def remember_processes(self):
        if self.proc is not None:
            self.pids.update(_descendants(self.proc.pid))
        # the proxy outlives a hub that crashed (it is re-parented): its pid file names it
        try:
            pid = int((self.base / "state" / "proxy.pid").read_text().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"configurable-http-proxy" in f.read():
                    self.pids.add(pid)
        except (OSError, ValueError):
            pass

    def stop(self):
        """SIGTERM to the hub (it stops users' servers, the course service and the proxy), then
        anything it started that is still there, by process id."""
        if self.proc is None:
            return
        self.remember_processes()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        deadline = time.monotonic() + 20
        while any(_alive(p) for p in self.pids) and time.monotonic() < deadline:
            time.sleep(0.5)
        self.left_over = [p for p in self.pids if _alive(p)]
        for pid in self.left_over:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    why = _missing()
    if why:
        pytest.skip(why)
    from grader import sandbox, workflow, testing
    from grader.jupyterhub.localauth import hash_password

    base = tmp_path_factory.mktemp("jupyterhub")
    (base / "state").mkdir()
    src = base / "src"
    src.mkdir()
    shutil.copy(os.path.join(testing.SAMPLES, AID, AID + ".ipynb"), src)
    course = workflow.scratch_course([], into=str(base / "course"), extra_sources=[(AID, str(src))])
    exchange = base / "exchange"
    h = Hub(base)
    (base / "state" / "passwords.json").write_text(json.dumps(
        {u: hash_password(p, iterations=1000) for u, p in h.passwords.items()}))

    env = dict(os.environ)
    env.update({
        "PATH": os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "COURSE_ROOT": course.root, "COURSE_EXCHANGE": str(exchange),
        "COURSE_INSTRUCTORS": INSTRUCTOR,
        "COURSE_HUB_STATE": str(base / "state"), "COURSE_HUB_HOMES": str(base / "home"),
        "COURSE_HUB_PORT": str(h.port), "COURSE_HUB_API_PORT": str(h.api_port),
        "COURSE_PROXY_API_PORT": str(h.proxy_port), "COURSE_SERVICE_PORT": str(h.service_port),
        "COURSE_HUB_ADMIN_TOKEN": h.admin_token, "COURSE_PROXY_CMD": CHP,
        # SimpleLocalProcessSpawner: every student is this system user (see the module docstring)
        "GRADER_CHECK_OWNER": "off",
        "GRADER_CELL_TIMEOUT": "30",
    })
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERHUB_API_TOKEN"):
        env.pop(name, None)
    works, reason = sandbox.probe()
    if not works:
        warnings.warn(f"grading WITHOUT the sandbox in the JupyterHub test ({reason}); "
                      "the submissions are the test's own")
        env["GRADER_SANDBOX"] = "off"
    h.env = env
    h.course = course
    h.exchange = exchange
    h.timings = {}
    t0 = time.monotonic()
    try:
        h.start(env)
        h.timings["hub"] = time.monotonic() - t0
        yield h
    finally:
        h.stop()
        h.timings["total"] = time.monotonic() - t0
        print(f"\nJupyterHub test timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in h.timings.items()))


def _answer(nb: dict, correct_halve: bool) -> dict:
    answers = {
        "square": "def square(x):\n    return np.asarray(x, dtype=float) ** 2\n",
        "halve": ("def halve(x):\n    if isinstance(x, str):\n        raise TypeError('numbers only')\n"
                  "    return np.asarray(x, dtype=float) / 2\n") if correct_halve else
                 "def halve(x):\n    return np.asarray(x, dtype=float) / 3\n",
    }
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
    return nb


def test_class_loop_through_jupyterhub(hub):
    fg = f"/services/{COURSE}/formgrader/api"
    expected = {"alice": 3.0, "bob": 1.0}  # bob's halve is wrong: 1 of 3

    # -- enrol the class with the admin token from the config, then each user logs in through
    #    the REST API: a token from their name and password -----------------------------------
    hub.call("POST", "/hub/api/users", expect=(201, 409), json={"usernames": list(STUDENTS)})
    for user in (INSTRUCTOR, *STUDENTS):
        r = hub.requests.post(f"{hub.url}/hub/api/users/{user}/tokens", timeout=120, json={
            "auth": {"username": user, "password": hub.passwords[user]}, "note": "test login",
            "expires_in": 3600})
        assert r.status_code in (200, 201), f"login of {user}: HTTP {r.status_code} {r.text[:500]}\n{hub.log_tail()}"
        hub.tokens[user] = r.json()["token"]
    r = hub.requests.post(f"{hub.url}/hub/api/users/alice/tokens", timeout=120, json={
        "auth": {"username": "alice", "password": hub.passwords["bob"]}})
    assert r.status_code in (401, 403), "alice logged in with bob's password"

    # the admin token (from the config) sees the three users and the instructor's group
    users = {u["name"]: u for u in hub.call("GET", "/hub/api/users").json()}
    assert set(users) >= {INSTRUCTOR, *STUDENTS}
    assert f"formgrader-{COURSE}" in users[INSTRUCTOR]["groups"]

    # -- start everyone's server (their own token), and wait for them and the course service ----
    t0 = time.monotonic()
    for user in (INSTRUCTOR, *STUDENTS):
        hub.as_user(user, "POST", f"/hub/api/users/{user}/server", expect=(201, 202, 400))
    for user in (INSTRUCTOR, *STUDENTS):
        hub.wait(f"{user}'s server", lambda u=user: hub.as_user(
            u, "GET", f"/hub/api/users/{u}").json()["servers"].get("", {}).get("ready"))
    hub.wait("the course service", lambda: hub.as_user(
        INSTRUCTOR, "GET", f"{fg}/status", expect=None).status_code == 200)
    hub.timings["servers"] = time.monotonic() - t0
    hub.remember_processes()

    # only instructors reach formgrader: a student's token is refused by the course service
    assert hub.as_user("alice", "GET", f"{fg}/assignments", expect=None).status_code == 403
    # a student cannot use another student's server
    assert hub.as_user("alice", "GET", "/user/bob/api/contents", expect=None).status_code in (403, 404)
    # nbgrader #1870: formgrader is a page of its own (JupyterHub's frame-ancestors 'none' stays)
    page = hub.as_user(INSTRUCTOR, "GET", f"/services/{COURSE}/formgrader/manage_assignments")
    assert "Manage Assignments" in page.text
    assert "frame-ancestors 'none'" in page.headers.get("Content-Security-Policy", "")

    # -- instructor: generate and release (formgrader API) -----------------------------------
    t0 = time.monotonic()
    for step in ("assign", "release"):
        res = hub.as_user(INSTRUCTOR, "POST", f"{fg}/assignment/{AID}/{step}").json()
        assert res["success"], f"{step}: {res}"
    assert (hub.exchange / COURSE / "outbound" / AID / f"{AID}.ipynb").exists()
    # formgrader generated into grader/work/release, exercises/ untouched (as `python -m grader release`)
    assert os.path.exists(os.path.join(hub.course.root, "grader", "work", "release", AID, AID + ".ipynb"))
    assert not os.path.exists(os.path.join(hub.course.root, "exercises", AID))

    # -- students: list, fetch, answer, submit (Assignment List API, contents API) -------------
    for user in STUDENTS:
        listed = hub.as_user(user, "GET", f"/user/{user}/assignments", params={"course_id": COURSE}).json()
        assert listed["success"], listed
        assert [(a["assignment_id"], a["status"]) for a in listed["value"]] == [(AID, "released")]
        res = hub.as_user(user, "POST", f"/user/{user}/assignments/fetch",
                          data={"course_id": COURSE, "assignment_id": AID}).json()
        assert res["success"], res
        path = f"/user/{user}/api/contents/{AID}/{AID}.ipynb"
        nb = hub.as_user(user, "GET", path).json()["content"]
        hub.as_user(user, "PUT", path, expect=(200, 201), json={
            "type": "notebook", "format": "json", "content": _answer(nb, user == "alice")})
        res = hub.as_user(user, "POST", f"/user/{user}/assignments/submit",
                          data={"course_id": COURSE, "assignment_id": AID}).json()
        assert res["success"], res
    inbound = sorted(p.name.split("+")[0] for p in (hub.exchange / COURSE / "inbound").iterdir())
    assert inbound == sorted(STUDENTS)  # named by their hub user (JUPYTERHUB_USER), not the system user

    # -- instructor: collect, autograde, feedback (formgrader API) ---------------------------
    res = hub.as_user(INSTRUCTOR, "POST", f"{fg}/assignment/{AID}/collect").json()
    assert res["success"], res
    for user in STUDENTS:
        assert os.path.isdir(os.path.join(hub.course.root, "grader", "submitted", user, AID)), res
        res = hub.as_user(INSTRUCTOR, "POST", f"{fg}/submission/{AID}/{user}/autograde").json()
        assert res["success"], res
        # the course's out-of-process grading ran (grader/execute.py), in the sandbox
        assert "workers started" in res["log"], res["log"][-3000:]
        if hub.env.get("GRADER_SANDBOX") != "off":
            assert "WITHOUT the sandbox" not in res["log"]
    subs = {s["student"]: s for s in hub.as_user(INSTRUCTOR, "GET", f"{fg}/submissions/{AID}").json()}
    assert {u: subs[u]["score"] for u in STUDENTS} == expected
    for step in ("generate_feedback", "release_feedback"):
        res = hub.as_user(INSTRUCTOR, "POST", f"{fg}/assignment/{AID}/{step}").json()
        assert res["success"], f"{step}: {res}"

    # -- students: fetch feedback and read it -------------------------------------------------
    from grader import testing
    from nbformat import reads
    source = reads(Path(hub.course.root, "solutions", AID, AID + ".ipynb").read_text(), as_version=4)
    for user in STUDENTS:
        res = hub.as_user(user, "POST", f"/user/{user}/assignments/fetch_feedback",
                          data={"course_id": COURSE, "assignment_id": AID}).json()
        assert res["success"], res
        folders = hub.as_user(user, "GET", f"/user/{user}/api/contents/{AID}/feedback").json()["content"]
        assert len(folders) == 1, folders
        page = hub.as_user(user, "GET", f"/user/{user}/api/contents/{folders[0]['path']}/{AID}.html").json()["content"]
        text = testing.html_text(page)
        assert f"Score: {expected[user]:g}" in text or f"{expected[user]:g} / 3" in text or \
            f"{expected[user]} / 3" in text, text[:1500]
        assert "BEGIN HIDDEN TESTS" not in page
        for line in testing.hidden_lines(source, []):
            if len(line) >= 30:
                assert line not in text, f"hidden test line in {user}'s feedback: {line}"
    hub.timings["loop"] = time.monotonic() - t0

    # -- instructor, where formgrader has no API: the grades CSV with `python -m grader export` --
    csv = os.path.join(hub.course.root, "grader", "work", "grades.csv")
    r = subprocess.run([sys.executable, "-m", "grader", "export", "--to", csv], cwd=hub.course.root,
                       env=hub.env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = Path(csv).read_text().splitlines()
    assert sum(line.startswith(AID) or f",{AID}," in line for line in rows) == 2, rows


def test_every_process_stopped(hub):
    """Runs last in this module: stops the hub (SIGTERM) and checks that every process it
    started (users' servers, the course service, the proxy) is gone; the fixture's teardown
    then has nothing left to stop."""
    hub.remember_processes()
    assert hub.pids, "the hub started no process?"
    hub.stop()
    assert not hub.left_over, f"processes left after the hub stopped: {hub.left_over}"
    hub.proc = None
