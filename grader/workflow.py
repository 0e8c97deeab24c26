"""The instructor's loop on one course folder: nbgrader commands, run from its root."""
from __future__ import annotations

import datetime as dt
import glob
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile

import nbformat

from . import exchange, mutation, settings

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class GradingError(RuntimeError):
    pass


class Course:
    """A course folder laid out as in COURSE.md section 2 (the repo, or a copy)."""

    def __init__(self, root: str = REPO, exchange: str | None = None, timeout: int | None = None):
        self.root = os.path.abspath(root)
        self.exchange = exchange
        self.timeout = timeout  # per-cell, seconds (default: nbgrader_config's)
        self.env_extra: dict = {}  # more environment for nbgrader (e.g. GRADER_SANDBOX=off)
        # run nbgrader inside this process (saves its start-up, seconds a call);
        # not thread-safe: it changes the working folder and the environment
        self.inprocess = False

    # -- plumbing -----------------------------------------------------------------
    def env(self, **extra) -> dict:
        env = dict(os.environ)
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        if self.exchange:
            env["COURSE_EXCHANGE"] = self.exchange
        if self.timeout:
            env["GRADER_CELL_TIMEOUT"] = str(self.timeout)
        env.update(self.env_extra)
        env.update(extra)
        return env

    def nbgrader(self, *args, cwd=None, env=None, check=True) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "nbgrader", *args]
        if self.inprocess:
            r = _run_inprocess(cmd, cwd or self.root, env or self.env())
        else:
            r = subprocess.run(cmd, cwd=cwd or self.root, env=env or self.env(),
                               capture_output=True, text=True)
        if check and r.returncode != 0:
            raise GradingError(f"`nbgrader {' '.join(args)}` failed ({r.returncode}):\n"
                               f"{r.stdout[-3000:]}\n{r.stderr[-6000:]}")
        return r

    def path(self, *parts) -> str:
        return os.path.join(self.root, *parts)

    def assignments(self) -> list[str]:
        """Assignment ids present in solutions/ (folder with a same-named notebook)."""
        found = glob.glob(self.path("solutions", "*", "*.ipynb"))
        return sorted({os.path.basename(os.path.dirname(p)) for p in found
                       if os.path.basename(p) == os.path.basename(os.path.dirname(p)) + ".ipynb"})

    def _aids(self, aids) -> list[str]:
        aids = list(aids or self.assignments())
        missing = [a for a in aids if not os.path.exists(self.path("solutions", a, a + ".ipynb"))]
        if missing:
            raise GradingError(f"no source notebook solutions/<aid>/<aid>.ipynb for {missing}; "
                               f"assignments here: {self.assignments()}")
        return aids

    # -- instructor commands --------------------------------------------------------
    RELEASE_STAGE = os.path.join("grader", "work", "release")  # where `release` generates

    def generate(self, aids=None, force: bool = False) -> list[str]:
        """Regenerate exercises/<aid>/ from solutions/<aid>/ (and the gradebook entry).

        exercises/ is where students who clone the course work, so a folder with changes that
        git has not committed (an answer typed into it, say) is never overwritten: the call
        refuses, naming the files, unless `force`. Returns the assignments generated."""
        aids = self._aids(aids)
        if not force:
            changed = {aid: self.uncommitted(os.path.join("exercises", aid)) for aid in aids}
            changed = {aid: files for aid, files in changed.items() if files}
            if changed:
                lines = "\n".join(f"  {f}" for files in changed.values() for f in files)
                raise GradingError(
                    "not regenerating exercises/: it holds changes git has not committed "
                    f"(a student's answers?):\n{lines}\nCommit or move them away, then run again; "
                    "`python -m grader generate --force` overwrites them.")
        if len(aids) == len(self.assignments()):
            self.nbgrader("generate_assignment", "--CourseDirectory.assignment_id=*", "--force")
        else:
            for aid in aids:
                self.nbgrader("generate_assignment", aid, "--force")
        return aids

    def uncommitted(self, rel: str) -> list[str]:
        """Files under `rel` that differ from git's last commit (modified, deleted or new and
        not ignored); [] outside a git work tree."""
        if not os.path.exists(self.path(rel)):
            return []
        r = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", rel],
                           cwd=self.root, capture_output=True, text=True)
        if r.returncode != 0:  # not a git work tree (a scratch course): nothing to protect
            return []
        return [line[3:] for line in r.stdout.splitlines() if line.strip()]

    def release(self, aids=None) -> list[str]:
        """Generate each assignment into grader/work/release/ (never into exercises/, where
        students may be working) and release that to the exchange. Returns the assignments
        released; exercises/ is left as it is (see `stale_exercises`)."""
        aids = self._aids(aids)
        stage = ["--CourseDirectory.release_directory=" + self.RELEASE_STAGE]
        for aid in aids:
            self.nbgrader("generate_assignment", aid, "--force", *stage)
            self.nbgrader("release_assignment", aid, "--force", *stage)
        return aids

    def stale_exercises(self, aids) -> list[str]:
        """Assignments whose exercises/<aid> notebook differs (outputs aside) from what
        `release` generated into grader/work/release/."""
        out = []
        for aid in aids:
            staged = self.path(self.RELEASE_STAGE, aid, aid + ".ipynb")
            here = self.path("exercises", aid, aid + ".ipynb")
            if os.path.exists(staged) and (not os.path.exists(here) or
                                           normalized(mutation.read(here)) != normalized(mutation.read(staged))):
                out.append(aid)
        return out

    def exchange_root(self) -> str:
        return self.exchange or settings.exchange_root(self.root)

    def collect(self, aids=None, *extra) -> list[dict]:
        """Collect from the exchange; the submissions refused meanwhile (exchange.SafeCollect).
        `self.collected` counts, per assignment, the submissions nbgrader copied in."""
        before = len(exchange.read_refusals(self.root))
        self.collected = {}
        if not os.path.isdir(os.path.join(self.exchange_root(), settings.COURSE_ID, "inbound")):
            return []  # nothing released through the exchange yet: nothing to collect
        if os.environ.get("GRADER_CHECK_OWNER", "").lower() in ("off", "0", "no", "false"):
            # every student is the same system user here (a single-user test, some containers):
            # the instructor says so explicitly (grader/README.md, "Students fetch and submit")
            extra = ("--ExchangeCollect.check_owner=False", *extra)
        for aid in self._aids(aids):
            r = self.nbgrader("collect", aid, "--update", *extra)
            self.collected[aid] = sum("Collecting submission" in line for line in (r.stderr + r.stdout).splitlines())
        return exchange.read_refusals(self.root)[before:]

    def autograde(self, aid: str = "*", student: str | None = None) -> subprocess.CompletedProcess:
        args = ["autograde", f"--CourseDirectory.assignment_id={aid}", "--force",
                "--Application.log_format=%(asctime)s.%(msecs)03d %(levelname)s %(message)s",
                "--Application.log_datefmt=%Y-%m-%dT%H:%M:%S"]
        if student:
            args.append(f"--CourseDirectory.student_id={student}")
        aids = self.assignments() if aid == "*" else [aid]
        quarantined = [(a, s, why) for a in aids for s, why in exchange.quarantine(self.root, a)]
        r = self.nbgrader(*args, check=False)
        r.quarantined = quarantined
        # nbgrader goes on after a submission it cannot process (unreadable notebook, say) and
        # fails at the end: name those from the gradebook (never from log text, which student
        # code could imitate), and fail only if nothing else went wrong
        r.failed = [(a, s) for a in aids for s in self.ungraded(a) if student in (None, s)]
        if r.returncode != 0 and not r.failed:
            raise GradingError(f"`nbgrader autograde` failed ({r.returncode}):\n{r.stderr[-6000:]}")
        return r

    def submitted(self, aid: str) -> list[str]:
        """Students with a submission of `aid` in grader/submitted/."""
        folder = self.path("grader", "submitted")
        return sorted(s for s in os.listdir(folder) if os.path.isdir(os.path.join(folder, s, aid))) \
            if os.path.isdir(folder) else []

    def ungraded(self, aid: str) -> list[str]:
        """Students with a submission of `aid` that has no autograded result: no autograded
        notebook, or a test without a score in the gradebook."""
        from nbgrader.api import Gradebook, MissingEntry
        students = self.submitted(aid)
        out = []
        with Gradebook(self.db_url()) as gb:
            for s in students:
                if not os.path.exists(self.path("grader", "autograded", s, aid)):
                    out.append(s)
                    continue
                try:
                    sub = gb.find_submission(aid, s)
                except MissingEntry:
                    out.append(s)
                    continue
                if any(g.auto_score is None and g.cell.cell_type == "code" for nb in sub.notebooks for g in nb.grades):
                    out.append(s)
        return out

    def db_url(self) -> str:
        return settings.db_url(self.root, self.env())

    @staticmethod
    def autograde_seconds(log: str) -> dict:
        """(aid, student) -> seconds spent on that submission, from an autograde log."""
        pat = re.compile(r"^(\S+T\S+) \w+ (Sanitizing \S+/submitted/([^/]+)/([^/]+)/|Setting destination)")
        out, current = {}, None
        for line in log.splitlines():
            m = pat.match(line)
            if not m:
                continue
            t = dt.datetime.fromisoformat(m.group(1))
            if m.group(3):
                current = (m.group(4), m.group(3)), t
            elif current:
                out[current[0]] = (t - current[1]).total_seconds()
                current = None
        return out

    def feedback(self, aid: str = "*", release: bool = False) -> list[str]:
        """Feedback HTML for every graded submission (optionally released to the exchange);
        returns the students who have feedback."""
        aids = self.assignments() if aid == "*" else [aid]
        graded = [a for a in aids if os.path.isdir(self.path("grader", "autograded")) and
                  any(os.path.isdir(self.path("grader", "autograded", s, a))
                      for s in os.listdir(self.path("grader", "autograded")))]
        if not graded:
            raise GradingError(f"no graded submission of {'any assignment' if aid == '*' else aid} yet: "
                               "run `make grade` (collect and autograde) first")
        self.nbgrader("generate_feedback", f"--CourseDirectory.assignment_id={aid}", "--force")
        if release:
            self.nbgrader("release_feedback", f"--CourseDirectory.assignment_id={aid}")
        folder = self.path("grader", "feedback")
        return sorted(s for s in os.listdir(folder)
                      if any(os.path.isdir(os.path.join(folder, s, a)) for a in aids))

    def export(self, to: str | None = None) -> str:
        to = os.path.abspath(to or self.path("grader", "work", "grades.csv"))
        os.makedirs(os.path.dirname(to), exist_ok=True)
        self.nbgrader("export", f"--to={to}")
        return to

    def import_lms(self, aid: str, source: str) -> dict:
        """LMS downloads (a zip, or a folder of `<student>_<aid>.ipynb` files or of
        `<student>/<aid>.ipynb`) -> grader/submitted/ through nbgrader's zip_collect.

        Each notebook is read and written again by the grader as a regular file: entries with
        an absolute path or `..`, links, other files and names that give no student id are
        skipped; a student named twice is skipped (and reported), the others go on.
        Returns {"imported": [students], "skipped": [(entry, why)]}."""
        archive = self.path("grader", "downloaded", aid, "archive")
        shutil.rmtree(os.path.dirname(archive), ignore_errors=True)
        os.makedirs(archive)
        entries = list(_lms_entries(source))  # (name, bytes or None, why)
        pattern = re.compile(settings.LMS_FILENAME)
        found: dict = {}
        skipped = []
        for name, data, why in entries:
            if why:
                skipped.append((name, why))
                continue
            if "/" in name:  # <student>/<aid>.ipynb
                student, file = name.split("/")
                m = pattern.match(f"/{student}_{file}")
            else:  # <student>_<aid>.ipynb
                m = pattern.match("/" + name)
            if not m or m.group("file_id") != aid + ".ipynb":
                skipped.append((name, f"not named <student>_{aid}.ipynb or <student>/{aid}.ipynb"))
                continue
            found.setdefault(m.group("student_id"), []).append((name, data))
        imported = []
        for student, items in sorted(found.items()):
            if len(items) > 1:
                skipped.append((student, f"named by {len(items)} entries ({', '.join(n for n, _ in items)}): "
                                          "which is the submission? none was taken"))
                continue
            try:
                nbformat.reads(items[0][1].decode("utf-8"), as_version=nbformat.NO_CONVERT)
            except Exception as e:  # noqa: BLE001 - any unreadable notebook
                skipped.append((items[0][0], f"not a readable notebook ({type(e).__name__})"))
                continue
            fd = os.open(os.path.join(archive, f"{student}_{aid}.ipynb"),
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(items[0][1])
            imported.append(student)
        if imported:
            self.nbgrader("zip_collect", aid, "--force")
        return {"imported": imported, "skipped": skipped}

    # -- submissions without the exchange (tests, mutants) ---------------------------
    def put_submission(self, student: str, aid: str, nb, when: dt.datetime | None = None) -> str:
        folder = self.path("grader", "submitted", student, aid)
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        nbformat.write(nb, os.path.join(folder, aid + ".ipynb"))
        when = when or dt.datetime.now(dt.timezone.utc)
        with open(os.path.join(folder, "timestamp.txt"), "w") as f:
            f.write(when.strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
        return folder

    def release_nb(self, aid: str):
        return mutation.read(self.path("exercises", aid, aid + ".ipynb"))

    def source_nb(self, aid: str):
        return mutation.read(self.path("solutions", aid, aid + ".ipynb"))

    # -- results -------------------------------------------------------------------------
    def scores(self, aid: str, automatic: bool = False) -> dict:
        """student -> (score, max_score) from the gradebook; with `automatic`, only the points the
        tests decide (nbgrader's code score), without written answers graded by hand."""
        from nbgrader.api import Gradebook
        with Gradebook(self.db_url()) as gb:
            return {s.student.id: (s.code_score, s.max_code_score) if automatic else (s.score, s.max_score)
                    for s in gb.find_assignment(aid).submissions}

    def test_results(self, student: str, aid: str) -> dict:
        """grade_id -> (auto_score, max_score) for every test of a graded submission."""
        from nbgrader.api import Gradebook
        with Gradebook(self.db_url()) as gb:
            nb = gb.find_submission_notebook(aid, aid, student)
            return {g.name: (g.auto_score, g.max_score) for g in nb.grades}

    def autograded_nb(self, student: str, aid: str):
        return mutation.read(self.path("grader", "autograded", student, aid, aid + ".ipynb"))

    def feedback_html(self, student: str, aid: str) -> str:
        with open(self.path("grader", "feedback", student, aid, aid + ".html"), encoding="utf-8") as f:
            return f.read()


LMS_MAX_BYTES = 50 * 1024 * 1024  # one notebook


def _lms_entries(source: str):
    """(relative name, content, None) for each candidate notebook of an LMS download, or
    (name, None, why) for what is refused. Reads the zip itself: nothing is extracted."""
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as z:
            for info in z.infolist():
                name = info.filename
                if info.is_dir():
                    continue
                parts = name.split("/")
                if name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts) or len(parts) > 2:
                    yield name, None, "a path outside the download (absolute, '..' or nested)"
                    continue
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    yield name, None, "a symbolic link"
                    continue
                if not name.endswith(".ipynb"):
                    yield name, None, "not a notebook"
                    continue
                if info.file_size > LMS_MAX_BYTES:
                    yield name, None, f"larger than {LMS_MAX_BYTES >> 20} MB"
                    continue
                yield name, z.read(info), None
    elif os.path.isdir(source):
        for root, dirs, files in os.walk(source, followlinks=False):
            dirs[:] = [d for d in dirs if d != ".ipynb_checkpoints"]
            for f in files:
                path = os.path.join(root, f)
                rel = os.path.relpath(path, source).replace(os.sep, "/")
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
                    yield rel, None, "a link or not a regular file"
                elif st.st_nlink > 1:
                    yield rel, None, "a hard link"
                elif not f.endswith(".ipynb"):
                    continue
                elif rel.count("/") > 1:
                    yield rel, None, "nested deeper than <student>/<notebook>"
                elif st.st_size > LMS_MAX_BYTES:
                    yield rel, None, f"larger than {LMS_MAX_BYTES >> 20} MB"
                else:
                    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
                    with os.fdopen(fd, "rb") as fh:
                        yield rel, fh.read(), None
    else:
        raise GradingError(f"{source} is neither a zip file nor a folder")


def _run_inprocess(cmd, cwd, env) -> subprocess.CompletedProcess:
    """`nbgrader ...` as NbGraderApp in this process, with cwd and env swapped in."""
    import contextlib
    import io
    from jupyter_core.application import NoStart
    from nbgrader.apps.nbgraderapp import NbGraderApp
    old_cwd, old_env, old_path = os.getcwd(), dict(os.environ), list(sys.path)
    out, err = io.StringIO(), io.StringIO()
    code = 0
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            NbGraderApp.clear_instance()
            app = NbGraderApp.instance()
            try:
                app.initialize(cmd[3:])
                app.start()
            except NoStart:  # how a finished subcommand ends
                pass
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (1 if e.code else 0)
            finally:
                if getattr(app, "subapp", None) is not None:
                    type(app.subapp).clear_instance()
                NbGraderApp.clear_instance()
    finally:
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(old_env)
        sys.path[:] = old_path
    return subprocess.CompletedProcess(cmd, code, out.getvalue(), err.getvalue())


def scratch_course(aids, repo: str = REPO, into: str | None = None, extra_sources=()) -> Course:
    """A throw-away copy of the course (config, sources, releases) to grade in.
    `extra_sources`: (aid, source folder) pairs added to solutions/."""
    root = into or tempfile.mkdtemp(prefix="grader-course-")
    os.makedirs(root, exist_ok=True)
    shutil.copy(os.path.join(repo, "nbgrader_config.py"), root)
    for aid in aids:
        shutil.copytree(os.path.join(repo, "solutions", aid), os.path.join(root, "solutions", aid))
    for aid, folder in extra_sources:
        shutil.copytree(folder, os.path.join(root, "solutions", aid))
    course = Course(root, exchange=os.path.join(root, "exchange"))
    return course


def mutation_plan(course: Course, aids) -> dict:
    """{aid: {student: (notebook, description)}}: per assignment the instructor's source,
    the blank release and every mutant of grader/mutants/<aid>/, as submissions."""
    plan = {}
    for aid in aids:
        release, source = course.release_nb(aid), course.source_nb(aid)
        plan[aid] = {"source": (mutation.build_submission(release, source, {}), "instructor's solution"),
                     "blank": (mutation.build_submission(release, source, None), "blank release")}
        for m in mutation.load_mutants(os.path.join(REPO, "grader", "mutants", aid)):
            nb = mutation.build_submission(release, source, m.cells, name=f"{aid}/{m.name}")
            plan[aid]["mutant-" + m.name.replace("_", "-")] = (nb, m.description)
    return plan


def mutation_suite(aids, root: str, jobs: int = 2, timeout: int = 20, feedback: bool = False):
    """Autograde, per assignment, the source, the blank release and every mutant: all of
    them students of one `nbgrader autograde` call per job; the submissions are dealt
    round-robin to `jobs` copies of one generated course (separate gradebooks, no
    locking) graded in parallel.  `timeout` (per cell) keeps runaway mutants cheap.
    Returns ({aid: {student: (automatic score, its maximum, description)}},
             {(aid, student): Course that graded it}, {(aid, student): seconds})."""
    from concurrent.futures import ThreadPoolExecutor
    base = scratch_course(aids, into=os.path.join(root, "course0"))
    base.timeout = timeout
    base.generate()
    plan = mutation_plan(base, aids)
    items = sorted((aid, student) for aid in plan for student in plan[aid])
    jobs = max(1, min(jobs, len(items)))
    courses = [base]
    for i in range(1, jobs):
        shutil.copytree(base.root, os.path.join(root, f"course{i}"))
        courses.append(Course(os.path.join(root, f"course{i}"),
                              exchange=os.path.join(root, f"course{i}", "exchange"), timeout=timeout))
    where = {}
    for k, (aid, student) in enumerate(items):
        where[aid, student] = courses[k % jobs]
        where[aid, student].put_submission(student, aid, plan[aid][student][0])

    def grade(course):
        log = course.autograde("*").stderr
        if feedback:
            course.feedback("*")
        return Course.autograde_seconds(log)

    seconds = {}
    with ThreadPoolExecutor(jobs) as pool:
        for secs in pool.map(grade, courses):
            seconds.update(secs)
    scores = {id(c): {aid: c.scores(aid, automatic=True) for aid in aids} for c in courses}
    results = {aid: {} for aid in aids}
    for (aid, student), course in where.items():
        score, max_score = scores[id(course)][aid].get(student, (None, None))
        results[aid][student] = (score, max_score, plan[aid][student][1])
    return results, where, seconds


def normalized(nb) -> dict:
    """A notebook as plain data without what regeneration may change (outputs, counts,
    cell ids, execution metadata), for comparing a committed release with a fresh one."""
    d = json.loads(nbformat.writes(nb))
    for cell in d["cells"]:
        cell.pop("id", None)
        cell.get("metadata", {}).pop("execution", None)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    d["metadata"].pop("widgets", None)
    return d
