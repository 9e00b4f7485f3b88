"""Run a command in the CLI server, a process that has our libraries imported already.

A command's own work is a few hundredths of a second (a dispatch on the demo: 0.07 s), but a
fresh interpreter spends about a second importing what it uses (numpy, scipy, pandas,
geopandas, SQLAlchemy). The CLI server (:mod:`geo.cli.server`) imports them once and forks a
copy of itself for each command; this module, which imports only the standard library, hands
that copy the command line, the working folder, the environment and our own stdin, stdout and
stderr (the descriptors themselves, so that output streams as it is written and a terminal is
still a terminal), forwards Ctrl-C and termination to it, and exits with its status.

The first command (or the first after our code, the installed packages or the environment
changed) starts a server in the background and runs as before, in its own process; the server
exits after ``GEO_CLI_SERVER_IDLE_S`` seconds without a command (15 minutes) or when a command
finds it out of date. ``GEO_CLI_SERVER=0`` turns it off. A command run with interpreter options
(``python -X importtime -m geo``, ``-W error``, ``-O``) always runs in its own process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import stat
import sys

ENABLED_ENV = "GEO_CLI_SERVER"
FOLDER_ENV = "GEO_CLI_SERVER_DIR"
IDLE_ENV = "GEO_CLI_SERVER_IDLE_S"
DEFAULT_IDLE_S = 900.0
OFF = ("0", "off", "no", "false")
# Variables that the interpreter or a library we import reads when it starts or is imported
# (the locale and so stdout's encoding, the time zone, numba's and the BLAS thread pools'
# settings, PROJ's data, the temporary folder, where libraries are found): a command under other
# values needs a server imported under them. Every other variable (ours, GEO_*, among them) is
# read when a command runs, and each command gets the caller's whole environment; keeping the
# rest out of this list lets terminals that differ only in, say, their session variables share
# one server instead of replacing it at every switch.
IMPORT_ENV_PREFIXES = ("PYTHON", "LANG", "LC_", "TZ", "HOME", "PATH", "LD_", "VIRTUAL_ENV",
                       "CONDA", "TMP", "TEMP", "NUMBA_", "NUMPY_", "NPY_", "SCIPY_", "OMP_",
                       "OPENBLAS_", "GOTO", "MKL_", "BLIS_", "NUMEXPR_", "PANDAS_",
                       "SQLALCHEMY_", "PROJ", "PYPROJ_", "GDAL_", "CPL_", "GEOS_", "SHAPELY_")
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
SERVER_LOG = "server.log"


def run_through_server(argv: list[str]) -> int | None:
    """The exit status of ``python -m geo argv`` run in the CLI server, or None when it ran
    nowhere (server off, not running or out of date: then the caller runs the command itself,
    and a server is started for the next one)."""
    if not _usable():
        return None
    folder = server_folder()
    if folder is None:
        return None
    address = os.path.join(folder, _server_name() + ".sock")
    fingerprint = code_fingerprint()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            return _run_in_server(conn, address, argv, fingerprint)
    except _NotStartedError:  # no server, or one that is out of date or going away
        start_server(address, fingerprint)
        return None
    except KeyboardInterrupt:  # before the command had started there (which then ends too)
        print("error: interrupted", file=sys.stderr)
        return 130


def stop_servers(folder: str) -> int:
    """Ask every server in ``folder`` to exit; how many did."""
    stopped = 0
    for name in sorted(os.listdir(folder)):
        if name.endswith(".sock"):
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                    conn.connect(os.path.join(folder, name))
                    send_message(conn, {"stop": True})
                    stopped += next(_replies(conn), None) == {"stopped": True}
            except (OSError, ValueError):
                continue  # gone already
    return stopped


class _NotStartedError(Exception):
    """The command did not start in a server (none runs, or it is out of date)."""


def _usable() -> bool:
    if os.environ.get(ENABLED_ENV, "1").strip().lower() in OFF:
        return False
    if os.name != "posix" or not hasattr(socket, "send_fds"):
        return False
    # Interpreter options change how the command runs (and -X importtime is how one looks at
    # what a command imports): honour them in a process of its own. (Those the environment
    # sets, such as PYTHONDONTWRITEBYTECODE, the server shares: it starts in this environment.)
    flags = sys.flags
    changed = (flags.optimize, flags.isolated, flags.no_site, flags.ignore_environment,
               flags.verbose, flags.dev_mode, flags.safe_path, flags.bytes_warning,
               flags.inspect)
    return not any(changed) and not sys.warnoptions and not sys._xoptions


def server_folder() -> str | None:
    """The folder of this user's servers, made private to the user (None if it cannot be)."""
    folder = os.environ.get(FOLDER_ENV) or os.path.join(
        os.environ.get("XDG_RUNTIME_DIR") or "/tmp", f"geo-cli-{os.getuid()}")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        status = os.lstat(folder)
    except OSError:
        return None
    # Someone else's folder, one others may write to, or a link to one: never hand our
    # descriptors over there.
    if (not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid()
            or status.st_mode & 0o077):
        return None
    return folder


