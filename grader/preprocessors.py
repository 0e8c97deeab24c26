"""nbgrader preprocessors that implement COURSE.md section 7 (see nbgrader_config.py)."""
from __future__ import annotations

import os

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer, Unicode

HIDDEN_BEGIN, HIDDEN_END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"


def inert_markdown(text: str) -> str:
    """A student's written answer as markdown that can hold no HTML and no link: every "<"
    becomes "&lt;" and every "[" "&#91;". formgrader and the feedback render answers with
    nbconvert, which passes raw HTML through and keeps ``javascript:`` link targets, so
    ``<img src=x onerror=...>`` or ``[see](javascript:...)`` in an answer would run script in the
    instructor's browser, logged in to the server that holds the gradebook. Without a literal
    "<" no tag or autolink can open, and without a literal "[" no link, image or link reference;
    the browser still shows "<" and "[" (inside $...$ math they show as the entity: see README)."""
    return text.replace("<", "&lt;").replace("[", "&#91;")


class RebuildFromRelease(NbGraderPreprocessor):
    """Grade only the student's answers: rebuild the submission from the released
    notebook, taking from the submission nothing but the source of its solution cells
    (matched by grade_id).  Edited, deleted, reordered or added cells therefore do not
    matter: tests, setup and text always come from the release (and nbgrader's
    OverwriteCells then puts the hidden tests back from the gradebook).  A deleted
    solution cell is graded as the release's empty stub.  Written (markdown) answers are
    made inert (:func:`inert_markdown`): an instructor reads them in formgrader."""

    release_directory = Unicode(
        "", help="Folder of released assignments, relative to the course root "
                 "(default: CourseDirectory.release_directory)").tag(config=True)

    def preprocess(self, nb, resources):
        path = self._release_path(resources)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"released notebook {path} is missing: run `python -m grader generate` "
                "before autograding")
        release = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        answers = {}
        for cell in nb.cells:
            if utils.is_solution(cell):
                answers.setdefault(cell.metadata["nbgrader"].get("grade_id"), cell.source)
        for cell in release.cells:
            if utils.is_solution(cell) and cell.metadata["nbgrader"]["grade_id"] in answers:
                cell.source = answers[cell.metadata["nbgrader"]["grade_id"]]
                if cell.cell_type == "markdown":
                    cell.source = inert_markdown(cell.source)
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        return release, resources

    def _release_path(self, resources) -> str:
        folder = self.release_directory or self._coursedir_release()
        aid, nid = resources["nbgrader"]["assignment"], resources["nbgrader"]["notebook"]
        return os.path.abspath(os.path.join(folder, aid, nid + ".ipynb"))

    def _coursedir_release(self) -> str:
        from nbgrader.coursedir import CourseDirectory
        return CourseDirectory(config=self.config).release_directory


class WarningsAreNotFailures(NbGraderPreprocessor):
    """nbgrader fails a test cell that wrote anything to stderr; a correct answer that
    also emits a warning must keep its points, so stderr text becomes plain output.
    Only exceptions (error outputs) fail a test."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            for out in cell.outputs:
                if out.output_type == "stream" and out.name == "stderr":
                    out.name = "stdout"
        return cell, resources


def strip_hidden(source: str) -> tuple[str, bool]:
    """Source without its hidden-test block(s); whether there was one."""
    out, inside, found = [], False, False
    for line in source.split("\n"):
        if HIDDEN_BEGIN in line:
            inside, found = True, True
        elif HIDDEN_END in line:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out), found


def first_line(text: str, limit: int) -> str:
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""


class SafeFeedback(NbGraderPreprocessor):
    """Feedback that tells which tests failed and why, without leaking hidden tests:
    test cells lose their hidden block; a test cell that had one shows no printed
    output and, for a failure, only ``ExceptionType: first line of the message``
    (tracebacks would show hidden lines and assert_allclose-style messages the expected
    values).  Every test cell gets a one-line verdict with its name and points."""

    message_limit = Integer(300, help="Characters of an error message to show").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if not (cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)):
            return cell, resources
        cell.source, had_hidden = strip_hidden(cell.source)
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if had_hidden:
            cell.outputs = [self._sanitized(o) for o in errors[:1]]
        meta = cell.metadata["nbgrader"]
        points = float(meta.get("points", 0))
        pts = f"{points:g} point{'' if points == 1 else 's'}"
        verdict = (f"FAILED test {meta['grade_id']} ({pts}): "
                   f"{errors[0].ename}: {first_line(errors[0].evalue, self.message_limit)}"
                   if errors else f"passed test {meta['grade_id']} ({pts})")
        cell.outputs.insert(0, NotebookNode(output_type="stream", name="stdout",
                                            text=verdict.rstrip(": ") + "\n"))
        return cell, resources

    def _sanitized(self, out):
        msg = first_line(out.evalue, self.message_limit)
        text = f"{out.ename}: {msg}" if msg else out.ename
        return NotebookNode(output_type="error", ename=out.ename, evalue=msg, traceback=[text])



# -- math in feedback, with no network ---------------------------------------------------
# nbgrader's feedback page loads MathJax from a CDN, so offline the student sees raw LaTeX.
# The math of the (instructor-written) markdown cells is turned into MathML when the feedback
# is generated; browsers draw MathML themselves (Chromium >= 109, Firefox, Safari).

_MATH = __import__("re").compile(
    r"(?<!\\)\$\$(?P<block>.+?)(?<!\\)\$\$|(?<![\\$])\$(?P<inline>[^\s$](?:[^$\n]*?[^\s\\$])?)\$(?!\d)",
    __import__("re").DOTALL)


def latex_to_mathml(latex: str, display: bool) -> str:
    """MathML for one formula; the LaTeX itself in a <code> when latex2mathml cannot read it."""
    import html
    from latex2mathml.converter import convert
    try:
        return convert(latex.strip(), display="block" if display else "inline").replace("\\_", "_")
    except Exception:  # noqa: BLE001 - an unknown command: show the source rather than fail
        return f"<code>{html.escape(latex)}</code>"


def markdown_with_mathml(source: str) -> str:
    """Markdown to HTML with every $...$ and $$...$$ as MathML (and no $ left for MathJax)."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    formulas = []

    def hold(m):
        display = m.group("block") is not None
        formulas.append(latex_to_mathml(m.group("block") if display else m.group("inline"), display))
        return f"MATHMLPLACEHOLDER{len(formulas) - 1}X"

    html = markdown2html_mistune(_MATH.sub(hold, source))
    for i, mathml in enumerate(formulas):
        html = html.replace(f"MATHMLPLACEHOLDER{i}X", mathml)
    return html


class MathAsMathML(NbGraderPreprocessor):
    """Render each markdown cell's math as MathML when the feedback is generated; the
    template (templates/feedback_offline) shows that HTML and loads no MathJax."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.metadata["feedback_html"] = markdown_with_mathml(cell.source)
        return cell, resources


def _offline_exporter():
    from nbconvert.exporters import HTMLExporter

    class OfflineFeedbackExporter(HTMLExporter):
        """nbgrader's feedback page with MathML instead of MathJax (no network needed);
        settings.py names its template (templates/feedback_offline)."""

    return OfflineFeedbackExporter


OfflineFeedbackExporter = _offline_exporter()
