"""square is right; the halve cell forks without end before it defines halve, so the process
limit stops it (and, where there is no cgroup, the watchdog kills the worker): halve never
exists: 1 of 3, and the machine and the other students are not affected."""
# %% halve
import os
import time

children = 0
while True:
    pid = os.fork()
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    children += 1


def halve(x):
    return np.asarray(x, dtype=float) / 2
