"""Load profiles as data: how hard the load test drives a server, relative to the merchant's
ordinary day, and what its orders look like.

A profile multiplies the daily average's per-second rate (daily orders / 86,400 s): `normal` is
1x, `double11` 5x (the issue's peak: five times the daily average, held for the whole run). A
profile may shape the run in steps: `double11-midnight` opens with twice the peak for the first
tenth of the run, the rush when the sale opens at 00:00, then holds the peak.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

SECONDS_PER_DAY = 86_400

# Where a Chinese multi-channel merchant's orders come from (Taobao/Tmall first, then PDD and
# JD) with a cross-border Shopify store beside them; shops of a channel share its weight.
DEFAULT_CHANNEL_MIX: Mapping[str, float] = MappingProxyType(
    {"taobao": 45.0, "pdd": 25.0, "jd": 20.0, "shopify": 10.0}
)


@dataclass(frozen=True)
class Profile:
    name: str
    # x the daily average's per-second rate
    multiplier: float
    description: str
    # (fraction of the run from which it applies, factor on `multiplier`), the first at 0.0
    shape: tuple[tuple[float, float], ...] = ((0.0, 1.0),)
    channel_mix: Mapping[str, float] = field(default_factory=lambda: DEFAULT_CHANNEL_MIX)
    # How long after ordering a buyer pays (each order waits for its own payment).
    pay_after_s: float = 2.0

    def factor_at(self, fraction: float) -> float:
        """The multiplier in force `fraction` (0..1) of the way through the run."""
        factor = self.shape[0][1]
        for start, step in self.shape:
            if fraction >= start:
                factor = step
        return self.multiplier * factor

    def mean_factor(self) -> float:
        """The multiplier averaged over the whole run (what the run offers in all)."""
        bounds = [start for start, _ in self.shape[1:]] + [1.0]
        return self.multiplier * sum(
            step * (end - start) for (start, step), end in zip(self.shape, bounds, strict=True)
        )


PROFILES: Mapping[str, Profile] = MappingProxyType(
    {
        "normal": Profile("normal", 1.0, "an ordinary day: the daily average's rate"),
        "double11": Profile(
            "double11", 5.0, "Double 11's peak hour: 5x the daily average's rate, held"
        ),
        "double11-midnight": Profile(
            "double11-midnight",
            5.0,
            "the sale opening at 00:00: 10x for the first tenth of the run, then 5x",
            shape=((0.0, 2.0), (0.1, 1.0)),
        ),
    }
)


def daily_rate(daily_orders: float) -> float:
    """The daily average as orders a second."""
    return daily_orders / SECONDS_PER_DAY


@dataclass
class Pacer:
    """Hands out the moments at which the next event of a stream is due, so that several
    concurrent users together keep the profile's rate (an open model: a slow answer delays
    one user, not the schedule). Times are seconds from the run's start."""

    base_per_s: float
    duration_s: float
    profile: Profile
    scale: float = 1.0  # e.g. the warehouse works at twice the order rate
    _next: float = 0.0
    handed: int = 0

    def rate_at(self, at_s: float) -> float:
        fraction = min(max(at_s / self.duration_s, 0.0), 1.0) if self.duration_s else 1.0
        return self.base_per_s * self.profile.factor_at(fraction) * self.scale

    def take(self) -> float | None:
        """The next slot, or None once the run's time is used up."""
        at = self._next
        if at >= self.duration_s:
            return None
        rate = self.rate_at(at)
        if rate <= 0:
            return None
        self._next = at + 1.0 / rate
        self.handed += 1
        return at

    def expected(self) -> float:
        """How many slots the whole run holds."""
        return self.base_per_s * self.scale * self.duration_s * self.profile.mean_factor()
