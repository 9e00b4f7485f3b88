"""Who may sign in to the web service: users with a role and a hashed password, API tokens for
scripts (only their SHA-256 is stored; the token is shown once), and the sign-in attempts that
rate limiting counts. Kept in the registry's database so that every worker process, and every
server in front of one PostgreSQL database, sees the same accounts.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from geo.errors import ConflictError, NotFoundError, ValidationError
from geo.registry import database as db
from geo.registry.store import Store

# Each role may do what the roles before it may, and more.
ROLES = ("viewer", "dispatcher", "planner", "admin")
FIRST_ADMIN = "admin"
MIN_PASSWORD_CHARS = 10
TOKEN_PREFIX = "geo_"
# Werkzeug's scrypt (memory-hard); the parameters are werkzeug's current defaults.
PASSWORD_METHOD = "scrypt"


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: str
    must_change_password: bool
    disabled: bool


# Token ids are 64-bit integers (SQLite's INTEGER, PostgreSQL's BIGINT).
MAX_TOKEN_ID = 2**63 - 1


@dataclass(frozen=True)
class TokenInfo:
    id: int
    user: str
    prefix: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class AccountsMixin(Store):
    # ---- users --------------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str, *, must_change_password: bool = False,
                 actor: str = "system") -> Account:
        name = _check_name(name)
        _check_role(role)
        _check_password(password)
        users = db.users
        try:
            with self._write() as conn:
                conn.execute(insert(users).values(
                    name=name, role=role, password_hash=_hash(password),
                    must_change_password=must_change_password, disabled=False,
                    created_at=db.utc_now()))
                self._audit(conn, actor=actor, action="insert", layer="users", record_id=name,
                            old=None, new={"name": name, "role": role})
        except IntegrityError:
            raise ConflictError(f"user: {name!r} already exists", current=name) from None
        return self.account(name)

    def ensure_first_admin(self) -> str | None:
        """Create the ``admin`` user with a random password if there is no user at all; returns
        the password (to show once), or None when users exist. Safe when several worker
        processes start at once: one insert wins, the others see the user."""
        with self._read() as conn:
            if conn.execute(select(func.count()).select_from(db.users)).scalar():
                return None
        password = secrets.token_urlsafe(12)
        try:
            self.add_user(FIRST_ADMIN, "admin", password, must_change_password=True,
                          actor="first start")
        except ConflictError:
            return None
        return password

    def account(self, name: str) -> Account:
        users = db.users
        with self._read() as conn:
            row = conn.execute(select(users).where(users.c.name == str(name))).mappings().first()
        if row is None:
            raise NotFoundError(f"user: no user named {name!r}")
        return _account(row)

    def accounts(self) -> list[Account]:
        users = db.users
        with self._read() as conn:
            rows = conn.execute(select(users).order_by(users.c.name)).mappings().all()
        return [_account(row) for row in rows]

    def check_password(self, name: str, password: str) -> Account | None:
        """The account if ``password`` is right and the account enabled, else None."""
        users = db.users
        with self._read() as conn:
            row = conn.execute(select(users).where(users.c.name == str(name))).mappings().first()
        if row is None:
            # Hash anyway, so that a wrong name takes as long as a wrong password.
            _check_hash(_DUMMY_HASH, password)
            return None
        if not _check_hash(row["password_hash"], password) or row["disabled"]:
            return None
        return _account(row)

    def set_password(self, name: str, password: str, *, actor: str = "system") -> None:
        _check_password(password)
        users = db.users
        with self._write() as conn:
            changed = conn.execute(update(users).where(users.c.name == str(name)).values(
                password_hash=_hash(password), must_change_password=False)).rowcount
            if not changed:
                raise NotFoundError(f"user: no user named {name!r}")
            self._audit(conn, actor=actor, action="password", layer="users", record_id=name,
                        old=None, new=None)

    def set_role(self, name: str, role: str, *, actor: str = "system") -> None:
        _check_role(role)
        self._update_user(name, {"role": role}, actor=actor)

    def set_disabled(self, name: str, disabled: bool, *, actor: str = "system") -> None:
        self._update_user(name, {"disabled": bool(disabled)}, actor=actor)

    def _update_user(self, name: str, values: dict, *, actor: str) -> None:
        users = db.users
        with self._write() as conn:
            old = conn.execute(select(users).where(users.c.name == str(name))
                               .with_for_update()).mappings().first()
            if old is None:
                raise NotFoundError(f"user: no user named {name!r}")
            conn.execute(update(users).where(users.c.name == str(name)).values(**values))
            self._audit(conn, actor=actor, action="update", layer="users", record_id=name,
                        old={k: old[k] for k in values}, new=values)

    # ---- tokens -------------------------------------------------------------------------------

    def create_token(self, user: str, *, label: str = "", expires_days: float | None = 365,
                     actor: str = "system") -> tuple[str, TokenInfo]:
        """A new API token for ``user``: the token (shown once, never stored) and its record."""
        account = self.account(user)
        if expires_days is not None and not (0 < expires_days <= 3650):
            raise ValidationError(f"expires_days: expected 0 < days <= 3650, got {expires_days}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = db.utc_now()
        expires = None if expires_days is None else now + timedelta(days=expires_days)
        tokens = db.api_tokens
        with self._write() as conn:
            token_id = conn.execute(insert(tokens).values(
                user_id=account.id, token_sha256=_sha256(token), prefix=token[:10],
                label=str(label)[:200], created_at=now, expires_at=expires)).inserted_primary_key[0]
            self._audit(conn, actor=actor, action="insert", layer="api_tokens",
                        record_id=str(token_id), old=None, new={"user": user, "label": label})
        return token, self._token_info(int(token_id))

    def account_for_token(self, token: str) -> Account | None:
        """The account a valid token belongs to; None for an unknown, revoked or expired token
        or a disabled account."""
        tokens, users = db.api_tokens, db.users
        with self._read() as conn:
            row = conn.execute(
                select(users, tokens.c.expires_at, tokens.c.revoked_at)
                .join(tokens, tokens.c.user_id == users.c.id)
                .where(tokens.c.token_sha256 == _sha256(token))).mappings().first()
        if row is None or row["revoked_at"] is not None or row["disabled"]:
            return None
        if row["expires_at"] is not None and row["expires_at"] <= db.utc_now():
            return None
        return _account(row)

    def revoke_token(self, token_id: int, *, actor: str = "system") -> None:
        tokens = db.api_tokens
        if not 0 < int(token_id) <= MAX_TOKEN_ID:  # beyond the column's range: none such
            raise NotFoundError(f"token: no token with id {token_id}")
        with self._write() as conn:
            changed = conn.execute(update(tokens).where(tokens.c.id == int(token_id),
                                                        tokens.c.revoked_at.is_(None))
                                   .values(revoked_at=db.utc_now())).rowcount
            if not changed:
                exists = conn.execute(select(tokens.c.id).where(
                    tokens.c.id == int(token_id))).scalar()
                if exists is None:
                    raise NotFoundError(f"token: no token with id {token_id}")
                raise ConflictError(f"token {token_id} is already revoked", current="revoked")
            self._audit(conn, actor=actor, action="revoke", layer="api_tokens",
                        record_id=str(token_id), old=None, new=None)

    def tokens(self, user: str | None = None) -> list[TokenInfo]:
        tokens, users = db.api_tokens, db.users
        query = (select(tokens, users.c.name.label("user"))
                 .join(users, users.c.id == tokens.c.user_id).order_by(tokens.c.id))
        if user is not None:
            query = query.where(users.c.name == str(user))
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return [_token(row) for row in rows]

    def _token_info(self, token_id: int) -> TokenInfo:
        return next(t for t in self.tokens() if t.id == token_id)

    # ---- sign-in attempts ---------------------------------------------------------------------

    def record_login(self, name: str, address: str, *, ok: bool) -> None:
        attempts = db.login_attempts
        now = db.utc_now()
        with self._write() as conn:
            conn.execute(insert(attempts).values(name=str(name)[:100], address=str(address)[:64],
                                                 at=now, ok=ok))
            # Keep the table small: attempts older than a day no longer count.
            conn.execute(delete(attempts).where(attempts.c.at < now - timedelta(days=1)))

    def failed_logins(self, *, name: str, address: str, window_s: float) -> int:
        """Failed attempts for this name or from this address within the last ``window_s``."""
        attempts = db.login_attempts
        since = db.utc_now() - timedelta(seconds=window_s)
        with self._read() as conn:
            return int(conn.execute(
                select(func.count()).select_from(attempts)
                .where(attempts.c.at >= since, attempts.c.ok.is_(False),
                       (attempts.c.name == str(name)[:100])
                       | (attempts.c.address == str(address)[:64]))).scalar() or 0)


def _check_name(name: str) -> str:
    text = str(name).strip()
    if not text or len(text) > 100 or any(c.isspace() for c in text):
        raise ValidationError(f"name: expected 1-100 characters without spaces, got {name!r}")
    return text


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationError(f"role: {role!r} is not one of {', '.join(ROLES)}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationError(f"password: at least {MIN_PASSWORD_CHARS} characters")


# werkzeug is imported where a password is hashed or checked: the command line never does, and
# importing werkzeug takes as long as the rest of the registry.
def _hash(password: str) -> str:
    from werkzeug.security import generate_password_hash
    return generate_password_hash(password, method=PASSWORD_METHOD)


def _check_hash(password_hash: str, password: str) -> bool:
    from werkzeug.security import check_password_hash
    return check_password_hash(password_hash, password)


# What a sign-in under an unknown name is checked against, so that it takes as long as one under
# a known name with a wrong password: a PASSWORD_METHOD hash of a random password nobody kept
# (the result is thrown away; only the cost matters). Written out rather than hashed at import,
# which cost every process a scrypt run, the command line's included. A test holds its
# parameters to those of _hash.
_DUMMY_HASH = ("scrypt:32768:8:1$LWLXe62YkqK5DbYe$8d964e7d9364f4cba5ad4de8ee0fd16b094c7ed3299cf18b"
               "50562b80fdbf940699c35af398c6c27e086f617e05ba1bb991f87d22070ce11ab08bcd34444feeae")


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _account(row) -> Account:
    return Account(id=int(row["id"]), name=row["name"], role=row["role"],
                   must_change_password=bool(row["must_change_password"]),
                   disabled=bool(row["disabled"]))


def _token(row) -> TokenInfo:
    return TokenInfo(id=int(row["id"]), user=row["user"], prefix=row["prefix"],
                     label=row["label"], created_at=row["created_at"],
                     expires_at=None if row["expires_at"] is None else row["expires_at"],
                     revoked_at=row["revoked_at"])
