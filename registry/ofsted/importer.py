"""Read Ofsted's provider-level files (CSV, XLSX or ODS, any release) into validated rows; no database here.

Releases differ: titles above the header, renamed columns, headings with stray newlines, cp1252 or
UTF-8. We find the header row by looking for the required columns under any of their known names,
then map every column by name, never by position.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from registry.settings.taxonomy import (
    PROVISION_TYPES,
    URN_PATTERN,
    Judgement,
    ProvisionType,
    RegistrationStatus,
    normalise_urn,
)


class OfstedImportError(Exception):
    """The file cannot be imported at all (unreadable, or its columns cannot be mapped). Nothing is written."""


#: Our field name → every heading (normalised) that Ofsted has used for it.
SYNONYMS: dict[str, tuple[str, ...]] = {
    'urn': ('urn', 'provider urn', 'social care urn'),
    'provision_type': ('provision type', 'provider type', 'type of provision'),
    'registration_status': ('registration status', 'provider status', 'status'),
    'local_authority': ('local authority', 'local authority name', 'la', 'la name', 'provider local authority'),
    'registration_date': ('registration date', 'date of registration', 'registered date', 'provider registration date'),
    'name': ('name', 'provider name', 'setting name'),
    'town': ('town', 'provider town'),
    'postcode': ('postcode', 'provider postcode', 'post code'),
    'region': ('government office region', 'gor', 'region'),
    'ofsted_region': ('ofsted region',),
    'sector': ('sector', 'provider sector'),
    'places': ('places', 'number of registered places', 'registered places', 'maximum users', 'max users'),
    'owner_name': ('organisation which owns the provider', 'owner', 'owner name', 'provider owner',
                   'organisation name'),
    'inspection_event_type': ('latest full inspection event type', 'inspection event type',
                              'latest inspection event type'),
    'latest_inspection_date': ('latest full inspection date', 'latest inspection date', 'inspection date'),
    'latest_publication_date': ('latest full inspection publication date', 'latest publication date',
                                'publication date'),
    'overall_judgement': ('overall experiences and progress of children and young people', 'overall effectiveness',
                          'overall judgement', 'overall experiences and progress of children'),
    'education': ('outcomes in education and related learning activities',),
    'health': ('health services',),
    'protection': ('how well children and young people are helped and protected',),
    'leadership': ('the effectiveness of leaders and managers', 'effectiveness of leaders and managers'),
    'supported_accommodation_outcome': ('supported accommodation outcome',),
}

#: Without these the file cannot be used; the error names them by their usual headings.
REQUIRED = ('urn', 'provision_type', 'registration_status', 'local_authority')

#: How a missing required column is named in the error message.
LABELS = {'urn': 'URN', 'provision_type': 'Provision type', 'registration_status': 'Registration status',
          'local_authority': 'Local authority'}

#: Columns kept in ``OfstedRegisterEntry.judgements`` under their published heading.
OTHER_JUDGEMENT_FIELDS = ('inspection_event_type', 'education', 'health', 'protection', 'leadership',
                          'supported_accommodation_outcome')

#: How far down a sheet we look for the header row (titles and notes come first).
HEADER_SEARCH_ROWS = 40

STATUSES = {
    'active': RegistrationStatus.ACTIVE,
    'suspended': RegistrationStatus.SUSPENDED,
    'cancelled': RegistrationStatus.CANCELLED,
    'canceled': RegistrationStatus.CANCELLED,
    'resigned': RegistrationStatus.RESIGNED,
}

Cell = str | date | int | float | None


def normalise_heading(value: Any) -> str:
    """Lower-case a heading and collapse whitespace, newlines and curly apostrophes."""
    text = str(value or '').replace('\u2019', "'").replace('\u00a0', ' ')
    return re.sub(r'\s+', ' ', text).strip().strip('*').strip().lower()


def _normalise_type(value: str) -> str:
    return re.sub(r'\s+', ' ', value.replace('\u2019', "'")).strip().lower()


#: Ofsted's provision type wording (normalised) → our provision type.
_PROVISION_TYPES_BY_OFSTED_NAME = {
    _normalise_type(name): ptype for ptype, info in PROVISION_TYPES.items() for name in info.ofsted_names
}


def map_provision_type(text: str) -> ProvisionType | None:
    """Our provision type for Ofsted's wording, or None for types the directory does not cover."""
    return _PROVISION_TYPES_BY_OFSTED_NAME.get(_normalise_type(text or ''))


