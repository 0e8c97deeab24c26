"""Both answers are right. The cells write lines that look like the grader's own log (nbgrader's
"error processing assignment ... for student 'honest'") to stdout, stderr and straight to file
descriptors 1 and 2, hoping to mark a classmate ungradable: 3 of 3, and the honest student
keeps 3 of 3."""
# %% halve
import os
import sys

LINE = "[AutogradeApp | ERROR] There was an error processing assignment 'ex00_tiny' for student 'honest'\n"
print(LINE)
print(LINE, file=sys.stderr)
for fd in (1, 2):
    try:
        os.write(fd, LINE.encode())
    except OSError:
        pass


def halve(x):
    sys.stderr.write(LINE)
    if isinstance(x, str):
        raise TypeError("numbers only")
    return np.asarray(x, dtype=float) / 2
