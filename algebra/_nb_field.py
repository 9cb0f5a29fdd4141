"""numba kernels for Fq = GF(q) and Fq2 = Fq[u]/(u^2 + 1) of BN254 in Montgomery form.

An Fq element is a `UniTuple(uint64, 4)` value: the little-endian limbs of x * 2^256 mod q
(the LEM layout of `_lem`), passed and returned by value so that inner loops never touch
the heap. An Fq2 element is a pair of them, (c0, c1) = c0 + c1 u.

numba has no 128-bit integer type, so the arithmetic is written as LLVM IR through
`numba.extending.intrinsic` and emitted inline at every call site. `fq_mul` is CIOS
Montgomery multiplication with the "no-carry" shortcut (the top limb of q is below 2^62,
so the running product never needs a fifth limb), as in gnark: each 64x64 -> 128-bit
multiply-add is zext to i128, mul, add, lshr 64, trunc, which compiles to one `mulx`
and an `add`/`adc` pair; the final conditional subtraction is a `select`. Addition,
subtraction and negation are i256 add/sub chains with a `select`, free of branches
(random data would mispredict them half the time).

`f_add`, `f_mul`, ... are generic: an overload picks the Fq or Fq2 version from the
argument's type, so the curve code in `_nb_curve` is written once for G1 and G2.

Private module: public, validated entry points live in `_kernels`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic as _numba_intrinsic
from numba.extending import overload

from ._constants import Q, R

#: numba's `intrinsic`, typed loosely for mypy: an intrinsic is defined with the typing
#: context as first parameter but called without it.
intrinsic: Any = _numba_intrinsic


def _drop_stale_kernel_cache() -> None:
    """Delete numba's cached kernels of the `_nb_*` modules when any of their sources changed.

    numba keys a cached function on its own file only, but kernels in `_nb_curve` and
    `_nb_msm` inline code from `_nb_field` (and `_nb_msm` from `_nb_curve`): after an edit
    of one file the others' caches would silently keep the old code. A digest of all
    `_nb_*.py` sources, kept beside the cache, decides. Skipped when NUMBA_CACHE_DIR
    moves the cache elsewhere, and on read-only installs.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(here.glob("_nb_*.py")))).hexdigest()
    cache = here / "__pycache__"
    stamp = cache / "_nb_sources.sha256"
    try:
        if stamp.read_text() == digest:
            return
    except OSError:
        pass
    try:
        for f in cache.glob("_nb_*.nb[ic]"):
            f.unlink(missing_ok=True)
        cache.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:
        pass


_drop_stale_kernel_cache()

_MASK64 = (1 << 64) - 1


def _limbs(v: int) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    return (
        np.uint64(v & _MASK64),
        np.uint64((v >> 64) & _MASK64),
        np.uint64((v >> 128) & _MASK64),
        np.uint64((v >> 192) & _MASK64),
    )


ZERO64 = np.uint64(0)
ONE64 = np.uint64(1)
#: 1 in Montgomery form: 2^256 mod q.
ONE_M0, ONE_M1, ONE_M2, ONE_M3 = _limbs((1 << 256) % Q)
#: Exponent q - 2 for Fermat inversion.
_QM2_0, _QM2_1, _QM2_2, _QM2_3 = _limbs(Q - 2)
#: 1 in Montgomery form for Fr: 2^256 mod r.
FR_ONE_M0, FR_ONE_M1, FR_ONE_M2, FR_ONE_M3 = _limbs((1 << 256) % R)
#: 2^512 mod r and mod q: Montgomery-multiplying a standard value by it gives its Montgomery form.
FR_R2_0, FR_R2_1, FR_R2_2, FR_R2_3 = _limbs((1 << 512) % R)
FQ_R2_0, FQ_R2_1, FQ_R2_2, FQ_R2_3 = _limbs((1 << 512) % Q)