@dataclass
class ParsedFile:
    """The mapped header and the raw data rows of one file."""

    columns: dict[str, int]
    #: Published heading (whitespace tidied) for each mapped field.
    headings: dict[str, str]
    #: ``(file row number, cells)`` for each row after the header.
    rows: list[tuple[int, list[Cell]]]
    format: str
    as_at: date | None = None


@dataclass
class RegisterRow:
    """One validated row, ready to upsert."""

    row_number: int
    values: dict[str, Any]

    @property
    def urn(self) -> str:
        return self.values['urn']

    @property
    def row_hash(self) -> str:
        return row_hash(self.values)


@dataclass
class Rejection:
    """A row we could not use, and why, in words an operator can act on."""

    row_number: int
    urn: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {'row': self.row_number, 'urn': self.urn, 'reason': self.reason}


@dataclass
class ValidatedFile:
    rows: list[RegisterRow] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    format: str = ''
    as_at: date | None = None


def row_hash(values: dict[str, Any]) -> str:
    """A stable hash of the mapped values (not the file name or import time), to detect changed rows."""
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=_json_default).encode()).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, 'value'):
        return value.value
    return str(value)


# --- readers ---------------------------------------------------------------------------------------------------


def sniff_format(path: Path, data: bytes) -> str:
    """``csv``, ``xlsx`` or ``ods``, from the content (a zip's manifest) rather than trusting the extension."""
    if data[:4] == b'PK\x03\x04':
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if 'mimetype' in names and b'opendocument.spreadsheet' in archive.read('mimetype'):
                return 'ods'
            if '[Content_Types].xml' in names:
                return 'xlsx'
        raise OfstedImportError(f'{path.name} is a zip file but not an XLSX or ODS spreadsheet')
    if path.suffix.lower() in {'.xlsx', '.ods', '.xls'}:
        raise OfstedImportError(f'{path.name} is not a readable {path.suffix[1:].upper()} spreadsheet')
    return 'csv'


def decode_csv(data: bytes) -> str:
    """Text of a CSV file: UTF-8 (with or without a byte-order mark), else Windows-1252 as older releases use."""
    try:
        return data.decode('utf-8-sig')
    except UnicodeDecodeError:
        pass
    try:
        return data.decode('cp1252')
    except UnicodeDecodeError as exc:
        raise OfstedImportError('The file is neither UTF-8 nor Windows-1252 text; save it again as CSV') from exc


def read_csv(data: bytes) -> Iterator[list[Cell]]:
    text = decode_csv(data)
    try:
        yield from csv.reader(io.StringIO(text, newline=''))
    except csv.Error as exc:
        raise OfstedImportError(f'The CSV file cannot be read: {exc}') from exc


def _xlsx_cell(value: Any) -> Cell:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def read_xlsx_sheets(data: bytes) -> Iterator[Iterator[list[Cell]]]:
    """Each worksheet's rows; Ofsted's workbooks start with a cover sheet, so the caller tries each."""
    from openpyxl import load_workbook

    with warnings.catch_warnings():
        # openpyxl warns about styles it ignores; the cell values are all we need.
        warnings.simplefilter('ignore')
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for corrupt files
            raise OfstedImportError(f'The XLSX file cannot be read: {exc}') from exc
        try:
            for sheet in workbook.worksheets:
                yield ([_xlsx_cell(value) for value in row] for row in sheet.iter_rows(values_only=True))
        finally:
            workbook.close()


def _ods_text(element) -> str:
    from odf.element import Element

    parts: list[str] = []
    for node in element.childNodes:
        if node.nodeType == Element.TEXT_NODE:
            parts.append(str(node.data))
        elif node.qname[1] == 's':  # <text:s/> is one or more spaces
            parts.append(' ' * int(node.attributes.get((node.qname[0], 'c'), 1)))
        elif node.qname[1] in {'tab'}:
            parts.append('\t')
        elif node.qname[1] == 'line-break':
            parts.append('\n')
        else:
            parts.append(_ods_text(node))
    return ''.join(parts)


def _ods_cell(cell) -> Cell:
    from odf.namespaces import OFFICENS, TEXTNS

    value_type = cell.attributes.get((OFFICENS, 'value-type'))
    if value_type == 'date':
        raw = cell.attributes.get((OFFICENS, 'date-value'), '')
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            pass
    if value_type in {'float', 'percentage', 'currency'}:
        number = float(cell.attributes.get((OFFICENS, 'value'), 'nan'))
        return int(number) if number.is_integer() else number
    paragraphs = [child for child in cell.childNodes if child.qname == (TEXTNS, 'p')]
    return '\n'.join(_ods_text(p) for p in paragraphs)


