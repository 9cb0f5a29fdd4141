"""Groth16 prover over BN254: dev setup, witness map (snarkjs's odd-coset H), proving.

The public names are declared once, in `__init__.pyi` (what type checkers read); this
file attaches them from that stub lazily (lazy_loader), so importing one submodule
loads only what that submodule needs.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
