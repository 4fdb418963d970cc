"""Shortlist exports: one row per saved result in rank order, as CSV (csv module) or XLSX (openpyxl)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font

from registry.templating import format_datetime
from workspace.models import Shortlist

COLUMNS = ('Rank', 'Setting', 'Provider', 'Provision type', 'Authority', 'Distance (miles)', 'Vacancies',
           'Vacancies confirmed', 'Ofsted judgement', 'Accepted by us', 'Meets every requirement', 'Reasons')
#: Spreadsheet programs run cells starting with these as formulas; provider-entered names must not be able to.
_FORMULA_START = ('=', '+', '-', '@', '\t', '\r')


def _safe(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _confirmed(value: str | None) -> str:
    return format_datetime(datetime.fromisoformat(value)) if value else 'Never'


def rows(shortlist: Shortlist) -> list[list]:
    """The export rows (without the header), from the frozen snapshots only."""
    result = []
    for entry in shortlist.entries:
        data = entry.snapshot
        reasons = '; '.join(f'{"Met" if reason["met"] else "Not met"}: {reason["text"]}'
                            for reason in data.get('reasons', []))
        result.append([
            data['rank'], _safe(data['setting_name']), _safe(data['provider_name']), data['provision_type_label'],
            data['authority_name'], data['distance_miles'] if data['distance_miles'] is not None else '',
            data['vacancies'], _confirmed(data.get('vacancies_confirmed_at')),
            data.get('judgement_label') or 'Not yet judged', 'Yes' if data.get('accepted_by_us') else 'No',
            'Yes' if data.get('meets_requirements') else 'No', _safe(reasons),
        ])
    return result


def to_csv(shortlist: Shortlist) -> str:
    """The shortlist as CSV text with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(rows(shortlist))
    return buffer.getvalue()


def to_xlsx(shortlist: Shortlist) -> bytes:
    """The shortlist as an XLSX workbook: a results sheet and a sheet recording the search."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = 'Results'
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows(shortlist):
        sheet.append(row)
    sheet.freeze_panes = 'A2'
    for column, width in zip('ABCDEFGHIJKL', (6, 32, 32, 28, 20, 10, 10, 26, 22, 10, 12, 80), strict=True):
        sheet.column_dimensions[column].width = width
    about = workbook.create_sheet('Search')
    about.append(['Shortlist', _safe(shortlist.name)])
    about.append(['Saved', format_datetime(shortlist.created_at)])
    about.append(['Authority', shortlist.authority_code])
    for key, value in sorted(shortlist.criteria.items()):
        about.append([key, _safe(', '.join(map(str, value)) if isinstance(value, list) else str(value))])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
