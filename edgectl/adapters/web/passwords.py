"""Password policy and slow salted hashes.

Rules (SPEC §6):
- a password has at least 8 characters with an upper-case letter, a
  lower-case letter, a digit and a special character; the login cannot be
  `admin` (the first thing an attacker tries);
- hashes are `hashlib.scrypt` with a random 16-byte salt per user; the cost
  parameters are stored in the hash string (`scrypt$n$r$p$salt$hash`), so
  they can be raised later without invalidating existing passwords;
- checking compares in constant time; an unknown user is hashed anyway so
  that timing does not reveal which logins exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

LOGIN_RE = re.compile(r"^[A-Za-z0-9._@-]{3,64}$")


@dataclass(frozen=True, slots=True)
class ScryptParams:
    n: int = 2**14  # ~16 MiB and ~50 ms on the box: slow for guessing, fine for a login
    r: int = 8
    p: int = 1


FAST_TEST_PARAMS = ScryptParams(n=2**8, r=8, p=1)  # tests only: same format, cheap


class PolicyError(ValueError):
    """A login or password that the policy refuses; the message says why."""


def check_login(login: str) -> None:
    if login.lower() == "admin":
        raise PolicyError("the login cannot be 'admin'")
    if not LOGIN_RE.match(login):
        raise PolicyError("a login has 3-64 characters: letters, digits, '.', '_', '@' or '-'")


def check_password(password: str, login: str | None = None) -> None:
    problems: list[str] = []
    if len(password) < 8:
        problems.append("at least 8 characters")
    if not any(c.isupper() for c in password):
        problems.append("an upper-case letter")
    if not any(c.islower() for c in password):
        problems.append("a lower-case letter")
    if not any(c.isdigit() for c in password):
        problems.append("a digit")
    if not any(not c.isalnum() and not c.isspace() for c in password):
        problems.append("a special character")
    if problems:
        raise PolicyError("the password needs " + ", ".join(problems))
    if login is not None and password.lower() == login.lower():
        raise PolicyError("the password cannot be the login")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, params: ScryptParams = ScryptParams()) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=params.n, r=params.r, p=params.p, maxmem=2**26, dklen=32
    )
    return f"scrypt${params.n}${params.r}${params.p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        digest = hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=int(n), r=int(r), p=int(p), maxmem=2**26, dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False  # a corrupt or foreign hash never matches
    return hmac.compare_digest(digest, expected)


_DUMMY: dict[ScryptParams, str] = {}


def burn_time(password: str, params: ScryptParams) -> None:
    """Spend the time of one check (for a login that does not exist)."""
    if params not in _DUMMY:
        _DUMMY[params] = hash_password("Dummy-passw0rd!", params)
    verify_password(password, _DUMMY[params])
