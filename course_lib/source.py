"""Show library code in a lecture: the one way the notebooks display course_lib's source.

course_lib is the single copy of the code; a lecture displays it rather than repeating it.

>>> from course_lib.source import show
>>> show(Conv.forward, Conv.backward)          # doctest: +SKIP
"""

import inspect
import textwrap


def source(obj):
    """The source text of a function, method or class, dedented."""
    return textwrap.dedent(inspect.getsource(obj))


def show(*objs):
    """Display the source of each object: a highlighted code block in a notebook, plain text elsewhere."""
    text = "\n".join(source(obj) for obj in objs)
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(Markdown(f"```python\n{text}```"))
    else:
        print(text)
