"""The anonymous demand log: one call from the finder and from each referral, holding no user and no child."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from registry.db import utcnow
from registry.extensions import db

KINDS = ('search', 'referral')
#: DfE's looked-after children age bands; mirrors :data:`placements.models.AGE_BANDS` without importing it.
AGE_BANDS = (('under-1', 0, 0), ('1-4', 1, 4), ('5-9', 5, 9), ('10-15', 10, 15), ('16-17', 16, 17), ('18-plus', 18, 99))


def age_band(age: int) -> str:
    """The DfE age band for an age in years (the log keeps the band, never the age)."""
    for band, low, high in AGE_BANDS:
        if low <= int(age) <= high:
            return band
    raise ValueError(f'age out of range: {age}')


def provision_key(provision_types: Iterable[str] | str | None) -> str:
    """One value for the provision type asked for: the type, ``any`` for none, ``several`` for more than one."""
    if isinstance(provision_types, str):
        provision_types = [provision_types] if provision_types else []
    chosen = sorted({str(getattr(value, 'value', value)) for value in provision_types or ()})
    if not chosen:
        return 'any'
    return chosen[0] if len(chosen) == 1 else 'several'


def log_search(kind: str, *, authority_code: str | None, age: int, needs: Iterable[str] = (),
               provision_types: Iterable[str] | str | None = (), max_distance_miles: float | None = None,
               matches: int | None = None, on: date | None = None) -> None:
    """Add one anonymous line to the demand log in the caller's transaction (the caller commits).

    Searches without an authority (the board trying the finder) are not demand and are not logged.

    :param kind: ``search`` or ``referral``.
    :param matches: settings meeting every requirement, or None when unknown.
    """
    from market.models import DemandLog

    if kind not in KINDS:
        raise ValueError(f'unknown demand kind: {kind}')
    if not authority_code:
        return
    db.session.add(DemandLog(
        logged_on=on or utcnow().date(), kind=kind, authority_code=authority_code, age_band=age_band(age),
        provision_type=provision_key(provision_types), needs=','.join(sorted(set(needs or ()))),
        max_distance_miles=None if max_distance_miles is None else int(round(float(max_distance_miles))),
        matches=matches))
