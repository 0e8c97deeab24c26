"""course_lib: the numpy library behind the CNN back-propagation course.

Vocabulary follows the slides and Caffe: a layer takes a *bottom* and produces
a *top*; a :class:`~course_lib.layers.Blob` holds ``data`` and ``diff`` (dE/d data).
"""

__version__ = "0.1.0"
