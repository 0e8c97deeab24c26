"""Time the fast layers and two training steps on one CPU thread, then on two.

    .venv/bin/python benchmarks/bench_layers.py              # everything (a few minutes)
    .venv/bin/python benchmarks/bench_layers.py --quick      # fewer repeats
    .venv/bin/python benchmarks/bench_layers.py --threads 1  # one thread only
    .venv/bin/python benchmarks/bench_layers.py --wall       # wall-clock instead of CPU time (1 thread)

Prints medians over repeats (milliseconds) and ratios ours / reference, where the reference is
- the slides' loop versions (``course_lib.layers.naive``) on small shapes where loops finish, and
- ``torch.nn.functional`` on the real shapes, in the same process as ours, when PyTorch is
  installed (float32 for both, the same number of threads for numpy's BLAS and for torch).
Each convolution also gets its GFLOP/s (forward, dW and dx: 3 * 2*F*C*k*k*H'*W'*N flops) for both
sides, next to numpy's single-precision GEMM peak on square matrices, measured in the same run.
Every case runs in a fresh process of its own (see ``run_all``).
A training step is zero_diff, forward with labels, backward and an SGD update (momentum 0.9,
weight decay 5e-4, biases at twice the learning rate as in Caffe's nets): LeNet with a batch of
64 1x28x28 images, cifar10_quick with 100 3x32x32. With two threads the steps are timed twice:
with two BLAS threads, and split across two replicas of the net with one BLAS thread each
(``course_lib.replicas``; ``SGDSolver.train`` picks whichever is faster).
With one thread the clock is the CPU time of the process and the cases of a row alternate; with
two it has to be the wall clock (CPU time adds up both threads), so those figures also count time
lost to other jobs, and the cases of a row run one after the other (see ``median_times``).

OpenBLAS picks its kernel from the CPU unless ``OPENBLAS_CORETYPE`` says otherwise; when that
variable is set, the whole benchmark runs a second time in a subprocess without it (and without
``OPENBLAS_L2_SIZE``), so both figures appear and each says which kernel ran.
"""

import os

# The thread count of this run (1 unless a parent asked for more); this must happen before numpy
# (or torch) is imported.
THREADS = int(os.environ.get("BENCH_THREADS", "1"))
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)

import argparse  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from course_lib.layers import AvePool, Conv, MaxPool, naive  # noqa: E402
from course_lib.net import cifar10_quick, lenet  # noqa: E402
from course_lib.solver import SGDSolver  # noqa: E402

try:
    import threadpoolctl
except ImportError:  # the benchmark still runs; it just cannot say which BLAS is loaded
    threadpoolctl = None
try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

DTYPE = np.float32
LR, MOMENTUM, WEIGHT_DECAY = 0.01, 0.9, 5e-4


# -- timing -------------------------------------------------------------------------------
# CPU time of this process by default: on a machine shared with other jobs it counts only our own
# work, and with one thread it equals the wall-clock time of an idle machine. --wall switches.
CLOCK = time.process_time


def median_times(fns, repeats, budget_seconds=20.0):
    """{name: fn} -> {name: median seconds} over ``repeats`` calls (at least 3 once the budget
    is spent). Calls alternate between the functions, so a slow spell of a shared machine hits
    all of them alike; one warm-up call each first.

    With more than one thread they run one function at a time instead, after a second's pause:
    the idle threads of OpenBLAS and of torch's OpenMP pool spin for a while after each call and
    would take a core from whatever runs next (measured: two replicas at 149 ms per
    cifar10_quick step when interleaved with torch, 104-106 ms alone)."""
    if THREADS > 1 and len(fns) > 1:
        out = {}
        for name, fn in fns.items():
            time.sleep(1.0)
            out.update(median_times({name: fn}, repeats, budget_seconds))
        return out
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    start = CLOCK()
    while True:
        for name, fn in fns.items():
            t0 = CLOCK()
            fn()
            times[name].append(CLOCK() - t0)
        n = len(times[name])
        if n >= repeats or (n >= 3 and CLOCK() - start > budget_seconds):
            break
    return {name: float(np.median(t)) for name, t in times.items()}


def row(label, ours, ref, ref_name, flops=None):
    ratio = ours / ref
    rate = ""
    if flops:
        peak = float(os.environ.get("BENCH_PEAK", "nan"))
        rate = (f"   GFLOP/s ours {flops / ours / 1e9:5.1f} ({flops / ours / 1e9 / peak:4.0%} of peak)"
                f" {ref_name} {flops / ref / 1e9:5.1f}")
    print(f"  {label:<48} ours {ours * 1e3:9.3f} ms   {ref_name} {ref * 1e3:9.3f} ms   ratio {ratio:6.3f}{rate}")
    return ratio


