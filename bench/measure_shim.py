"""A minimal copy of `bench.common.Measure` (built on another branch) so these benchmarks run on their own.

The coordinator replaces imports of this module with `common` at merge; keep the names and fields identical.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Measure:
    """One product figure beside its ceiling measured in the same run; ratio = product / ceiling."""

    measure: str
    product: float
    ceiling: float
    ratio: float
    unit: str
    size: int

    @classmethod
    def of(cls, measure: str, product: float, ceiling: float, unit: str, size: int) -> Measure:
        ratio = product / ceiling if ceiling else float("inf")
        return cls(measure, round(product, 3), round(ceiling, 3), round(ratio, 2), unit, size)

    def as_dict(self) -> dict:
        return asdict(self)
