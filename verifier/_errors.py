"""Named errors for malformed verifier input.

A malformed key, proof or public-signal list raises one of these; a well-formed proof
that does not verify is not an error (`verify` returns False). All are ValueErrors, so
`except ValueError` catches them too. When the error comes from a bad point or field
element, `__cause__` is the algebra error (PointNotOnCurveError etc.).
"""

from __future__ import annotations


class VerificationInputError(ValueError):
    """Input to the verifier is malformed (shape, encoding, range, curve, subgroup, count).

    `field` names the JSON field that failed ("pi_a", "IC", "vk_beta_2", ...) when one
    field is to blame, else None.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class MalformedProofError(VerificationInputError):
    """proof.json is malformed: bad JSON, a missing field, or a point that is not valid."""


class MalformedVerifyingKeyError(VerificationInputError):
    """verification_key.json is malformed: bad JSON, wrong protocol/curve, invalid point,
    or IC whose length does not match nPublic + 1."""


class MalformedPublicSignalsError(VerificationInputError):
    """public.json is malformed (not a list of decimal strings below r) or has the wrong
    number of values for the verifying key."""