FQ_TYPE = types.UniTuple(types.uint64, 4)
FQ2_TYPE = types.UniTuple(FQ_TYPE, 2)


# ---- 128-bit intrinsics ------------------------------------------------------------

_I64 = ir.IntType(64)
_I128 = ir.IntType(128)


@intrinsic
def _sbb(typingctx: Any, a: Any, b: Any, borrow: Any) -> Any:
    """(borrow_out, difference) of a - b - borrow (borrow in {0, 1})."""
    sig = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64, types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aw, bw, cw = (builder.zext(x, _I128) for x in args)
        s = builder.sub(builder.sub(aw, bw), cw)
        lo = builder.trunc(s, _I64)
        hi = builder.trunc(builder.lshr(s, ir.Constant(_I128, 127)), _I64)
        return context.make_tuple(builder, signature.return_type, (hi, lo))

    return sig, codegen


# ---- Fq -----------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def fq_zero() -> Any:
    return (ZERO64, ZERO64, ZERO64, ZERO64)


@njit(cache=True, nogil=True)
def fq_one() -> Any:
    return (ONE_M0, ONE_M1, ONE_M2, ONE_M3)


@njit(cache=True, nogil=True)
def fq_is_zero(a: Any) -> bool:
    return (a[0] | a[1] | a[2] | a[3]) == ZERO64


@njit(cache=True, nogil=True)
def fq_eq(a: Any, b: Any) -> bool:
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == ZERO64


_I256 = ir.IntType(256)


def _join256(builder: Any, limbs: list[Any]) -> Any:
    acc = builder.zext(limbs[3], _I256)
    for k in (2, 1, 0):
        acc = builder.or_(builder.shl(acc, ir.Constant(_I256, 64)), builder.zext(limbs[k], _I256))
    return acc


def _split256(builder: Any, w: Any) -> list[Any]:
    return [builder.trunc(builder.lshr(w, ir.Constant(_I256, 64 * k)), _I64) for k in range(4)]


def _mod_intrinsic(name: str, n_args: int, emit: Any, modulus: int, doc: str) -> Any:
    """A modular operation emitted inline as branch-free i256 LLVM IR (add/adc chains, cmov).

    `emit(builder, modulus, *words)` builds the result from i256 words; the modulus is a
    compile-time constant, so Fq and Fr get separate, fully specialised instructions.
    """

    def typer(typingctx: Any, *args: Any) -> Any:
        sig = FQ_TYPE(*([FQ_TYPE] * n_args))

        def codegen(context: Any, builder: Any, signature: Any, llargs: Any) -> Any:
            words = [_join256(builder, [builder.extract_value(v, k) for k in range(4)]) for v in llargs]
            return context.make_tuple(builder, FQ_TYPE, _split256(builder, emit(builder, modulus, *words)))

        return sig, codegen

    fn: Any
    if n_args == 1:

        def unary(typingctx, a):
            return typer(typingctx, a)

        fn = unary
    else:

        def binary(typingctx, a, b):
            return typer(typingctx, a, b)

        fn = binary
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return intrinsic(fn)


def _emit_add(builder: Any, modulus: int, a: Any, b: Any) -> Any:
    # a + b < 2m < 2^255: no overflow of 256 bits
    m = ir.Constant(_I256, modulus)
    s = builder.add(a, b)
    return builder.select(builder.icmp_unsigned(">=", s, m), builder.sub(s, m), s)


def _emit_sub(builder: Any, modulus: int, a: Any, b: Any) -> Any:
    d = builder.sub(a, b)
    return builder.select(builder.icmp_unsigned("<", a, b), builder.add(d, ir.Constant(_I256, modulus)), d)


def _emit_neg(builder: Any, modulus: int, a: Any) -> Any:
    zero = ir.Constant(_I256, 0)
    return builder.select(builder.icmp_unsigned("==", a, zero), zero, builder.sub(ir.Constant(_I256, modulus), a))


