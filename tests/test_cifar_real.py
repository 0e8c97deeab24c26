"""The CIFAR-10 code paths on real images: lecture 08 (short mode) and exercise 6's source notebook.

CIFAR-10 cannot be downloaded here, so the folder is built from real (JPEG-compressed) CIFAR-10
images by ../shared/data/make_cifar10.py (see ../shared/data/README.md) into a temporary folder
that COURSE_DATA points at. It is test data, not the official download: it lives only in that
temporary folder, never in the verified-download cache. Where the tool is not available (a
student's copy of the course) the tests are skipped and say why.
"""
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
MAKE_CIFAR10 = Path(os.environ.get("COURSE_SHARED_DATA", ROOT.parent / "shared" / "data")) / "make_cifar10.py"

pytestmark = pytest.mark.skipif(not MAKE_CIFAR10.is_file(),
                                reason=f"{MAKE_CIFAR10} not found: no real CIFAR-10 images to test with")


@pytest.fixture(scope="module")
def cifar_home(tmp_path_factory):
    """A COURSE_DATA folder holding cifar-10-batches-py with 5,000 training and 1,000 test images."""
    home = tmp_path_factory.mktemp("course_data")
    subprocess.run([sys.executable, str(MAKE_CIFAR10), str(home), "--train", "5000", "--test", "1000"],
                   check=True, capture_output=True, timeout=600)
    assert (home / "cifar-10-batches-py" / "data_batch_5").is_file()
    return home


def run_notebook(path, env, monkeypatch):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return "\n".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                     for out in cell.get("outputs", []) if out.get("output_type") == "stream")


def test_lecture_08_trains_cifar10_quick_on_real_cifar10(cifar_home, monkeypatch):
    text = run_notebook(ROOT / "lectures" / "08_training.ipynb",
                        {"COURSE_FAST": "1", "COURSE_DATA": str(cifar_home), "MPLBACKEND": "agg"}, monkeypatch)
    assert f"Data: CIFAR-10 from {cifar_home}" in text, text[:2000]
    assert "not in the data cache" not in text
    assert "cifar10: test accuracy" in text


def test_exercise_6_runs_on_real_cifar10(cifar_home, monkeypatch):
    text = run_notebook(ROOT / "solutions" / "ex06_topologies" / "ex06_topologies.ipynb",
                        {"COURSE_FAST": "1", "COURSE_DATA": str(cifar_home), "MPLBACKEND": "agg"}, monkeypatch)
    assert "Data: real CIFAR-10 from" in text, text[:2000]
    assert "NOT CIFAR-10" not in text
    for name in ("quick", "deep", "strided"):
        assert f"\n{name} " in text, f"no table row for {name}"
