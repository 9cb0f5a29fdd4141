"""Helpers for running reference computations in Node.js (circomlibjs, snarkjs, ...).

The JavaScript peers are not vendored: they live in a folder with a
``node_modules`` directory, given by the environment variable
``ZKMARGIN_NODE_PEERS`` and defaulting to ``<repo>/.npm-peers``.  Set one up with::

    mkdir -p .npm-peers && npm install --prefix .npm-peers circomlibjs

Missing peers raise :class:`NodePeersMissing`; tests that need them should let it
propagate (fail), not skip, so that a misconfigured CI cannot pass silently.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["ENV_VAR", "NodePeersMissing", "node_peers_dir", "run_node"]

ENV_VAR = "ZKMARGIN_NODE_PEERS"
_DEFAULT_PEERS = Path(__file__).resolve().parent.parent / ".npm-peers"
_TIMEOUT_S = 300.0


class NodePeersMissing(RuntimeError):
    """Node.js or the required npm packages are not available."""


def node_peers_dir(packages: Sequence[str] = ()) -> Path:
    """Return the ``node_modules`` directory holding the JavaScript peers.

    ``packages`` are checked to be installed there.
    """
    configured = os.environ.get(ENV_VAR)
    base = Path(configured).expanduser() if configured else _DEFAULT_PEERS
    source = f"${ENV_VAR}={configured}" if configured else f"default {base}"
    modules = base / "node_modules"
    hint = (
        f"Install them with `npm install --prefix <dir> {' '.join(packages) or '<pkgs>'}`"
        f" and set {ENV_VAR}=<dir> (default: {_DEFAULT_PEERS})."
    )
    if not modules.is_dir():
        raise NodePeersMissing(f"Node peers not found: {modules} does not exist ({source}). {hint}")
    missing = [pkg for pkg in packages if not (modules / pkg).is_dir()]
    if missing:
        raise NodePeersMissing(f"Node peers in {modules} lack {', '.join(missing)} ({source}). {hint}")
    return modules


def run_node(script: str, payload: Any, packages: Sequence[str] = ()) -> Any:
    """Run ``node -e script`` with ``payload`` as JSON on stdin; return its JSON stdout.

    ``NODE_PATH`` points at :func:`node_peers_dir`, so ``require("circomlibjs")``
    works.  JavaScript numbers are doubles: pass field elements as decimal
    strings.  The script should print exactly one JSON document (extra lines
    before it are tolerated; the last non-empty line is parsed on failure).
    """
    modules = node_peers_dir(packages)
    node = shutil.which("node")
    if node is None:
        raise NodePeersMissing("`node` executable not found on PATH")
    env = dict(os.environ)
    env["NODE_PATH"] = str(modules)
    proc = subprocess.run(
        [node, "-e", script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        env=env,
        timeout=_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"node exited with status {proc.returncode}\n"
            f"--- stderr ---\n{proc.stderr.strip()}\n--- stdout ---\n{proc.stdout[-2000:]}"
        )
    out = proc.stdout.strip()
    try:
        return json.loads(out)
    except json.JSONDecodeError:
        lines = [line for line in out.splitlines() if line.strip()]
        if lines:
            try:
                return json.loads(lines[-1])
            except json.JSONDecodeError:
                pass
        raise RuntimeError(
            f"node did not print JSON on stdout:\n{out[-2000:]}\n--- stderr ---\n{proc.stderr.strip()}"
        ) from None
