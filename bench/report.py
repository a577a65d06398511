"""One printed line per figure: ``name ratio=… (target …) abs=…``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    ratio: float
    target: str  # "<= 1.25" or ">= 0.7"
    absolute: str

    @property
    def met(self) -> bool:
        op, bound = self.target.split()
        return self.ratio <= float(bound) if op == "<=" else self.ratio >= float(bound)

    def line(self) -> str:
        verdict = "ok" if self.met else "MISSED"
        return (
            f"{self.name} ratio={self.ratio:.3f} (target {self.target}) "
            f"abs={self.absolute} {verdict}"
        )
