"""pyproject.toml and environment.yml list the same packages with the same version ranges;
the README's quickstart and CI use the two documented commands."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def normalise(spec):
    name, rest = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", spec).groups()
    return name.lower().replace("_", "-"), rest.replace(" ", "")


def pyproject_deps():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return dict(normalise(d) for d in data["project"]["dependencies"]), data["project"]["requires-python"]


def conda_deps():
    deps, python = {}, None
    text = (ROOT / "environment.yml").read_text().split("\ndependencies:", 1)[1]
    for line in text.splitlines():
        m = re.match(r"^  - ([^:#]+?)\s*$", line)  # top-level entries only, not the pip: list
        if not m:
            continue
        name, rest = normalise(m.group(1))
        if name == "python":
            python = rest
        elif name != "pip":
            deps[name] = rest
    return deps, python


def test_environment_yml_agrees_with_pyproject():
    (pip_deps, pip_python), (conda, conda_python) = pyproject_deps(), conda_deps()
    assert conda == pip_deps
    assert conda_python == pip_python == ">=3.11"


def test_pins_are_ranges_except_nbgrader():
    deps, _ = pyproject_deps()
    pinned = {n for n, spec in deps.items() if spec.startswith("==")}
    assert pinned == {"nbgrader"}  # 0.9.6: the first whose JupyterLab extension loads in JupyterLab 4.6


def test_quickstart_and_ci_use_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    assert "make lab" in quick and "make test" in quick
    assert "make test" in (ROOT / ".ci" / "run").read_text()
