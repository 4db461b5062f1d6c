"""Coordinates for the small inline SVG charts of the segment pages."""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: int


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    points: list[Point]
    top: int  # the value drawn at the top edge

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def last(self) -> Point:
        return self.points[-1]

    @property
    def description(self) -> str:
        return ", ".join(str(p.value) for p in self.points)


def sparkline(
    values: Sequence[int], *, width: int = 120, height: int = 28, pad: int = 3
) -> Sparkline | None:
    """Values spread evenly left to right, scaled from zero to the largest; None if empty."""
    if not values:
        return None
    top = max(max(values), 1)
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    points = [
        Point(
            x=pad + i * step if len(values) > 1 else width / 2,
            y=height - pad - (height - 2 * pad) * value / top,
            value=value,
        )
        for i, value in enumerate(values)
    ]
    return Sparkline(width=width, height=height, points=points, top=top)
