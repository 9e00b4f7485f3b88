"""Who is asking, and may they: API tokens (``Authorization: Bearer``), user name and password
(``Authorization: Basic``, for GIS clients), or a browser session; roles and what each may do;
CSRF protection of session requests that change state; and rate-limited sign-in.

A bad token is refused (401), never treated as anonymous: a script with a revoked token must
learn so, not silently see only public data.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets

from flask import current_app, g, request, session

from geo.errors import NotFoundError
from geo.registry.accounts import Account
from web.errors import ApiError
from web.state import state

# What each role may do. Reading and running analyses (which change nothing) need "read".
PERMISSIONS = {
    "viewer": {"read"},
    "dispatcher": {"read", "dispatch"},
    "planner": {"read", "edit", "import"},
    "admin": {"read", "dispatch", "edit", "import", "admin"},
}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_HEADER = "X-CSRF-Token"
# Requests a user who must change the password may still make.
PASSWORD_CHANGE_ENDPOINTS = {"api.get_session", "api.change_password", "api.logout"}


def current() -> Account | None:
    """The signed-in account of this request (resolved once), or None."""
    if "account" not in g:
        g.account, g.auth_method = _resolve()
    return g.account


def require(permission: str | None) -> None:
    """Refuse the request unless its account may do ``permission`` (None: anyone, and who
    asks is not even looked up: health answers while the registry is unreachable)."""
    if permission is None:
        return
    account = current()
    if account is not None and g.auth_method == "session" and request.method not in SAFE_METHODS:
        check_csrf()
    if account is None:
        if permission == "read" and current_app.config["PUBLIC_READ"]:
            return
        raise ApiError(401, "unauthorized", "sign in (POST /api/session) or send "
                       "'Authorization: Bearer TOKEN'", field="Authorization",
                       headers={"WWW-Authenticate": 'Bearer realm="geo"'})
    if account.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        raise ApiError(403, "password_change_required", "password: this is a one-time "
                       "password; set your own first (POST /api/session/password)",
                       field="password")
    if permission not in PERMISSIONS.get(account.role, set()):
        raise ApiError(403, "forbidden", f"role: {account.role} may not do this (needs a role "
                       f"with '{permission}': {', '.join(roles_with(permission))})", field="role")


def public_read() -> bool:
    """Layers and analyses readable without signing in (configured)."""
    return bool(current_app.config["PUBLIC_READ"])


def roles_with(permission: str) -> list[str]:
    return [role for role, allowed in PERMISSIONS.items() if permission in allowed]


def actor() -> str:
    """Who writes, for the audit log."""
    account = current()
    return f"web:{account.name}" if account is not None else "web:anonymous"


def _resolve() -> tuple[Account | None, str | None]:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    registry = state().registry()
    if scheme.lower() == "bearer":
        account = registry.account_for_token(credentials.strip())
        if account is None:
            raise ApiError(401, "invalid_token", "Authorization: the token is unknown, revoked "
                           "or expired", field="Authorization",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return account, "token"
    if scheme.lower() == "basic":
        name, password = _basic(credentials)
        return sign_in(name, password), "basic"
    if header:
        raise ApiError(401, "unauthorized", "Authorization: expected Bearer or Basic",
                       field="Authorization")
    name = session.get("user")
    if name is None:
        return None, None
    try:
        account = registry.account(name)
    except NotFoundError:
        account = None
    if account is None or account.disabled or session.get("role_seen") != account.role:
        session.clear()  # a deleted, disabled or re-roled account signs in again
        return None, None
    return account, "session"


def _basic(credentials: str) -> tuple[str, str]:
    try:
        name, sep, password = base64.b64decode(credentials, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        name, sep, password = "", "", ""
    if not sep:
        raise ApiError(401, "unauthorized", "Authorization: malformed Basic credentials",
                       field="Authorization")
    return name, password


def sign_in(name: str, password: str) -> Account:
    """The account of a right name and password; 429 after too many failures for this name or
    from this address, 401 for a wrong one. Every attempt is recorded."""
    registry = state().registry()
    address = request.remote_addr or "unknown"
    config = current_app.config
    if registry.failed_logins(name=name, address=address,
                              window_s=config["LOGIN_WINDOW_S"]) >= config["LOGIN_MAX_FAILURES"]:
        raise ApiError(429, "too_many_attempts", "password: too many failed sign-ins; wait "
                       f"{config['LOGIN_WINDOW_S'] // 60} minutes", field="password",
                       headers={"Retry-After": str(config["LOGIN_WINDOW_S"])})
    account = registry.check_password(name, password)
    registry.record_login(name, address, ok=account is not None)
    if account is None:
        raise ApiError(401, "bad_credentials", "password: wrong user name or password",
                       field="password")
    return account


def start_session(account: Account) -> str:
    """Sign the browser in: a fresh session (against fixation) with a fresh CSRF token."""
    session.clear()
    session["user"], session["role_seen"] = account.name, account.role
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = True
    g.account, g.auth_method = account, "session"
    return session["csrf"]


def csrf_token() -> str:
    """The session's CSRF token (made for anonymous sessions too: the sign-in form needs one)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token") or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent, expected):
        raise ApiError(403, "csrf", f"{CSRF_HEADER}: missing or wrong CSRF token (GET "
                       "/api/session gives it)", field=CSRF_HEADER)