def read_ods_sheets(data: bytes) -> Iterator[Iterator[list[Cell]]]:
    """Each table's rows, expanding repeated cells but not the huge runs of empty ones ODS writers append."""
    from odf.namespaces import TABLENS
    from odf.opendocument import load
    from odf.table import Table, TableRow

    try:
        document = load(io.BytesIO(data))
    except Exception as exc:  # odfpy raises many types for corrupt files
        raise OfstedImportError(f'The ODS file cannot be read: {exc}') from exc

    def rows_of(table) -> Iterator[list[Cell]]:
        for row in table.getElementsByType(TableRow):
            cells: list[Cell] = []
            for cell in row.childNodes:
                if cell.qname[1] not in {'table-cell', 'covered-table-cell'}:
                    continue
                value = _ods_cell(cell)
                repeat = int(cell.attributes.get((TABLENS, 'number-columns-repeated'), 1))
                cells.extend([value] * (repeat if value not in ('', None) else min(repeat, 64)))
            while cells and cells[-1] in ('', None):
                cells.pop()
            repeat_rows = int(row.attributes.get((TABLENS, 'number-rows-repeated'), 1))
            for _ in range(repeat_rows if cells else 1):
                yield list(cells)

    for table in document.spreadsheet.getElementsByType(Table):
        yield rows_of(table)


# --- header detection and parsing -----------------------------------------------------------------------------------


_LOOKUP = {synonym: name for name, synonyms in SYNONYMS.items() for synonym in synonyms}


def map_header(cells: Iterable[Cell]) -> tuple[dict[str, int], dict[str, str]]:
    """Map our field names to column indexes for one candidate header row (first match wins)."""
    columns: dict[str, int] = {}
    headings: dict[str, str] = {}
    for index, cell in enumerate(cells):
        if not isinstance(cell, str):
            continue
        name = _LOOKUP.get(normalise_heading(cell))
        if name and name not in columns:
            columns[name] = index
            headings[name] = re.sub(r'\s+', ' ', cell).strip()
    return columns, headings


def find_header(rows: Iterator[list[Cell]]) -> tuple[int, dict[str, int], dict[str, str], list[str]] | None:
    """The first row holding every required column: ``(row number, columns, headings, missing)``.

    When no row qualifies, returns the best candidate with the required columns it lacks, or None
    when nothing in the first rows looks like a header at all.
    """
    best: tuple[int, dict[str, int], dict[str, str], list[str]] | None = None
    for number, cells in enumerate(rows, start=1):
        if number > HEADER_SEARCH_ROWS:
            break
        columns, headings = map_header(cells)
        missing = [name for name in REQUIRED if name not in columns]
        if not missing:
            return number, columns, headings, []
        if columns and (best is None or len(columns) > len(best[1])):
            best = (number, columns, headings, missing)
    return best


