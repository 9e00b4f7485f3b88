"""The CLI server (issue 12: ``python -m geo dispatch`` starts in a blink): a command run in it
prints, writes and exits exactly as in a process of its own, with the caller's folder and
environment; Ctrl-C and a killed caller reach it; a server for other code or another
environment is not used; an idle server leaves. Real processes and sockets throughout; the
reference for every output is the same command with the server turned off."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from geo.cli import client

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

# ``python -m geo`` as geo/__main__.py runs it, saying on stderr's last line where it ran.
RUN_AND_SAY_WHERE = """
import sys
from geo.cli.client import run_through_server
code = run_through_server(sys.argv[1:])
where = "server" if code is not None else "own process"
if code is None:
    from geo.cli.main import main
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:  # argparse's --help and usage errors
        code = exc.code
print(f"[ran in: {where}]", file=sys.stderr)
raise SystemExit(code)
"""


def base_env(folder: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "GEO_CLI_SERVER": "1", "GEO_CLI_SERVER_DIR": folder,
           "GEO_CLI_SERVER_IDLE_S": "300", "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONUNBUFFERED", None)  # buffered streams, unless a test asks otherwise
    return {**env, **extra}


def geo(env, cwd, *argv: str, options: tuple[str, ...] = ()) -> tuple[int, str, str, str]:
    """(exit status, stdout, stderr, where it ran) of a command."""
    done = subprocess.run([sys.executable, *options, "-c", RUN_AND_SAY_WHERE, *argv], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    *err, where = done.stderr.splitlines()
    return done.returncode, done.stdout, "\n".join(err), where


def start(env, cwd) -> int:
    """Start a server with a first command (which runs in its own process); its pid once up."""
    assert geo(env, cwd, "--help")[3] == "[ran in: own process]"
    return wait_for_server(env["GEO_CLI_SERVER_DIR"])


def wait_for_server(folder: str, timeout_s: float = 180.0) -> int:
    def up() -> bool:
        return bool(server_pids(folder)) and bool(list(Path(folder).glob("*.sock")))

    assert wait_until(up, timeout_s), \
        f"no server came up: {Path(folder, client.SERVER_LOG).read_text()}"
    return server_pids(folder)[0]


def server_pids(folder: str) -> list[int]:
    """The servers started for ``folder`` (not the children they forked, whose command line
    is the same)."""
    found = {pid: parent for pid, parent, cmdline in processes()
             if b"geo.cli.server" in cmdline and folder.encode() in cmdline}
    return sorted(pid for pid, parent in found.items() if parent not in found)


def processes():
    """(pid, parent pid, command line) of every process."""
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            yield int(entry.name), parent, cmdline
        except (OSError, ValueError, IndexError):
            continue


def children(pid: int) -> list[int]:
    return [child for child, parent, _ in processes() if parent == pid]


def wait_until(condition, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture
def folder():
    # Short: a socket's path may not be longer than 107 bytes.
    path = tempfile.mkdtemp(prefix="geo-srv-")
    yield path
    for pid in server_pids(path):
        os.kill(pid, signal.SIGTERM)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A running server and its environment, for the commands of this module."""
    path = tempfile.mkdtemp(prefix="geo-srv-")
    env = base_env(path)
    cwd = tmp_path_factory.mktemp("caller")
    pid = start(env, cwd)
    yield env, pid
    assert client.stop_servers(path) == 1
    assert wait_until(lambda: not server_pids(path))
    assert not list(Path(path).glob("*.sock"))
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def demo_args(demo_file, cache_dir, li_drive, li_walk):
    return ["--db", str(demo_file), "--cache-dir", str(cache_dir)]


COMMANDS = {
    "dispatch": ["dispatch", "--at", "47.1650,9.5100", "--k", "3", "--items", "water=500"],
    "dispatch as JSON": ["dispatch", "--at", "47.1650,9.5100", "--type", "fire", "--json"],
    "walking route": ["route", "--mode", "walk", "--from", "47.1410,9.5209",
                      "--to", "47.1650,9.5100"],
    "coverage": ["coverage", "--breaks", "5,10"],
    "a mistyped choice": ["route", "--mode", "fly", "--from", "47.14,9.52", "--to", "47.16,9.51"],
    "an unknown team type": ["dispatch", "--at", "47.1650,9.5100", "--type", "firefighters"],
    "help": ["--help"],
}
NO_REGISTRY = {"walking route", "a mistyped choice", "help"}


