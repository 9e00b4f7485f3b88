"""Disk cache of built networks: one folder of ``.npy`` arrays per (source content, mode, settings).

Arrays are memory-mapped read-only on load, so a cached load costs milliseconds and several
processes share one copy in memory. A folder is written under a temporary name and renamed into
place, so a crash or a failed build never leaves a half-written cache entry.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from geo.core.files import write_text_atomically
from geo.errors import SourceError

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # the model is passed in as a factory: this module stays below it
    from geo.network.model import RoadNetwork

# The modules whose code decides what a build produces: their text is part of the key, so a
# change to the filters or the build never reuses an old cache entry.
_BUILD_MODULES = ("model.py", "build.py", "osm_read.py", "osm_tags.py", "simplify.py", "cache.py")
_CHUNK = 1 << 20


@functools.cache
def _build_code_digest() -> str:
    digest = hashlib.sha256()
    for name in _BUILD_MODULES:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()


def default_cache_dir() -> Path:
    env = os.environ.get("GEO_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "emergency-geo"


def cache_key(path: Path, *, mode: str, settings: dict, cache_dir=None) -> str:
    digest = hashlib.sha256(content_hash(path, cache_dir=cache_dir).encode())
    params = json.dumps({"mode": mode, "settings": settings, "code": _build_code_digest()},
                        sort_keys=True)
    digest.update(params.encode())
    return f"{path.name.split('.')[0]}-{mode}-{digest.hexdigest()[:20]}"


def content_hash(path: Path, *, cache_dir=None) -> str:
    """SHA-256 of a source file's bytes.

    Hashing a regional extract takes about a second per GB at every process start, so once a
    build is cached its source's hash is remembered beside the cache (:func:`remember_hash`)
    with the file's size and modification time; a file whose size or time changed is hashed
    again.
    """
    stamp = _stamp(path)
    try:
        remembered = json.loads(_memo_path(path, cache_dir).read_text())
        if {k: remembered.get(k) for k in stamp} == stamp:
            return remembered["sha256"]
    except (OSError, ValueError, KeyError):
        pass
    key = (str(path.resolve()), stamp["size"], stamp["mtime_ns"])
    if key not in _hashed:
        _hashed[key] = _hash_file(path)
    return _hashed[key]


def remember_hash(path: Path, *, cache_dir=None) -> None:
    """Keep the source's hash beside the cache (only after a successful build)."""
    stamp = _stamp(path)
    digest = _hashed.get((str(path.resolve()), stamp["size"], stamp["mtime_ns"]))
    if digest is not None:
        _write_memo(_memo_path(path, cache_dir), json.dumps({**stamp, "sha256": digest}))


_hashed: dict[tuple, str] = {}


def _stamp(path: Path) -> dict:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror})") from exc
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _memo_path(path: Path, cache_dir) -> Path:
    name = hashlib.sha1(str(path.resolve()).encode()).hexdigest()
    return Path(cache_dir or default_cache_dir()) / ".hashes" / name


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror})") from exc
    return digest.hexdigest()


def _write_memo(path: Path, text: str) -> None:
    with contextlib.suppress(SourceError):  # a read-only cache only costs a re-hash next time
        write_text_atomically(path, text, field="cache")


def entry_path(key: str, cache_dir: str | Path | None) -> Path:
    return Path(cache_dir or default_cache_dir()) / key


def load(key: str, *, cache_dir, factory):
    """The cached network for ``key`` (built by ``factory(**fields)``), or None.

    An entry that cannot be read as it was written (a truncated or garbled file, a missing
    part) is removed with a warning, and None returned, so that the network is built again."""
    folder = entry_path(key, cache_dir)
    if not folder.exists():
        return None
    try:
        return _load(folder, factory)
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log.warning("network cache %s is damaged (%s); building the network again", folder,
                    reason)
        shutil.rmtree(folder, ignore_errors=True)
        return None


def _load(folder: Path, factory):
    header = json.loads((folder / "meta.json").read_text())
    arrays = {}
    for name in header["arrays"]:
        # Plain read-only ndarray views of the maps: slicing a np.memmap is several times slower.
        array = np.asarray(np.load(folder / f"{name}.npy", mmap_mode="r"))
        dtype, shape = header["layout"][name]
        if array.dtype.str != dtype or list(array.shape) != shape:
            raise ValueError(f"{name}.npy holds {array.dtype.str} {list(array.shape)}, "
                             f"not the {dtype} {shape} written")
        arrays[name] = array
    meta = {**header["meta"], "cache_path": str(folder)}
    return factory(mode=header["mode"], crs=header["crs"], meta=meta, **arrays)


def save(net: RoadNetwork, key: str, *, cache_dir, fields) -> Path:
    folder = entry_path(key, cache_dir)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=folder.parent))
    try:
        layout = {}
        for name in fields:
            array = np.ascontiguousarray(getattr(net, name))
            np.save(staging / f"{name}.npy", array)
            layout[name] = [array.dtype.str, list(array.shape)]  # checked on every load
        header = {"mode": net.mode, "crs": net.crs, "meta": dict(net.meta),
                  "arrays": list(fields), "layout": layout}
        (staging / "meta.json").write_text(json.dumps(header, indent=1))
        try:
            staging.rename(folder)
        except OSError:  # another process cached the same build first
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder
