"""nbgrader settings for this course, applied by the repo's nbgrader_config.py."""
from __future__ import annotations

import os
import sys

COURSE_ID = "cnn-backprop"
FOLDERS = ("grader/submitted", "grader/autograded", "grader/feedback", "grader/downloaded")
# LMS downloads: "<student>_<notebook>.ipynb", e.g. "alice_ex02_softplus.ipynb"
LMS_FILENAME = r".*/(?P<student_id>[A-Za-z0-9.\-]+)_(?P<file_id>[A-Za-z0-9_\-]+\.ipynb)$"


def exchange_root(root: str) -> str:
    return os.environ.get("COURSE_EXCHANGE") or os.path.join(root, "grader", "exchange")


def configure(c, root: str) -> None:
    """Fill nbgrader's config `c` for the course whose repository root is `root`."""
    root = os.path.abspath(root)
    # nbgrader runs `alembic` from PATH when it creates a gradebook: use the venv's
    bindir = os.path.dirname(sys.executable)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    for folder in FOLDERS:
        os.makedirs(os.path.join(root, folder), exist_ok=True)

    cd = c.CourseDirectory
    cd.root = root
    cd.course_id = COURSE_ID
    cd.source_directory = "solutions"
    cd.release_directory = "exercises"
    cd.submitted_directory = "grader/submitted"
    cd.autograded_directory = "grader/autograded"
    cd.feedback_directory = "grader/feedback"
    cd.solution_directory = "grader/work/solution"
    cd.source_with_tests_directory = "grader/work/source_with_tests"
    cd.db_url = "sqlite:///" + os.path.join(root, "grader", "gradebook.db")
    cd.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

    c.Exchange.root = exchange_root(root)
    c.ZipCollectApp.downloaded_directory = "grader/downloaded"
    c.ZipCollectApp.collector_plugin = "nbgrader.plugins.FileNameCollectorPlugin"
    c.FileNameCollectorPlugin.named_regexp = LMS_FILENAME

    # grading (COURSE.md section 7): rebuild from the release, sandboxed guarded kernels
    c.Autograde.sanitize_preprocessors = [
        "nbgrader.preprocessors.ClearOutput",
        "nbgrader.preprocessors.DeduplicateIds",
        "grader.preprocessors.RebuildFromRelease",
        "nbgrader.preprocessors.OverwriteKernelspec",
        "nbgrader.preprocessors.OverwriteCells",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
    c.Autograde.autograde_preprocessors = [
        "grader.execute.GuardedExecute",
        "nbgrader.preprocessors.IgnorePattern",
        "nbconvert.preprocessors.ClearMetadataPreprocessor",
        "nbgrader.preprocessors.LimitOutput",
        "grader.preprocessors.WarningsAreNotFailures",
        "nbgrader.preprocessors.SaveAutoGrades",
        "nbgrader.preprocessors.AssignLatePenalties",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
    timeout = int(os.environ.get("GRADER_CELL_TIMEOUT", "60"))
    c.GuardedExecute.timeout = timeout
    c.GuardedExecute.ping_timeout = min(10, timeout)
    c.GuardedExecute.kernel_manager_class = "grader.sandbox.SandboxKernelManager"
    c.GuardedExecute.kernel_name = "python3"
    c.GuardedExecute.shutdown_kernel = "immediate"  # nothing to save; no waiting
    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "grader.preprocessors.SafeFeedback",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]