@pytest.mark.parametrize("name", COMMANDS)
def test_a_command_in_the_server_prints_and_exits_as_in_its_own_process(
        name, server, demo_args, tmp_path):
    env, _ = server
    argv = COMMANDS[name] + ([] if name in NO_REGISTRY else demo_args)
    if name == "walking route":
        argv += demo_args[2:]
    if name == "help":
        argv = ["--help"]
    code, out, err, where = geo(env, tmp_path, *argv)
    own = geo({**env, "GEO_CLI_SERVER": "0"}, tmp_path, *argv)
    assert where == "[ran in: server]"
    assert own[3] == "[ran in: own process]"
    assert (code, out, err) == own[:3]
    assert out or err


def test_unbuffered_output_is_the_same_too(folder, demo_args, tmp_path):
    env = base_env(folder, PYTHONUNBUFFERED="1")
    start(env, tmp_path)
    for argv in (COMMANDS["dispatch as JSON"] + demo_args, ["--help"]):
        code, out, err, where = geo(env, tmp_path, *argv)
        assert where == "[ran in: server]"
        assert (code, out, err) == geo({**env, "GEO_CLI_SERVER": "0"}, tmp_path, *argv)[:3]
        assert out


def test_files_are_written_in_the_callers_folder(server, demo_args, tmp_path):
    env, _ = server
    for where, sub in (("server", "a"), ("own process", "b")):
        (tmp_path / sub).mkdir()
        run_env = env if where == "server" else {**env, "GEO_CLI_SERVER": "0"}
        code, _, err, ran = geo(run_env, tmp_path / sub, "service-area", "--breaks", "5",
                                "--json", "--out", "areas.geojson", *demo_args)
        assert (code, ran) == (0, f"[ran in: {where}]"), err
    written = [json.loads((tmp_path / sub / "areas.geojson").read_text()) for sub in "ab"]
    assert written[0] == written[1] and written[0]["features"]


def test_the_callers_environment_is_the_commands(server, demo_file, tmp_path):
    # The registry comes from GEO_DB_URL: the demo's in one call, an empty one in the next.
    env, _ = server
    empty = tmp_path / "empty.sqlite"
    subprocess.run([sys.executable, "-m", "geo", "registry", "init", "--db", str(empty)],
                   cwd=ROOT, env={**env, "GEO_CLI_SERVER": "0"}, check=True,
                   capture_output=True)
    listed = {}
    for name, db in (("demo", demo_file), ("empty", empty)):
        call_env = {**env, "GEO_DB_URL": str(db)}
        listed[name] = geo(call_env, tmp_path, "registry", "list", "--layer", "teams", "--json")
        own = geo({**call_env, "GEO_CLI_SERVER": "0"}, tmp_path, "registry", "list",
                  "--layer", "teams", "--json")
        assert listed[name][3] == "[ran in: server]"
        assert listed[name][:3] == own[:3]
    assert len(json.loads(listed["demo"][1])["features"]) > 0
    assert json.loads(listed["empty"][1])["features"] == []