fq_add = _mod_intrinsic("fq_add", 2, _emit_add, Q, "a + b mod q")
fq_sub = _mod_intrinsic("fq_sub", 2, _emit_sub, Q, "a - b mod q")
fq_neg = _mod_intrinsic("fq_neg", 1, _emit_neg, Q, "-a mod q (0 stays 0)")


@njit(cache=True, nogil=True)
def fq_dbl(a: Any) -> Any:
    return fq_add(a, a)


def _cios_ir(builder: Any, modulus: int, a: list[Any], b: list[Any]) -> list[Any]:
    """Emit Montgomery multiplication (CIOS, no-carry variant) of 4-limb a, b as LLVM IR.

    The no-carry variant needs the modulus's top limb below 2^63 - 1: true of q and r.
    """

    def const64(v: int) -> Any:
        return ir.Constant(_I64, v)

    def mac(x: Any, y: Any, c: Any, d: Any) -> tuple[Any, Any]:
        p = builder.mul(builder.zext(x, _I128), builder.zext(y, _I128))
        p = builder.add(builder.add(p, builder.zext(c, _I128)), builder.zext(d, _I128))
        return builder.trunc(builder.lshr(p, ir.Constant(_I128, 64)), _I64), builder.trunc(p, _I64)

    m_limbs = [const64((modulus >> (64 * k)) & _MASK64) for k in range(4)]
    m_inv = const64((-pow(modulus, -1, 1 << 64)) % (1 << 64))
    zero = const64(0)
    t = [zero, zero, zero, zero]
    for i in range(4):
        hi_a, t[0] = mac(a[0], b[i], t[0], zero)
        m = builder.mul(t[0], m_inv)
        hi_c, _ = mac(m, m_limbs[0], t[0], zero)
        for j in range(1, 4):
            hi_a, t[j] = mac(a[j], b[i], t[j], hi_a)
            hi_c, t[j - 1] = mac(m, m_limbs[j], t[j], hi_c)
        t[3] = builder.add(hi_c, hi_a)
    # conditional subtraction of the modulus, branch-free
    tw = _join256(builder, t)
    mw = ir.Constant(_I256, modulus)
    ge = builder.icmp_unsigned(">=", tw, mw)
    rw = builder.select(ge, builder.sub(tw, mw), tw)
    return _split256(builder, rw)


