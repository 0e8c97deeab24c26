"""Taking submissions in without following a student anywhere (COURSE.md section 7).

Everything a student hands in reaches grader/submitted/ as regular files written by the grader:
- `SafeCollect` (nbgrader's collect, configured in settings.py) refuses a submission in the
  exchange whose folder is not owned by the student it names (impersonation), or that holds a
  symbolic link, a hard link or a special file; it copies regular files only, never following a
  link. Refusals are errors in the log and lines in grader/work/refused.jsonl.
- `safe_files` checks any folder the same way; `quarantine` moves a submitted/ folder that
  holds anything but regular files out of the way before grading (a link put there by hand).
- LMS downloads are read by workflow.Course.import_lms, which writes each notebook itself.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat

from nbgrader.exchange.default.collect import ExchangeCollect

try:
    import pwd
except ImportError:  # pragma: no cover - not on Windows
    pwd = None


def unsafe_entries(folder: str) -> list[str]:
    """What in `folder` is not a plain folder or a regular file with one link, as
    "<relative path>: <why>" (the folder itself included)."""
    problems = []
    try:
        st = os.lstat(folder)
    except OSError as e:
        return [f".: cannot be read ({e.strerror})"]
    if stat.S_ISLNK(st.st_mode):
        return [".: is a symbolic link"]
    if not stat.S_ISDIR(st.st_mode):
        return [".: is not a folder"]
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                problems.append(f"{rel}: is a symbolic link")
            elif stat.S_ISREG(st.st_mode):
                if st.st_nlink > 1:
                    problems.append(f"{rel}: is a hard link (the file has {st.st_nlink} names)")
            elif not stat.S_ISDIR(st.st_mode):
                problems.append(f"{rel}: is not a regular file")
    return problems


def copy_regular(src: str, dest: str, ignore=()) -> None:
    """Copy the regular files under src into the new folder dest, opening each without
    following links (so a file swapped for a link meanwhile is refused, not followed);
    names matching a pattern of `ignore` are left out."""
    import fnmatch
    os.makedirs(dest)
    for root, dirs, files in os.walk(src, followlinks=False):
        rel = os.path.relpath(root, src)
        dirs[:] = [d for d in dirs if not any(fnmatch.fnmatch(d, p) for p in ignore)]
        for name in dirs:
            os.makedirs(os.path.join(dest, rel, name), exist_ok=True)
        for name in files:
            if any(fnmatch.fnmatch(name, p) for p in ignore):
                continue
            fd = os.open(os.path.join(root, name), os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as fin:
                if not stat.S_ISREG(os.fstat(fin.fileno()).st_mode):
                    raise OSError(f"{name} is not a regular file")
                out = os.open(os.path.join(dest, rel, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
                with os.fdopen(out, "wb") as fout:
                    shutil.copyfileobj(fin, fout)


def record_refusal(root: str, student: str, assignment: str, why: str) -> None:
    path = os.path.join(root, "grader", "work", "refused.jsonl")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"time": dt.datetime.now(dt.timezone.utc).isoformat(), "student": student,
                            "assignment": assignment, "why": why}) + "\n")


def read_refusals(root: str) -> list[dict]:
    path = os.path.join(root, "grader", "work", "refused.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def quarantine(root: str, aid: str) -> list[tuple[str, str]]:
    """Move grader/submitted/<student>/<aid> folders holding anything but regular files to
    grader/quarantine/; [(student, why)]."""
    moved = []
    base = os.path.join(root, "grader", "submitted")
    if not os.path.isdir(base):
        return moved
    for student in sorted(os.listdir(base)):
        folder = os.path.join(base, student, aid)
        if not os.path.lexists(folder):
            continue
        problems = unsafe_entries(folder)
        if problems:
            stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
            dest = os.path.join(root, "grader", "quarantine", student, f"{aid}-{stamp}")
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            os.rename(folder, dest)
            why = "; ".join(problems[:5])
            record_refusal(root, student, aid, "quarantined before grading: " + why)
            moved.append((student, why))
    return moved


class SafeCollect(ExchangeCollect):
    """nbgrader's collect, refusing impersonation and links (see the module docstring)."""

    def copy_files(self):
        kept = []
        for rec in self.src_records:
            student, path = rec["username"], os.path.join(self.inbound_path, rec["filename"])
            why = self.problem(student, path)
            if why:
                self.log.error("Refused the submission %s of '%s': %s", rec["filename"], student, why)
                record_refusal(self.coursedir.root, student, self.coursedir.assignment_id, why)
            else:
                kept.append(rec)
        self.src_records = kept
        owner_check, self.check_owner = self.check_owner, False  # done above, as a refusal
        try:
            super().copy_files()
        finally:
            self.check_owner = owner_check

    def problem(self, student: str, path: str) -> str | None:
        problems = unsafe_entries(path)
        if problems:
            return "; ".join(problems[:5])
        if self.check_owner and pwd is not None:
            uid = os.lstat(path).st_uid
            try:
                owner = pwd.getpwuid(uid).pw_name
            except KeyError:
                owner = f"uid {uid}"
            if owner != student:
                return (f"the folder is owned by '{owner}', not by '{student}' (a submission in "
                        "someone else's name); set ExchangeCollect.check_owner=False only where "
                        "every student is the same system user")
        return None

    def do_copy(self, src, dest, log=None):
        if self.get_size(src) > 1000 * self.coursedir.max_dir_size:
            raise RuntimeError(f"{src}: the submission is larger than {self.coursedir.max_dir_size} kB")
        copy_regular(src, dest, ignore=self.coursedir.ignore)
