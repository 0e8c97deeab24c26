"""Jupyter Server settings of the course service (formgrader), passed with --config.

JupyterHub >= 4.1 sends `Content-Security-Policy: frame-ancestors 'none'` from every
single-user server and service, so formgrader cannot be shown inside JupyterLab's
iframe (nbgrader issue #1870): the instructor opens it as a page of its own,
<hub>/services/<course>/formgrader. COURSE_FORMGRADER_FRAME_ANCESTORS="'self'" puts
nbgrader's old behaviour back for this service only; it lets any page on the hub's origin
(any student's server included) frame the formgrader: see grader/JUPYTERHUB.md before.
"""
import os

c = get_config()  # noqa: F821
_ancestors = os.environ.get("COURSE_FORMGRADER_FRAME_ANCESTORS")
if _ancestors:
    c.ServerApp.tornado_settings = {"headers": {
        "Content-Security-Policy": f"frame-ancestors {_ancestors}"}}
# the course service serves formgrader, not the course's notebooks to students
c.ServerApp.default_url = "/formgrader"