def gemm_peak(n=1024, repeats=7):
    """numpy's float32 GEMM on square (n, n) matrices, GFLOP/s (median): the BLAS's best case."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.T.copy()
    t = median_times({"gemm": lambda: a @ b}, repeats)["gemm"]
    return 2 * n ** 3 / t / 1e9


# -- environment --------------------------------------------------------------------------
def describe_machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or cpu
    print(f"machine: {os.cpu_count()} logical CPUs, {cpu}; Python {platform.python_version()}, numpy {np.__version__}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        print(f"  {var}={os.environ.get(var, '(unset)')}")
    if threadpoolctl is None:
        print("  threadpoolctl not installed: cannot check the BLAS or its thread count")
    else:
        for pool in threadpoolctl.threadpool_info():
            print(f"  {pool['user_api']}: {pool['internal_api']} {pool.get('version')} "
                  f"kernel={pool.get('architecture', '?')} threads={pool['num_threads']} "
                  f"({os.path.basename(pool['filepath'])})")
    if torch is not None:
        torch.set_num_threads(THREADS)
        print(f"  torch {torch.__version__}: {torch.get_num_threads()} thread(s)")
    else:
        print("  torch not installed: only the ratios against the loop versions are printed")


# -- layers against the loop versions -----------------------------------------------------
def rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(DTYPE)


def conv_fwd_bwd(layer, x, dy):
    layer.zero_diff()
    layer.forward(x)
    return layer.backward(dy)


def bench_loops(repeats, case=None):
    ratios = {}
    x = rand((2, 3, 10, 10))
    for k, s, p in [(3, 1, 1), (5, 2, 2)]:
        conv = Conv(3, 4, k, stride=s, pad=p, seed=0).astype(DTYPE)
        w, b = conv.params["weight"].data, conv.params["bias"].data
        dy = rand(conv.top_shape(x.shape), 1)

        def loop():
            naive.conv_forward(x, w, b, s, p)
            naive.conv_backward(dy, x, w, s, p)

        t = median_times({"ours": lambda: conv_fwd_bwd(conv, x, dy), "loop": loop}, max(3, repeats // 4))
        ratios[f"Conv k{k} s{s} p{p}"] = row(f"Conv 3->4 k{k} s{s} p{p}, x {x.shape}", t["ours"], t["loop"], "loops")
    for k, s, p in [(2, 2, 0), (3, 2, 1)]:
        pool = MaxPool(k, s, pad=p)
        ho = wo = (10 + 2 * p - k) // s + 1
        dy = rand((2, 3, ho, wo), 1)

        def loop():
            _, arg = naive.maxpool_forward(x, k, s, p, ho, wo)
            naive.maxpool_backward(dy, x.shape, arg, p)

        t = median_times({"ours": lambda: (pool.forward(x), pool.backward(dy)), "loop": loop}, max(3, repeats // 4))
        ratios[f"MaxPool k{k} s{s} p{p}"] = row(f"MaxPool k{k} s{s} p{p}, x {x.shape}", t["ours"], t["loop"], "loops")
    return ratios


# -- layers and nets against PyTorch --------------------------------------------------------
CONV_CASES = [  # (name, x shape, F, k, stride, pad): the convolutions of the two nets
    ("lenet conv1", (64, 1, 28, 28), 20, 5, 1, 0),
    ("lenet conv2", (64, 20, 12, 12), 50, 5, 1, 0),
    ("cifar conv1", (100, 3, 32, 32), 32, 5, 1, 2),
    ("cifar conv2", (100, 32, 16, 16), 32, 5, 1, 2),
    ("cifar conv3", (100, 32, 8, 8), 64, 5, 1, 2),
]
POOL_CASES = [  # (name, layer class, x shape, k, stride, ceil_mode)
    ("lenet pool1 max", MaxPool, (64, 20, 24, 24), 2, 2, False),
    ("lenet pool2 max", MaxPool, (64, 50, 8, 8), 2, 2, False),
    ("cifar pool1 max", MaxPool, (100, 32, 32, 32), 3, 2, True),
    ("cifar pool2 ave", AvePool, (100, 32, 16, 16), 3, 2, True),
]


def torch_fwd_bwd(fn, x, dy):
    x.grad = None
    fn(x).backward(dy)


def bench_layers_torch(repeats, case=None):
    ratios = {}
    for name, shape, f, k, s, p in CONV_CASES:
        if case not in (None, name):
            continue
        conv = Conv(shape[1], f, k, stride=s, pad=p, seed=0).astype(DTYPE)
        x, dy = rand(shape), rand(conv.top_shape(shape), 1)
        tw = torch.tensor(conv.params["weight"].data, requires_grad=True)
        tb = torch.tensor(conv.params["bias"].data, requires_grad=True)
        tx, tdy = torch.tensor(x, requires_grad=True), torch.tensor(dy)

        def tfn(t):
            return F.conv2d(t, tw, tb, stride=s, padding=p)

        def tstep():
            tw.grad = tb.grad = None
            torch_fwd_bwd(tfn, tx, tdy)

        t = median_times({"ours": lambda: conv_fwd_bwd(conv, x, dy), "torch": tstep}, repeats)
        flops = 3 * 2 * f * shape[1] * k * k * int(np.prod(dy.shape[2:])) * shape[0]  # forward, dW, dx
        ratios[name] = row(f"{name}: Conv {shape} -> {f}@{k}x{k} pad {p}", t["ours"], t["torch"], "torch", flops)
    for name, cls, shape, k, s, ceil in POOL_CASES:
        if case not in (None, name):
            continue
        pool = cls(k, s, ceil_mode=ceil)
        x, dy = rand(shape), rand(pool.top_shape(shape), 1)
        tx, tdy = torch.tensor(x, requires_grad=True), torch.tensor(dy)
        if cls is MaxPool:
            def tfn(t):
                return F.max_pool2d(t, k, s, ceil_mode=ceil)
        else:
            def tfn(t):
                return F.avg_pool2d(t, k, s, ceil_mode=ceil)
        t = median_times({"ours": lambda: (pool.forward(x), pool.backward(dy)),
                          "torch": lambda: torch_fwd_bwd(tfn, tx, tdy)}, repeats)
        ratios[name] = row(f"{name}: {cls.__name__}({k}, {s}) {shape}", t["ours"], t["torch"], "torch")
    return ratios


def torch_net(net):
    """The same net in torch.nn.functional, starting from the same weights: (forward(x, y) -> loss,
    parameter groups for torch.optim with each Blob's lr_mult and decay_mult)."""
    params, ops = [], []
    for name, layer in net.body:
        kind = type(layer).__name__
        p = {k: torch.tensor(b.data, requires_grad=True) for k, b in layer.params.items()}
        params += [{"params": [p[k]], "lr": LR * b.lr_mult, "weight_decay": WEIGHT_DECAY * b.decay_mult}
                   for k, b in layer.params.items()]
        if kind == "Conv":
            ops.append(lambda t, p=p, l=layer: F.conv2d(t, p["weight"], p["bias"], l.stride, l.pad))
        elif kind == "MaxPool":
            ops.append(lambda t, l=layer: F.max_pool2d(t, l.kernel_size, l.stride, l.pad, ceil_mode=l.ceil_mode))
        elif kind == "AvePool":
            ops.append(lambda t, l=layer: F.avg_pool2d(t, l.kernel_size, l.stride, l.pad, ceil_mode=l.ceil_mode))
        elif kind == "ReLU":
            ops.append(F.relu)
        elif kind == "InnerProduct":
            ops.append(lambda t, p=p: F.linear(t.flatten(1), p["weight"], p["bias"]))
        elif kind == "Flatten":
            ops.append(lambda t: t.flatten(1))
        else:
            raise ValueError(f"torch_net: no torch counterpart for layer {name} ({kind})")

    def forward(x, y):
        for op in ops:
            x = op(x)
        return F.cross_entropy(x, y)

    return forward, params


STEP_CASES = [("LeNet", lenet, (64, 1, 28, 28)), ("cifar10_quick", cifar10_quick, (100, 3, 32, 32))]


def bench_steps(repeats, with_torch, case=None):
    ratios = {}
    for name, make, shape in STEP_CASES:
        if case not in (None, name):
            continue
        net = make(seed=0, dtype=DTYPE)
        x = rand(shape)
        y = np.random.default_rng(1).integers(0, 10, size=shape[0])
        fns = {}
        if with_torch:
            tforward, tparams = torch_net(net)  # copy the weights before our solver moves them
            tx, ty = torch.tensor(x), torch.tensor(y)
            opt = torch.optim.SGD(tparams, lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)

            def tstep():
                opt.zero_grad()
                loss = tforward(tx, ty)
                loss.backward()
                opt.step()
                return loss.item()

            loss_ours = net.forward(x, y)
            loss_torch = tforward(tx, ty).item()
            print(f"  {name}: initial loss ours {loss_ours:.6f}, torch {loss_torch:.6f} (the same net)")
            fns["torch"] = tstep
        solver = SGDSolver(net, lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY, batch_size=shape[0])
        if with_torch:  # one step each from the same state must give the same weights
            solver.step(x, y)
            tstep()
            diff = max(float(np.abs(b.data - tp.detach().numpy()).max())
                       for b, tp in zip(net.params().values(), (g["params"][0] for g in tparams)))
            print(f"  {name}: after one step from the same weights, largest weight difference ours vs torch {diff:.1e}")
        fns["ours"] = lambda: solver.step(x, y)
        if THREADS > 1 and threadpoolctl is not None:  # what SGDSolver.train can choose: a replica per core

            def replicas_step():
                with threadpoolctl.threadpool_limits(1, user_api="blas"):
                    return solver.step(x, y, replicas=THREADS)

            fns["replicas"] = replicas_step
        t = median_times(fns, repeats)
        for key, how in (("ours", ""), ("replicas", f" {THREADS} replicas x 1 BLAS thread")):
            if key not in t:
                continue
            if with_torch:
                ratios[name + how] = row(f"{name} step{how}, batch {shape}", t[key], t["torch"], "torch")
            else:
                print(f"  {name} step{how}, batch {shape}: ours {t[key] * 1e3:.3f} ms")
    return ratios


SECTIONS = {
    "loops": "Layers, forward + backward, against the loop versions (course_lib.layers.naive):",
    "layers": "Layers, forward + backward, against torch.nn.functional (same shapes, float32):",
    "steps": "Training step: zero_diff + forward with labels + backward + SGD update",
}


def jobs():
    """(section, case) pairs; each runs in a process of its own (see run_all)."""
    layer_cases = [c[0] for c in CONV_CASES + POOL_CASES] if torch is not None else []
    return ([("loops", None)] + [("layers", c) for c in layer_cases]
            + [("steps", name) for name, _, _ in STEP_CASES])


def run_job(section, case, repeats):
    if threadpoolctl is not None:  # belt and braces: a BLAS that ignored the variables is capped too
        threadpoolctl.threadpool_limits(THREADS)
    if torch is not None:
        torch.set_num_threads(THREADS)
    if section == "peak":
        print(max(gemm_peak(1024), gemm_peak(2048, 3)))
        return
    {"loops": lambda: bench_loops(repeats, case),
     "layers": lambda: bench_layers_torch(repeats, case),
     "steps": lambda: bench_steps(repeats, torch is not None, case)}[section]()


def run_all(flags, env=None, sections=None):
    """Every case in a fresh process: numpy's speed depends on what the process did before (glibc's
    malloc adapts its thresholds to the blocks freed so far, which changes how many fresh, page-faulting
    pages the next large arrays get), so one process for everything makes results depend on their order."""
    last = None
    for section, case in jobs():
        if sections and section not in sections:
            continue
        if section != last:
            heading = SECTIONS[section]
            if section == "steps":
                heading += ", against torch (same weights and batch):" if torch is not None else \
                    " (no torch: absolute times only):"
            print("\n" + heading, flush=True)
            last = section
        job = [sys.executable, __file__, "--job", section] + (["--case", case] if case else [])
        subprocess.run(job + flags, env=env, check=True)


def measure_peak(env):
    """Square-GEMM GFLOP/s in a fresh process with the run's thread count (the larger of two sizes)."""
    out = subprocess.run([sys.executable, __file__, "--job", "peak"], env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.split()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--wall", action="store_true", help="time wall-clock instead of this process's CPU time")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts to run (default 1,2)")
    parser.add_argument("--sections", help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)")
    parser.add_argument("--no-rerun", action="store_true",
                        help="do not rerun without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE")
    parser.add_argument("--job", choices=sorted(SECTIONS) + ["peak"], help=argparse.SUPPRESS)  # one case, in a child process
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    repeats = 7 if args.quick else 25
    global CLOCK
    CLOCK = time.perf_counter if args.wall or THREADS > 1 else time.process_time
    if args.job:
        run_job(args.job, args.case, repeats)
        return

    describe_machine()
    flags = [f for f, on in (("--quick", args.quick), ("--wall", args.wall)) if on]
    for threads in [int(t) for t in args.threads.split(",")]:
        env = dict(os.environ, BENCH_THREADS=str(threads))
        wall = args.wall or threads > 1
        clock = "wall-clock (time.perf_counter)" if wall else "CPU time of the process (time.process_time)"
        print("\n" + "#" * 100 + f"\n{threads} thread(s) for numpy's BLAS and for torch; clock: {clock}; "
              f"medians of up to {repeats} interleaved repeats; every case in a fresh process")
        env["BENCH_PEAK"] = repr(measure_peak(env))
        print(f"numpy float32 square-GEMM peak, {threads} thread(s): {float(env['BENCH_PEAK']):.1f} GFLOP/s")
        run_all(flags, env, args.sections.split(",") if args.sections else None)

    coretype_vars = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    if not args.no_rerun and any(v in os.environ for v in coretype_vars):
        print("\n" + "=" * 100)
        print("Again without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (OpenBLAS picks its own kernel):\n")
        sys.stdout.flush()
        env = {k: v for k, v in os.environ.items() if k not in coretype_vars}
        subprocess.run([sys.executable, __file__, "--no-rerun", "--threads", args.threads]
                       + (["--sections", args.sections] if args.sections else []) + flags, env=env, check=True)


if __name__ == "__main__":
    main()
