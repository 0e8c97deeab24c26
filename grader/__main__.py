"""The instructor's grading loop (run from the repository root):

  python -m grader generate [AID...]       exercises/ from solutions/ (and the gradebook)
  python -m grader release  [AID...]       generate, then release to the exchange
  python -m grader collect  [AID...]       collect submissions from the exchange
  python -m grader autograde [AID] [--student S]
  python -m grader feedback [AID] [--release]   feedback HTML (no hidden tests), optionally released
  python -m grader export  [--to FILE] [--format nbgrader|canvas|moodle]
                                           grades as CSV (default grader/work/grades.csv)
  python -m grader grade   [AID...]        collect + autograde + feedback + export
  python -m grader grade-lms AID PATH      LMS downloads (zip or folder of
                                           <student>_<AID>.ipynb) -> autograde, feedback, CSV
  python -m grader mutants [AID...]        score the source, the blank release and each mutant
  python -m grader sandbox                 say whether grading kernels can be sandboxed here
  python -m grader student-copy DEST       the course without solutions/ and grader/, for students

AID defaults to every assignment in solutions/.  Environment: COURSE_EXCHANGE (exchange
folder, default grader/exchange), GRADER_CELL_TIMEOUT (seconds per cell, default 60),
GRADER_<LIMIT> for each limit in grader/settings.py (GRADER_BUDGET, GRADER_MEMORY_MB, ...),
GRADER_SANDBOX=off (grade without bubblewrap: only for code you trust).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from . import sandbox, settings, student_copy, workflow


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m grader", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("aids", nargs="*")
    gen.add_argument("--force", action="store_true",
                     help="overwrite exercises/<aid> even where it holds uncommitted changes")
    for name in ("release", "collect", "mutants"):
        sub.add_parser(name).add_argument("aids", nargs="*")
    g = sub.add_parser("grade")
    g.add_argument("aids", nargs="*")
    g.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS") or 1),
                   help="parallel autograders on this machine (a Dask LocalCluster)")
    g.add_argument("--scheduler", help="a Dask scheduler's address: grade on its workers")
    g.add_argument("--force", action="store_true", help="grade again what is graded already")
    a = sub.add_parser("autograde")
    a.add_argument("aid", nargs="?", default="*")
    a.add_argument("--student")
    f = sub.add_parser("feedback")
    f.add_argument("aid", nargs="?", default="*")
    f.add_argument("--release", action="store_true")
    e = sub.add_parser("export")
    e.add_argument("--to")
    e.add_argument("--format", choices=("nbgrader", "canvas", "moodle"), default="nbgrader",
                   help="nbgrader's CSV, or Canvas's or Moodle's gradebook import CSV")
    z = sub.add_parser("grade-lms")
    z.add_argument("aid")
    z.add_argument("path")
    sub.add_parser("sandbox")
    sc = sub.add_parser("student-copy")
    sc.add_argument("dest")
    sc.add_argument("--exchange", help="the exchange folder students use (default: this course's)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)

    # the course is the current folder when it has an nbgrader_config.py, else this repo
    here = os.getcwd()
    course = workflow.Course(here if os.path.exists(os.path.join(here, "nbgrader_config.py"))
                             else workflow.REPO)
    try:
        return run(course, args)
    except workflow.GradingError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


def run(course: workflow.Course, args) -> int:
    cmd = args.cmd
    if cmd == "sandbox":
        ok, reason = sandbox.probe()
        if ok:
            limiter = sandbox.Limiter(settings.LIMITS)
            limiter.close()
            print(f"sandbox: available (bubblewrap; memory and process limits by {limiter.kind}); "
                  f"limits: {settings.LIMITS}")
        else:
            print("sandbox: NOT available: " + reason)
        return 0 if ok else 1
    if cmd == "student-copy":
        files = student_copy.student_copy(workflow.REPO, args.dest, exchange=args.exchange)
        print(f"{len(files)} files copied to {args.dest} (no solutions/, grader/ or hidden tests); "
              f"its README.md is the students' guide, its nbgrader_config.py names the exchange "
              f"{args.exchange or settings.exchange_root(workflow.REPO)}")
        return 0
    if cmd == "generate":
        done = course.generate(args.aids, force=args.force)
        print(f"generated {len(done)} assignments into {course.path('exercises')} (commit them)")
    elif cmd == "release":
        done = course.release(args.aids)
        print(f"released {len(done)} assignments to {os.path.join(course.exchange_root(), settings.COURSE_ID)} "
              f"({', '.join(done)}); students fetch them from the Assignment List or with "
              f"`nbgrader fetch_assignment <aid>`")
        for aid in course.stale_exercises(done):
            print(f"note: exercises/{aid} differs from what was released (left untouched: students may "
                  f"work there); `python -m grader generate {aid}` updates it, and refuses while it "
                  "holds uncommitted changes", file=sys.stderr)
    elif cmd == "collect":
        _report_refused(course.collect(args.aids))
        for aid, n in course.collected.items():
            print(f"{aid}: collected {n} submissions ({len(course.submitted(aid))} in grader/submitted/)")
    elif cmd == "autograde":
        _timed(course, args.aid, args.student)
    elif cmd == "feedback":
        students = course.feedback(args.aid, release=args.release)
        print(f"feedback for {len(students)} students at {course.path('grader', 'feedback')}"
              + (f", released to {course.exchange_root()} (students fetch it from the Assignment List "
                 "or with `nbgrader fetch_feedback <aid>`)" if args.release else ""))
    elif cmd == "export":
        if args.format == "nbgrader":
            print(f"grades written to {course.export(args.to)}")
        else:
            from . import lms_export
            to = args.to or course.path("grader", "work", f"grades-{args.format}.csv")
            print(f"{args.format} gradebook import written to {lms_export.write(course, args.format, to)}")
    elif cmd == "grade":
        from . import parallel
        aids = course._aids(args.aids)
        _report_refused(course.collect(aids))
        graded = [aid for aid in aids if course.submitted(aid)]
        for aid in sorted(set(aids) - set(graded)):
            print(f"{aid}: no submissions to grade")
        if graded:
            report = parallel.grade(course, graded, workers=args.workers, scheduler=args.scheduler,
                                    force=args.force)
            _print_report(course, graded, report)
        print(f"grades written to {course.export()}")
        return 1 if graded and report["failed"] else 0
    elif cmd == "grade-lms":
        report = course.import_lms(args.aid, args.path)
        print(f"imported {len(report['imported'])} submissions of {args.aid}")
        for name, why in report["skipped"]:
            print(f"SKIPPED {name!r}: {why}", file=sys.stderr)
        if report["imported"]:
            _timed(course, args.aid)
            course.feedback(args.aid)
        print(f"grades written to {course.export()}")
    elif cmd == "mutants":
        return mutants(args.aids)
    return 0


def _timed(course, aid, student=None):
    """Autograde and say what happened: graded, mean score, quarantined, ungraded."""
    t = time.perf_counter()
    r = course.autograde(aid, student)
    for a, who, why in getattr(r, "quarantined", []):
        print(f"QUARANTINED {who}'s {a} (not graded): {why}", file=sys.stderr)
    for a in ([aid] if aid != "*" else course.assignments()):
        scores = [v for k, v in course.scores(a).items() if student in (None, k) and v[0] is not None] \
            if course.submitted(a) else []
        if scores:
            mean = sum(s for s, _ in scores) / len(scores)
            print(f"{a}: graded {len(scores)} submissions in {time.perf_counter() - t:.1f} s, "
                  f"mean score {mean:.2f} of {scores[0][1]:g}")
    for a, who in getattr(r, "failed", []):
        print(f"WARNING: could not grade {who}'s {a} (see the log above); it has no score", file=sys.stderr)


def _print_report(course, aids, report):
    for aid, who, why in report["quarantined"]:
        print(f"QUARANTINED {who}'s {aid} (not graded): {why}", file=sys.stderr)
    n = len(report["graded"])
    if n:
        secs = sorted(t for *_, t in report["graded"])
        print(f"graded {n} submissions in {report['seconds']:.1f} s on {report.get('workers', 1)} "
              f"workers ({60 * n / report['seconds']:.0f} per minute; {secs[len(secs) // 2]:.1f} s each, median)")
    if report["skipped"]:
        print(f"{report['skipped']} already graded (use --force to grade them again)")
    for aid in aids:
        scores = [s for s, _ in course.scores(aid).values() if s is not None]
        if scores:
            print(f"{aid}: {len(scores)} graded, mean score {sum(scores) / len(scores):.2f}")
    for aid, who, why in report["failed"]:
        print(f"FAILED to grade {who}'s {aid}: {why}", file=sys.stderr)


def _report_refused(refused):
    for r in refused:
        print(f"REFUSED {r['student']}'s {r['assignment']}: {r['why']}", file=sys.stderr)


def mutants(aids) -> int:
    """Print the mutation table; non-zero exit when a rule of COURSE.md section 7 fails."""
    import tempfile
    aids = list(aids) or workflow.Course().assignments()
    timeout = int(os.environ.get("GRADER_CELL_TIMEOUT", "20"))
    results, _, seconds = workflow.mutation_suite(aids, tempfile.mkdtemp(prefix="grader-mutants-"),
                                                  jobs=2, timeout=timeout)
    bad = 0
    for aid, rows in results.items():
        print(f"\n{aid}")
        full = rows["source"][1]
        for student, (score, max_score, desc) in rows.items():
            ok = (score == full if student == "source" else
                  score == 0 if student == "blank" else score is not None and score < full)
            bad += not ok
            secs = seconds.get((aid, student), float("nan"))
            print(f"  {'ok ' if ok else 'BAD'} {score}/{max_score} {secs:5.1f}s  {student}: {desc}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
