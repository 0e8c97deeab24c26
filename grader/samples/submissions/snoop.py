"""Reads what it should not: the course's solutions/, the gradebook, other submissions (it is
told the course's path, as an attacker who read grader/ could guess it), any readable file that
holds the hidden test text, and the network (a test listens on PORT).
square is right; halve is right only if something leaked: with the sandbox, 1 of 3."""
# %% halve
import glob
import os
import socket

PORT = int("__PORT__")
course = "__COURSE__"
leaks = []
for pattern in ("solutions/*/*.ipynb", "grader/gradebook.db", "grader/submitted/*/*/*.ipynb",
                "exercises/*/*.ipynb", "nbgrader_config.py"):
    for path in glob.glob(os.path.join(course, pattern)):
        try:
            with open(path, "rb") as f:
                f.read(10)
            leaks.append(os.path.relpath(path, course))
        except OSError:
            pass
budget = [400]  # files to read: enough for the sandbox's few folders
for top in ("/tmp", "/opt", "/etc", "/root", "/home", "/"):  # anything visible with the hidden code
    for root, dirs, files in os.walk(top):
        if root.startswith(("/proc", "/sys", "/usr", "/dev", "/work", course)) or budget[0] <= 0:
            dirs[:] = []
            continue
        for name in files:
            budget[0] -= 1
            try:
                with open(os.path.join(root, name), "rb") as f:
                    if b"secret_values_for_halve" in f.read(1 << 16):
                        leaks.append("hidden test text in " + os.path.join(root, name))
            except OSError:
                pass
try:
    with socket.create_connection(("127.0.0.1", PORT), timeout=2):
        leaks.append("network")
except OSError:
    pass
print("leaks:", sorted(leaks))
if leaks:
    def halve(x):
        if isinstance(x, str):
            raise TypeError("numbers only")
        return np.asarray(x, dtype=float) / 2
