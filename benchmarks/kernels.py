"""Benchmark of the numba kernels against ffjavascript (snarkjs's engine), in one run.

    .venv/bin/python benchmarks/kernels.py [--msm-log-sizes 10 ... 18] [--g2-msm-log-sizes 10 ... 16]
        [--ntt-log-sizes 10 ... 20] [--repeat 3] [--no-fixture] [--no-ffjs] [--skip scale phase2]
        [--out benchmarks/results/kernels.json] [--plot benchmarks/results/kernels.png]

Rows:
- micro: Fr and Fq multiplication (dependent chains), Fq2 multiplication, G1/G2 point
  additions and doublings, one-thread scalar multiplication;
- MSM: G1 at 2^10..2^18 and G2 at 2^10..2^16 points with random full-width scalars below r
  (fixed seeds), plus one witness-like row per group (50% zeros, 40% ones) at the largest
  size up to 2^16. zkmargin's `g1_msm` / `g2_msm` and ffjavascript's
  `G1.multiExpAffine` / `G2.multiExpAffine` get the same points and scalars, and their
  results must be the same point;
- NTT: `fr_ntt` and `fr_intt` at 2^10..2^20 on random scalars (checked to round-trip),
  beside ffjavascript's `Fr.fft` / `Fr.ifft` on the same values (Montgomery form, as
  snarkjs calls them), also checked against ours;
- scaling of many points by one scalar, and the Groth16 phase-2 sparse combinations of
  the ../shared chain fixture (rebuilt and checked against chain.zkey).

ffjavascript runs in one node process (benchmarks/_ffjs_msm.js, with the peers of
$ZKMARGIN_NODE_PEERS, default .npm-peers, as `make test` installs them) with its default
threads, one per core, as snarkjs uses it. Each comparison row gives both sides the same
input: one untimed warm-up call each, then `--repeat` timed calls each (at least 5 below
2^14), alternating zkmargin and ffjavascript so that both see the same machine load. The
table shows the MEDIAN wall time of each side and the ratio of the medians, zkmargin /
ffjavascript (below 1: zkmargin is faster); the JSON also has every time, the minimums
and the median of the per-pair ratios.

Points are distinct: the fixture's powers of tau (pot16.ptau: 2^17 - 1 G1 and 2^16 G2
points), extended where more are needed by `g1_scale` / `g2_scale` of the points so far by
random scalars; with --no-fixture (or without ../shared/fixtures) the base is 1,024
random multiples of the generator, extended the same way.

The JSON (default benchmarks/results/kernels.json) holds machine information, every
row, and `acceptance`: the G1 and G2 MSM ratios at 2^16 and whether each is <= 0.25.
A log-log plot of MSM and NTT time against size goes beside it (kernels.png).
The machine is noisy: compare ratios from one run, not times across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import lru_cache, partial
from pathlib import Path
from typing import IO, Any

import numba
import numpy as np
from rich.console import Console
from rich.table import Table

from algebra import (
    G1,
    G2,
    MONT_R_R,
    R,
    fq_to_lem,
    fr_intt,
    fr_ntt,
    fr_to_limbs,
    g1_batch_to_affine,
    g1_from_lem,
    g1_msm,
    g1_scale,
    g1_sparse_combination,
    g1_to_lem,
    g2_batch_to_affine,
    g2_from_lem,
    g2_msm,
    g2_scale,
    g2_sparse_combination,
    g2_to_lem,
    ints_to_limbs,
    pairing_check,
    to_montgomery,
)
from algebra._nb_curve import G1_WIT, G2_WIT
from algebra._nb_field import _fq2_mul_chain, _fq_mul_chain, _fr_mul_chain
from algebra._nb_msm import add_chain_kernel

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
FFJS_SCRIPT = Path(__file__).resolve().parent / "_ffjs_msm.js"
PEERS_ENV = "ZKMARGIN_NODE_PEERS"
#: Acceptance: zkmargin / ffjavascript MSM time at 2^16 points.
ACCEPT_LOG_SIZE, ACCEPT_RATIO = 16, 0.25

Row = dict[str, Any]
#: Times one call (of a prepared ffjavascript case), in seconds.
Timer = Callable[[], float]


def _timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of `repeat` runs after a warm-up run.

    CPU / wall is the parallelism the kernels actually got: on a shared 2-vCPU VM it
    drops towards 1 when the host is busy.
    """
    fn()  # warm-up: JIT compile or cache load
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = time.perf_counter() - t0
        if wall < best[0]:
            best = (wall, time.process_time() - c0)
    return best


def _best(fn: Callable[[], Any], repeat: int = 3) -> float:
    return _timed(fn, repeat)[0]


