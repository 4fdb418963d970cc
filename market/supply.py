"""Supply over time: a snapshot of Ofsted's register at every import, and ownership concentration.

Each import (and ``flask market refresh``) counts the register's active registrations by provision type and
authority into :class:`market.models.RegisterSnapshot` for the release's date, so the supply chart gains a point with
every release. Concentration is measured over owners' shares of registered places (Ofsted publishes places for
homes, not for fostering agencies): the top 10 owners' share, and the Herfindahl–Hirschman index
HHI = Σ (owner's share of places in percent)², from 0 (many small owners) to 10,000 (one owner).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import delete, func, select

from market.models import OwnershipFigure, RegisterSnapshot
from registry.db import bulk_insert
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.ofsted.models import OfstedRegisterEntry
from registry.settings.taxonomy import RegistrationStatus

TOP_OWNERS = 10


def concentration(places_by_owner: dict[str, int]) -> tuple[int, int, int, float]:
    """(owners, places, places held by the top 10 owners, HHI) for owners' places; owners without places drop out."""
    held = sorted((places for places in places_by_owner.values() if places > 0), reverse=True)
    total = sum(held)
    if not total:
        return 0, 0, 0, 0.0
    hhi = sum((100 * places / total) ** 2 for places in held)
    return len(held), total, sum(held[:TOP_OWNERS]), round(hhi, 2)


def _active_entries():
    return (select(OfstedRegisterEntry.provision_type, OfstedRegisterEntry.authority_code,
                   OfstedRegisterEntry.owner_name, OfstedRegisterEntry.places, LocalAuthority.region_name)
            .outerjoin(LocalAuthority, LocalAuthority.code == OfstedRegisterEntry.authority_code)
            .where(OfstedRegisterEntry.provision_type.is_not(None),
                   OfstedRegisterEntry.registration_status == RegistrationStatus.ACTIVE,
                   OfstedRegisterEntry.removed_as_at.is_(None)))


def record_release(as_at: date) -> int:
    """Snapshot the register's active registrations as the release of ``as_at`` (replacing one already taken that
    day), with ownership nationally and per region, in the caller's transaction. Returns the rows written."""
    counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    owners: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for kind, authority, owner, places, region in db.session.execute(_active_entries()):
        key = (getattr(kind, 'value', kind), authority or '', region or '')
        counts[key][0] += 1
        counts[key][1] += places or 0
        owner = (owner or '').strip()
        if owner and places:
            owners[''][owner] += places
            if region:
                owners[region][owner] += places
    db.session.execute(delete(RegisterSnapshot).where(RegisterSnapshot.as_at == as_at))
    db.session.execute(delete(OwnershipFigure).where(OwnershipFigure.as_at == as_at))
    rows = [{'as_at': as_at, 'provision_type': kind, 'authority_code': authority, 'region': region,
             'homes': homes, 'places': places} for (kind, authority, region), (homes, places) in counts.items()]
    if rows:
        db.session.execute(bulk_insert(RegisterSnapshot), rows)
    ownership = []
    for area, by_owner in owners.items():
        count, total, top, hhi = concentration(by_owner)
        ownership.append({'as_at': as_at, 'area_kind': 'region' if area else 'national', 'area': area,
                          'owners': count, 'places': total, 'top10_places': top, 'hhi': hhi})
    if ownership:
        db.session.execute(bulk_insert(OwnershipFigure), ownership)
    return len(rows) + len(ownership)


def on_import(register_import) -> None:
    """The Ofsted import hook: snapshot the release just imported, dated by its "as at" date (older imports, which
    recorded none, by the day they ran). Historical releases never reach it: they leave the register alone."""
    record_release(register_import.as_at or (register_import.finished_at or register_import.started_at).date())


def top_owners(region: str | None = None, limit: int = TOP_OWNERS) -> list[tuple[str, int, int]]:
    """The owners with most registered places now (nationally or in a region): (owner, registrations, places)."""
    owner = func.trim(OfstedRegisterEntry.owner_name)
    query = (select(owner, func.count(), func.coalesce(func.sum(OfstedRegisterEntry.places), 0))
             .select_from(OfstedRegisterEntry)
             .where(OfstedRegisterEntry.provision_type.is_not(None),
                    OfstedRegisterEntry.registration_status == RegistrationStatus.ACTIVE,
                    OfstedRegisterEntry.removed_as_at.is_(None),
                    OfstedRegisterEntry.places > 0, owner != '')
             .group_by(owner).order_by(func.sum(OfstedRegisterEntry.places).desc(), owner).limit(limit))
    if region:
        query = query.join(LocalAuthority, LocalAuthority.code == OfstedRegisterEntry.authority_code).where(
            LocalAuthority.region_name == region)
    return [(name, count, int(places)) for name, count, places in db.session.execute(query)]
