"""square is right. The halve cell starts 4 child processes that each fill 1.5 GB (6 GB in
all, over the 4 GB limit for all of the worker's processes, though each stays under the
per-process limit); halve is right only if all four succeeded. The limit stops them: 1 of 3."""
# %% halve
import os

pids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        try:
            block = bytearray(1536 * 1024 * 1024)
            for i in range(0, len(block), 4096):
                block[i] = 1
            os._exit(0)
        except BaseException:
            os._exit(1)
    pids.append(pid)
ok = all(os.waitpid(pid, 0)[1] == 0 for pid in pids)
print("all children filled their memory:", ok)


def halve(x):
    if ok:
        return np.asarray(x, dtype=float) / 2
    return np.asarray(x, dtype=float)
