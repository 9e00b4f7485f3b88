"""``flask --app web user ...`` and ``flask --app web token ...``: accounts and API tokens from
the command line (the first admin is made by the service itself on first start)."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from geo.errors import GeoError
from geo.registry.accounts import ROLES
from web.state import state

user_commands = AppGroup("user", help="accounts of the web service")
token_commands = AppGroup("token", help="API tokens for scripts")


def _registry():
    return state().registry()


def _fail(exc: GeoError):
    raise click.ClickException(str(exc)) from None


@user_commands.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--password-stdin", is_flag=True,
              help="read the password from standard input (else asked for, twice)")
def add_user(name: str, role: str, password_stdin: bool) -> None:
    """Add an account."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        _registry().add_user(name, role, password, actor="flask cli")
    except GeoError as exc:
        _fail(exc)
    click.echo(f"added {name} ({role})")


@user_commands.command("list")
def list_users() -> None:
    for account in _registry().accounts():
        flags = " (disabled)" if account.disabled else ""
        click.echo(f"{account.name}\t{account.role}{flags}")


@user_commands.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True)
def set_password(name: str, password_stdin: bool) -> None:
    """Set an account's password."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        _registry().set_password(name, password, actor="flask cli")
    except GeoError as exc:
        _fail(exc)
    click.echo(f"password of {name} set")


@token_commands.command("create")
@click.option("--user", "user", required=True)
@click.option("--label", default="")
@click.option("--days", type=float, default=365.0, show_default=True,
              help="valid for this many days")
def create_token(user: str, label: str, days: float) -> None:
    """Create a token; it is printed this once (only its hash is kept)."""
    try:
        token, info = _registry().create_token(user, label=label, expires_days=days,
                                               actor="flask cli")
    except GeoError as exc:
        _fail(exc)
    click.echo(token)
    click.echo(f"token {info.id} for {user}, expires {info.expires_at:%Y-%m-%d}; send it as "
               "'Authorization: Bearer TOKEN'; it is not shown again", err=True)


@token_commands.command("list")
@click.option("--user", "user", default=None)
def list_tokens(user: str | None) -> None:
    for token in _registry().tokens(user):
        state_text = "revoked" if token.revoked_at else f"expires {token.expires_at:%Y-%m-%d}" \
            if token.expires_at else "no expiry"
        click.echo(f"{token.id}\t{token.user}\t{token.prefix}...\t{token.label}\t{state_text}")


@token_commands.command("revoke")
@click.argument("token_id", type=int)
def revoke_token(token_id: int) -> None:
    try:
        _registry().revoke_token(token_id, actor="flask cli")
    except GeoError as exc:
        _fail(exc)
    click.echo(f"token {token_id} revoked")


def register(app: Flask) -> None:
    app.cli.add_command(user_commands)
    app.cli.add_command(token_commands)
