"""course_lib as student code sees it while an assignment is graded: the assignment's answers
taken out (settings.FORBIDDEN, COURSE.md section 6).

The sandbox holds this copy instead of course_lib itself, so there is nothing to restore: each
declared function keeps its signature and docstring, and its body only raises
`CourseLibAnswerBlocked`, which the tester reports as such. Lectures, tests and the trusted
test runner use the real course_lib.
"""
from __future__ import annotations

import ast
import os

BLOCKED = "CourseLibAnswerBlocked"
_PRELUDE = (f"class {BLOCKED}(NotImplementedError):\n"
            "    \"\"\"course_lib's own implementation of what the graded exercise asks for.\"\"\"\n")


def package_dir() -> str:
    import course_lib
    return os.path.dirname(os.path.abspath(course_lib.__file__))


def _targets(names):
    """{module: [qualified names]} from "module:Qual.name" entries."""
    out: dict = {}
    for entry in names:
        module, sep, qual = entry.partition(":")
        if not sep or not module.startswith("course_lib") or not qual:
            raise ValueError(f"settings.FORBIDDEN: {entry!r} is not 'course_lib.module:Qualified.name'")
        out.setdefault(module, []).append(qual)
    return out


def strip_module(source: str, quals: list[str], aid: str, module: str) -> str:
    tree = ast.parse(source)
    found = set()

    def visit(body, prefix):
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, prefix + node.name + ".")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and prefix + node.name in quals:
                qual = prefix + node.name
                found.add(qual)
                doc = ast.get_docstring(node)
                msg = (f"course_lib's {qual} is not available while {aid} is graded: "
                       "writing it is the exercise")
                raise_stmt = ast.parse(f"raise {BLOCKED}({msg!r})").body[0]
                node.body = ([ast.Expr(ast.Constant(doc))] if doc else []) + [raise_stmt]

    visit(tree.body, "")
    missing = sorted(set(quals) - found)
    if missing:
        raise ValueError(f"settings.FORBIDDEN[{aid!r}]: {module} has no {', '.join(missing)}")
    at = 0  # after the docstring and `from __future__` imports, which must come first
    while at < len(tree.body) and (
            (isinstance(tree.body[at], ast.Expr) and isinstance(tree.body[at].value, ast.Constant) and at == 0)
            or (isinstance(tree.body[at], ast.ImportFrom) and tree.body[at].module == "__future__")):
        at += 1
    tree.body[at:at] = ast.parse(_PRELUDE).body
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def build(aid: str, dest: str, forbidden: dict | None = None) -> str:
    """Write course_lib (only .py files) into dest/course_lib with aid's answers taken out;
    returns dest/course_lib. Writes into a fresh folder and renames it into place."""
    from .settings import FORBIDDEN
    targets = _targets((FORBIDDEN if forbidden is None else forbidden).get(aid, []))
    src = package_dir()
    final = os.path.join(dest, "course_lib")
    tmp = final + ".part"
    try:
        _copy_stripped(src, tmp, targets, aid)
    except BaseException:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    os.rename(tmp, final)
    return final


def _copy_stripped(src: str, tmp: str, targets: dict, aid: str) -> None:
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        rel = os.path.relpath(root, src)
        os.makedirs(os.path.join(tmp, rel), exist_ok=True)
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(root, name)
            module = "course_lib" + ("" if rel == "." else "." + rel.replace(os.sep, "."))
            if name != "__init__.py":
                module += "." + name[:-3]
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if module in targets:
                text = strip_module(text, targets.pop(module), aid, module)
            with open(os.path.join(tmp, rel, name), "w", encoding="utf-8") as f:
                f.write(text)
    if targets:
        raise ValueError(f"settings.FORBIDDEN[{aid!r}]: no module {', '.join(sorted(targets))} in course_lib")
