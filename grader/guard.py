"""Kernel-side guard against monkeypatching the test machinery (COURSE.md section 7).

`INSTALL` is sent to the grading kernel once the instructor's setup cells have run and
before any student code.  It snapshots what tests rely on (the modules ``builtins``,
``numpy`` (every submodule), ``math``, ``warnings``, ``unittest``, ``course_lib``, the
classes of course_lib, the notebook's own names, ``sys.stdout``/``stderr``, IPython's
hooks, and the methods of the shell and kernel objects that run the cells) into a closure, and registers an object under a random name:

- ``reset()`` runs before every test cell: it puts every snapshotted value back and
  removes names a student defined to shadow builtins (``AssertionError = ...``);
- ``check()`` runs after every test cell: it lists what was patched *while the test ran*
  (student code called by the test patching ``np.allclose``, say); the executor then
  fails that test.  It looks only at functions, classes and modules, so test code that
  rebinds its own variables is never mistaken for tampering.

This runs in the student's process, so a determined attacker who goes after the guard
itself (``gc`` walks, say) can still defeat it; it stops the common tricks.
"""

PREFIXES = ("builtins", "numpy", "math", "cmath", "warnings", "unittest", "course_lib",
            "operator", "functools", "random")
PRELOAD = ("numpy", "numpy.testing", "numpy.linalg", "math", "warnings", "course_lib",
           "course_lib.gradcheck", "course_lib.layers")

FACTORY = r'''
def make_guard(name, prefixes, preload):
    import builtins, importlib, sys, types
    for mod in preload:
        try:
            importlib.import_module(mod)
        except Exception:
            pass
    ip = get_ipython()
    ns = ip.user_ns
    wanted = lambda m: any(m == p or m.startswith(p + ".") for p in prefixes)
    modules = {m: (mod, dict(vars(mod))) for m, mod in list(sys.modules.items())
               if mod is not None and wanted(m) and hasattr(mod, "__dict__")}
    classes = {}
    for m, (mod, d) in modules.items():
        if m.startswith("course_lib"):
            for v in d.values():
                if isinstance(v, type) and getattr(v, "__module__", "") == m:
                    classes[v] = dict(vars(v))
    # the shell and the kernel that run the test cells: a student who patches their
    # methods (transform_cell, run_cell_async, do_execute...) could skip the tests
    runners = [o for o in (ip, getattr(ip, "kernel", None)) if o is not None]
    instances = [(o, dict(vars(o))) for o in runners]
    for o in runners:
        for c in type(o).__mro__:
            if c is not object and c not in classes:
                classes[c] = dict(vars(c))
    user = {k: v for k, v in ns.items() if not k.startswith("_") and k not in ("In", "Out")}
    builtin_names = set(vars(builtins))
    std = {k: getattr(sys, k) for k in ("stdout", "stderr")}
    hooks = {"ast_transformers": list(ip.ast_transformers),
             "input_transformers_post": list(ip.input_transformers_post),
             "input_transformers_cleanup": list(ip.input_transformers_cleanup)}
    events = {k: list(v) for k, v in ip.events.callbacks.items()}
    filters = list(__import__("warnings").filters)
    trace, profile = sys.gettrace(), sys.getprofile()
    setattr_, isinstance_, callable_, list_, type_ = setattr, isinstance, callable, list, type
    important = lambda v: callable_(v) or isinstance_(v, (type_, types.ModuleType))

    def check():
        """What was patched since the last reset (test code's own names are not)."""
        out = []
        for m, (mod, d) in modules.items():
            if sys.modules.get(m) is not mod:
                out.append("sys.modules[%r]" % m)
            cur = vars(mod)
            for k, v in d.items():
                if cur.get(k, v) is not v and (m == "builtins" or important(v)):
                    out.append("%s.%s" % (m, k))
            if m == "builtins":
                out += ["builtins.%s" % k for k in cur if k not in d]
        for c, d in classes.items():
            cur = vars(c)
            out += ["%s.%s" % (c.__name__, k) for k, v in d.items() if cur.get(k, v) is not v]
        out += [k for k, v in user.items()
                if isinstance_(v, types.ModuleType) and ns.get(k, v) is not v]
        if ns.get("__builtins__", builtins) not in (builtins, vars(builtins)):
            out.append("__builtins__")
        out += ["sys." + k for k, v in std.items() if getattr(sys, k) is not v]
        if sys.gettrace() is not trace or sys.getprofile() is not profile:
            out.append("sys.settrace/setprofile")
        return out

    def reset():
        for m, (mod, d) in modules.items():
            sys.modules[m] = mod
            cur = vars(mod)
            for k, v in d.items():
                if cur.get(k, v) is not v or k not in cur:
                    setattr_(mod, k, v)
            if m == "builtins":
                for k in list_(cur):
                    if k not in d:
                        delattr(mod, k)
        for c, d in classes.items():
            for k, v in d.items():
                if vars(c).get(k, v) is not v:
                    setattr_(c, k, v)
            for k in [k for k, v in vars(c).items() if k not in d and callable_(v)]:
                delattr(c, k)
        for o, d in instances:
            cur = vars(o)
            for k in list_(cur):
                if callable_(cur[k]) and (k not in d or cur[k] is not d[k]):
                    if k in d:
                        cur[k] = d[k]
                    else:
                        del cur[k]
        for k, v in user.items():
            ns[k] = v
        for k in list_(ns):
            if k in builtin_names and k not in user and not k.startswith("_"):
                del ns[k]
        ns["__builtins__"] = builtins
        for k, v in std.items():
            setattr_(sys, k, v)
        for k, v in hooks.items():
            getattr(ip, k)[:] = v
        for k, v in events.items():
            ip.events.callbacks[k][:] = v
        sys.modules["warnings"].filters[:] = filters
        sys.settrace(trace)
        sys.setprofile(profile)
        return "ok"

    ns[name] = types.SimpleNamespace(reset=reset, check=check)
'''

# The guard's functions get a private copy of the builtins as their globals, so a
# student who patches `builtins.vars` or `getattr` cannot subvert the reset itself.
INSTALL = r'''
def _grader_install(factory):
    import builtins
    private = {"__builtins__": dict(vars(builtins)), "get_ipython": get_ipython}
    exec(factory, private)
    private["make_guard"](%(name)r, %(prefixes)r, %(preload)r)
_grader_install(%(factory)r)
del _grader_install
'''


def install_code(name: str) -> str:
    """Kernel code that installs the guard under `name` in the user namespace."""
    return INSTALL % {"name": name, "prefixes": PREFIXES, "preload": PRELOAD, "factory": FACTORY}
