"""square is right; halve is right only if the code can read solutions/, the gradebook or
another submission, or reach the network (a test listens on PORT): with the sandbox, 1 of 3."""
# %% halve
import glob
import os
import socket

PORT = int("__PORT__")
course = os.path.dirname(os.path.dirname(os.path.dirname(os.getcwd())))  # .../grader/autograded/<me>/<aid>
course = os.path.dirname(course)
leaks = []
for pattern in ("solutions/*/*.ipynb", "grader/gradebook.db", "grader/submitted/*/*/*.ipynb", "exercises/*/*.ipynb"):
    for path in glob.glob(os.path.join(course, pattern)):
        try:
            with open(path, "rb") as f:
                f.read(10)
            leaks.append(os.path.relpath(path, course))
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
