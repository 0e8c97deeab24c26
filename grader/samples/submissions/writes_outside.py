"""Both answers are right. The code tries to write everywhere it can name: the course folder,
the venv's site-packages (a .pth file would run in every later Python), course_lib, the worker's
own files, the tester's shared folder, the system: 3 of 3, and none of those files exists."""
# %% halve
import glob
import os
import site
import sys


def halve(x):
    if isinstance(x, str):
        raise TypeError("numbers only")
    return np.asarray(x, dtype=float) / 2


targets = ["__COURSE__/grader/hostile_was_here", "__COURSE__/solutions/hostile_was_here",
           os.path.join(sys.prefix, "hostile_was_here"), "/opt/grader/hostile_was_here",
           "/usr/hostile_was_here", "/etc/hostile_was_here"]
targets += [os.path.join(p, "hostile_was_here.pth") for p in site.getsitepackages()]
targets += [os.path.join(os.path.dirname(m.__file__), "hostile_was_here")
            for m in list(sys.modules.values()) if getattr(m, "__file__", None) and "course_lib" in m.__name__][:3]
targets += [os.path.join(d, "hostile_was_here") for d in glob.glob("/tmp/grader-job-*/*")]
written = []
for path in targets:
    try:
        with open(path, "w") as f:
            f.write("import os; os.system('touch /tmp/pwned')\n")
        written.append(path)
    except OSError:
        pass
print("written outside /tmp:", [p for p in written if not p.startswith("/tmp/")] or "nothing")
