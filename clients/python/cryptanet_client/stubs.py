"""gRPC stubs generated from ``proto/`` at run time (never committed).

The stubs are generated with ``grpcio-tools`` into a cache directory named
after a hash of the ``.proto`` files, so they are rebuilt exactly when the
API changes, then imported from there.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import sys
from types import ModuleType
from typing import Dict, List

#: The repository's proto root (``<repo>/proto``), relative to this file.
DEFAULT_PROTO_ROOT = os.path.normpath(
    os.path.join(os.path.dirname(__file__), "..", "..", "..", "proto")
)
#: Where generated stubs are cached unless ``CRYPTANET_STUB_DIR`` says otherwise.
DEFAULT_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "cryptanet", "py-stubs")

MODULES = ("common", "gateway", "deliver", "admin")


class StubError(RuntimeError):
    """protoc failed to generate the stubs."""


def _proto_files(proto_root: str) -> List[str]:
    rel = os.path.join("cryptanet", "v1")
    names = sorted(n for n in os.listdir(os.path.join(proto_root, rel)) if n.endswith(".proto"))
    return [os.path.join(rel, n) for n in names]


def _fingerprint(proto_root: str, files: List[str]) -> str:
    h = hashlib.sha3_256()
    for rel in files:
        h.update(rel.encode() + b"\0")
        with open(os.path.join(proto_root, rel), "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def generate(proto_root: str = DEFAULT_PROTO_ROOT, cache_dir: str = "") -> str:
    """Generates the stubs if needed and returns the directory holding them."""
    from grpc_tools import protoc  # imported late: only needed to generate

    cache_dir = cache_dir or os.environ.get("CRYPTANET_STUB_DIR", DEFAULT_CACHE)
    files = _proto_files(proto_root)
    out = os.path.join(cache_dir, _fingerprint(proto_root, files))
    done = os.path.join(out, ".complete")
    if os.path.exists(done):
        return out
    tmp = f"{out}.tmp{os.getpid()}"
    os.makedirs(tmp, exist_ok=True)
    well_known = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{proto_root}",
            f"-I{well_known}",
            f"--python_out={tmp}",
            f"--grpc_python_out={tmp}",
            *files,
        ]
    )
    if code != 0:
        raise StubError(f"protoc exited with {code} for {files}")
    open(os.path.join(tmp, ".complete"), "w").close()
    try:
        os.rename(tmp, out)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not os.path.exists(done):  # lost a race only if the winner finished
            raise
    return out


def load(proto_root: str = DEFAULT_PROTO_ROOT, cache_dir: str = "") -> Dict[str, ModuleType]:
    """Imports the generated modules: ``{"gateway_pb2": ..., "gateway_pb2_grpc": ...}``."""
    out = generate(proto_root, cache_dir)
    if out not in sys.path:
        sys.path.insert(0, out)
    mods: Dict[str, ModuleType] = {}
    for name in MODULES:
        for suffix in ("_pb2", "_pb2_grpc"):
            mods[name + suffix] = importlib.import_module(f"cryptanet.v1.{name}{suffix}")
    return mods