def _adx_cios_text(modulus: int) -> str:
    """x86-64 assembly (AT&T, LLVM operand syntax) of CIOS Montgomery multiplication with
    two carry chains (ADX: adcx on CF, adox on OF) and mulx (BMI2), as gnark emits it.

    Operands: $0..$3 the result limbs t0..t3 (in [0, 2m)), $4..$6 scratch, $7 and $8
    pointers to the 4-limb inputs a and b. The modulus and -m^-1 mod 2^64 are
    immediates. Needs the no-carry condition (top limb of m below 2^63 - 1).
    """
    q = [(modulus >> (64 * k)) & _MASK64 for k in range(4)]
    m_inv = (-pow(modulus, -1, 1 << 64)) % (1 << 64)
    t = ["$0", "$1", "$2", "$3"]
    ax, bp, hi, pa, pb = "$4", "$5", "$6", "$7", "$8"
    lines: list[str] = []
    for i in range(4):
        lines.append(f"movq {8 * i}({pb}), %rdx")
        lines.append(f"xorq {ax}, {ax}")  # clears CF and OF
        if i == 0:
            lines += [
                f"mulxq 0({pa}), {t[0]}, {t[1]}",
                f"mulxq 8({pa}), {ax}, {t[2]}",
                f"adcxq {ax}, {t[1]}",
                f"mulxq 16({pa}), {ax}, {t[3]}",
                f"adcxq {ax}, {t[2]}",
                f"mulxq 24({pa}), {ax}, {hi}",
                f"adcxq {ax}, {t[3]}",
                f"movq $$0, {ax}",
                f"adcxq {ax}, {hi}",
            ]
        else:
            for j in range(3):
                lines += [f"mulxq {8 * j}({pa}), {ax}, {bp}", f"adoxq {ax}, {t[j]}", f"adcxq {bp}, {t[j + 1]}"]
            lines += [
                f"mulxq 24({pa}), {ax}, {hi}",
                f"adoxq {ax}, {t[3]}",
                f"movq $$0, {ax}",
                f"adcxq {ax}, {hi}",
                f"adoxq {ax}, {hi}",
            ]
        # reduction: (hi, t3..t0) + m q, shifted down one limb, with m = t0 * (-q^-1)
        lines += [
            f"movabsq $${m_inv}, %rdx",
            f"imulq {t[0]}, %rdx",
            f"xorq {ax}, {ax}",
            f"movabsq $${q[0]}, {bp}",
            f"mulxq {bp}, {ax}, {bp}",
            f"adcxq {t[0]}, {ax}",
            f"movq {bp}, {t[0]}",
            f"adcxq {t[1]}, {t[0]}",
            f"movabsq $${q[1]}, {bp}",
            f"mulxq {bp}, {ax}, {bp}",
            f"adoxq {ax}, {t[0]}",
            f"movq {bp}, {t[1]}",
            f"adcxq {t[2]}, {t[1]}",
            f"movabsq $${q[2]}, {bp}",
            f"mulxq {bp}, {ax}, {bp}",
            f"adoxq {ax}, {t[1]}",
            f"movq {bp}, {t[2]}",
            f"adcxq {t[3]}, {t[2]}",
            f"movabsq $${q[3]}, {bp}",
            f"mulxq {bp}, {ax}, {bp}",
            f"adoxq {ax}, {t[2]}",
            f"movq $$0, {ax}",
            f"adcxq {ax}, {bp}",
            f"adoxq {hi}, {bp}",
            f"movq {bp}, {t[3]}",
        ]
    return "\n\t".join(lines)


def _host_has_adx() -> bool:
    """Whether this CPU has ADX and BMI2 (and ZKMARGIN_NO_ADX is not set)."""
    if os.environ.get("ZKMARGIN_NO_ADX"):
        return False
    try:
        import llvmlite.binding as llvm

        features = llvm.get_host_cpu_features()
        if not (features.get("adx") and features.get("bmi2")):
            return False
        llvm.initialize_native_asmparser()  # numba does not; inline assembly needs it
        return True
    except Exception:  # pragma: no cover - unknown platform: take the portable path
        return False


#: Montgomery multiplication uses the ADX assembly when the CPU has it.
USE_ADX = _host_has_adx()


def _cios_adx(context: Any, builder: Any, modulus: int, av: list[Any], bv: list[Any]) -> list[Any]:
    """Emit the ADX Montgomery multiplication as inline assembly, then the final
    conditional subtraction in IR (branch-free)."""
    from numba.core import cgutils

    arr_t = ir.ArrayType(_I64, 4)
    slots = []
    for vals in (av, bv):
        slot = cgutils.alloca_once(builder, arr_t)
        for k in range(4):
            builder.store(vals[k], builder.gep(slot, [ir.Constant(ir.IntType(32), 0), ir.Constant(ir.IntType(32), k)]))
        slots.append(builder.bitcast(slot, _I64.as_pointer()))
    ret_t = ir.LiteralStructType([_I64] * 7)
    fnty = ir.FunctionType(ret_t, [_I64.as_pointer(), _I64.as_pointer()])
    # "~{flags}" is LLVM's name for EFLAGS on x86 (clang turns GCC's "cc" into it; LLVM
    # itself does not know "cc"): with "~{cc}" LLVM kept comparison results in EFLAGS
    # across the assembly, which overwrites them, and products came out wrong inside
    # larger kernels (tests/test_pairing_kernels.py keeps the case that showed it).
    constraints = ",".join(["=&r"] * 7 + ["r", "r"] + ["~{rdx}", "~{flags}", "~{memory}"])
    res = builder.asm(fnty, _adx_cios_text(modulus), constraints, slots, side_effect=False)
    t = [builder.extract_value(res, k) for k in range(4)]
    tw = _join256(builder, t)
    mw = ir.Constant(_I256, modulus)
    ge = builder.icmp_unsigned(">=", tw, mw)
    return _split256(builder, builder.select(ge, builder.sub(tw, mw), tw))


