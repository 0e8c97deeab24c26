"""A password-file authenticator with no PAM and no system users: each hub user has a
password of their own, stored as a salted PBKDF2 hash in a JSON file ({"alice": "pbkdf2_sha256$..."}).

For a test or a small local class. A real class logs in through the institution
(OAuthenticator, LTIAuthenticator, ...): see grader/JUPYTERHUB.md.

    python -m grader.jupyterhub.localauth FILE USER      # asks for USER's password, adds it to FILE
"""
from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import json
import os
import sys

ITERATIONS = 200_000


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return "$".join(["pbkdf2_sha256", str(iterations), base64.b64encode(salt).decode(),
                     base64.b64encode(digest).decode()])


def check_password(password: str, stored: str) -> bool:
    try:
        kind, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "pbkdf2_sha256":
        return False
    again = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    return hmac.compare_digest(again, base64.b64decode(digest))


def read_passwords(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


try:
    from jupyterhub.auth import Authenticator
    from traitlets import Unicode
except ImportError:  # the hashing helpers work without jupyterhub
    Authenticator = None

if Authenticator is not None:
    class PasswordFileAuthenticator(Authenticator):
        """Users and their password hashes from `password_file` (read at each login, so
        adding a student needs no restart). Only users listed there may log in."""

        password_file = Unicode(config=True, help="JSON file: user name -> pbkdf2_sha256 hash")

        def check_allow_config(self):  # the file is the allow list
            pass

        async def authenticate(self, handler, data):
            name = (data or {}).get("username", "")
            stored = read_passwords(self.password_file).get(name)
            if stored and check_password((data or {}).get("password", ""), stored):
                return name
            self.log.warning("login refused for %r", name)
            return None

        async def check_allowed(self, username, authentication=None):
            return username in read_passwords(self.password_file)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    path, user = argv
    users = read_passwords(path)
    users[user] = hash_password(getpass.getpass(f"password for {user}: "))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as f:
        json.dump(users, f, indent=1)
    os.replace(tmp, path)
    print(f"{user} can log in ({path}: {len(users)} users)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
