"""nbgrader configuration (COURSE.md section 2): the course root is this folder.

solutions/ holds the source notebooks, exercises/ the released ones; submissions,
autograded notebooks, feedback and the gradebook live under grader/ (git-ignored).
The exchange defaults to grader/exchange; set COURSE_EXCHANGE to share another one.
Everything is set in grader/settings.py; the grading workflow is `python -m grader`.
"""
import os
import sys

c = get_config()  # noqa: F821 (provided by nbgrader)
_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)
from grader.settings import configure  # noqa: E402

configure(c, _here)