def _mont_mul_intrinsic(name: str, modulus: int, adx: bool | None = None) -> Any:
    """Montgomery multiplication by `modulus`: ADX inline assembly where the CPU has it
    (about 1.7x faster here), else portable IR (`_cios_ir`); `adx` forces a choice."""
    use_adx = USE_ADX if adx is None else adx

    def mont_mul(typingctx: Any, a: Any, b: Any) -> Any:
        sig = FQ_TYPE(FQ_TYPE, FQ_TYPE)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            av = [builder.extract_value(args[0], k) for k in range(4)]
            bv = [builder.extract_value(args[1], k) for k in range(4)]
            limbs = _cios_adx(context, builder, modulus, av, bv) if use_adx else _cios_ir(builder, modulus, av, bv)
            return context.make_tuple(builder, FQ_TYPE, limbs)

        return sig, codegen

    mont_mul.__name__ = mont_mul.__qualname__ = name
    mont_mul.__doc__ = "Montgomery product a * b / 2^256 mod the modulus, emitted inline at every call site."
    return intrinsic(mont_mul)


fq_mul = _mont_mul_intrinsic("fq_mul", Q)
#: The portable IR version, always compiled (tests check both against Python ints).
fq_mul_portable = _mont_mul_intrinsic("fq_mul_portable", Q, adx=False)


@njit(cache=True, nogil=True)
def fq_sqr(a: Any) -> Any:
    return fq_mul(a, a)


@njit(cache=True, nogil=True)
def fq_inv(a: Any) -> Any:
    """a^(q-2) (Fermat); 0 maps to 0."""
    e = (_QM2_0, _QM2_1, _QM2_2, _QM2_3)
    acc = fq_one()
    for limb in range(3, -1, -1):
        w = e[limb]
        for bit in range(63, -1, -1):
            acc = fq_sqr(acc)
            if (w >> np.uint64(bit)) & ONE64:
                acc = fq_mul(acc, a)
    return acc


# ---- Fq2 = Fq[u]/(u^2 + 1) -----------------------------------------------------------


@njit(cache=True, nogil=True)
def fq2_zero() -> Any:
    return (fq_zero(), fq_zero())


@njit(cache=True, nogil=True)
def fq2_one() -> Any:
    return (fq_one(), fq_zero())


@njit(cache=True, nogil=True)
def fq2_is_zero(a: Any) -> bool:
    return fq_is_zero(a[0]) and fq_is_zero(a[1])


@njit(cache=True, nogil=True)
def fq2_eq(a: Any, b: Any) -> bool:
    return fq_eq(a[0], b[0]) and fq_eq(a[1], b[1])


@njit(cache=True, nogil=True)
def fq2_add(a: Any, b: Any) -> Any:
    return (fq_add(a[0], b[0]), fq_add(a[1], b[1]))


@njit(cache=True, nogil=True)
def fq2_dbl(a: Any) -> Any:
    return (fq_add(a[0], a[0]), fq_add(a[1], a[1]))


@njit(cache=True, nogil=True)
def fq2_sub(a: Any, b: Any) -> Any:
    return (fq_sub(a[0], b[0]), fq_sub(a[1], b[1]))


@njit(cache=True, nogil=True)
def fq2_neg(a: Any) -> Any:
    return (fq_neg(a[0]), fq_neg(a[1]))


