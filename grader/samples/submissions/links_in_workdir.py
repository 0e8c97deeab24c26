"""Both answers are right. The cells plant symbolic links and hard links in the working folder
(to /etc/passwd, the gradebook, the submission, the notebook's folder) hoping that collecting
outputs or generating feedback follows them: 3 of 3, and nothing but regular files appears in
the autograded and feedback folders."""
# %% square
import os


def square(x):
    return np.asarray(x, dtype=float) ** 2


for i, target in enumerate(["/etc/passwd", "__COURSE__/grader/gradebook.db", "__COURSE__/solutions",
                            "/proc/self/root", "../../../../gradebook.db", "."]):
    for name in (f"link{i}", f"../link{i}", f"/tmp/link{i}"):
        try:
            os.symlink(target, name)
        except OSError:
            pass
    try:
        os.link(target, f"hard{i}")
    except OSError:
        pass
print("cwd:", os.getcwd(), sorted(os.listdir(".")))
# %% halve
def halve(x):
    if isinstance(x, str):
        raise TypeError("numbers only")
    return np.asarray(x, dtype=float) / 2
