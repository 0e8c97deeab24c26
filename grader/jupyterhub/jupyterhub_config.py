"""JupyterHub for this course: students' servers with nbgrader's Assignment List, one course
service running formgrader for the instructors, one exchange folder (grader/JUPYTERHUB.md).

    jupyterhub -f grader/jupyterhub/jupyterhub_config.py      (from the repository's .venv)

Everything is set from the environment (defaults in brackets), so the same file serves the
test (tests/test_jupyterhub.py) and a single-machine class:

  COURSE_ROOT        the course folder the service grades in [this repository]
  COURSE_EXCHANGE    the exchange shared by everyone [COURSE_ROOT/grader/exchange]
  COURSE_INSTRUCTORS comma-separated hub user names with formgrader [none]
  COURSE_HUB_STATE   the hub's database, cookie secret and pid files [<repo>/.jhub/state]
  COURSE_HUB_HOMES   users' home folders, one per user [COURSE_HUB_STATE/home]
  COURSE_HUB_PASSWORDS  JSON file user -> password hash (python -m grader.jupyterhub.localauth)
                     [COURSE_HUB_STATE/passwords.json]
  COURSE_HUB_IP, COURSE_HUB_PORT      where users connect [127.0.0.1, 8000]
  COURSE_HUB_API_PORT, COURSE_PROXY_API_PORT, COURSE_SERVICE_PORT   internal [8081, 8001, 9999]
  COURSE_HUB_ADMIN_TOKEN  an API token with the admin scopes below (service "course-admin") [none]
  COURSE_PROXY_CMD   configurable-http-proxy [<repo>/.jhub/node_modules/.bin/configurable-http-proxy,
                     installed by `make jupyterhub-proxy`]
  GRADER_CHECK_OWNER=off  every student is the same system user (here: yes; see below)
  COURSE_FORMGRADER_FRAME_ANCESTORS  see jupyter_server_config.py (nbgrader #1870)

The spawner is SimpleLocalProcessSpawner: every user's server runs as the system user running
the hub, each with a home folder of its own. Every student is then the same system user, so
the exchange cannot tell who wrote a submission (nbgrader #1097) and the course's collect,
which refuses a submission not owned by the student it names, must be told so with
GRADER_CHECK_OWNER=off. A real class needs one system user (or one uid) per student:
LocalProcessSpawner with system users, or containers with distinct uids (grader/JUPYTERHUB.md).
"""
import json
import os
import shutil
import sys

c = get_config()  # noqa: F821 (provided by JupyterHub)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
if REPO not in sys.path:
    sys.path.insert(0, REPO)
from grader import settings  # noqa: E402
from grader.jupyterhub.localauth import PasswordFileAuthenticator  # noqa: E402

env = os.environ.get
COURSE = settings.COURSE_ID
ROOT = os.path.abspath(env("COURSE_ROOT") or REPO)
EXCHANGE = os.path.abspath(env("COURSE_EXCHANGE") or settings.exchange_root(ROOT))
STATE = os.path.abspath(env("COURSE_HUB_STATE") or os.path.join(REPO, ".jhub", "state"))
HOMES = os.path.abspath(env("COURSE_HUB_HOMES") or os.path.join(STATE, "home"))
INSTRUCTORS = [u.strip() for u in (env("COURSE_INSTRUCTORS") or "").split(",") if u.strip()]
IP = env("COURSE_HUB_IP") or "127.0.0.1"
BIN = os.path.dirname(sys.executable)  # the venv's jupyterhub-singleuser, nbgrader, alembic
SERVICE_URL = f"http://127.0.0.1:{int(env('COURSE_SERVICE_PORT') or 9999)}"
CHECK_OWNER_OFF = (env("GRADER_CHECK_OWNER") or "").lower() in ("off", "0", "no", "false")
os.makedirs(STATE, exist_ok=True)
os.makedirs(HOMES, exist_ok=True)
settings.ensure_exchange(EXCHANGE)

