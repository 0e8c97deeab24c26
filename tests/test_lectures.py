"""Every lecture runs headless top to bottom (the training lecture in its short mode), prints no
warning, and every committed notebook is stored without outputs."""

import os
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "lectures").glob("*.ipynb"))


def test_there_are_eight_lectures():
    assert [p.name[:2] for p in LECTURES] == [f"{i:02d}" for i in range(1, 9)]


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.stem)
def test_lecture_runs_headless(path, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")   # the training lecture trains briefly and checks the loss falls
    monkeypatch.setenv("MPLBACKEND", "agg")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "") if out.get("name") == "stderr" else ""
            assert "Warning" not in text, f"{path.name} printed a warning:\n{text}"


def tracked_notebooks():
    files = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    return [ROOT / f for f in files]


def staged(path):
    """The notebook as git will commit it (the index), not as JupyterLab last saved it: running a
    lecture saves its outputs into the work tree, and that must not fail `make test`."""
    rel = path.relative_to(ROOT).as_posix()
    text = subprocess.run(["git", "show", f":{rel}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return nbformat.reads(text, 4)


def test_notebooks_are_committed_without_outputs():
    dirty = [str(p.relative_to(ROOT)) for p in tracked_notebooks()
             if any(c.get("outputs") or c.get("execution_count") for c in staged(p).cells
                    if c.cell_type == "code")]
    assert not dirty, f"notebooks committed with outputs: {dirty}"


def test_outputs_saved_in_the_work_tree_do_not_count(tmp_path):
    """A student runs lecture 01 and JupyterLab saves the outputs: the check reads git's copy."""
    repo = tmp_path / "r"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nbformat.write(nb, str(repo / "a.ipynb"))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    subprocess.run(git + ["add", "a.ipynb"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "a"], check=True)
    nb.cells[0].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)]
    nb.cells[0].execution_count = 1
    nbformat.write(nb, str(repo / "a.ipynb"))
    global ROOT
    old, ROOT = ROOT, repo
    try:
        assert staged(repo / "a.ipynb").cells[0].outputs == []
    finally:
        ROOT = old