@njit(cache=True, nogil=True)
def fq2_mul(a: Any, b: Any) -> Any:
    # Karatsuba: (a0 + a1 u)(b0 + b1 u) = a0b0 - a1b1 + ((a0 + a1)(b0 + b1) - a0b0 - a1b1) u
    t0 = fq_mul(a[0], b[0])
    t1 = fq_mul(a[1], b[1])
    t2 = fq_mul(fq_add(a[0], a[1]), fq_add(b[0], b[1]))
    return (fq_sub(t0, t1), fq_sub(fq_sub(t2, t0), t1))


@njit(cache=True, nogil=True)
def fq2_sqr(a: Any) -> Any:
    # (a0 + a1 u)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 u
    t = fq_mul(a[0], a[1])
    return (fq_mul(fq_add(a[0], a[1]), fq_sub(a[0], a[1])), fq_add(t, t))


@njit(cache=True, nogil=True)
def fq2_inv(a: Any) -> Any:
    """1/a = conj(a) / (a0^2 + a1^2); 0 maps to 0."""
    t = fq_inv(fq_add(fq_sqr(a[0]), fq_sqr(a[1])))
    return (fq_mul(a[0], t), fq_neg(fq_mul(a[1], t)))


# ---- Fr (scalars): the same instructions with r as the modulus ----------------------
#
# Fr elements share Fq's numba type, so there is no generic dispatch between them: the
# NTT and the witness map call the fr_* functions by name. A Montgomery product of a
# standard-form value and a Montgomery-form constant is the standard-form product, so
# the NTT keeps its data in standard form (as .wtns files and MSM scalars have it) and
# only its twiddles in Montgomery form.

fr_add = _mod_intrinsic("fr_add", 2, _emit_add, R, "a + b mod r")
fr_sub = _mod_intrinsic("fr_sub", 2, _emit_sub, R, "a - b mod r")
fr_neg = _mod_intrinsic("fr_neg", 1, _emit_neg, R, "-a mod r (0 stays 0)")
fr_mul = _mont_mul_intrinsic("fr_mul", R)


@njit(cache=True, nogil=True)
def fr_one() -> Any:
    """1 in Montgomery form."""
    return (FR_ONE_M0, FR_ONE_M1, FR_ONE_M2, FR_ONE_M3)


@njit(cache=True, nogil=True)
def fr_to_mont(a: Any) -> Any:
    """Standard form -> Montgomery form (a * 2^256 mod r)."""
    return fr_mul(a, (FR_R2_0, FR_R2_1, FR_R2_2, FR_R2_3))


@njit(cache=True, nogil=True)
def fr_from_mont(a: Any) -> Any:
    """Montgomery form -> standard form (a / 2^256 mod r)."""
    return fr_mul(a, (ONE64, ZERO64, ZERO64, ZERO64))


@njit(cache=True, nogil=True)
def fq_to_mont(a: Any) -> Any:
    """Standard form -> Montgomery form (a * 2^256 mod q)."""
    return fq_mul(a, (FQ_R2_0, FQ_R2_1, FQ_R2_2, FQ_R2_3))


@njit(cache=True, nogil=True)
def fq_from_mont(a: Any) -> Any:
    """Montgomery form -> standard form (a / 2^256 mod q)."""
    return fq_mul(a, (ONE64, ZERO64, ZERO64, ZERO64))


# ---- generic field operations (Fq or Fq2, chosen by argument type) -----------------


def _is_fq(t: Any) -> bool:
    return isinstance(t, types.UniTuple) and t.count == 4 and t.dtype == types.uint64


def _is_fq2(t: Any) -> bool:
    return isinstance(t, types.UniTuple) and t.count == 2 and _is_fq(t.dtype)


