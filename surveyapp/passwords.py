"""Staff passwords: argon2id hashes (argon2-cffi), and a policy with clear messages.

Verifying against a dummy hash when the username is unknown makes a failed login cost the
same work whether or not the account exists, so timing does not reveal usernames.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 10
MAX_LENGTH = 200

# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): strong against
# guessing, yet a login costs a worker about 20 ms and 19 MiB rather than 64 MiB on a small
# server shared with a class of tablets. Hashes made with other parameters are upgraded at
# the next login (see needs_rehash).
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; an unknown user is checked against a dummy hash."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (rehash on login)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def burn_time(password: str) -> None:
    """Do the work of one verification without a user (unknown username, inactive user)."""
    verify_password(None, password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("dummy password that never matches anything typed")


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` is not acceptable (a translatable message), or None."""
    if len(password) < MIN_LENGTH:
        return _l("The password must have at least %(n)d characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("The password must have at most %(n)d characters.", n=MAX_LENGTH)
    if username and username.lower() in password.lower():
        return _l("The password must not contain the username.")
    if len(set(password)) < 4:
        return _l("The password is too simple: use more different characters.")
    return None