def test_commands_at_the_same_time_each_get_their_own_answer(server, demo_args, tmp_path):
    env, _ = server
    points = ["47.1650,9.5100", "47.0600,9.5000", "47.2200,9.5400"]
    script = [sys.executable, "-c", RUN_AND_SAY_WHERE, "dispatch", "--k", "2", "--json",
              *demo_args]
    running = [subprocess.Popen([*script, "--at", point], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for point in points]
    answers = [process.communicate(timeout=300) for process in running]
    for point, (out, err) in zip(points, answers):
        assert err.splitlines()[-1] == "[ran in: server]"
        own = geo({**env, "GEO_CLI_SERVER": "0"}, tmp_path, "dispatch", "--k", "2", "--json",
                  *demo_args, "--at", point)
        assert out == own[1]
    assert len({out for out, _ in answers}) == len(points)


def test_interpreter_options_run_the_command_in_its_own_process(server, tmp_path):
    env, _ = server
    assert geo(env, tmp_path, "--help", options=("-W", "ignore"))[3] == "[ran in: own process]"
    assert geo(env, tmp_path, "--help")[3] == "[ran in: server]"


def test_ctrl_c_reaches_the_command_and_a_killed_caller_ends_it(folder, demo_args, tmp_path):
    env = base_env(folder)
    pid = start(env, tmp_path)
    # Eight shelters for the least walking on the demo: half a minute, long enough to stop.
    site = [sys.executable, "-c", RUN_AND_SAY_WHERE, "site", "--problem", "pmedian", "--p", "8",
            *demo_args]
    for ending in (signal.SIGINT, signal.SIGKILL):
        with subprocess.Popen(site, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) as caller:
            assert wait_until(lambda: children(pid), timeout_s=60), "the command never started"
            worker = children(pid)[0]
            time.sleep(1.0)
            caller.send_signal(ending)
            caller.wait(timeout=60)
            # Well before the solver's half minute is up.
            assert wait_until(lambda w=worker: not Path("/proc", str(w)).exists(), timeout_s=10), \
                f"the command went on after {ending.name}"
            err = caller.communicate(timeout=60)[1]
            if ending == signal.SIGINT:
                assert caller.returncode == 130
                assert err.splitlines()[-2:] == ["error: interrupted", "[ran in: server]"]
            else:
                assert caller.returncode == -signal.SIGKILL
    assert server_pids(folder) == [pid]  # the server itself serves on


def test_another_environment_for_imports_starts_a_new_server(folder, tmp_path):
    env = base_env(folder)
    first = start(env, tmp_path)
    # Our variables and a terminal's own are read per command: the same server serves them.
    for variable in ("GEO_TEST_UNUSED", "TERM_SESSION_ID", "SSH_TTY"):
        assert geo({**env, variable: "1"}, tmp_path, "--help")[3] == "[ran in: server]"
    # The BLAS thread pools read theirs on import.
    other = {**env, "OPENBLAS_NUM_THREADS": "1"}
    assert geo(other, tmp_path, "--help")[3] == "[ran in: own process]"
    assert wait_until(lambda: first not in server_pids(folder))
    second = wait_for_server(folder)
    assert second != first
    assert geo(other, tmp_path, "--help")[3] == "[ran in: server]"


def test_an_idle_server_leaves(folder, tmp_path):
    env = base_env(folder, GEO_CLI_SERVER_IDLE_S="2")
    start(env, tmp_path)
    assert wait_until(lambda: not server_pids(folder), timeout_s=60)
    assert not list(Path(folder).glob("*.sock"))
    assert geo(env, tmp_path, "--help")[3] == "[ran in: own process]"


def test_turned_off_no_server_is_started(folder, tmp_path):
    env = base_env(folder, GEO_CLI_SERVER="off")
    assert geo(env, tmp_path, "--help")[3] == "[ran in: own process]"
    time.sleep(2)
    assert server_pids(folder) == [] and not list(Path(folder).glob("*.sock"))


def test_a_folder_others_may_write_to_is_not_used(monkeypatch, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    monkeypatch.setenv(client.FOLDER_ENV, str(shared))
    assert client.server_folder() is None
    shared.chmod(0o700)
    assert client.server_folder() == str(shared)
    link = tmp_path / "link"
    link.symlink_to(shared)
    monkeypatch.setenv(client.FOLDER_ENV, str(link))
    assert client.server_folder() is None


def test_changed_code_or_packages_make_a_server_out_of_date(monkeypatch, tmp_path):
    # A copy of a package folder stands in for ours, and another folder for site-packages.
    package = tmp_path / "repo" / "geo"
    (package / "cli").mkdir(parents=True)
    module = package / "cli" / "module.py"
    module.write_text("x = 1\n")
    site_packages = tmp_path / "site-packages"
    site_packages.mkdir()
    monkeypatch.setattr(client, "_package_folder", lambda: str(package))
    monkeypatch.setattr(sys, "path", [str(tmp_path / "repo"), str(site_packages)])
    before = client.code_fingerprint()
    assert client.code_fingerprint() == before
    os.utime(module, ns=(time.time_ns(), time.time_ns() + 10**9))
    edited = client.code_fingerprint()
    assert edited != before
    (site_packages / "newly_installed").mkdir()
    os.utime(site_packages, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
    assert client.code_fingerprint() != edited
    # A file added beside our package (an output in the working folder) changes nothing.
    (tmp_path / "repo" / "areas.geojson").write_text("{}")
    os.utime(tmp_path / "repo", ns=(time.time_ns(), time.time_ns() + 3 * 10**9))
    unchanged = client.code_fingerprint()
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "module.cpython-311.pyc").write_bytes(b"")
    assert client.code_fingerprint() == unchanged