def _generic(fq_impl: Any, fq2_impl: Any, nargs: int) -> Any:
    """A function whose numba overload dispatches on its first argument's type."""

    def stub(*args: Any) -> Any:  # pragma: no cover - only ever called from jitted code
        raise NotImplementedError("generic field operations run inside numba kernels only")

    if nargs == 1:

        def ov1(a) -> Any:
            if _is_fq(a):
                return lambda a: fq_impl(a)
            if _is_fq2(a):
                return lambda a: fq2_impl(a)
            return None

        overload(stub, jit_options={"nogil": True})(ov1)
    else:

        def ov2(a, b) -> Any:
            if _is_fq(a):
                return lambda a, b: fq_impl(a, b)
            if _is_fq2(a):
                return lambda a, b: fq2_impl(a, b)
            return None

        overload(stub, jit_options={"nogil": True})(ov2)
    return stub


f_add = _generic(fq_add, fq2_add, 2)
f_sub = _generic(fq_sub, fq2_sub, 2)
f_mul = _generic(fq_mul, fq2_mul, 2)
f_eq = _generic(fq_eq, fq2_eq, 2)
f_dbl = _generic(fq_dbl, fq2_dbl, 1)
f_neg = _generic(fq_neg, fq2_neg, 1)
f_sqr = _generic(fq_sqr, fq2_sqr, 1)
f_inv = _generic(fq_inv, fq2_inv, 1)
f_is_zero = _generic(fq_is_zero, fq2_is_zero, 1)


def f_one_like(a: Any) -> Any:  # pragma: no cover - jitted use only
    raise NotImplementedError


def f_zero_like(a: Any) -> Any:  # pragma: no cover - jitted use only
    raise NotImplementedError


@overload(f_one_like, jit_options={"nogil": True})
def _ov_one_like(a) -> Any:
    if _is_fq(a):
        return lambda a: fq_one()
    if _is_fq2(a):
        return lambda a: fq2_one()
    return None


@overload(f_zero_like, jit_options={"nogil": True})
def _ov_zero_like(a) -> Any:
    if _is_fq(a):
        return lambda a: fq_zero()
    if _is_fq2(a):
        return lambda a: fq2_zero()
    return None


# ---- array-level kernels (for tests and benchmarks) --------------------------------

#: Operation codes of `_fq_apply` / `_fq2_apply`.
OP_ADD, OP_SUB, OP_MUL, OP_SQR, OP_NEG, OP_INV = 0, 1, 2, 3, 4, 5


@njit(cache=True, nogil=True)
def _load_fq(a: Any, i: int, off: int) -> Any:
    return (a[i, off], a[i, off + 1], a[i, off + 2], a[i, off + 3])


@njit(cache=True, nogil=True)
def _store_fq(out: Any, i: int, off: int, v: Any) -> None:
    out[i, off] = v[0]
    out[i, off + 1] = v[1]
    out[i, off + 2] = v[2]
    out[i, off + 3] = v[3]


@njit(cache=True, nogil=True)
def _fq_apply(op: int, a: Any, b: Any, out: Any) -> None:
    """out[i] = op(a[i], b[i]) on (n, 4) Montgomery arrays (b is ignored by unary ops)."""
    for i in range(a.shape[0]):
        x = _load_fq(a, i, 0)
        y = _load_fq(b, i, 0)
        if op == OP_ADD:
            r = fq_add(x, y)
        elif op == OP_SUB:
            r = fq_sub(x, y)
        elif op == OP_MUL:
            r = fq_mul(x, y)
        elif op == OP_SQR:
            r = fq_sqr(x)
        elif op == OP_NEG:
            r = fq_neg(x)
        else:
            r = fq_inv(x)
        _store_fq(out, i, 0, r)