def _paired(fn: Callable[[], Any], other: Timer | None, repeat: int) -> tuple[list[float], list[float], float]:
    """Alternate `repeat` timed calls of `fn` (zkmargin) and `other` (ffjavascript), so that
    both sides see the same machine load. Returns both lists of wall seconds and the CPU /
    wall of `fn`. Warm-up calls are the caller's."""
    ours, theirs, cpu = [], [], 0.0
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        ours.append(time.perf_counter() - t0)
        cpu += time.process_time() - c0
        if other is not None:
            theirs.append(other())
    return ours, theirs, cpu / max(sum(ours), 1e-12)


def _random_scalars(n: int, seed: int) -> np.ndarray:
    """n full-width scalars below r (uniform 254-bit values rejected above r)."""
    rng = np.random.default_rng(seed)
    out = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64, endpoint=False)
    out[:, 3] &= np.uint64((1 << 62) - 1)
    # clamp the few values >= r by clearing one more top bit
    r3 = np.uint64(R >> 192)
    high = out[:, 3] >= r3
    out[high, 3] &= np.uint64((1 << 61) - 1)
    return out


# ---- iden3 binary files (just enough to read the fixtures) ---------------------------


def _sections(data: bytes) -> dict[int, tuple[int, int]]:
    _version, n_sections = struct.unpack_from("<II", data, 4)
    off, out = 12, {}
    for _ in range(n_sections):
        typ, size = struct.unpack_from("<IQ", data, off)
        off += 12
        out[typ] = (off, size)
        off += size
    return out


def _u64_points(data: bytes, sec: tuple[int, int], first: int, count: int, width: int) -> np.ndarray:
    off, _size = sec
    return np.frombuffer(data, dtype="<u8", count=count * width, offset=off + first * width * 8).reshape(count, width)


_TERM = np.dtype([("wire", "<u4"), ("coef", "<u8", (4,))])


