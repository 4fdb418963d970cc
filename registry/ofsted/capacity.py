"""The capacity picture: registered places (Ofsted's register) against listed places and vacancies (the directory).

Registered figures count registrations Ofsted lists as active in the latest imported release, of
the provision types the directory covers, so they compare like with like (providers that closed and
dropped out of a later release are not counted). Ofsted publishes no places for fostering agencies and does not
register local authority fostering or assessment services: by provision type their registered places are "not
published" (None here), never 0, as on the market pages (:data:`~registry.settings.taxonomy.PLACES_NOT_PUBLISHED`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from qualification.listing import listed_condition
from registry.charts import Chart, bar_chart
from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.ofsted.models import OfstedRegisterEntry
from registry.settings.models import Setting
from registry.settings.taxonomy import (
    NOT_PUBLISHED,
    PLACES_NOT_PUBLISHED,
    PLACES_NOTE,
    ProvisionType,
    RegistrationStatus,
)

#: The breakdowns offered, with the heading of their first column.
BREAKDOWNS = {'region': 'Region', 'authority': 'Local authority', 'provision-type': 'Provision type'}

#: (attribute, legend) for each bar in a chart's group, in the order the shared palette colours them.
SERIES = (
    ('registered_places', 'Registered places (Ofsted)'),
    ('listed_places', 'Listed places (directory)'),
    ('vacancies', 'Vacancies (directory)'),
)

CSV_COLUMNS = (
    ('registered_settings', 'Registered settings (Ofsted)'),
    ('registered_places', 'Registered places (Ofsted)'),
    ('listed_settings', 'Listed settings'),
    ('listed_places', 'Listed places'),
    ('vacancies', 'Vacancies'),
)


@dataclass
class CapacityRow:
    """One line of a capacity table."""

    key: str
    label: str
    registered_settings: int = 0
    #: None where Ofsted publishes no places for the row's provision type.
    registered_places: int | None = 0
    listed_settings: int = 0
    listed_places: int = 0
    vacancies: int = 0


def _register_conditions() -> list:
    return [OfstedRegisterEntry.provision_type.is_not(None),
            OfstedRegisterEntry.registration_status == RegistrationStatus.ACTIVE,
            OfstedRegisterEntry.removed_as_at.is_(None)]


def _register_totals(group_column, *conditions) -> dict[str, tuple[int, int]]:
    query = (select(group_column, func.count(OfstedRegisterEntry.urn),
                    func.coalesce(func.sum(OfstedRegisterEntry.places), 0))
             .select_from(OfstedRegisterEntry)
             .join(LocalAuthority, LocalAuthority.code == OfstedRegisterEntry.authority_code)
             .where(*_register_conditions(), *conditions).group_by(group_column))
    return {_key(key): (count, int(places)) for key, count, places in db.session.execute(query)}


def _listed_totals(group_column, *conditions, today: date | None = None) -> dict[str, tuple[int, int, int]]:
    query = (select(group_column, func.count(Setting.id), func.coalesce(func.sum(Setting.places), 0),
                    func.coalesce(func.sum(Setting.vacancies), 0))
             .select_from(Setting).join(LocalAuthority, LocalAuthority.code == Setting.authority_code)
             .where(listed_condition(today), *conditions).group_by(group_column))
    return {_key(key): (count, int(places), int(vacancies)) for key, count, places, vacancies
            in db.session.execute(query)}


def _key(value) -> str:
    return getattr(value, 'value', value)


def _rows(keys_and_labels: list[tuple[str, str]], registered: dict, listed: dict) -> list[CapacityRow]:
    rows = []
    for key, label in keys_and_labels:
        reg = registered.get(key, (0, 0))
        lis = listed.get(key, (0, 0, 0))
        rows.append(CapacityRow(key, label, reg[0], reg[1], lis[0], lis[1], lis[2]))
    return rows


def regions() -> list[str]:
    """The nine English regions, as named on our local authorities."""
    return list(db.session.scalars(select(LocalAuthority.region_name).distinct().order_by(LocalAuthority.region_name)))


def by_region(today: date | None = None) -> list[CapacityRow]:
    """Registered and listed capacity for each English region."""
    names = regions()
    return _rows([(name, name) for name in names], _register_totals(LocalAuthority.region_name),
                 _listed_totals(LocalAuthority.region_name, today=today))


def by_authority(region: str | None = None, today: date | None = None) -> list[CapacityRow]:
    """Registered and listed capacity for each authority, optionally within one region."""
    query = select(LocalAuthority.code, LocalAuthority.name).order_by(LocalAuthority.name)
    conditions = []
    if region:
        query = query.where(LocalAuthority.region_name == region)
        conditions.append(LocalAuthority.region_name == region)
    authorities = [(code, name) for code, name in db.session.execute(query)]
    return _rows(authorities, _register_totals(LocalAuthority.code, *conditions),
                 _listed_totals(LocalAuthority.code, *conditions, today=today))


def by_provision_type(today: date | None = None) -> list[CapacityRow]:
    """Registered and listed capacity for each provision type the directory covers."""
    rows = _rows([(ptype.value, ptype.label) for ptype in ProvisionType],
                 _register_totals(OfstedRegisterEntry.provision_type),
                 _listed_totals(Setting.provision_type, today=today))
    for row in rows:
        if row.key in PLACES_NOT_PUBLISHED:
            row.registered_places = None
    return rows


def note(rows: list[CapacityRow]) -> str:
    """What a table must say under it: why some registered places are not published (empty when none are)."""
    return PLACES_NOTE if any(row.registered_places is None for row in rows) else ''


def total(rows: list[CapacityRow]) -> CapacityRow:
    """The sum of a table's rows, for its footer (registered places: of the types whose places are published)."""
    result = CapacityRow('total', 'Total')
    for row in rows:
        for name, _label in CSV_COLUMNS:
            setattr(result, name, getattr(result, name) + (getattr(row, name) or 0))
    return result


def to_csv(rows: list[CapacityRow], first_heading: str) -> str:
    """A table as CSV text, with a totals line (and the note on places not published, when it has any)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow([first_heading, *(label for _name, label in CSV_COLUMNS)])
    for row in [*rows, total(rows)]:
        writer.writerow([row.label, *(NOT_PUBLISHED if getattr(row, name) is None else getattr(row, name)
                                      for name, _label in CSV_COLUMNS)])
    if note(rows):
        writer.writerow([])
        writer.writerow(['Note', note(rows)])
    return out.getvalue()


def chart(rows: list[CapacityRow], title: str) -> Chart:
    """A capacity table as the shared grouped bar chart: a bar for each of :data:`SERIES` in each row (none for
    registered places that are not published)."""
    return bar_chart(title, [row.label for row in rows],
                     [(label, [getattr(row, name) for row in rows]) for name, label in SERIES])
