"""Offers against the home authority's published price schedule (its current local requirements for the lot)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qualification.local import current_requirements
from registry.settings.taxonomy import ProvisionType


@dataclass(frozen=True)
class ScheduleRow:
    placement_type: str
    weekly_price_pence: int


@dataclass(frozen=True)
class PriceComparison:
    """An offer's weekly price beside the schedule row it is best compared with (if any)."""

    weekly_price_pence: int
    reference: ScheduleRow | None
    schedule: tuple[ScheduleRow, ...]

    @property
    def difference_pence(self) -> int | None:
        return None if self.reference is None else self.weekly_price_pence - self.reference.weekly_price_pence

    @property
    def difference_percent(self) -> float | None:
        if self.reference is None:
            return None
        return 100 * self.difference_pence / self.reference.weekly_price_pence

    @property
    def summary(self) -> str:
        """"£250.00 (5%) above Solo placement" for the comparison table."""
        if self.reference is None:
            return 'No published price to compare' if not self.schedule else 'No matching price in the schedule'
        difference = self.difference_pence
        if difference == 0:
            return f'Same as “{self.reference.placement_type}”'
        word = 'above' if difference > 0 else 'below'
        return (f'{pounds(abs(difference))} ({abs(self.difference_percent):.0f}%) {word} '
                f'“{self.reference.placement_type}” ({pounds(self.reference.weekly_price_pence)})')


def pounds(pence: int | None) -> str:
    """£1,234.50 (or £1,234 for whole pounds)."""
    if pence is None:
        return ''
    if pence % 100 == 0:
        return f'£{pence // 100:,}'
    return f'£{pence / 100:,.2f}'


def _words(text: str) -> set[str]:
    return {word for word in re.findall(r'[a-z]+', text.lower().replace('’', "'").replace("'s", '')) if len(word) > 2}


def schedule_for(authority_code: str, provision_type: ProvisionType) -> tuple[ScheduleRow, ...]:
    """The authority's current published price rows for the lot that covers ``provision_type``."""
    requirements = current_requirements(authority_code, ProvisionType(provision_type).lot)
    if requirements is None:
        return ()
    return tuple(ScheduleRow(str(row['placement_type']), int(row['weekly_price_pence']))
                 for row in requirements.price_schedule or ())


def reference_row(schedule: tuple[ScheduleRow, ...], provision_type: ProvisionType,
                  children: int = 1) -> ScheduleRow | None:
    """The row to compare with: the one whose name shares most words with the type (and "sibling" for a group).

    Schedules are free text ("Solo placement", "Parent and child"), so a single row is used as it is, and with
    several the best word overlap wins (ties keep the schedule's order); no overlap at all means no reference.
    """
    if not schedule:
        return None
    if len(schedule) == 1:
        return schedule[0]
    wanted = _words(ProvisionType(provision_type).label) | ({'sibling', 'siblings', 'group'} if children > 1
                                                            else {'solo', 'single', 'standard'})
    scored = [(len(_words(row.placement_type) & wanted), -index, row) for index, row in enumerate(schedule)]
    best = max(scored, key=lambda item: (item[0], item[1]))
    return best[2] if best[0] > 0 else None


def compare(weekly_price_pence: int, schedule: tuple[ScheduleRow, ...], provision_type: ProvisionType,
            children: int = 1) -> PriceComparison:
    return PriceComparison(weekly_price_pence, reference_row(schedule, provision_type, children), schedule)
