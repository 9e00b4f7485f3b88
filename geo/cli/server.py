"""The CLI server: our libraries imported once, a forked copy of this process per command.

Started in the background by :mod:`geo.cli.client`; see there for why and how a command
reaches it. Each command runs in a child forked for it, which takes over the caller's stdin,
stdout and stderr, working folder, environment and umask, so that it behaves as the command
would in a process of its own: nothing a command changes reaches the next one. The server
itself only imports and waits, and runs no command code: the thread pools libraries start on
import (OpenBLAS, numexpr) are made to be forked, but what a command starts may not be. It exits
after ``idle_s`` seconds without a command, when asked to, or when a command comes from changed
code or another environment.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import io
import json
import os
import pkgutil
import signal
import socket
import struct
import sys
import threading
import time
import traceback

from geo.cli.client import send_message

# Never imported ahead: the client and this module, and the entry point (which runs a command).
NOT_PRELOADED = ("geo.__main__", "geo.cli.client", "geo.cli.server")
MAX_REQUEST_BYTES = 4 << 20
REQUEST_TIMEOUT_S = 10.0
LOCK_WAIT_S = 10.0


def serve(address: str, fingerprint: str, idle_s: float) -> None:
    lock = _exclusive_lock(address + ".lock")
    if lock is None:
        return  # another server for this address is running
    preload()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(address)  # a server that ended without cleaning up
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(address)
        os.chmod(address, 0o600)
        listener.listen(64)
        listener.settimeout(idle_s)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reaped by the system
        try:
            _accept_until_done(listener, lock, fingerprint)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(address)


def preload() -> None:
    """Import every module of our package (and with them the libraries they use). One that
    fails (a module being edited) is left to the commands that use it, which then fail as
    they would in a process of their own."""
    import geo

    for module in pkgutil.walk_packages(geo.__path__, "geo.", onerror=_log_failure):
        if module.name not in NOT_PRELOADED:
            try:
                importlib.import_module(module.name)
            except Exception:  # noqa: BLE001 - any import error: logged, served without
                _log_failure(module.name)


def _log_failure(name: str) -> None:
    print(f"not imported ahead: {name}", file=sys.stderr)
    traceback.print_exc()


def _exclusive_lock(path: str, wait_s: float = LOCK_WAIT_S) -> int | None:
    """The lock held for a server's life; None if another server keeps it. An out-of-date
    server releases it as it exits, just after telling the command that starts this one."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                return None
            time.sleep(0.05)


def _accept_until_done(listener: socket.socket, lock: int, fingerprint: str) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            return  # idle long enough
        with conn:
            if not _same_user(conn):
                continue
            try:
                request, fds = _receive_request(conn)
            except (OSError, ValueError):
                continue  # a caller that went away or spoke nonsense: the next one
            if request.get("stop"):
                send_message(conn, {"stopped": True})
                return
            if request.get("fingerprint") != fingerprint:
                _close_all(fds)
                send_message(conn, {"outdated": True})
                return
            if os.fork() == 0:
                _child(conn, request, fds, closing=(listener.fileno(), lock))
            _close_all(fds)


def _same_user(conn: socket.socket) -> bool:
    credentials = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", credentials)
    return uid == os.getuid()


def _receive_request(conn: socket.socket) -> tuple[dict, list[int]]:
    conn.settimeout(REQUEST_TIMEOUT_S)
    data, fds, _flags, _address = socket.recv_fds(conn, 65536, 3)
    try:
        while not data.endswith(b"\n"):
            more = conn.recv(65536)
            if not more or len(data) > MAX_REQUEST_BYTES:
                raise ValueError("request cut short or too long")
            data += more
        conn.settimeout(None)
        return json.loads(data), fds
    except BaseException:
        _close_all(fds)  # the caller's descriptors must not stay open here
        raise


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


# In the child forked for one command ---------------------------------------------------------

def _child(conn: socket.socket, request: dict, fds: list[int], closing: tuple[int, ...]) -> None:
    """Run the command as ``python -m geo`` would, report its status, and end (never returns)."""
    code = 1
    try:
        for fd in closing:  # the server's socket and lock must end with the server
            os.close(fd)
        _become_the_caller(request, fds)
        send_message(conn, {"pid": os.getpid()})
        _end_with_the_caller(conn)
        code = _run_command(request["argv"])
    except BaseException:  # noqa: BLE001 - whatever it is, the caller gets a status
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        with contextlib.suppress(Exception):
            send_message(conn, {"exit": code})
        os._exit(code)


def _become_the_caller(request: dict, fds: list[int]) -> None:
    for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.umask(int(request["umask"]))
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = list(request["argv"])
    # Streams as the interpreter makes them at start-up for these descriptors (same encoding:
    # the environment, hence the locale, is the server's): a terminal gets lines as written,
    # and PYTHONUNBUFFERED, which the caller's interpreter honoured, is honoured here too.
    unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))
    sys.stdin = _text_stream(0, "r", sys.stdin, line_buffering=False, unbuffered=False)
    sys.stdout = _text_stream(1, "w", sys.stdout, line_buffering=os.isatty(1),
                              unbuffered=unbuffered)
    sys.stderr = _text_stream(2, "w", sys.stderr, line_buffering=True, unbuffered=unbuffered)


def _text_stream(fd: int, mode: str, like, *, line_buffering: bool,
                 unbuffered: bool) -> io.TextIOWrapper:
    raw = io.FileIO(fd, mode, closefd=False)
    if unbuffered:
        return io.TextIOWrapper(raw, encoding=like.encoding, errors=like.errors,
                                write_through=True)
    buffered = io.BufferedReader(raw) if mode == "r" else io.BufferedWriter(raw)
    return io.TextIOWrapper(buffered, encoding=like.encoding, errors=like.errors,
                            line_buffering=line_buffering)


def _end_with_the_caller(conn: socket.socket) -> None:
    """End this command if its caller goes away (killed, say), as a process of its own would
    end with a killed terminal or pipeline: the caller sends nothing more, so any return of
    ``recv`` means it closed the connection."""
    def watch() -> None:
        with contextlib.suppress(OSError):
            conn.recv(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True).start()


def _run_command(argv: list[str]) -> int:
    from geo.cli.main import main

    try:
        return int(main(argv[1:]) or 0)
    except SystemExit as exc:  # argparse's --help and errors, as the interpreter ends them
        if exc.code is None or isinstance(exc.code, int):
            return int(exc.code or 0)
        print(exc.code, file=sys.stderr)
        return 1
