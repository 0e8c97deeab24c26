"""nbgrader settings for this course, applied by the repo's nbgrader_config.py."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass

COURSE_ID = "cnn-backprop"
FOLDERS = ("grader/submitted", "grader/autograded", "grader/feedback", "grader/downloaded")
# LMS downloads: "<student>_<notebook>.ipynb", e.g. "alice_ex02_softplus.ipynb"
LMS_FILENAME = r".*/(?P<student_id>[A-Za-z0-9.\-]+)_(?P<file_id>[A-Za-z0-9_\-]+\.ipynb)$"


@dataclass(frozen=True)
class Limits:
    """What one submission may use while it is graded (sandbox.py, runner.py). Each can be set
    with an environment variable GRADER_<NAME in capitals>, e.g. GRADER_CELL_TIMEOUT=30."""
    cell_timeout: int = 60      # seconds one cell may run (interrupted, then killed)
    budget: int = 600           # seconds for the whole submission: every cell, restart and replay
    memory_mb: int = 4096       # all the worker's processes together
    processes: int = 64         # processes (and threads) of the worker at once
    disk_mb: int = 256          # its private /tmp (the working folder)
    output_kb: int = 256        # printed output kept per cell (the rest is cut)
    max_restarts: int = 5       # worker restarts after a crash or a limit
    interrupt_grace: int = 5    # seconds a timed-out cell gets to stop after its interrupt

    @classmethod
    def from_env(cls, env=os.environ) -> "Limits":
        values = {}
        for name in cls.__dataclass_fields__:
            raw = env.get("GRADER_" + name.upper())
            if raw:
                try:
                    values[name] = int(raw)
                except ValueError:
                    raise ValueError(f"GRADER_{name.upper()} must be a whole number, got {raw!r}") from None
        return cls(**values)


LIMITS = Limits.from_env()

# What each assignment asks the student to write, as course_lib's implementations of it
# (module:qualified name). While the assignment is graded they are taken out of the course_lib
# that student code sees (forbidden.py); lectures and the tests keep the real ones.
# course_lib has no sigmoid, tanh or softplus (tests/test_grading_forbidden.py checks that it
# stays so), so ex01 and ex02 have nothing to take out.
FORBIDDEN = {
    "ex01_sigmoid_tanh": [],
    "ex02_softplus": [],
    "ex03_cifar100": [],
    "ex04_pooling": ["course_lib.layers.pooling:MaxPool.backward",
                     "course_lib.layers.pooling:AvePool.backward",
                     "course_lib.layers.naive:maxpool_backward",
                     "course_lib.layers.naive:avepool_backward",
                     # the pooling backwards' own cores: scatter-add to the winners, spread
                     "course_lib.layers.windows:add_at",
                     "course_lib.layers.windows:spread"],
    "ex05_conv_backward": ["course_lib.layers.conv:Conv.backward",
                           "course_lib.layers.naive:conv_backward"],
    # ex06 asks for topologies and a fair experiment built from course_lib's layers and solver;
    # course_lib implements none of it beyond cifar10_quick, which the exercise may call
    "ex06_topologies": [],
}


def db_url(root: str, env=os.environ) -> str:
    """The gradebook: GRADER_DB_URL (e.g. postgresql+psycopg://user@host/db, for several graders
    or hosts) or grader/gradebook.db (sqlite, one writer at a time)."""
    return env.get("GRADER_DB_URL") or "sqlite:///" + os.path.join(root, "grader", "gradebook.db")


def exchange_root(root: str) -> str:
    return os.environ.get("COURSE_EXCHANGE") or os.path.join(root, "grader", "exchange")


def ensure_exchange(path: str) -> None:
    """Create the exchange nbgrader shares with students, world-writable with the sticky bit
    (as /tmp: anyone may submit, nobody may remove another's files), so that Assignment List
    and Formgrader work before the first release. An existing folder is left as it is; one
    that cannot be created is reported by nbgrader when it is used."""
    import stat
    if os.path.isdir(path):
        return
    try:
        os.makedirs(path)
        os.chmod(path, 0o777 | stat.S_ISVTX)
    except OSError:
        pass


def feedback_template_dirs() -> list:
    """nbgrader's templates (feedback/) and ours (templates/feedback_offline/, which extends it)."""
    import nbgrader
    return [os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader", "templates"),
            os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")]


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
    cd.db_url = db_url(root)
    cd.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

    c.Exchange.root = exchange_root(root)
    ensure_exchange(c.Exchange.root)
    c.ExchangeFactory.collect = "grader.exchange.SafeCollect"  # no impersonation, no links
    c.ZipCollectApp.downloaded_directory = "grader/downloaded"
    c.ZipCollectApp.collector_plugin = "nbgrader.plugins.FileNameCollectorPlugin"
    c.FileNameCollectorPlugin.named_regexp = LMS_FILENAME

    # grading (COURSE.md section 7): rebuild from the release; student code and tests in separate processes
    c.Autograde.sanitize_preprocessors = [
        "nbgrader.preprocessors.ClearOutput",
        "nbgrader.preprocessors.DeduplicateIds",
        "grader.preprocessors.RebuildFromRelease",
        "nbgrader.preprocessors.OverwriteKernelspec",
        "nbgrader.preprocessors.OverwriteCells",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
    c.Autograde.autograde_preprocessors = [
        "grader.execute.SplitExecute",
        "nbgrader.preprocessors.IgnorePattern",
        "nbconvert.preprocessors.ClearMetadataPreprocessor",
        "nbgrader.preprocessors.LimitOutput",
        "grader.preprocessors.WarningsAreNotFailures",
        "nbgrader.preprocessors.SaveAutoGrades",
        "nbgrader.preprocessors.AssignLatePenalties",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "grader.preprocessors.SafeFeedback",
        "grader.preprocessors.MathAsMathML",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]
    # feedback renders its math with no network: MathML written at feedback time, no MathJax
    c.GenerateFeedback.exporter_class = "grader.preprocessors.OfflineFeedbackExporter"
    c.OfflineFeedbackExporter.template_name = "feedback_offline"
    c.OfflineFeedbackExporter.extra_template_basedirs = feedback_template_dirs()
    c.OfflineFeedbackExporter.extra_template_paths = feedback_template_dirs()[:1] + [os.path.join(
        feedback_template_dirs()[0], "..", "static", "node_modules", "bootstrap", "dist", "css")]