# --- network: everything on 127.0.0.1 unless COURSE_HUB_IP says otherwise ---------------------
c.JupyterHub.bind_url = f"http://{IP}:{int(env('COURSE_HUB_PORT') or 8000)}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{int(env('COURSE_HUB_API_PORT') or 8081)}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{int(env('COURSE_PROXY_API_PORT') or 8001)}"
c.ConfigurableHTTPProxy.command = [env("COURSE_PROXY_CMD") or os.path.join(
    REPO, ".jhub", "node_modules", ".bin", "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = os.path.join(STATE, "proxy.pid")
c.JupyterHub.pid_file = os.path.join(STATE, "jupyterhub.pid")
c.JupyterHub.db_url = "sqlite:///" + os.path.join(STATE, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(STATE, "jupyterhub_cookie_secret")

# --- who logs in: a password file, no PAM, no system users ----------------------------------
c.JupyterHub.authenticator_class = PasswordFileAuthenticator
c.PasswordFileAuthenticator.password_file = env("COURSE_HUB_PASSWORDS") or os.path.join(STATE, "passwords.json")

# --- users' servers: one process per user, same system user, a home folder each -------------
c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(HOMES, "{username}")
c.Spawner.cmd = [os.path.join(BIN, "jupyterhub-singleuser")]
# Jupyter Server refuses to run as root unless told (CI machines and containers often are root)
ALLOW_ROOT = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
c.Spawner.args = ALLOW_ROOT
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 240  # a loaded 2-core machine starts JupyterLab slowly
c.Spawner.http_timeout = 240
c.Spawner.environment = {"PATH": BIN + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")}


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def user_setup(spawner):
    """Before a server starts: its home folder, and in ~/.jupyter the course's nbgrader settings
    (the exchange, the course id and the student id: fetch, submit, fetch feedback) and formgrader switched off
    (instructors grade in the course service, students never)."""
    home = spawner.home_dir
    os.makedirs(home, exist_ok=True)
    _write(os.path.join(home, ".jupyter", "nbgrader_config.py"),
           "# written by grader/jupyterhub/jupyterhub_config.py at each start\n"
           "c = get_config()\n"
           f"c.Exchange.root = {EXCHANGE!r}\n"
           f"c.CourseDirectory.course_id = {COURSE!r}\n"
           # nbgrader names a submission after the system user (all the same here) unless told:
           # the hub user's name. A claim, not a proof: see grader/JUPYTERHUB.md (nbgrader #1097)
           f"c.CourseDirectory.student_id = {spawner.user.name!r}\n")
    _write(os.path.join(home, ".jupyter", "jupyter_server_config.json"), json.dumps({"ServerApp": {
        "jpserver_extensions": {"nbgrader.server_extensions.formgrader": False}}}, indent=1))


c.Spawner.pre_spawn_hook = user_setup

# --- the course service: formgrader over the course folder, for the instructors --------------
_service_env = {
    "PATH": BIN + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
    "PYTHONPATH": REPO,  # the grader package (SafeCollect, SplitExecute, SafeFeedback)
    "HOME": os.path.join(STATE, "service-home"),  # nothing read from or written to a real home
    "COURSE_ROOT": ROOT,
    "COURSE_EXCHANGE": EXCHANGE,
    "JUPYTERHUB_DEFAULT_URL": "/formgrader",
}
os.makedirs(_service_env["HOME"], exist_ok=True)
for _name, _value in os.environ.items():  # grading limits, sandbox, gradebook, frame setting
    if _name.startswith(("GRADER_", "COURSE_FORMGRADER_")):
        _service_env[_name] = _value
c.JupyterHub.services = [
    {
        "name": COURSE,
        "url": SERVICE_URL,
        # the working folder is this one, so nbgrader loads grader/jupyterhub/nbgrader_config.py
        # (the course's settings for COURSE_ROOT) and nothing else; the files shown are the course's
        "command": [os.path.join(BIN, "jupyterhub-singleuser"), f"--ServerApp.root_dir={ROOT}",
                    f"--config={os.path.join(HERE, 'jupyter_server_config.py')}", *ALLOW_ROOT],
        "cwd": HERE,
        "environment": _service_env,
        "oauth_no_confirm": True,
    },
]
if env("COURSE_HUB_ADMIN_TOKEN"):
    c.JupyterHub.services.append({"name": "course-admin", "api_token": env("COURSE_HUB_ADMIN_TOKEN")})

c.JupyterHub.load_groups = {
    f"formgrader-{COURSE}": {"users": INSTRUCTORS},
}
c.JupyterHub.load_roles = [
    # instructors reach the course service (formgrader and its API); nobody else does
    {"name": f"formgrader-{COURSE}", "groups": [f"formgrader-{COURSE}"],
     "scopes": [f"access:services!service={COURSE}"]},
    # the course's administration token: users, their servers and tokens, groups
    {"name": "course-admin", "services": ["course-admin"] if env("COURSE_HUB_ADMIN_TOKEN") else [],
     "scopes": ["admin:users", "admin:servers", "tokens", "admin:groups", "list:services", "read:services"]},
]

if not CHECK_OWNER_OFF:
    # every student is this one system user: collect (SafeCollect) would refuse every submission
    print("jupyterhub_config: SimpleLocalProcessSpawner runs every student as the same system user, "
          "so the course's collect refuses their submissions (owner check). Set GRADER_CHECK_OWNER=off "
          "for a trusted test or demo only; a real class needs one system user per student "
          "(grader/JUPYTERHUB.md).", file=sys.stderr)
if not shutil.which(c.ConfigurableHTTPProxy.command[0]):
    print(f"jupyterhub_config: no configurable-http-proxy at {c.ConfigurableHTTPProxy.command[0]}; "
          "run `make jupyterhub-proxy` (npm) or set COURSE_PROXY_CMD", file=sys.stderr)
