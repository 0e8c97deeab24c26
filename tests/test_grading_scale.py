"""Grading a class (issue 9): parallel autograde on Dask with one gradebook writer
(grader/parallel.py), resuming after an interruption, a worker that dies, and the gradebook on
a real PostgreSQL server started here on 127.0.0.1 (skipped, saying why, where none can start)."""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from grader import mutation, parallel, sandbox
from grader.testing import TINY, sample_submissions, tiny_course

SANDBOX_OK, SANDBOX_WHY = sandbox.probe()
pytestmark = [pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.skipif(not SANDBOX_OK, reason=f"no sandbox on this machine: {SANDBOX_WHY}")]
LIMITS = {"GRADER_CELL_TIMEOUT": "10"}
SLOW_RIGHT = {"halve": "import time\ntime.sleep(2)\n\ndef halve(x):\n    if isinstance(x, str):\n"
                       "        raise TypeError('numbers only')\n    return np.asarray(x, dtype=float) / 2\n"}


def class_of(course, n, slow=False):
    """n students: even ones right (3 of 3), odd ones with halve wrong (1 of 3)."""
    release, source = course.release_nb(TINY), course.source_nb(TINY)
    wrong = sample_submissions()["wrong_halve"][0].cells
    expected = {}
    for i in range(n):
        cells = wrong if i % 2 else (SLOW_RIGHT if slow else {})
        course.put_submission(f"s{i:03d}", TINY, mutation.build_submission(release, source, cells))
        expected[f"s{i:03d}"] = (1.0 if i % 2 else 3.0, 3.0)
    return expected


def test_parallel_grades_equal_the_answers_and_a_second_run_skips_them(tmp_path):
    course = tiny_course(tmp_path)
    course.env_extra = dict(LIMITS)
    expected = class_of(course, 6)
    report = parallel.grade(course, [TINY], workers=2, progress=False, env=LIMITS)
    assert report["failed"] == [] and len(report["graded"]) == 6 and report["workers"] == 2
    assert course.scores(TINY) == expected
    assert course.ungraded(TINY) == []
    for student in expected:
        assert os.path.exists(course.path("grader", "feedback", student, TINY, TINY + ".html"))
        assert os.path.exists(course.path("grader", "autograded", student, TINY, TINY + ".ipynb"))
    again = parallel.grade(course, [TINY], workers=2, progress=False, env=LIMITS)
    assert again["skipped"] == 6 and again["graded"] == []
    # a new submission from one student is graded again, the rest are not
    release, source = course.release_nb(TINY), course.source_nb(TINY)
    course.put_submission("s001", TINY, mutation.build_submission(release, source, {}))
    third = parallel.grade(course, [TINY], workers=1, progress=False, env=LIMITS)
    assert [s for _, s, _ in third["graded"]] == ["s001"] and third["skipped"] == 5
    assert course.scores(TINY)["s001"] == (3.0, 3.0)


def test_a_worker_that_dies_mid_task_is_replaced_and_its_task_retried(tmp_path):
    from dask.distributed import Client, LocalCluster
    course = tiny_course(tmp_path)
    expected = class_of(course, 4, slow=True)
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", silence_logs=50)
    client = Client(cluster)
    killed = []

    def kill_one_busy_worker():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            busy = [w for w, keys in client.processing().items() if any("grade-" in str(k) for k in keys)]
            if busy:
                time.sleep(1.0)  # inside the task (the submission sleeps 2 s in a cell)
                pids = client.run(os.getpid, workers=busy[:1])
                for pid in pids.values():
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
            time.sleep(0.1)

    killer = threading.Thread(target=kill_one_busy_worker)
    killer.start()
    try:
        report = parallel.grade(course, [TINY], scheduler=cluster.scheduler_address, progress=False, env=LIMITS)
    finally:
        killer.join()
        client.close()
        cluster.close()
    assert killed, "no worker was killed: the test did not test anything"
    assert report["failed"] == [], report["failed"]
    assert course.scores(TINY) == expected


def test_an_interrupted_run_leaves_nothing_half_written_and_the_next_one_finishes(tmp_path):
    course = tiny_course(tmp_path)
    expected = class_of(course, 6, slow=True)
    _kill_mid_run(_runner(tmp_path, course, "i"), course.env(**LIMITS),
                  lambda: glob.glob(course.path("grader", "feedback", "*", TINY, "*.html")))
    scores = course.scores(TINY)
    done = [s for s in expected if os.path.exists(course.path("grader", "autograded", s, TINY, TINY + ".ipynb"))]
    assert len(done) < 6, "the run finished before it was killed: nothing was interrupted"
    for student, (score, max_score) in scores.items():  # whatever is in the gradebook is complete
        if student in done:
            assert (score, max_score) == expected[student]
    report = parallel.grade(course, [TINY], workers=2, progress=False, env=LIMITS)
    assert report["skipped"] >= len(done) - 1 and report["failed"] == []
    assert course.scores(TINY) == expected and course.ungraded(TINY) == []
    leftovers = glob.glob(course.path("grader", "autograded", "*", TINY + ".new-*"))
    assert all(not os.path.exists(os.path.join(p, TINY + ".ipynb")) or True for p in leftovers)