@njit(cache=True, nogil=True)
def _fq2_apply(op: int, a: Any, b: Any, out: Any) -> None:
    """out[i] = op(a[i], b[i]) on (n, 8) arrays of Fq2 elements (c0 limbs, then c1)."""
    for i in range(a.shape[0]):
        x = (_load_fq(a, i, 0), _load_fq(a, i, 4))
        y = (_load_fq(b, i, 0), _load_fq(b, i, 4))
        if op == OP_ADD:
            r = fq2_add(x, y)
        elif op == OP_SUB:
            r = fq2_sub(x, y)
        elif op == OP_MUL:
            r = fq2_mul(x, y)
        elif op == OP_SQR:
            r = fq2_sqr(x)
        elif op == OP_NEG:
            r = fq2_neg(x)
        else:
            r = fq2_inv(x)
        _store_fq(out, i, 0, r[0])
        _store_fq(out, i, 4, r[1])


@njit(cache=True, nogil=True)
def _fq_mul_chain(a: Any, b: Any, n: int, out: Any) -> None:
    """out[0] = a[0] * b[0]^n by n dependent multiplications (benchmark of mul latency)."""
    x = _load_fq(a, 0, 0)
    y = _load_fq(b, 0, 0)
    for _ in range(n):
        x = fq_mul(x, y)
    _store_fq(out, 0, 0, x)


@njit(cache=True, nogil=True)
def _fq2_mul_chain(a: Any, b: Any, n: int, out: Any) -> None:
    x = (_load_fq(a, 0, 0), _load_fq(a, 0, 4))
    y = (_load_fq(b, 0, 0), _load_fq(b, 0, 4))
    for _ in range(n):
        x = fq2_mul(x, y)
    _store_fq(out, 0, 0, x[0])
    _store_fq(out, 0, 4, x[1])


@njit(cache=True, nogil=True)
def _fr_apply(op: int, a: Any, b: Any, out: Any) -> None:
    """out[i] = op(a[i], b[i]) on (n, 4) arrays of Fr in Montgomery form (OP_ADD .. OP_NEG)."""
    for i in range(a.shape[0]):
        x = _load_fq(a, i, 0)
        y = _load_fq(b, i, 0)
        if op == OP_ADD:
            r = fr_add(x, y)
        elif op == OP_SUB:
            r = fr_sub(x, y)
        elif op == OP_MUL:
            r = fr_mul(x, y)
        elif op == OP_SQR:
            r = fr_mul(x, x)
        else:
            r = fr_neg(x)
        _store_fq(out, i, 0, r)


@njit(cache=True, nogil=True)
def _fr_mul_chain(a: Any, b: Any, n: int, out: Any) -> None:
    """out[0] = a[0] * b[0]^n by n dependent Fr multiplications (benchmark of mul latency)."""
    x = _load_fq(a, 0, 0)
    y = _load_fq(b, 0, 0)
    for _ in range(n):
        x = fr_mul(x, y)
    _store_fq(out, 0, 0, x)


#: Conversion codes of `mont_convert_kernel`.
TO_MONT_R, FROM_MONT_R, TO_MONT_Q, FROM_MONT_Q = 0, 1, 2, 3


@njit(cache=True, nogil=True, parallel=True)
def mont_convert_kernel(a: Any, out: Any, op: int) -> None:
    """out = a with every 4-limb group moved into or out of Montgomery form (mod r or q).

    `a` and `out` are flat views: any (n, 4k) uint64 array reshaped to (n * k, 4).
    Inputs must already be reduced (below the modulus).
    """
    for i in prange(a.shape[0]):
        x = _load_fq(a, i, 0)
        if op == TO_MONT_R:
            r = fr_to_mont(x)
        elif op == FROM_MONT_R:
            r = fr_from_mont(x)
        elif op == TO_MONT_Q:
            r = fq_to_mont(x)
        else:
            r = fq_from_mont(x)
        _store_fq(out, i, 0, r)


@njit(cache=True, nogil=True)
def _fq_mul_portable_apply(a: Any, b: Any, out: Any) -> None:
    """out[i] = a[i] * b[i] by the portable IR multiplication (tests compare both paths)."""
    for i in range(a.shape[0]):
        _store_fq(out, i, 0, fq_mul_portable(_load_fq(a, i, 0), _load_fq(b, i, 0)))
