"""Writing output files whole or not at all, and never over what is not a regular file."""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

import pytest

from geo.core.files import write_atomically, write_text_atomically
from geo.errors import SourceError


def _fails_halfway(target: Path) -> None:
    """A writer that stops after half its content, as on a full disk."""
    target.write_text("half of it")
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_writes_the_whole_file_and_leaves_nothing_else(tmp_path):
    path = tmp_path / "result.geojson"
    path.write_text("old")
    assert write_text_atomically(path, "new 新", field="--out") == path
    assert path.read_text() == "new 新"
    assert [p.name for p in tmp_path.iterdir()] == ["result.geojson"]


def test_a_failed_write_keeps_the_old_file_and_names_the_field(tmp_path):
    path = tmp_path / "result.csv"
    path.write_text("previous result")
    with pytest.raises(SourceError, match=r"--out: .*result.csv: cannot write \(No space left"):
        write_atomically(path, _fails_halfway, field="--out")
    assert path.read_text() == "previous result"
    assert [p.name for p in tmp_path.iterdir()] == ["result.csv"]


def test_missing_folders_are_made_and_removed_again_on_failure(tmp_path):
    path = tmp_path / "new" / "deeper" / "report.csv"
    write_text_atomically(path, "row,field,problem\n", field="--report")
    assert path.read_text() == "row,field,problem\n"
    other = tmp_path / "other" / "deeper" / "report.csv"
    with pytest.raises(SourceError):
        write_atomically(other, _fails_halfway, field="--report")
    assert not (tmp_path / "other").exists()


def test_a_symbolic_link_keeps_pointing_at_the_replaced_file(tmp_path):
    real, link = tmp_path / "real.csv", tmp_path / "link.csv"
    real.write_text("old")
    link.symlink_to(real)
    write_text_atomically(link, "new", field="--out")
    assert link.is_symlink() and real.read_text() == "new"


def test_a_named_pipe_is_written_into_not_replaced(tmp_path):
    fifo = tmp_path / "pipe.geojson"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    write_text_atomically(fifo, '{"type": "FeatureCollection"}', field="--out")
    reader.join(timeout=10)
    assert received == ['{"type": "FeatureCollection"}']
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.skipif(not Path("/dev/full").is_char_device(), reason="no /dev/full here")
def test_a_full_device_is_an_error_and_stays_a_device():
    with pytest.raises(SourceError, match="--out: /dev/full: cannot write .No space left"):
        write_text_atomically("/dev/full", "x" * 100_000, field="--out")
    assert Path("/dev/full").is_char_device()


def test_a_folder_in_the_way_is_an_error(tmp_path):
    with pytest.raises(SourceError, match="--out: .*: cannot write"):
        write_text_atomically(tmp_path, "x", field="--out")
    assert tmp_path.is_dir()