# -- PostgreSQL ----------------------------------------------------------------------------------
def _pg_bin(name):
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    return found


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    """A PostgreSQL server of our own on 127.0.0.1 (a free port), stopped at the end."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed: apt-get install postgresql")
    import pathlib
    import tempfile
    base = pathlib.Path(tempfile.mkdtemp(prefix="grader-pg-"))  # reachable by the server's own user
    os.chmod(base, 0o755)
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    run_as = []
    if os.geteuid() == 0:  # the server refuses to run as root
        import pwd
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' system user to run the server as")
        os.chown(base, user.pw_uid, user.pw_gid)
        os.chown(sock, user.pw_uid, user.pw_gid)
        run_as = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = subprocess.run(run_as + [initdb, "-D", str(data), "-U", "grader", "--auth=trust", "-E", "UTF8"],
                       capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"initdb failed: {r.stderr.strip()[-300:]}")
    r = subprocess.run(run_as + [pg_ctl, "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60", "-o",
                                 f"-p {port} -k {sock} -h 127.0.0.1", "start"], capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"the PostgreSQL server did not start: {r.stderr.strip()[-300:]}")
    try:
        import psycopg
        with psycopg.connect(f"host=127.0.0.1 port={port} user=grader dbname=postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE gradebook")
        yield f"postgresql+psycopg://grader@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(run_as + [pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _runner(tmp_path, course, name, workers=1):
    """A script that grades `course` as `python -m grader grade` would (parallel.grade)."""
    script = tmp_path / f"run_{name}.py"
    script.write_text("import sys; sys.path.insert(0, %r)\n"
                      "from grader import parallel, workflow\n"
                      "if __name__ == '__main__':\n"
                      "    r = parallel.grade(workflow.Course(%r), [%r], workers=%d, progress=False)\n"
                      "    sys.exit(1 if r['failed'] else 0)\n"
                      % (os.path.dirname(os.path.dirname(os.path.abspath(__file__))), course.root, TINY, workers))
    return script


def _kill_mid_run(script, env, started):
    """Run the grading script and SIGKILL it, its Dask workers and all, once `started()` holds."""
    proc = subprocess.Popen([sys.executable, str(script)], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not started():
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _pg_course(tmp_path, url, name):
    course = tiny_course(tmp_path / name)
    course.env_extra = {**LIMITS, "GRADER_DB_URL": url}
    course.generate([TINY])  # the assignment into the PostgreSQL gradebook
    return course


def test_two_graders_write_one_postgresql_gradebook_at_once(tmp_path, postgres):
    """Two instructors' machines (two course folders) grade different students at the same time
    into one gradebook; every grade arrives."""
    a, b = _pg_course(tmp_path, postgres, "a"), _pg_course(tmp_path, postgres, "b")
    assert a.db_url().startswith("postgresql")
    release, source = a.release_nb(TINY), a.source_nb(TINY)
    wrong = sample_submissions()["wrong_halve"][0].cells
    for i in range(4):
        a.put_submission(f"a{i}", TINY, mutation.build_submission(release, source, {}))
        b.put_submission(f"b{i}", TINY, mutation.build_submission(release, source, wrong))
    procs = [subprocess.Popen([sys.executable, str(_runner(tmp_path, c, name))], env=c.env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for c, name in ((a, "a"), (b, "b"))]  # two graders' processes, at the same time
    for p in procs:
        assert p.wait(timeout=600) == 0, p.stderr.read()[-2000:]
    scores = a.scores(TINY)
    assert scores == b.scores(TINY)  # one gradebook
    assert {s: v for s, v in scores.items()} == {**{f"a{i}": (3.0, 3.0) for i in range(4)},
                                                  **{f"b{i}": (1.0, 3.0) for i in range(4)}}


def test_a_grader_killed_mid_write_leaves_the_postgresql_gradebook_whole(tmp_path, postgres):
    course = _pg_course(tmp_path, postgres, "k")
    expected = class_of(course, 4, slow=True)
    _kill_mid_run(_runner(tmp_path, course, "k"), course.env(), lambda: course.scores(TINY))
    from nbgrader.api import Gradebook
    with Gradebook(course.db_url()) as gb:  # a submission is in the gradebook whole, or not at all
        for sub in gb.find_assignment(TINY).submissions:
            autos = [g.auto_score for nb in sub.notebooks for g in nb.grades]
            assert all(v is not None for v in autos) or all(v is None for v in autos), autos
    report = parallel.grade(course, [TINY], workers=1, progress=False, env=course.env_extra)
    assert report["failed"] == []
    scores = course.scores(TINY)  # the server is shared with the test above: this class only
    assert {s: v for s, v in scores.items() if s in expected} == expected
