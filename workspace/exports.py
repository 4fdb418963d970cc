"""Shortlist exports: one row per saved result in rank order, as CSV (csv module) or XLSX (openpyxl).

Columns have readable labels; dates are real dates (ISO 8601 in CSV, date cells in XLSX) so spreadsheets sort
and filter them. Contacts (address, telephone, email) are the setting's current ones, for commissioners only.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font

from registry.extensions import db
from registry.geography.models import LocalAuthority
from registry.settings.taxonomy import NEEDS, Judgement, ProvisionType
from registry.templating import LONDON
from workspace.finder import reason_tag
from workspace.models import Shortlist

COLUMNS = ('Rank', 'Setting', 'Provider', 'Provision type', 'Authority', 'District', 'Distance (miles)', 'Vacancies',
           'Vacancies confirmed', 'Ofsted judgement', 'Accepted by us', 'Meets every requirement', 'Reasons',
           'Address', 'Postcode', 'Contact name', 'Telephone', 'Email')
#: Spreadsheet programs run cells starting with these as formulas; provider-entered names must not be able to.
_FORMULA_START = ('=', '+', '-', '@', '\t', '\r')
#: Column widths in the workbook, in the order of :data:`COLUMNS`.
_WIDTHS = (6, 32, 32, 28, 20, 20, 10, 10, 20, 22, 10, 12, 80, 40, 10, 22, 16, 30)


def _safe(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _confirmed(value: str | None) -> datetime | None:
    """The confirmation time as a naive UK local time (spreadsheets have no time zones)."""
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(LONDON).replace(tzinfo=None, microsecond=0)


def _distance(data: dict) -> float | str | None:
    """Miles, or words when the distance was only to the setting's authority's centre (as its reason says)."""
    distance = data['distance_miles']
    if distance is None or not data.get('distance_approximate'):
        return distance
    about = round(distance)
    return f'{"Under 1" if about < 1 else f"About {about}"} (somewhere in {data["authority_name"]})'


def _meets(data: dict) -> str:
    """As the shortlist page's tag says: "Yes" only with vacancies confirmed recently."""
    if not data.get('meets_requirements'):
        return 'No'
    return 'Yes' if data.get('vacancies_fresh') else 'Vacancy to check: meets every other requirement'


def rows(shortlist: Shortlist, contacts: dict | None = None) -> list[list]:
    """The export rows (without the header): the frozen snapshots, plus each setting's current contact."""
    contacts = contacts or {}
    result = []
    for entry in shortlist.entries:
        data = entry.snapshot
        reasons = '; '.join(f'{reason_tag(reason)[0]}: {reason["text"]}' for reason in data.get('reasons', []))
        contact = contacts.get(entry.setting_id)
        result.append([
            data['rank'], _safe(data['setting_name']), _safe(data['provider_name']), data['provision_type_label'],
            data['authority_name'], data.get('district_name') or '',
            _distance(data),
            data['vacancies'], _confirmed(data.get('vacancies_confirmed_at')),
            data.get('judgement_label') or 'Not yet judged', 'Yes' if data.get('accepted_by_us') else 'No',
            _meets(data), _safe(reasons),
            _safe(contact.address) if contact else 'No longer in the registry', contact.postcode if contact else '',
            _safe(contact.name) if contact else '', _safe(contact.phone) if contact else '',
            _safe(contact.email) if contact else '',
        ])
    return result


def _csv_value(value):
    if value is None:
        return ''
    if isinstance(value, datetime):
        return value.strftime('%Y-%m-%d %H:%M')
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_csv(shortlist: Shortlist, contacts: dict | None = None) -> str:
    """The shortlist as CSV text with a header row (dates as ``YYYY-MM-DD HH:MM``, UK time)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    confirmed = COLUMNS.index('Vacancies confirmed')
    for row in rows(shortlist, contacts):
        if row[confirmed] is None:
            row[confirmed] = 'Never'
        writer.writerow([_csv_value(value) for value in row])
    return buffer.getvalue()


def search_summary(shortlist: Shortlist) -> list[tuple[str, object]]:
    """The search that made the shortlist, as (readable label, value) pairs; dates are real dates."""
    criteria = shortlist.criteria
    authority = db.session.get(LocalAuthority, shortlist.authority_code)
    start = criteria.get('start_date')
    origin_authority = db.session.get(LocalAuthority, criteria['authority']) if criteria.get('authority') else None
    known_types = {kind.value for kind in ProvisionType}   # not ``kind in ProvisionType``: a TypeError on 3.11
    types = [ProvisionType(kind).label for kind in criteria.get('provision_types') or () if kind in known_types]
    minimum = criteria.get('min_judgement')
    return [
        ('Shortlist', _safe(shortlist.name)),
        ('Saved', shortlist.created_at.astimezone(LONDON).replace(tzinfo=None, microsecond=0)),
        ('Saved by', _safe(shortlist.owner.full_name) if shortlist.owner else ''),
        ('Authority', authority.name if authority else shortlist.authority_code),
        ("Child's age", criteria.get('age')),
        ("Child's sex", (criteria.get('sex') or '').capitalize()),
        ('Home postcode', criteria.get('postcode') or ''),
        ('Home local authority', origin_authority.name if origin_authority else ''),
        ('Maximum distance (miles)', criteria.get('max_distance_miles')),
        ('Placement start date', date.fromisoformat(start) if start else None),
        ('Placed', f'With siblings ({criteria.get("children")} children)' if criteria.get('placement') == 'siblings'
         else 'Alone'),
        ('Needs', ', '.join(NEEDS.get(need, need) for need in criteria.get('needs') or ()) or 'None asked for'),
        ('Lowest Ofsted judgement', Judgement(minimum).label if minimum else 'Any'),
        ('Types of placement', ', '.join(types) or 'All types'),
    ]


def to_xlsx(shortlist: Shortlist, contacts: dict | None = None) -> bytes:
    """The shortlist as an XLSX workbook: a results sheet and a sheet recording the search."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = 'Results'
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows(shortlist, contacts):
        sheet.append(row)
    for cell in sheet['I'][1:]:
        cell.number_format = 'dd/mm/yyyy hh:mm'
    sheet.freeze_panes = 'A2'
    for index, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width
    about = workbook.create_sheet('Search')
    for label, value in search_summary(shortlist):
        about.append([label, value])
        cell = about.cell(row=about.max_row, column=2)
        if isinstance(value, datetime):
            cell.number_format = 'dd/mm/yyyy hh:mm'
        elif isinstance(value, date):
            cell.number_format = 'dd/mm/yyyy'
    about.column_dimensions['A'].width = 26
    about.column_dimensions['B'].width = 60
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