def _server_name() -> str:
    """One server per interpreter, copy of our code and module search path."""
    where = json.dumps([sys.executable, _package_folder(), sys.path])
    return "geo-" + hashlib.sha256(where.encode()).hexdigest()[:16]


def _package_folder() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def code_fingerprint() -> str:
    """What the server's imports depend on: our files (modules and the data they read on
    import), the folders of installed packages (an install or upgrade changes them) and the
    variables of the environment read on import."""
    digest = hashlib.sha256()
    for path in sorted(_package_files(_package_folder())):
        status = os.stat(path)
        digest.update(f"{path}\0{status.st_mtime_ns}\0{status.st_size}\n".encode())
    # A folder's time changes when a file is added to it: that of the folder our package lies
    # in (often the working folder, where commands write their output) would make every
    # command's server out of date; our own files are stated one by one above.
    for entry in sys.path:
        if os.path.abspath(entry or ".") in (os.path.dirname(_package_folder()), os.getcwd()):
            continue
        try:
            digest.update(f"{entry}\0{os.stat(entry or '.').st_mtime_ns}\n".encode())
        except OSError:
            digest.update(f"{entry}\0-\n".encode())
    digest.update(json.dumps(import_environment(os.environ), sort_keys=True).encode())
    return digest.hexdigest()


def _package_files(folder: str) -> list[str]:
    found = []
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            if entry.name != "__pycache__":
                found += _package_files(entry.path)
        else:
            found.append(entry.path)
    return found


def import_environment(environ) -> dict[str, str]:
    """The variables a server's imports may depend on."""
    return {name: value for name, value in environ.items()
            if name.startswith(IMPORT_ENV_PREFIXES)}


def _run_in_server(conn: socket.socket, address: str, argv: list[str], fingerprint: str) -> int:
    replies = _replies(conn)
    try:
        request = {"fingerprint": fingerprint, "argv": [sys.argv[0], *argv],
                   "cwd": os.getcwd(), "env": dict(os.environ), "umask": _umask()}
        conn.connect(address)
        send_message(conn, request, fds=[0, 1, 2])
        first = next(replies, None)
    except (OSError, ValueError) as exc:
        raise _NotStartedError from exc
    if first is None or "pid" not in first:  # out of date: it exits, and says so
        raise _NotStartedError
    # From here on the command runs there: whatever happens, it must not run here too.
    worker = int(first["pid"])
    received: list[int] = []

    def forward(number: int, _frame) -> None:
        received.append(number)
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, number)

    previous = {number: signal.signal(number, forward) for number in FORWARDED_SIGNALS}
    try:
        for reply in replies:
            if "exit" in reply:
                return int(reply["exit"])
    except (OSError, ValueError):
        pass  # as if it ended without a status
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if received:  # the signal we passed on ended it: end the same way
        signal.signal(received[-1], signal.SIG_DFL)
        os.kill(os.getpid(), received[-1])
    print("error: the command's process in the CLI server ended without a status "
          f"(see {os.path.join(os.path.dirname(address), SERVER_LOG)})",
          file=sys.stderr)
    return 1


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Messages: one JSON object per line; the request's first bytes carry our descriptors.

def send_message(conn: socket.socket, message: dict, fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode() + b"\n"
    if fds:
        data = data[socket.send_fds(conn, [data], fds):]
    if data:
        conn.sendall(data)


def _replies(conn: socket.socket):
    with conn.makefile("rb") as lines:
        for line in lines:
            yield json.loads(line)


def start_server(address: str, fingerprint: str) -> None:
    """Start a server for the next commands, in the background and in a session of its own
    (so that the terminal's Ctrl-C and a caller waiting for our output do not reach it)."""
    import subprocess

    folder = os.path.dirname(address)
    boot = ("import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
            "from geo.cli.server import serve; serve(sys.argv[2], sys.argv[3], float(sys.argv[4]))")
    try:
        with open(os.path.join(folder, SERVER_LOG), "ab") as log:
            subprocess.Popen([sys.executable, "-c", boot, json.dumps(sys.path), address,
                              fingerprint, str(idle_s())], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
                             close_fds=True, cwd=folder)
    except OSError:
        pass  # no server then: every command runs in its own process, as before


def idle_s() -> float:
    try:
        value = float(os.environ.get(IDLE_ENV, DEFAULT_IDLE_S))
    except ValueError:
        return DEFAULT_IDLE_S
    return value if value > 0 else DEFAULT_IDLE_S
