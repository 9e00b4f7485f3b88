"""Signing in and out (browser sessions with a CSRF token), changing one's password, and the
accounts and API tokens admins manage."""

from __future__ import annotations

import dataclasses

from flask import jsonify, session

from geo.registry.accounts import MAX_TOKEN_ID
from web import auth
from web.api import api
from web.openapi import Response, route
from web.schemas import (
    LoginRequest,
    NewToken,
    PasswordRequest,
    SessionState,
    TokenRequest,
    Tokens,
    User,
    UserChange,
    UserRequest,
    Users,
)
from web.state import state

# Who is asking is looked up (an Authorization header is checked, a Basic sign-in counted).
SESSION_ERRORS = (401, 429, 503)


def _session_state():
    account = auth.current()
    permissions = sorted(auth.PERMISSIONS.get(account.role, ())) if account else []
    return jsonify({"user": account.name if account else None,
                    "role": account.role if account else None,
                    "must_change_password": bool(account and account.must_change_password),
                    "permissions": permissions, "csrf_token": auth.csrf_token()})


@route(api, "/session", "GET", summary="Who is signed in, and the CSRF token", tag="session",
       permission=None, errors=SESSION_ERRORS,
       responses={200: Response("the session", SessionState)})
def get_session():
    return _session_state()


@route(api, "/session", "POST", summary="Sign in (a browser session)", tag="session",
       permission=None, body=LoginRequest, errors=(*SESSION_ERRORS, 403),
       responses={200: Response("signed in", SessionState)})
def login(body: LoginRequest):
    """Needs the X-CSRF-Token of GET /api/session (against sign-in CSRF). Failed sign-ins are
    counted per name and address: too many give 429."""
    auth.check_csrf()
    auth.start_session(auth.sign_in(body.name, body.password))
    return _session_state()


@route(api, "/session", "DELETE", summary="Sign out", tag="session", permission=None,
       errors=(*SESSION_ERRORS, 403), responses={204: Response("signed out")})
def logout():
    if auth.current() is not None:
        auth.check_csrf()
    session.clear()
    return "", 204


@route(api, "/session/password", "POST", summary="Change one's own password", tag="session",
       permission="read", body=PasswordRequest,
       responses={200: Response("changed", SessionState)})
def change_password(body: PasswordRequest):
    account = auth.current()
    assert account is not None  # permission "read" with no account only when reads are public
    auth.sign_in(account.name, body.current)
    state().registry().set_password(account.name, body.new, actor=auth.actor())
    if session.get("user") == account.name:
        auth.start_session(state().registry().account(account.name))
    return _session_state()


def _user(account) -> dict:
    return {"name": account.name, "role": account.role, "disabled": account.disabled,
            "must_change_password": account.must_change_password}


@route(api, "/users", "GET", summary="Every account", tag="accounts", permission="admin",
       responses={200: Response("the accounts", Users)})
def list_users():
    return jsonify({"users": [_user(a) for a in state().registry().accounts()]})


@route(api, "/users", "POST", summary="Add an account", tag="accounts", permission="admin",
       body=UserRequest, errors=(409,), responses={201: Response("added", User)})
def add_user(body: UserRequest):
    account = state().registry().add_user(body.name, body.role, body.password,
                                          actor=auth.actor())
    return jsonify(_user(account)), 201


@route(api, "/users/<name>", "PATCH", summary="Change an account's role or disable it",
       tag="accounts", permission="admin", body=UserChange, errors=(404,),
       responses={200: Response("changed", User)})
def change_user(name: str, body: UserChange):
    registry = state().registry()
    if body.role is not None:
        registry.set_role(name, body.role, actor=auth.actor())
    if body.disabled is not None:
        registry.set_disabled(name, body.disabled, actor=auth.actor())
    return jsonify(_user(registry.account(name)))


@route(api, "/tokens", "GET", summary="API tokens (never the tokens themselves)",
       tag="accounts", permission="admin", responses={200: Response("the tokens", Tokens)})
def list_tokens():
    return jsonify({"tokens": [dataclasses.asdict(t) for t in state().registry().tokens()]})


@route(api, "/tokens", "POST", summary="Create an API token, shown this once", tag="accounts",
       permission="admin", body=TokenRequest, errors=(404,),
       responses={201: Response("created", NewToken)})
def create_token(body: TokenRequest):
    token, info = state().registry().create_token(body.user, label=body.label,
                                                  expires_days=body.expires_days,
                                                  actor=auth.actor())
    return jsonify({**dataclasses.asdict(info), "token": token}), 201


@route(api, "/tokens/<int:token_id>", "DELETE", summary="Revoke an API token", tag="accounts",
       permission="admin", errors=(404, 409),
       path_schemas={"token_id": {"type": "integer", "minimum": 1, "maximum": MAX_TOKEN_ID}},
       responses={204: Response("revoked")})
def revoke_token(token_id: int):
    state().registry().revoke_token(token_id, actor=auth.actor())
    return "", 204
