"""Autograding a class in parallel on Dask, with one writer for the gradebook.

    python -m grader grade --workers 2                    a LocalCluster on this machine
    python -m grader grade --scheduler tcp://host:8786    workers started with `dask worker`

Each task grades ONE submission in a private copy of the course (its own sqlite gradebook, its
own folders) exactly as `nbgrader autograde` does, sandbox and limits included, and returns the
results as data: scores and comments per cell, the autograded notebook and its feedback page.
This process alone writes them into the course: the autograded and feedback files by rename, the
gradebook (sqlite or PostgreSQL, settings.GRADER_DB_URL) one submission per transaction. So no
two processes write the gradebook at once, a killed run leaves nothing half-written, and
running again grades only what is not graded yet (a submission whose autograded copy carries
its timestamp and whose tests all have scores). A task whose worker dies is retried on another
(Dask's allowed failures); a submission that fails is reported and the others go on.
"""
from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
import time
import uuid

from . import exchange


def template(course, aids) -> bytes:
    """The course as a task needs it, as a tar: config, sources, releases and a gradebook
    holding the assignments (a private sqlite one, built here once)."""
    from .workflow import scratch_course
    root = tempfile.mkdtemp(prefix="grader-template-")
    try:
        scratch = scratch_course(aids, repo=course.root, into=os.path.join(root, "course"))
        scratch.env_extra = {"GRADER_DB_URL": ""}
        scratch.generate(aids)  # the gradebook's structure, from the same sources
        for aid in aids:  # and the release the students actually got
            shutil.rmtree(scratch.path("exercises", aid))
            shutil.copytree(course.path("exercises", aid), scratch.path("exercises", aid))
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for name in ("nbgrader_config.py", "solutions", "exercises", os.path.join("grader", "gradebook.db")):
                tar.add(os.path.join(scratch.root, name), arcname=name)
        return buf.getvalue()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _files(folder: str) -> dict:
    out = {}
    for root, _, names in os.walk(folder, followlinks=False):
        for name in names:
            path = os.path.join(root, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as f:
                    out[os.path.relpath(path, folder)] = f.read()
    return out


def grade_one(template_tar: bytes, aid: str, student: str, files: dict, env: dict) -> dict:
    """Autograde one submission in a private course; the results as data (runs on a worker)."""
    from nbgrader.api import Gradebook
    from .workflow import Course
    t0 = time.monotonic()
    root = tempfile.mkdtemp(prefix="grader-task-")
    try:
        with tarfile.open(fileobj=io.BytesIO(template_tar), mode="r:gz") as tar:
            tar.extractall(root, filter="data")
        course = Course(root)
        course.inprocess = True  # one task at a time per worker process (threads_per_worker=1)
        course.env_extra = {**env, "GRADER_DB_URL": ""}
        folder = course.path("grader", "submitted", student, aid)
        os.makedirs(folder)
        for name, data in files.items():
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)
        run = course.autograde(aid, student)
        if run.failed or run.quarantined:
            return {"ok": False, "aid": aid, "student": student,
                    "why": "nbgrader could not grade it (unreadable notebook?)" if run.failed
                    else "quarantined: " + run.quarantined[0][2]}
        course.feedback(aid)
        result = {"ok": True, "aid": aid, "student": student, "notebooks": {}, "host": os.uname().nodename,
                  "autograded": _files(course.path("grader", "autograded", student, aid)),
                  "feedback": _files(course.path("grader", "feedback", student, aid))}
        with Gradebook(course.db_url()) as gb:
            sub = gb.find_submission(aid, student)
            result["timestamp"] = sub.timestamp
            for nb in sub.notebooks:
                result["notebooks"][nb.name] = {
                    "grades": {g.name: g.auto_score for g in nb.grades},
                    "comments": {c.name: c.auto_comment for c in nb.comments},
                    "penalty": nb.late_submission_penalty}
        result["seconds"] = time.monotonic() - t0
        import nbformat
        for name, data in result["autograded"].items():
            if name.endswith(".ipynb"):
                meta = nbformat.reads(data.decode("utf-8"), as_version=4).metadata.get("grader", {})
                result.setdefault("stats", {}).update({k: result.get("stats", {}).get(k, 0) + v
                                                       for k, v in meta.items()})
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _replace_folder(dest: str, files: dict) -> None:
    """dest holds exactly `files`, swapped in by rename (the old copy removed after)."""
    tmp = dest + ".new-" + uuid.uuid4().hex[:8]
    os.makedirs(tmp)
    for name, data in files.items():
        path = os.path.join(tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    old = None
    if os.path.exists(dest):
        old = dest + ".old-" + uuid.uuid4().hex[:8]
        os.rename(dest, old)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    os.rename(tmp, dest)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def write_result(course, res: dict, attempts: int = 5) -> None:
    """The one writer: the gradebook first (one transaction, retried if another grader holds a
    lock), then the autograded and feedback folders by rename."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import DBAPIError, IntegrityError
    aid, student = res["aid"], res["student"]
    for attempt in range(attempts):
        try:
            with Gradebook(course.db_url()) as gb:
                gb.update_or_create_student(student)
                sub = gb.update_or_create_submission(aid, student, timestamp=res["timestamp"])
                for nb in sub.notebooks:
                    got = res["notebooks"].get(nb.name, {"grades": {}, "comments": {}, "penalty": 0})
                    for g in nb.grades:
                        g.auto_score = got["grades"].get(g.name)
                        g.needs_manual_grade = g.manual_score is not None or g.auto_score is None
                    for c in nb.comments:
                        c.auto_comment = got["comments"].get(c.name)
                    nb.late_submission_penalty = got["penalty"]
                gb.db.commit()
            break
        except (IntegrityError, DBAPIError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    _replace_folder(course.path("grader", "autograded", student, aid), res["autograded"])
    _replace_folder(course.path("grader", "feedback", student, aid), res["feedback"])


def is_graded(course, aid: str, student: str) -> bool:
    """Graded already: the autograded copy has this submission's timestamp and the gradebook a
    score for each test."""
    stamp = "timestamp.txt"
    sub = course.path("grader", "submitted", student, aid, stamp)
    done = course.path("grader", "autograded", student, aid, stamp)
    if not (os.path.exists(done) and os.path.exists(sub)):
        return False
    with open(sub, "rb") as a, open(done, "rb") as b:
        if a.read() != b.read():
            return False
    return student not in course.ungraded(aid)


def grade(course, aids, workers: int = 2, scheduler: str | None = None, force: bool = False,
          progress: bool = True, env: dict | None = None) -> dict:
    """Grade every submission of `aids` that is not graded yet; returns a report:
    {"graded": [(aid, student, seconds)], "failed": [(aid, student, why)], "skipped": n,
     "quarantined": [(aid, student, why)], "seconds": wall time, "workers": n}."""
    from dask.distributed import Client, LocalCluster, as_completed
    from tqdm.auto import tqdm
    t0 = time.monotonic()
    report = {"graded": [], "failed": [], "skipped": 0, "quarantined": [], "seconds": 0.0}
    for aid in aids:
        report["quarantined"] += [(aid, s, why) for s, why in exchange.quarantine(course.root, aid)]
    todo = []
    for aid in aids:
        for student in course.submitted(aid):
            if not force and is_graded(course, aid, student):
                report["skipped"] += 1
            else:
                todo.append((aid, student))
    if not todo:
        report["seconds"] = time.monotonic() - t0
        return report
    env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k.startswith("GRADER_")}
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        # loopback only, a free port for the dashboard; one task at a time per process,
        # because a task runs nbgrader in-process (it changes the working folder)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=40)
        client = Client(cluster)
    try:
        report["workers"] = len(client.scheduler_info()["workers"])
        tar = client.scatter(template(course, aids), broadcast=True)
        futures = {}
        for aid, student in todo:
            folder = course.path("grader", "submitted", student, aid)
            fut = client.submit(grade_one, tar, aid, student, _files(folder), env,
                                key=f"grade-{aid}-{student}-{uuid.uuid4().hex[:6]}", pure=False)
            futures[fut] = (aid, student)
        bar = tqdm(total=len(futures), disable=not progress, unit="submission", desc="grading")
        for fut in as_completed(futures):
            aid, student = futures[fut]
            try:
                res = fut.result()
            except Exception as e:  # noqa: BLE001 - a task that failed for good (worker died N times, ...)
                report["failed"].append((aid, student, f"{type(e).__name__}: {str(e)[:200]}"))
            else:
                if res["ok"]:
                    write_result(course, res)
                    report["graded"].append((aid, student, res["seconds"]))
                    report.setdefault("stats", []).append((aid, student, res.get("stats", {})))
                else:
                    report["failed"].append((aid, student, res["why"]))
            bar.update(1)
            bar.set_postfix(done=len(report["graded"]), failed=len(report["failed"]),
                            left=len(futures) - len(report["graded"]) - len(report["failed"]))
        bar.close()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    report["seconds"] = time.monotonic() - t0
    return report
