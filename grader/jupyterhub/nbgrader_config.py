"""nbgrader configuration of the course service (grader/jupyterhub/jupyterhub_config.py).

The service runs `jupyterhub-singleuser` with this folder as its working folder, so nbgrader
(formgrader and everything it runs: generate, release, collect, autograde, feedback) loads this
file, and only this file, from there. It is the course's own configuration (grader/settings.py,
the same as the repository's nbgrader_config.py: SafeCollect, the sandboxed SplitExecute,
SafeFeedback) for the course folder COURSE_ROOT (default: this repository), with two changes:

- formgrader's "Generate" writes into grader/work/release/, as `python -m grader release` does,
  never into exercises/ (where students who cloned the course may be working);
- GRADER_CHECK_OWNER=off tells collect that every student is the same system user (as with
  SimpleLocalProcessSpawner, or containers that all run as uid 1000), so the exchange folder's
  owner cannot tell students apart. Without it collect refuses every submission there: read
  grader/JUPYTERHUB.md before turning it off for a real class.
"""
import os
import sys

c = get_config()  # noqa: F821 (provided by nbgrader)
_repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _repo not in sys.path:
    sys.path.insert(0, _repo)
from grader.settings import configure  # noqa: E402

configure(c, os.environ.get("COURSE_ROOT") or _repo)
c.CourseDirectory.release_directory = os.path.join("grader", "work", "release")
if os.environ.get("GRADER_CHECK_OWNER", "").lower() in ("off", "0", "no", "false"):
    c.ExchangeCollect.check_owner = False
