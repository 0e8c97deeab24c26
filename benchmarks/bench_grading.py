"""Grading a class end to end: N students x the five assignments, with 1 and with 2 Dask workers
on this machine (issue 9). Not a test: run `python benchmarks/bench_grading.py --students 200`.

The class is a realistic mix per assignment: 60% hand in the instructor's solution, 25% a known
wrong answer (a random mutant of grader/mutants/), 15% the blank release. Each run grades a
fresh copy of the same class with `parallel.grade` (collect is skipped: the submissions are put
in grader/submitted/ directly). Reported: submissions per minute, seconds per submission split
into the grader's own start (nbgrader, private course, feedback), the student worker's starts
and replays, and the tests; the peak resident memory of the whole process tree; and how many
such machines would grade 1,000 students x 5 assignments in 10 minutes.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from grader import mutation, parallel, sandbox, workflow  # noqa: E402

AIDS = ["ex01_sigmoid_tanh", "ex02_softplus", "ex03_cifar100", "ex04_pooling", "ex05_conv_backward"]


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def make_class(course, students: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    kinds = {}
    for aid in AIDS:
        release, source = course.release_nb(aid), course.source_nb(aid)
        mutants = mutation.load_mutants(os.path.join(workflow.REPO, "grader", "mutants", aid))
        for i in range(students):
            r = rng.random()
            if r < 0.60:
                nb, kind = mutation.build_submission(release, source, {}), "right"
            elif r < 0.85:
                nb, kind = mutation.build_submission(release, source, rng.choice(mutants).cells), "wrong"
            else:
                nb, kind = mutation.build_submission(release, source, None), "blank"
            course.put_submission(f"st{i:04d}", aid, nb)
            kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


class PeakMemory:
    """Peak resident memory of this process and all its descendants, sampled every 0.5 s."""

    def __init__(self):
        self.peak, self._stop = 0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(sandbox._rss(p) for p in sandbox._tree(os.getpid())))
            self._stop.wait(0.5)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def run(template_root: str, workers: int) -> dict:
    root = tempfile.mkdtemp(prefix=f"bench-grading-{workers}-")
    shutil.rmtree(root)
    shutil.copytree(template_root, root)
    course = workflow.Course(root)
    with PeakMemory() as mem:
        report = parallel.grade(course, AIDS, workers=workers, progress=True)
    report["peak_mb"] = mem.peak / 2**20
    shutil.rmtree(root, ignore_errors=True)
    return report


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, default=200)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = p.parse_args()
    base = tempfile.mkdtemp(prefix="bench-grading-class-")
    course = workflow.scratch_course(AIDS, into=os.path.join(base, "course"))
    course.generate(AIDS)
    kinds = make_class(course, args.students)
    n = args.students * len(AIDS)
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; {args.students} students x {len(AIDS)} assignments "
          f"= {n} submissions ({kinds}); OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
    rows = []
    for workers in args.workers:
        r = run(course.root, workers)
        graded = len(r["graded"])
        per_min = 60 * graded / r["seconds"]
        secs = [t for *_, t in r["graded"]]
        stats = [s for *_, s in r.get("stats", [])]
        mean = lambda key: statistics.mean(s.get(key, 0.0) for s in stats) if stats else float("nan")  # noqa: E731
        grading = mean("seconds")
        workers_s = mean("restart_and_replay_seconds") + mean("worker_start_seconds")
        rows.append((workers, graded, len(r["failed"]), r["seconds"], per_min, statistics.mean(secs),
                     statistics.mean(secs) - grading, workers_s, grading - workers_s, r["peak_mb"]))
        print(f"workers={workers}: {graded} graded, {len(r['failed'])} failed in {r['seconds']:.0f} s "
              f"({per_min:.1f}/min)", flush=True)
    print("\n| workers | graded | failed | wall s | per minute | s per submission | grader's own | "
          "student workers (start + replay) | tests | peak MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for w, g, f, wall, pm, mean_s, own, wk, tests, peak in rows:
        print(f"| {w} | {g} | {f} | {wall:.0f} | {pm:.1f} | {mean_s:.2f} | {own:.2f} | {wk:.2f} | {tests:.2f} | {peak:.0f} |")
    best = max(r[4] for r in rows)
    need = 5000 / 10 / best
    print(f"\nAt {best:.1f} submissions per minute, grading 1,000 students x 5 assignments (5,000) in "
          f"10 minutes takes {need:.0f} machines like this one; the goal of 1,000 submissions in 10 minutes "
          f"{'is' if best >= 100 else 'is NOT'} met here ({10 * best:.0f} in 10 minutes).")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