def parse_file(path: str | Path) -> ParsedFile:
    """Read a file and map its columns, or raise :class:`OfstedImportError` naming what is missing."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OfstedImportError(f'Cannot read {path}: {exc.strerror}') from exc
    if not data.strip():
        raise OfstedImportError(f'{path.name} is empty')
    kind = sniff_format(path, data)
    if kind == 'csv':
        sheets: Iterable[Iterator[list[Cell]]] = [read_csv(data)]
    elif kind == 'xlsx':
        sheets = read_xlsx_sheets(data)
    else:
        sheets = read_ods_sheets(data)

    best_failure: tuple[int, dict[str, int], dict[str, str], list[str]] | None = None
    for sheet in sheets:
        rows = list(sheet)
        found = find_header(iter(rows))
        if found is None:
            continue
        header_number, columns, headings, missing = found
        if missing:
            if best_failure is None or len(columns) > len(best_failure[1]):
                best_failure = found
            continue
        data_rows = [(number, cells) for number, cells in enumerate(rows, start=1) if number > header_number]
        return ParsedFile(columns=columns, headings=headings, rows=data_rows, format=kind)

    if best_failure is None:
        expected = ', '.join(LABELS[name] for name in REQUIRED)
        raise OfstedImportError(f'{path.name} has no header row we recognise. Expected columns: {expected}')
    header_number, _columns, _headings, missing = best_failure
    names = ', '.join(f'"{LABELS[name]}"' for name in missing)
    raise OfstedImportError(f'{path.name} cannot be imported: the header (row {header_number}) has no '
                            f'{names} column{"s" if len(missing) > 1 else ""}. Missing columns: {names}')


# --- row validation ---------------------------------------------------------------------------------------------


class _RowError(ValueError):
    pass


def _text(cell: Cell) -> str:
    if cell is None:
        return ''
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, date):
        return cell.isoformat()
    return re.sub(r'\s+', ' ', str(cell)).strip()


_DATE_FORMATS = ('%d/%m/%Y', '%Y-%m-%d', '%d/%m/%y', '%d-%m-%Y', '%d %B %Y', '%d %b %Y', '%d-%b-%y', '%d-%b-%Y')


def _date(cell: Cell, label: str) -> date | None:
    if cell is None or cell == '':
        return None
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = _text(cell)
    if not text:
        return None
    text = text.split(' 00:00')[0]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise _RowError(f'{label} "{text}" is not a date')


def _places(cell: Cell) -> int | None:
    text = _text(cell)
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise _RowError(f'Places "{text}" is not a number') from None
    if number < 0 or not number.is_integer():
        raise _RowError(f'Places "{text}" is not a whole number of places')
    return int(number)


def _redactable(text: str) -> str:
    return '' if text.upper() == 'REDACTED' else text


def validate_rows(parsed: ParsedFile, authority_lookup: dict[str, str]) -> ValidatedFile:
    """Turn raw rows into :class:`RegisterRow` values, collecting a reason for each row we reject.

    :param authority_lookup: normalised authority name (Ofsted's or ONS's spelling) → authority code.
    """
    result = ValidatedFile(format=parsed.format)
    columns = parsed.columns
    seen: dict[str, int] = {}

    def cell(cells: list[Cell], name: str) -> Cell:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    for number, cells in parsed.rows:
        texts = [_text(value) for value in cells]
        filled = [text for text in texts if text]
        raw_urn = _text(cell(cells, 'urn'))
        if not filled:
            continue
        if not raw_urn and len(filled) < 3:
            continue  # a footnote or source line under the table, not a provider
        urn = normalise_urn(raw_urn)
        if not URN_PATTERN.match(urn):
            result.rejections.append(Rejection(number, raw_urn, f'URN "{raw_urn}" is not an Ofsted URN '
                                                                '(SC and 6 digits, or 7 digits)'))
            continue
        if urn in seen:
            result.rejections.append(Rejection(number, urn, f'URN {urn} appears more than once '
                                                            f'(first on row {seen[urn]})'))
            continue
        status_text = _text(cell(cells, 'registration_status'))
        status = STATUSES.get(status_text.lower())
        if status is None:
            result.rejections.append(Rejection(number, urn, f'Unknown registration status "{status_text}"'))
            continue
        provision_type_text = _text(cell(cells, 'provision_type'))
        if not provision_type_text:
            result.rejections.append(Rejection(number, urn, 'No provision type'))
            continue
        try:
            registration_date = _date(cell(cells, 'registration_date'), 'Registration date')
            inspection_date = _date(cell(cells, 'latest_inspection_date'), 'Latest inspection date')
            publication_date = _date(cell(cells, 'latest_publication_date'), 'Publication date')
            places = _places(cell(cells, 'places'))
        except _RowError as exc:
            result.rejections.append(Rejection(number, urn, str(exc)))
            continue
        seen[urn] = number
        authority_name = _text(cell(cells, 'local_authority'))
        judgement_text = _text(cell(cells, 'overall_judgement'))
        name = _text(cell(cells, 'name'))
        values = {
            'urn': urn,
            'provision_type_text': provision_type_text[:120],
            'provision_type': map_provision_type(provision_type_text),
            'registration_status': status,
            'registration_date': registration_date,
            'sector': _text(cell(cells, 'sector'))[:40],
            'places': places,
            'name': 'REDACTED' if name.upper() == 'REDACTED' else name[:200],
            'town': _redactable(_text(cell(cells, 'town')))[:80],
            'postcode': _redactable(_text(cell(cells, 'postcode'))).upper()[:10],
            'local_authority_name': authority_name[:120],
            'authority_code': authority_lookup.get(normalise_heading(authority_name)),
            'region': (_text(cell(cells, 'region')) or _text(cell(cells, 'ofsted_region')))[:80],
            'ofsted_region': _text(cell(cells, 'ofsted_region'))[:80],
            'owner_name': _text(cell(cells, 'owner_name'))[:200],
            'latest_inspection_date': inspection_date,
            'latest_publication_date': publication_date,
            'overall_judgement': Judgement.from_ofsted(judgement_text),
            'overall_judgement_text': judgement_text[:120],
            'judgements': {parsed.headings[field_name]: _text(cell(cells, field_name))
                           for field_name in OTHER_JUDGEMENT_FIELDS
                           if field_name in columns and _text(cell(cells, field_name))},
        }
        result.rows.append(RegisterRow(number, values))
    return result