def _read_r1cs(path: Path) -> tuple[dict[str, int], list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """Header and, for A, B, C: (constraint, wire, coef limbs) arrays of all terms."""
    data = path.read_bytes()
    secs = _sections(data)
    off, _ = secs[1]
    (n8,) = struct.unpack_from("<I", data, off)
    n_wires, n_pub_out, n_pub_in, _n_prv_in, _labels, n_constraints = struct.unpack_from("<IIIIQI", data, off + 4 + n8)
    header = {"n_wires": n_wires, "n_public": n_pub_out + n_pub_in, "n_constraints": n_constraints}
    pos, size = secs[2]
    counts = np.empty(3 * n_constraints, dtype=np.int64)
    headers = np.empty(3 * n_constraints, dtype=np.int64)
    p = pos
    for i in range(3 * n_constraints):
        (nt,) = struct.unpack_from("<I", data, p)
        counts[i] = nt
        headers[i] = p - pos
        p += 4 + nt * _TERM.itemsize
    keep = np.ones(size, dtype=bool)
    keep[(headers[:, None] + np.arange(4)).ravel()] = False
    terms = np.frombuffer(data, dtype=np.uint8, count=size, offset=pos)[keep].view(_TERM)
    matrix = np.repeat(np.tile(np.arange(3), n_constraints), counts)
    constraint = np.repeat(np.arange(n_constraints, dtype=np.int64), counts.reshape(-1, 3).sum(axis=1))
    out = []
    for m in range(3):
        sel = matrix == m
        out.append((constraint[sel], terms["wire"][sel].astype(np.int64), np.ascontiguousarray(terms["coef"][sel])))
    return header, out


def _csr(outputs: np.ndarray, points: np.ndarray, coefs: np.ndarray, n_out: int) -> tuple[np.ndarray, ...]:
    order = np.argsort(outputs, kind="stable")
    counts = np.bincount(outputs, minlength=n_out)
    indptr = np.zeros(n_out + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr, np.ascontiguousarray(points[order]), np.ascontiguousarray(coefs[order])


# ---- benchmarks --------------------------------------------------------------------


# ---- ffjavascript in node -------------------------------------------------------------


class FfjsError(RuntimeError):
    """node, the peers or the ffjavascript script failed."""


def _node_modules() -> Path:
    base = Path(os.environ.get(PEERS_ENV) or ROOT / ".npm-peers").expanduser()
    return base / "node_modules"


class Ffjs:
    """One node process running benchmarks/_ffjs_msm.js; requests and replies are JSON lines."""

    def __init__(self, workdir: Path) -> None:
        modules = _node_modules()
        node = shutil.which("node")
        if node is None:
            raise FfjsError("`node` is not on PATH (or pass --no-ffjs)")
        if not (modules / "ffjavascript").is_dir() and not (modules / "snarkjs").is_dir():
            raise FfjsError(
                f"no ffjavascript or snarkjs in {modules}: set {PEERS_ENV} to the folder `make test` installs"
                " (.npm-peers), or pass --no-ffjs"
            )
        self.workdir = workdir
        self._stderr: IO[str] = open(workdir / "node.stderr", "w+")  # closed in close()
        self.proc = subprocess.Popen(
            [node, str(FFJS_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
            env={**os.environ, "NODE_PATH": str(modules)},
        )
        self.info: dict[str, Any] = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                self._stderr.seek(0)
                raise FfjsError(f"node exited ({self.proc.poll()}):\n{self._stderr.read()[-3000:]}")
            if line.startswith("{"):
                try:
                    return dict(json.loads(line))
                except json.JSONDecodeError:
                    pass

    def request(self, **req: Any) -> list[float]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        reply = self._read()
        if not reply.get("ok"):
            raise FfjsError(f"ffjavascript {req.get('cmd')} failed: {reply.get('error')}")
        return [float(t) for t in reply["times"]]

    def _fresh(self, tag: str, names: tuple[str, ...]) -> list[Path]:
        """Paths for this case's files; the previous case's files are removed (node keeps
        the last files it read in memory, by path: every case has its own names)."""
        for old in self.workdir.glob("case_*"):
            old.unlink()
        return [self.workdir / f"case_{tag}_{name}.bin" for name in names]

    def prepare_msm(self, tag: str, group: str, points: np.ndarray, scalars: np.ndarray) -> tuple[np.ndarray, Timer]:
        """Load the case in node and run G.multiExpAffine once (warm-up). Returns its result
        as one LEM row (infinity all zero) and a function timing one more call."""
        bases, sc, out = self._fresh(tag, ("bases", "scalars", "out"))
        np.ascontiguousarray(points, dtype="<u8").tofile(bases)
        np.ascontiguousarray(scalars, dtype="<u8").tofile(sc)
        req = {"cmd": "msm", "group": group, "bases": str(bases), "scalars": str(sc)}
        self.request(**req, out=str(out), warmup=True, repeat=0)
        result = np.fromfile(out, dtype="<u8").astype(np.uint64)
        return result, lambda: self.request(**req, out=None, warmup=False, repeat=1)[0]

    def prepare_fft(self, tag: str, mont: np.ndarray, inverse: bool) -> tuple[np.ndarray, Timer]:
        """`prepare_msm` for Fr.fft (Fr.ifft) on Montgomery rows; the result is Montgomery rows."""
        src, out = self._fresh(tag, ("in", "out"))
        np.ascontiguousarray(mont, dtype="<u8").tofile(src)
        req = {"cmd": "fft", "input": str(src), "inverse": inverse}
        self.request(**req, out=str(out), warmup=True, repeat=0)
        result = np.fromfile(out, dtype="<u8").astype(np.uint64).reshape(-1, 4)
        return result, lambda: self.request(**req, out=None, warmup=False, repeat=1)[0]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()


# ---- benchmarks --------------------------------------------------------------------


def bench_micro() -> list[Row]:
    rows: list[Row] = []
    n = 2_000_000
    a = fq_to_lem([3**100 % (1 << 250)])
    b = fq_to_lem([5**100 % (1 << 250)])
    out = np.zeros_like(a)
    t = _best(partial(_fq_mul_chain, a, b, n, out))
    rows.append({"op": "Fq mul (dependent chain)", "value": t / n * 1e9, "unit": "ns"})
    ar = ints_to_limbs([3**100 % R * MONT_R_R % R])  # Montgomery Fr rows
    br = ints_to_limbs([5**100 % R * MONT_R_R % R])
    outr = np.zeros_like(ar)
    t = _best(partial(_fr_mul_chain, ar, br, n, outr))
    rows.append({"op": "Fr mul (dependent chain)", "value": t / n * 1e9, "unit": "ns"})
    a2 = np.ascontiguousarray(np.hstack([a, b]))
    out2 = np.zeros_like(a2)
    t = _best(partial(_fq2_mul_chain, a2, a2, n // 4, out2))
    rows.append({"op": "Fq2 mul (dependent chain)", "value": t / (n // 4) * 1e9, "unit": "ns"})
    groups: list[tuple[str, np.ndarray, np.ndarray]] = [
        ("G1", g1_to_lem([G1.generator]), G1_WIT),
        ("G2", g2_to_lem([G2.generator]), G2_WIT),
    ]
    for name, gen, wit in groups:
        o = np.zeros_like(gen)
        m = 100_000 if name == "G1" else 30_000
        for label, counts in (("add (Jacobian)", (m, 0, 0)), ("mixed add", (0, m, 0)), ("double", (0, 0, m))):
            t = _best(partial(add_chain_kernel, gen, *counts, o, wit))
            rows.append({"op": f"{name} {label}", "value": t / m * 1e9, "unit": "ns"})
    threads = numba.get_num_threads()
    for name, gen, _wit in groups:
        m = 2000 if name == "G1" else 500
        comb = g1_sparse_combination if name == "G1" else g2_sparse_combination
        csr = (np.arange(m + 1, dtype=np.int64), np.zeros(m, dtype=np.int64), _random_scalars(m, 7))
        numba.set_num_threads(1)
        try:
            t = _best(partial(comb, gen, *csr))
        finally:
            numba.set_num_threads(threads)
        rows.append({"op": f"{name} scalar mul (254-bit, 1 thread)", "value": t / m * 1e6, "unit": "us"})
    return rows


#: Random multiples of the generator that seed the points without the fixture.
_GEN_BASE = 1 << 10


@lru_cache(maxsize=4)
def _base_points(group: str, use_fixture: bool) -> np.ndarray:
    """The fixture's tau^i points (all of them), or random multiples k_i * generator."""
    ptau = FIXTURES / "pot16.ptau"
    if use_fixture and ptau.exists():
        data = ptau.read_bytes()
        secs = _sections(data)
        sec, width = (secs[2], 8) if group == "G1" else (secs[3], 16)
        return np.ascontiguousarray(_u64_points(data, sec, 0, sec[1] // (8 * width), width))
    gen = g1_to_lem([G1.generator]) if group == "G1" else g2_to_lem([G2.generator])
    comb = g1_sparse_combination if group == "G1" else g2_sparse_combination
    n = _GEN_BASE
    return comb(gen, np.arange(n + 1, dtype=np.int64), np.zeros(n, dtype=np.int64), _random_scalars(n, 11))


@lru_cache(maxsize=8)
def _points(group: str, n: int, use_fixture: bool = True) -> np.ndarray:
    """n distinct affine points (LEM rows): the base points, then k_j * (the points so far)
    for random full-width k_j until there are n. Cached: callers must not modify it."""
    base = _base_points(group, use_fixture)
    scale = g1_scale if group == "G1" else g2_scale
    pts = base[:n]
    rng = np.random.default_rng(1000 + n)
    while pts.shape[0] < n:
        k = int.from_bytes(rng.bytes(32), "little") % R
        pts = np.concatenate([pts, scale(pts[: n - pts.shape[0]], k)])
    # writable, as the prover's arrays: the kernels copy read-only input first
    return np.ascontiguousarray(pts)


def _witness_like(n: int, seed: int) -> np.ndarray:
    """Scalars as in a Groth16 witness: 50% zero, 40% one, the rest full width."""
    sc = _random_scalars(n, seed)
    kind = np.random.default_rng(5).random(n)
    sc[kind < 0.5] = 0
    sc[(kind >= 0.5) & (kind < 0.9)] = np.array([1, 0, 0, 0], dtype=np.uint64)
    return sc


def _repeats(log_n: int, repeat: int) -> int:
    return max(repeat, 5) if log_n < 14 else repeat


def _compare_row(group: str, op: str, log_n: int, ours: list[float], cpu: float) -> Row:
    row: Row = {
        "group": group,
        "op": op,
        "log_size": log_n,
        "size": 1 << log_n,
        "value": statistics.median(ours),
        "unit": "s",
        "zkmargin_s": statistics.median(ours),
        "zkmargin_min_s": min(ours),
        "zkmargin_times": ours,
        "cpu_s": statistics.median(ours) * cpu,
        "zkmargin_cpu_per_wall": cpu,
    }
    return row


def _add_ffjs(row: Row, theirs: list[float], match: bool) -> None:
    row["ffjavascript_s"] = statistics.median(theirs)
    row["ffjavascript_min_s"] = min(theirs)
    row["ffjavascript_times"] = theirs
    row["ratio"] = row["zkmargin_s"] / row["ffjavascript_s"]
    row["ratio_min"] = row["zkmargin_min_s"] / row["ffjavascript_min_s"]
    row["ratio_paired_median"] = statistics.median(a / b for a, b in zip(row["zkmargin_times"], theirs))
    row["match"] = bool(match)


def bench_msm(
    g1_sizes: list[int],
    g2_sizes: list[int],
    ffjs: Ffjs | None,
    use_fixture: bool,
    repeat: int,
    log: Callable[[str], None],
) -> list[Row]:
    rows: list[Row] = []
    for group, msm, sizes in (("G1", g1_msm, g1_sizes), ("G2", g2_msm, g2_sizes)):
        cases = [(lg, "random", lg) for lg in sizes]
        small = [lg for lg in sizes if lg <= ACCEPT_LOG_SIZE]
        if small:
            cases.append((max(small), "witness-like", 99))
        for lg, kind, seed in cases:
            n = 1 << lg
            pts = _points(group, n, use_fixture)
            sc = _random_scalars(n, seed) if kind == "random" else _witness_like(n, seed)
            ours_fn = partial(msm, pts, sc)
            res = ours_fn()  # warm-up
            their_res, their_fn = ffjs.prepare_msm(f"{group}_{lg}_{kind}", group, pts, sc) if ffjs else (None, None)
            ours, theirs, cpu = _paired(ours_fn, their_fn, _repeats(lg, repeat))
            row = _compare_row(group, "MSM", lg, ours, cpu)
            row["scalars"] = "random full-width" if kind == "random" else "witness-like (50% 0, 40% 1)"
            if ffjs is not None:
                _add_ffjs(row, theirs, np.array_equal(res, their_res))
                if not row["match"]:
                    raise AssertionError(f"{group} MSM 2^{lg} ({kind}): ffjavascript's result differs from zkmargin's")
            rows.append(row)
            log(_progress(row))
    return rows


def bench_ntt(sizes: list[int], ffjs: Ffjs | None, repeat: int, log: Callable[[str], None]) -> list[Row]:
    rows: list[Row] = []
    for lg in sizes:
        n = 1 << lg
        a = _random_scalars(n, 200 + lg)
        reps = _repeats(lg, repeat)
        fwd = fr_ntt(a)  # warm-up (and twiddles)
        back = fr_intt(fwd)
        if not np.array_equal(back, a):
            raise AssertionError(f"fr_intt(fr_ntt(a)) != a at 2^{lg}")
        for op, fn, src, dst in (("NTT", fr_ntt, a, fwd), ("iNTT", fr_intt, fwd, a)):
            their_fn: Timer | None = None
            if ffjs is not None:
                their_res, their_fn = ffjs.prepare_fft(f"{op}_{lg}", to_montgomery(src, "r"), inverse=op == "iNTT")
            ours, theirs, cpu = _paired(partial(fn, src), their_fn, reps)
            row = _compare_row("Fr", op, lg, ours, cpu)
            row["roundtrip_ok"] = True
            if ffjs is not None:
                _add_ffjs(row, theirs, np.array_equal(their_res, to_montgomery(dst, "r")))
            rows.append(row)
            log(_progress(row))
    return rows


def _progress(row: Row) -> str:
    s = f"  {row['group']} {row['op']} 2^{row['log_size']}: zkmargin {row['zkmargin_s']:.4f} s"
    if "ffjavascript_s" in row:
        s += f", ffjavascript {row['ffjavascript_s']:.4f} s, ratio {row['ratio']:.3f}, match {row['match']}"
    return s + (f" [{row['scalars']}]" if "scalars" in row else "")


def bench_scale(use_fixture: bool = True) -> list[Row]:
    rows: list[Row] = []
    k = 0x1234567890ABCDEF1234567890ABCDEF1234567890ABCDEF1234567890ABCDE % R
    for group, scale, n in (("G1", g1_scale, 1 << 17), ("G2", g2_scale, 1 << 14)):
        pts = _points(group, n, use_fixture)
        t, cpu = _timed(partial(scale, pts, k), repeat=1)
        rows.append(
            {"op": f"{group} scale {n:,} points", "value": t, "unit": "s", "cpu_s": cpu, "us_per_point": t / n * 1e6}
        )
    return rows


def bench_phase2() -> list[Row]:
    """snarkjs `zkey new` point sets for the chain fixture, checked against chain.zkey."""
    r1cs_path, ptau_path, zkey_path = FIXTURES / "chain.r1cs", FIXTURES / "pot16.ptau", FIXTURES / "chain.zkey"
    if not (r1cs_path.exists() and ptau_path.exists()):
        return []
    t0 = time.perf_counter()
    header, (ta, tb, tc) = _read_r1cs(r1cs_path)
    parse_s = time.perf_counter() - t0
    n_c, n_pub, n_vars = header["n_constraints"], header["n_public"], header["n_wires"]
    domain = 1 << max(0, (n_c + n_pub + 1 - 1).bit_length())
    ptau = ptau_path.read_bytes()
    ps = _sections(ptau)
    first = domain - 1  # Lagrange sections hold the domains 2^0, 2^1, ... back to back
    l_tau = _u64_points(ptau, ps[12], first, domain, 8)
    l_tau2 = _u64_points(ptau, ps[13], first, domain, 16)
    l_alpha = _u64_points(ptau, ps[14], first, domain, 8)
    l_beta = _u64_points(ptau, ps[15], first, domain, 8)
    one = np.array([[1, 0, 0, 0]], dtype=np.uint64)

    # A: A-terms on tau Lagrange points, plus one binding row per public signal (incl. wire 0).
    pub = np.arange(n_pub + 1, dtype=np.int64)
    a_out = np.concatenate([ta[1], pub])
    a_pts = np.concatenate([ta[0], n_c + pub])
    a_coef = np.concatenate([ta[2], np.repeat(one, n_pub + 1, axis=0)])
    sets: dict[str, tuple[str, np.ndarray, tuple[np.ndarray, ...]]] = {
        "A": ("G1", np.ascontiguousarray(l_tau), _csr(a_out, a_pts, a_coef, n_vars)),
        "B1": ("G1", np.ascontiguousarray(l_tau), _csr(tb[1], tb[0], tb[2], n_vars)),
        "B2": ("G2", np.ascontiguousarray(l_tau2), _csr(tb[1], tb[0], tb[2], n_vars)),
    }
    # C (before the division by delta): beta*A + alpha*B + C over private wires.
    c_pts_all = np.ascontiguousarray(np.concatenate([l_tau, l_alpha, l_beta]))
    outs, pts, coefs = [], [], []
    for (cons, wire, coef), shift in ((ta, 2 * domain), (tb, domain), (tc, 0)):
        keep = wire > n_pub
        outs.append(wire[keep] - n_pub - 1)
        pts.append(cons[keep] + shift)
        coefs.append(coef[keep])
    n_priv = n_vars - n_pub - 1
    sets["C"] = ("G1", c_pts_all, _csr(np.concatenate(outs), np.concatenate(pts), np.concatenate(coefs), n_priv))

    zkey = zkey_path.read_bytes() if zkey_path.exists() else None
    zs = _sections(zkey) if zkey else {}
    zkey_section = {"A": (5, 8), "B1": (6, 8), "B2": (7, 16), "C": (8, 8)}
    rows: list[Row] = []
    results: dict[str, np.ndarray] = {}
    for name, (group, points, (indptr, indices, scalars)) in sets.items():
        comb = g1_sparse_combination if group == "G1" else g2_sparse_combination
        t0, c0 = time.perf_counter(), time.process_time()
        res = comb(points, indptr, indices, scalars)
        t, cpu = time.perf_counter() - t0, time.process_time() - c0
        results[name] = res
        nnz = int(indptr[-1])
        full = int(((scalars[:, 3] != 0) | (scalars[:, 2] != 0)).sum())
        row: Row = {
            "op": f"phase-2 {name} ({group}): {nnz:,} terms -> {indptr.shape[0] - 1:,} points",
            "value": t,
            "unit": "s",
            "cpu_s": cpu,
            "terms": nnz,
            "outputs": int(indptr.shape[0] - 1),
            "full_width_terms": full,
            "us_per_term": t / max(nnz, 1) * 1e6,
        }
        if zkey is not None and name != "C":
            sec, width = zkey_section[name]
            expected = _u64_points(zkey, zs[sec], 0, res.shape[0], width)
            row["matches_zkey"] = bool(np.array_equal(expected, res))
        rows.append(row)
    if zkey is not None:
        # e(C_zkey[j], delta2) == e(C[j], G2) for two private wires.
        hdr_off, _ = zs[2]
        n8q = struct.unpack_from("<I", zkey, hdr_off)[0]
        n8r = struct.unpack_from("<I", zkey, hdr_off + 4 + n8q)[0]
        g_off = hdr_off + 4 + n8q + 4 + n8r + 12  # nVars, nPublic, domainSize
        # alpha1 (64), beta1 (64), beta2 (128), gamma2 (128), delta1 (64), delta2 (128)
        delta2_arr = np.frombuffer(zkey, dtype="<u8", count=16, offset=g_off + 64 + 64 + 128 + 128 + 64).reshape(1, 16)
        delta2 = g2_from_lem(delta2_arr)[0]
        cz = _u64_points(zkey, zs[8], 0, results["C"].shape[0], 8)
        ok = True
        for j in (0, results["C"].shape[0] // 2):
            ours = g1_from_lem(results["C"][j : j + 1])[0]
            theirs = g1_from_lem(cz[j : j + 1])[0]
            ok &= pairing_check([(theirs, delta2), (G1.neg(ours), G2.generator)])
        rows[-1]["matches_zkey_by_pairing"] = bool(ok)
    total = sum(r["value"] for r in rows)
    cpu_total = sum(r["cpu_s"] for r in rows)
    rows.append(
        {
            "op": "phase-2 total (A + B1 + B2 + C)",
            "value": total,
            "unit": "s",
            "cpu_s": cpu_total,
            "r1cs_parse_s": parse_s,
        }
    )
    return rows


def _machine() -> dict[str, Any]:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model or platform.processor(),
        "cpu_count": os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
    }


def _acceptance(rows: list[Row]) -> dict[str, Any]:
    out: dict[str, Any] = {"log_size": ACCEPT_LOG_SIZE, "max_ratio": ACCEPT_RATIO, "statistic": "median"}
    for group in ("G1", "G2"):
        row = next(
            (
                r
                for r in rows
                if r.get("op") == "MSM"
                and r.get("group") == group
                and r.get("log_size") == ACCEPT_LOG_SIZE
                and r.get("scalars", "").startswith("random")
            ),
            None,
        )
        ratio = row.get("ratio") if row else None
        out[group] = {
            "zkmargin_s": row["zkmargin_s"] if row else None,
            "ffjavascript_s": row.get("ffjavascript_s") if row else None,
            "ratio": ratio,
            "match": row.get("match") if row else None,
            "ok": None if ratio is None else bool(ratio <= ACCEPT_RATIO and row.get("match")),
        }
    oks = [out[g]["ok"] for g in ("G1", "G2")]
    out["passed"] = None if None in oks else all(oks)
    return out


def _fmt_time(value: float, unit: str) -> str:
    if unit != "s":
        return f"{value:.1f} {unit}"
    if value < 1e-3:
        return f"{value * 1e6:.0f} us"
    if value < 1.0:
        return f"{value * 1e3:.2f} ms"
    return f"{value:.3f} s"


def _table(rows: list[Row], title: str) -> Table:
    table = Table(title=title)
    for col, justify in (
        ("group / op", "left"),
        ("size", "right"),
        ("zkmargin", "right"),
        ("ffjavascript", "right"),
        ("ratio", "right"),
        ("notes", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        notes = []
        if "match" in r:
            notes.append("same result" if r["match"] else "RESULTS DIFFER")
        if r.get("roundtrip_ok"):
            notes.append("intt(ntt(a)) == a")
        if "scalars" in r:
            notes.append(r["scalars"].replace("witness-like ", ""))
        if "zkmargin_cpu_per_wall" in r:
            notes.append(f"cpu/wall {r['zkmargin_cpu_per_wall']:.2f}")
        elif "cpu_s" in r and r["value"] > 0:
            notes.append(f"cpu/wall {r['cpu_s'] / r['value']:.2f}")
        if "us_per_term" in r:
            notes.append(f"{r['us_per_term']:.1f} us/term, {r['full_width_terms']:,} full-width")
        if "us_per_point" in r:
            notes.append(f"{r['us_per_point']:.1f} us/point")
        for key in ("matches_zkey", "matches_zkey_by_pairing"):
            if key in r:
                notes.append(f"{key.replace('_', ' ')}: {r[key]}")
        if "r1cs_parse_s" in r:
            notes.append(f"r1cs parse {r['r1cs_parse_s']:.1f} s")
        if "group" in r:
            name, size = f"{r['group']} {r['op']}", f"2^{r['log_size']}"
            if r.get("scalars", "").startswith("witness"):
                name += " (witness-like)"
        else:
            name, size = r["op"], ""
        ffjs = _fmt_time(r["ffjavascript_s"], "s") if "ffjavascript_s" in r else ""
        ratio = f"{r['ratio']:.3f}" if "ratio" in r else ""
        table.add_row(name, size, _fmt_time(r["value"], r["unit"]), ffjs, ratio, "; ".join(n for n in notes if n))
    return table


def plot(rows: list[Row], path: Path, title: str) -> None:
    """MSM (left) and NTT (right) median time against size, log-log, zkmargin vs ffjavascript."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_msm, ax_ntt) = plt.subplots(1, 2, figsize=(12, 5))
    panels = (
        (ax_msm, "MSM, random full-width scalars", [("G1", "MSM", "tab:blue"), ("G2", "MSM", "tab:red")]),
        (ax_ntt, "Fr NTT", [("Fr", "NTT", "tab:green"), ("Fr", "iNTT", "tab:purple")]),
    )
    for ax, panel_title, series in panels:
        for group, op, color in series:
            sel = sorted(
                (
                    r
                    for r in rows
                    if r.get("group") == group and r.get("op") == op and "witness" not in r.get("scalars", "")
                ),
                key=lambda r: r["size"],
            )
            if not sel:
                continue
            sizes = [r["size"] for r in sel]
            label = f"{group} {op}" if group != "Fr" else op
            ax.plot(sizes, [r["zkmargin_s"] for r in sel], "o-", color=color, label=f"{label} zkmargin")
            theirs = [(r["size"], r["ffjavascript_s"]) for r in sel if "ffjavascript_s" in r]
            if theirs:
                ax.plot(*zip(*theirs), "s--", color=color, alpha=0.7, label=f"{label} ffjavascript")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("size (points / elements)")
        ax.set_ylabel("median wall time (s)")
        ax.set_title(panel_title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _log_sizes(lo: int, hi: int) -> list[int]:
    return list(range(lo, hi + 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--msm-log-sizes", type=int, nargs="*", default=_log_sizes(10, 18), help="G1 MSM sizes (log2), default 10..18"
    )
    parser.add_argument(
        "--g2-msm-log-sizes",
        type=int,
        nargs="*",
        default=_log_sizes(10, 16),
        help="G2 MSM sizes (log2), default 10..16",
    )
    parser.add_argument(
        "--ntt-log-sizes", type=int, nargs="*", default=_log_sizes(10, 20), help="NTT sizes (log2), default 10..20"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed calls per side after a warm-up (>= 5 below 2^14)")
    parser.add_argument(
        "--no-fixture", action="store_true", help="do not read ../shared/fixtures (generator multiples, no phase-2)"
    )
    parser.add_argument("--no-ffjs", action="store_true", help="zkmargin only, no node / ffjavascript comparison")
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["micro", "msm", "ntt", "scale", "phase2"], help="parts to leave out"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "kernels.json")
    parser.add_argument("--plot", type=Path, default=None, help="PNG path (default: the --out path with .png)")
    args = parser.parse_args(argv)
    plot_path: Path = args.plot or args.out.with_suffix(".png")
    use_fixture = not args.no_fixture and FIXTURES.is_dir()
    console = Console(width=160)

    def log(msg: str) -> None:
        console.print(msg, highlight=False)

    load_start = os.getloadavg() if hasattr(os, "getloadavg") else None
    t0 = time.perf_counter()
    # Touch every public kernel once so that JIT compile (or cache load) time is reported apart.
    for gen, comb, scale, msm, to_aff in (
        (g1_to_lem([G1.generator]), g1_sparse_combination, g1_scale, g1_msm, g1_batch_to_affine),
        (g2_to_lem([G2.generator]), g2_sparse_combination, g2_scale, g2_msm, g2_batch_to_affine),
    ):
        five = fr_to_limbs([5])
        comb(gen, np.array([0, 1], dtype=np.int64), np.zeros(1, dtype=np.int64), five)
        scale(gen, 5)
        msm(gen, five)
        to_aff(np.zeros((1, gen.shape[1] * 3 // 2), dtype=np.uint64))
    fr_intt(fr_ntt(fr_to_limbs([1, 2])))
    warm_s = time.perf_counter() - t0
    log(f"first-call (JIT compile or cache load) time: {warm_s:.1f} s")

    rows: list[Row] = []
    ffjs_info: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory(prefix="zkm-kernels-") as tmp:
        ffjs = None if args.no_ffjs or {"msm", "ntt"} <= set(args.skip) else Ffjs(Path(tmp))
        try:
            if ffjs is not None:
                ffjs_info = ffjs.info
                log(
                    f"ffjavascript {ffjs.info.get('ffjavascript')} ({ffjs.info.get('ffjavascript_dir')}), "
                    f"node {ffjs.info.get('node')}, {ffjs.info.get('concurrency')} worker threads"
                )
            if "micro" not in args.skip:
                log("micro benchmarks ...")
                rows += bench_micro()
            if "msm" not in args.skip:
                log("MSM ...")
                rows += bench_msm(args.msm_log_sizes, args.g2_msm_log_sizes, ffjs, use_fixture, args.repeat, log)
            if "ntt" not in args.skip:
                log("NTT ...")
                rows += bench_ntt(args.ntt_log_sizes, ffjs, args.repeat, log)
        finally:
            if ffjs is not None:
                ffjs.close()
    if "scale" not in args.skip:
        log("scale ...")
        rows += bench_scale(use_fixture)
    if "phase2" not in args.skip and use_fixture:
        log("phase-2 ...")
        rows += bench_phase2()

    threads = numba.get_num_threads()
    title = (
        f"zkmargin numba kernels ({threads} threads) vs ffjavascript"
        f" ({(ffjs_info or {}).get('concurrency', '-')} workers), median wall time; ratio = zkmargin / ffjavascript"
    )
    console.print(_table(rows, title))
    acceptance = _acceptance(rows)
    for group in ("G1", "G2"):
        acc = acceptance[group]
        if acc["ratio"] is not None:
            verdict = "OK" if acc["ok"] else "FAIL"
            log(
                f"acceptance {group} MSM 2^{ACCEPT_LOG_SIZE}: zkmargin {acc['zkmargin_s']:.3f} s, ffjavascript"
                f" {acc['ffjavascript_s']:.3f} s, ratio {acc['ratio']:.3f} (<= {ACCEPT_RATIO}): {verdict}"
            )
    meta = {
        **_machine(),
        "first_call_s": warm_s,
        "load_average_start": load_start,
        "load_average_end": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "timing": "median wall time of `repeat` calls per side after one warm-up call each, the two sides"
        " alternating call by call; ratio = median zkmargin / median ffjavascript",
        "repeat": args.repeat,
        "fixture_points": use_fixture,
        "ffjavascript": ffjs_info,
        "argv": sys.argv[1:] if argv is None else argv,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "acceptance": acceptance, "rows": rows}, indent=1) + "\n")
    log(f"wrote {args.out}")
    if any("zkmargin_s" in r for r in rows):
        plot(rows, plot_path, title.split(";")[0])
        log(f"wrote {plot_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
