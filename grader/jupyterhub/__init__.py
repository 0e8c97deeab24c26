"""The course on JupyterHub: jupyterhub_config.py, the course service's nbgrader and server
configuration, and a small password-file authenticator (localauth.py). See grader/JUPYTERHUB.md."""
