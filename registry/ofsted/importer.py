"""Read Ofsted's provider-level files (CSV, XLSX or ODS, any release) into validated rows; no database here.

Releases differ: titles above the header, renamed columns, headings with stray newlines, cp1252 or
UTF-8. We find the header row by looking for the required columns under any of their known names,
then map every column by name, never by position. Every parse says which headings it mapped and which
it ignored, reads the release's "as at" date from the titles, and refuses files it cannot trust: empty,
header-only, cut off part-way, or Ofsted's inspection-outcome files (one row per inspection).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from registry.settings.taxonomy import (
    PROVISION_TYPES,
    URN_PATTERN,
    Judgement,
    ProvisionType,
    RegistrationStatus,
    normalise_urn,
)


class OfstedImportError(Exception):
    """The file cannot be imported at all (unreadable, untrustworthy, or its columns cannot be mapped).

    Nothing is written."""


#: Our field name → every heading (normalised) that Ofsted has used for it in the releases since 2015.
SYNONYMS: dict[str, tuple[str, ...]] = {
    'urn': ('urn', 'provider urn', 'social care urn', 'urn (unique reference number)', 'unique reference number',
            'provider reference number', 'setting urn'),
    'provision_type': ('provision type', 'provider type', 'type of provision', 'provider type description',
                       'provision type description', 'setting type'),
    'registration_status': ('registration status', 'reg status', 'reg. status', 'provider status', 'status',
                            'current registration status', 'registration status description'),
    'local_authority': ('local authority', 'local authority name', 'la', 'la name', 'provider local authority',
                        'local authority (la)', 'la (name)'),
    'registration_date': ('registration date', 'date of registration', 'registered date',
                          'provider registration date', 'reg date', 'date registered'),
    'name': ('name', 'provider name', 'setting name', 'name of provider'),
    'town': ('town', 'provider town', 'town/city'),
    'postcode': ('postcode', 'provider postcode', 'post code'),
    'region': ('government office region', 'gor', 'region', 'government office region (gor)'),
    'ofsted_region': ('ofsted region',),
    'sector': ('sector', 'provider sector'),
    'places': ('places', 'number of registered places', 'registered places', 'maximum users', 'max users',
               'number of places', 'max. users', 'maximum number of users'),
    'owner_name': ('organisation which owns the provider', 'organisation', 'owner', 'owner name', 'provider owner',
                   'organisation name', 'owning organisation', 'organisation that owns the provider'),
    'inspection_event_type': ('latest full inspection event type', 'inspection event type',
                              'latest inspection event type'),
    'latest_inspection_date': ('latest full inspection date', 'latest inspection date', 'inspection date',
                               'date of latest full inspection', 'last inspection date'),
    'latest_publication_date': ('latest full inspection publication date', 'latest publication date',
                                'publication date', 'latest full inspection report publication date'),
    'overall_judgement': ('overall experiences and progress of children and young people', 'overall effectiveness',
                          'overall judgement', 'overall experiences and progress of children',
                          'overall experiences and progress', 'overall effectiveness judgement',
                          'overall judgement for the latest full inspection'),
    'education': ('outcomes in education and related learning activities',),
    'health': ('health services',),
    'protection': ('how well children and young people are helped and protected',),
    'leadership': ('the effectiveness of leaders and managers', 'effectiveness of leaders and managers',
                   'leadership and management'),
    'outcomes': ('outcomes for children and young people',),
    'quality_of_care': ('quality of care',),
    'safety': ('keeping children and young people safe', 'keeping children safe'),
    'supported_accommodation_outcome': ('supported accommodation outcome',),
}

#: Headings that only name something once "Latest full inspection" is taken off the front.
_AFTER_PREFIX = {'date': 'latest_inspection_date', 'publication date': 'latest_publication_date',
                 'event type': 'inspection_event_type', 'report publication date': 'latest_publication_date'}

#: "Latest full inspection overall effectiveness", "Latest full inspection: date", "Most recent inspection - ...".
_INSPECTION_PREFIX = re.compile(r'^(?:latest|most recent|last) (?:full )?inspection\b\s*[:\-\u2013]?\s*')

#: Without these the file cannot be used; the error names them by their usual headings.
REQUIRED = ('urn', 'provision_type', 'registration_status', 'local_authority')

#: How a missing required column is named in the error message.
LABELS = {'urn': 'URN', 'provision_type': 'Provision type', 'registration_status': 'Registration status',
          'local_authority': 'Local authority'}

#: Columns kept in ``OfstedRegisterEntry.judgements`` under their published heading.
OTHER_JUDGEMENT_FIELDS = ('inspection_event_type', 'education', 'health', 'protection', 'leadership', 'outcomes',
                          'quality_of_care', 'safety', 'supported_accommodation_outcome')

#: How far down a sheet we look for the header row (titles and notes come first).
HEADER_SEARCH_ROWS = 40

#: Rejection reasons kept word for word; beyond this only their counts per kind are kept.
REJECTION_LIMIT = 1000

#: A register has one row per provider: more repeated URNs than this (and than 1% of rows) refuses the file.
DUPLICATE_LIMIT = 10

#: Cells read from one spreadsheet row at most: ODS writers pad rows with thousands of empty cells.
MAX_COLUMNS = 512

#: Headings found in Ofsted's inspection-outcome files (one row per inspection), never in the register.
INSPECTION_FILE_HEADINGS = {'inspection date', 'inspection start date', 'inspection end date', 'inspection type',
                            'event type', 'inspection event type', 'inspection id', 'inspection number',
                            'event number', 'inspection event number', 'inspection judgement'}

STATUSES = {
    'active': RegistrationStatus.ACTIVE,
    'suspended': RegistrationStatus.SUSPENDED,
    'cancelled': RegistrationStatus.CANCELLED,
    'canceled': RegistrationStatus.CANCELLED,
    'resigned': RegistrationStatus.RESIGNED,
}

Cell = str | date | int | float | None
#: ``(the file's own row number, cells)``.
Row = tuple[int, list[Cell]]


def normalise_heading(value: Any) -> str:
    """Lower-case a heading and collapse whitespace, newlines, no-break spaces, curly apostrophes and notes."""
    text = str(value or '').replace('\u2019', "'").replace('\u00a0', ' ').replace('\ufeff', '').replace('\u200b', '')
    text = re.sub(r'\s*[\[(]note \d+[\])]', '', text, flags=re.IGNORECASE)
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
    rows: list[Row]
    format: str
    #: Field → the heading it was read from, in the file's column order (what the import prints).
    mapped: dict[str, str] = field(default_factory=dict)
    #: Headings the import does not read, in column order (printed, so no column is dropped silently).
    ignored: list[str] = field(default_factory=list)
    #: The date the release describes ("providers at 31 March 2024"), from the title rows; None if they do not say.
    as_at: date | None = None
    #: The text of the rows above the header (and of any cover sheet), joined per row.
    titles: list[str] = field(default_factory=list)
    header_row: int = 0


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
    #: A short key for counting reasons of the same kind (``bad-urn``, ``duplicate-urn``...).
    kind: str = 'other'

    def as_dict(self) -> dict[str, Any]:
        return {'row': self.row_number, 'urn': self.urn, 'reason': self.reason, 'kind': self.kind}


#: How each kind of rejection is described in counts.
REJECTION_KINDS = {
    'bad-urn': 'URN is not an Ofsted URN',
    'duplicate-urn': 'URN appears more than once',
    'unknown-status': 'unknown registration status',
    'no-provision-type': 'no provision type',
    'bad-date': 'a date that is not a date',
    'bad-places': 'places not a whole number',
    'authority-undecided': 'abolished authority with no postcode to place it',
}


@dataclass
class ValidatedFile:
    rows: list[RegisterRow] = field(default_factory=list)
    #: The first :data:`REJECTION_LIMIT` rejections, in row order.
    rejections: list[Rejection] = field(default_factory=list)
    format: str = ''
    #: Rejected rows per kind, counting every rejection (not only those kept in ``rejections``).
    rejection_counts: dict[str, int] = field(default_factory=dict)
    #: Things the operator should know that did not stop a row: abolished authorities mapped to successors.
    warnings: list[str] = field(default_factory=list)
    as_at: date | None = None
    mapped: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """Every rejected row, including those beyond the first :data:`REJECTION_LIMIT` kept with reasons."""
        return sum(self.rejection_counts.values())

    def reject(self, row_number: int, urn: str, kind: str, reason: str) -> None:
        self.rejection_counts[kind] = self.rejection_counts.get(kind, 0) + 1
        if len(self.rejections) < REJECTION_LIMIT:
            self.rejections.append(Rejection(row_number, urn, reason, kind))


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
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                if 'mimetype' in names and b'opendocument.spreadsheet' in archive.read('mimetype'):
                    return 'ods'
                if '[Content_Types].xml' in names:
                    return 'xlsx'
        except (zipfile.BadZipFile, OSError) as exc:
            raise OfstedImportError(f'{path.name} is a damaged spreadsheet (the file may have been cut off while '
                                    'downloading): download it again') from exc
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


def read_csv(data: bytes) -> tuple[list[Row], bool]:
    """Every record of a CSV file, numbered from 1, and whether the text ends with a line break.

    A quoted field still open at the end of the file means the file was cut off: refused.
    """
    text = decode_csv(data)
    try:
        rows = list(enumerate(csv.reader(io.StringIO(text, newline=''), strict=True), start=1))
    except csv.Error as exc:
        if 'unexpected end of data' in str(exc):
            raise OfstedImportError('The file ends inside a quoted field (a quotation mark is never closed): it '
                                    'looks cut off part-way through. Download the release again') from None
        # Strict mode also refuses a stray quote after a closing one; Ofsted's text is fine read leniently.
        try:
            rows = list(enumerate(csv.reader(io.StringIO(text, newline='')), start=1))
        except csv.Error as again:
            raise OfstedImportError(f'The CSV file cannot be read: {again}') from again
    return rows, text.endswith(('\n', '\r'))


def _xlsx_cell(value: Any) -> Cell:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def read_xlsx_sheets(data: bytes) -> Iterator[tuple[str, Iterator[Row]]]:
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
                yield sheet.title, ((number, [_xlsx_cell(value) for value in row[:MAX_COLUMNS]])
                                    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1))
        finally:
            workbook.close()


_TABLE = '{urn:oasis:names:tc:opendocument:xmlns:table:1.0}'
_OFFICE = '{urn:oasis:names:tc:opendocument:xmlns:office:1.0}'
_TEXT = '{urn:oasis:names:tc:opendocument:xmlns:text:1.0}'
_ODS_CELLS = {f'{_TABLE}table-cell', f'{_TABLE}covered-table-cell'}
_ROW = f'{_TABLE}table-row'
_TABLE_TAG = f'{_TABLE}table'
_ROWS_REPEATED = f'{_TABLE}number-rows-repeated'
_COLUMNS_REPEATED = f'{_TABLE}number-columns-repeated'
_VALUE_TYPE = f'{_OFFICE}value-type'


def _ods_text(element: ElementTree.Element) -> str:
    """The text of a paragraph, with ``<text:s c="3"/>`` spaces, tabs and line breaks, and nested spans/links."""
    parts = [element.text or '']
    for child in element:
        tag = child.tag
        if tag == f'{_TEXT}s':
            parts.append(' ' * int(child.get(f'{_TEXT}c', '1')))
        elif tag == f'{_TEXT}tab':
            parts.append('\t')
        elif tag == f'{_TEXT}line-break':
            parts.append('\n')
        else:
            parts.append(_ods_text(child))
        parts.append(child.tail or '')
    return ''.join(parts)


def _ods_cell(cell: ElementTree.Element) -> Cell:
    value_type = cell.get(_VALUE_TYPE)
    if value_type == 'date':
        try:
            return date.fromisoformat(cell.get(f'{_OFFICE}date-value', '')[:10])
        except ValueError:
            pass
    elif value_type in {'float', 'percentage', 'currency'}:
        try:
            number = float(cell.get(f'{_OFFICE}value', ''))
        except ValueError:
            pass
        else:
            return int(number) if number.is_integer() else number
    paragraphs = [_ods_text(child) for child in cell if child.tag == f'{_TEXT}p']
    return '\n'.join(paragraphs) if paragraphs else None


def _ods_row(row: ElementTree.Element) -> list[Cell]:
    """A row's cells, expanding repeated ones, without materialising the long runs of empty cells writers add."""
    cells: list[Cell] = []
    pending_empty = 0
    for cell in row:
        if cell.tag not in _ODS_CELLS:
            continue
        repeat = int(cell.get(_COLUMNS_REPEATED, '1'))
        value = _ods_cell(cell) if len(cell) or cell.get(_VALUE_TYPE) else None
        if value is None or value == '':
            pending_empty += repeat
            continue
        if len(cells) + pending_empty >= MAX_COLUMNS:
            break
        cells.extend([None] * pending_empty)
        pending_empty = 0
        cells.extend([value] * min(repeat, MAX_COLUMNS - len(cells)))
    return cells


#: Identical non-empty rows expanded from one ``number-rows-repeated`` at most (they would be duplicates anyway).
_MAX_REPEATED_ROWS = 1000


def read_ods_sheets(data: bytes) -> Iterator[tuple[str, Iterator[Row]]]:
    """Each table's non-empty rows, streamed from ``content.xml`` without building the document.

    The parser sees one row at a time and drops it once read, so memory stays flat however large the
    sheet; repeated cells and rows are expanded only when they hold something.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        stream = archive.open('content.xml')
    except (KeyError, zipfile.BadZipFile, OSError) as exc:
        raise OfstedImportError(f'The ODS file cannot be read: {exc}') from exc

    def tables() -> Iterator[tuple[str, list[Row]]]:
        rows: list[Row] = []
        number = 0
        try:
            for _event, element in ElementTree.iterparse(stream, events=('end',)):
                tag = element.tag
                if tag == _ROW:
                    cells = _ods_row(element)
                    repeat = int(element.get(_ROWS_REPEATED, '1'))
                    if cells:
                        for offset in range(min(repeat, _MAX_REPEATED_ROWS)):
                            rows.append((number + offset + 1, list(cells) if offset else cells))
                    number += repeat
                    element.clear()  # the row is read: drop its cells (the empty element stays, a few bytes)
                elif tag == _TABLE_TAG:
                    yield element.get(f'{_TABLE}name', ''), rows
                    rows, number = [], 0
                    element.clear()
        except ElementTree.ParseError as exc:
            raise OfstedImportError(f'The ODS file cannot be read (it may be cut off): {exc}') from exc
        finally:
            stream.close()
            archive.close()

    for name, rows in tables():
        yield name, iter(rows)


# --- header detection and parsing -----------------------------------------------------------------------------------


_LOOKUP = {synonym: name for name, synonyms in SYNONYMS.items() for synonym in synonyms}


def field_for_heading(heading: str) -> str | None:
    """Our field for a normalised heading, also once a leading "Latest full inspection" is taken off."""
    name = _LOOKUP.get(heading)
    if name is None:
        stripped = _INSPECTION_PREFIX.sub('', heading)
        if stripped != heading:
            name = _LOOKUP.get(stripped) or _AFTER_PREFIX.get(stripped)
    return name


def _tidy(cell: Cell) -> str:
    return re.sub(r'\s+', ' ', str(cell).replace('\u00a0', ' ').replace('\ufeff', '')).strip()


def map_header(cells: Iterable[Cell]) -> tuple[dict[str, int], dict[str, str]]:
    """Map our field names to column indexes for one candidate header row (first match wins)."""
    columns: dict[str, int] = {}
    headings: dict[str, str] = {}
    for index, cell in enumerate(cells):
        if not isinstance(cell, str):
            continue
        name = field_for_heading(normalise_heading(cell))
        if name and name not in columns:
            columns[name] = index
            headings[name] = _tidy(cell)
    return columns, headings


Header = tuple[int, dict[str, int], dict[str, str], list[str]]


def find_header(rows: list[Row]) -> Header | None:
    """The first row holding every required column: ``(index in rows, columns, headings, missing)``.

    When no row qualifies, returns the best candidate with the required columns it lacks, or None
    when nothing in the first rows looks like a header at all.
    """
    best: Header | None = None
    for index, (number, cells) in enumerate(rows):
        if number > HEADER_SEARCH_ROWS and index >= HEADER_SEARCH_ROWS:
            break
        columns, headings = map_header(cells)
        missing = [name for name in REQUIRED if name not in columns]
        if not missing:
            return index, columns, headings, []
        if columns and (best is None or len(columns) > len(best[1])):
            best = (index, columns, headings, missing)
    return best


_MONTHS = {name: number for number, names in enumerate(
    [('january', 'jan'), ('february', 'feb'), ('march', 'mar'), ('april', 'apr'), ('may',), ('june', 'jun'),
     ('july', 'jul'), ('august', 'aug'), ('september', 'sep', 'sept'), ('october', 'oct'), ('november', 'nov'),
     ('december', 'dec')], start=1) for name in names}
_DATE_IN_TEXT = re.compile(
    r'(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?P<month>[A-Za-z]{3,9})\.?,?\s+(?P<y>\d{4})'
    r'|(?P<d2>\d{1,2})[/.](?P<m2>\d{1,2})[/.](?P<y2>\d{4})'
    r'|(?P<y3>\d{4})-(?P<m3>\d{2})-(?P<d3>\d{2})')
_AS_AT = re.compile(r'\b(?:as at|as of|at)\s*:?\s*$', re.IGNORECASE)
#: A title date near one of these words is when the file was made, not the date it describes.
_NOT_AS_AT = re.compile(r'publish|releas|updated|produced|next update|revised', re.IGNORECASE)


def _date_from_match(match: re.Match) -> date | None:
    try:
        if match['month'] is not None:
            month = _MONTHS.get(match['month'].lower())
            return date(int(match['y']), month, int(match['d'])) if month else None
        if match['m2'] is not None:
            return date(int(match['y2']), int(match['m2']), int(match['d2']))
        return date(int(match['y3']), int(match['m3']), int(match['d3']))
    except ValueError:
        return None


def release_date(titles: Iterable[str]) -> date | None:
    """The "as at" date a release's title rows give ("providers and places at 31 March 2024", "31/03/2023").

    A date after "as at"/"at" wins; otherwise the first date in a title that is not about publication.
    """
    fallback: date | None = None
    for title in titles:
        for match in _DATE_IN_TEXT.finditer(title):
            found = _date_from_match(match)
            if found is None:
                continue
            if _AS_AT.search(title[:match.start()]):
                return found
            if fallback is None and not _NOT_AS_AT.search(title):
                fallback = found
    return fallback


def _row_text(cells: list[Cell]) -> str:
    parts = [value.strftime('%d/%m/%Y') if isinstance(value, date) else _tidy(value)
             for value in cells if value not in (None, '')]
    return ' '.join(part for part in parts if part)


def _inspection_file_error(name: str, detail: str) -> OfstedImportError:
    return OfstedImportError(
        f"{name} cannot be imported. This looks like Ofsted's inspection outcomes file (one row per inspection), "
        f'not the providers register: {detail}. Import the provider-level "providers and places" release instead')


#: A table title naming the inspection-outcome statistics (only the titles above the header count: a workbook's
#: cover may list every table it holds).
_TITLE_INSPECTIONS = re.compile(r'\binspections? (?:and|&) outcomes\b|\bone row per inspection\b', re.IGNORECASE)


def _check_not_inspections(name: str, titles: list[str], header: list[Cell], columns: dict[str, int],
                           repeated_urns: int) -> None:
    """Refuse Ofsted's inspection-outcome files, which share many headings with the register."""
    for title in titles:
        if _TITLE_INSPECTIONS.search(title):
            raise _inspection_file_error(name, f'its title says "{title[:120]}"')
    inspection_headings = [_tidy(cell) for cell in header
                           if isinstance(cell, str) and normalise_heading(cell) in INSPECTION_FILE_HEADINGS]
    if not inspection_headings:
        return
    listed = ', '.join(f'"{heading}"' for heading in inspection_headings[:3])
    if 'registration_status' not in columns and 'urn' in columns:
        raise _inspection_file_error(name, f'it has {listed} columns and no registration status')
    if repeated_urns:
        raise _inspection_file_error(name, f'it has {listed} columns and URNs repeat on {repeated_urns} rows')


def _is_provider(cells: list[Cell], urn_column: int) -> bool:
    """A row that claims to be a provider: a URN-shaped value, or any value with the row mostly filled in.

    A footnote or source line under the table ("Source: Ofsted") is neither.
    """
    raw = _text(cells[urn_column]) if urn_column < len(cells) else ''
    if not raw:
        return False
    return bool(URN_PATTERN.match(normalise_urn(raw))) or sum(1 for value in cells if _text(value)) >= 3


def _repeated_urns(rows: list[Row], column: int) -> tuple[int, list[str]]:
    """How many rows repeat an earlier row's URN, and a few examples."""
    seen: set[str] = set()
    repeats, examples = 0, []
    for _number, cells in rows:
        urn = normalise_urn(_text(cells[column])) if column < len(cells) else ''
        if not urn:
            continue
        if urn in seen:
            repeats += 1
            if len(examples) < 3:
                examples.append(urn)
        seen.add(urn)
    return repeats, examples


def _check_not_cut_off(name: str, header: list[Cell], rows: list[Row], urn_column: int, ends_with_newline: bool):
    """Refuse a CSV whose last row is shorter than the header: the file was cut off part-way through a row.

    Excel's CSVs may leave trailing empty cells off many rows, so a short last row counts only when the
    text stops mid-line, or when every other provider row is complete.
    """
    width = len(header)
    filled = [(number, cells) for number, cells in rows if any(_text(value) for value in cells)]
    if not filled:
        return
    if ends_with_newline:
        providers = [(number, cells) for number, cells in filled if _is_provider(cells, urn_column)]
        if not providers:
            return
        number, cells = providers[-1]
        if len(cells) >= width or not all(len(other) >= width for _n, other in providers[:-1]):
            return
    else:
        number, cells = filled[-1]
        if len(cells) >= width:
            return
    raise OfstedImportError(f'{name} looks cut off: its last row (row {number}) has {len(cells)} of the header\'s '
                            f'{width} columns. Download the release again')


def parse_file(path: str | Path) -> ParsedFile:
    """Read a file and map its columns, or raise :class:`OfstedImportError` saying why it cannot be used."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OfstedImportError(f'Cannot read {path}: {exc.strerror}') from exc
    if not data.strip(b' \t\r\n\x00\xef\xbb\xbf'):
        raise OfstedImportError(f'{path.name} is empty')
    kind = sniff_format(path, data)
    ends_with_newline = True
    if kind == 'csv':
        csv_rows, ends_with_newline = read_csv(data)
        sheets: Iterable[tuple[str, Iterator[Row]]] = [('', iter(csv_rows))]
    elif kind == 'xlsx':
        sheets = read_xlsx_sheets(data)
    else:
        sheets = read_ods_sheets(data)

    best_failure: tuple[Header, list[str]] | None = None
    cover_titles: list[str] = []
    any_content = False
    for _sheet_name, sheet in sheets:
        rows = [(number, cells) for number, cells in sheet if any(value not in (None, '') for value in cells)]
        any_content = any_content or bool(rows)
        found = find_header(rows)
        if found is None:
            cover_titles.extend(text for _n, cells in rows[:HEADER_SEARCH_ROWS] if (text := _row_text(cells)))
            continue
        header_index, columns, headings, missing = found
        header_number, header = rows[header_index]
        titles = [text for _n, cells in rows[:header_index] if (text := _row_text(cells))]
        data_rows = rows[header_index + 1:]
        repeats, examples = _repeated_urns(data_rows, columns['urn']) if 'urn' in columns else (0, [])
        _check_not_inspections(path.name, titles, header, columns,
                               repeats if repeats > max(DUPLICATE_LIMIT, len(data_rows) // 100) else 0)
        if missing:
            if best_failure is None or len(columns) > len(best_failure[0][1]):
                best_failure = ((header_number, columns, headings, missing), titles)
            continue
        if not any(_is_provider(cells, columns['urn']) for _n, cells in data_rows):
            raise OfstedImportError(f'{path.name} has a header (row {header_number}) but no providers under it')
        if kind == 'csv':
            _check_not_cut_off(path.name, header, data_rows, columns['urn'], ends_with_newline)
        if repeats > max(DUPLICATE_LIMIT, len(data_rows) // 100):
            raise OfstedImportError(
                f'{path.name} repeats URNs on {repeats} rows (for example {", ".join(examples)}): a register has '
                'one row per provider, so this file cannot be trusted')
        mapped = {name: headings[name] for name in sorted(columns, key=columns.get)}
        used = set(columns.values())
        ignored = [_tidy(cell) for index, cell in enumerate(header)
                   if index not in used and cell not in (None, '') and _tidy(cell)]
        return ParsedFile(columns=columns, headings=headings, rows=data_rows, format=kind, mapped=mapped,
                          ignored=ignored, as_at=release_date(titles) or release_date(cover_titles),
                          titles=cover_titles + titles, header_row=header_number)

    if best_failure is None:
        if not any_content:
            raise OfstedImportError(f'{path.name} is empty')
        expected = ', '.join(LABELS[name] for name in REQUIRED)
        raise OfstedImportError(f'{path.name} has no header row we recognise. Expected columns: {expected}')
    (header_number, _columns, _headings, missing), _titles = best_failure
    names = ', '.join(f'"{LABELS[name]}"' for name in missing)
    raise OfstedImportError(f'{path.name} cannot be imported: the header (row {header_number}) has no '
                            f'{names} column{"s" if len(missing) > 1 else ""}. Missing columns: {names}')


# --- local authorities --------------------------------------------------------------------------------------------


def authority_key(name: str) -> str:
    """A spelling-insensitive key for an authority's name: "Bristol, City of", "City of Bristol" and "Bristol"
    agree, as do "St. Helens"/"St Helens", "Southend on Sea"/"Southend-on-Sea" and "&"/"and"."""
    text = normalise_heading(name).replace('&', ' and ')
    text = re.sub(r"[,.'\-()/]", ' ', text)
    text = re.sub(r'\s+', ' ', text).strip()
    text = re.sub(r' (?:city|county) of$', '', text)
    text = re.sub(r'^(?:london borough of|royal borough of|metropolitan borough of|borough of) ', '', text)
    text = re.sub(r' (?:county council|city council|borough council|metropolitan borough council|council)$', '',
                  text)
    if text.startswith('city of ') and text != 'city of london':
        text = text[len('city of '):]
    return text


#: Other names Ofsted's older releases use for a current authority (keys as :func:`authority_key` makes them).
AUTHORITY_ALIASES = {
    'hull': 'kingston upon hull',
    'durham': 'county durham',
    'east riding': 'east riding of yorkshire',
    'bath and ne somerset': 'bath and north east somerset',
    'richmond': 'richmond upon thames',
    'kingston': 'kingston upon thames',
    'telford': 'telford and wrekin',
    'windsor': 'windsor and maidenhead',
    'hammersmith': 'hammersmith and fulham',
    'kensington': 'kensington and chelsea',
    'barking': 'barking and dagenham',
    'isles of scilly': 'isles of scilly',
    'bcp': 'bournemouth christchurch and poole',
}


@dataclass(frozen=True)
class Abolished:
    """An authority that no longer exists, and the one or more authorities that took over its area."""

    year: int
    successors: tuple[str, ...]


#: Councils abolished since 2015 whose name older releases still carry (successors by ONS code).
ABOLISHED = {
    'bournemouth': Abolished(2019, ('E06000058',)),
    'poole': Abolished(2019, ('E06000058',)),
    'northamptonshire': Abolished(2021, ('E06000061', 'E06000062')),
    'cumbria': Abolished(2023, ('E06000063', 'E06000064')),
}


def _authority_names() -> dict[str, str]:
    from registry.geography.authorities import authority_rows

    return {row['new_la_code']: row['la_name'] for row in authority_rows()}


def _postcode_authority(postcode: str) -> str | None:
    """The children's services authority holding a postcode, from the ONS Postcode Directory; None if unknown."""
    from registry.geography.postcodes import PostcodeError, lookup

    try:
        return lookup(postcode).authority_code
    except (PostcodeError, RuntimeError):
        return None


class _AuthorityMatcher:
    """Finds the authority code for Ofsted's name for it, mapping abolished councils to their successors."""

    def __init__(self, lookup: dict[str, str], locate: Callable[[str], str | None]):
        self.lookup = lookup
        self.locate = locate
        self.by_key = {authority_key(name): code for name, code in lookup.items()}
        self.names = _authority_names()
        #: Abolished name as published → Counter of successor names (or '' for undecided rows).
        self.mapped: dict[str, Counter] = {}

    def match(self, name: str, postcode: str) -> tuple[str | None, str | None]:
        """``(authority code, None)``, or ``(None, reason)`` when an abolished authority cannot be placed."""
        code = self.lookup.get(normalise_heading(name))
        if code:
            return code, None
        key = authority_key(name)
        code = self.by_key.get(key) or self.by_key.get(AUTHORITY_ALIASES.get(key, ''))
        if code or key not in ABOLISHED:
            return code, None
        abolished = ABOLISHED[key]
        counts = self.mapped.setdefault(name, Counter())
        if len(abolished.successors) == 1:
            code = abolished.successors[0]
        else:
            located = self.locate(postcode) if postcode else None
            code = located if located in abolished.successors else None
        if code is None:
            counts[''] += 1
            successors = ' or '.join(self.names.get(successor, successor) for successor in abolished.successors)
            why = 'the postcode is withheld' if not postcode else f'its postcode {postcode} is in neither'
            return None, (f'Ofsted names "{name}", abolished in {abolished.year} and split between {successors}; '
                          f'{why}, so we cannot tell which')
        counts[self.names.get(code, code)] += 1
        return code, None

    def warnings(self) -> list[str]:
        out = []
        for name, counts in self.mapped.items():
            abolished = ABOLISHED[authority_key(name)]
            placed = ', '.join(f'{count} to {successor}' for successor, count in sorted(counts.items()) if successor)
            total, undecided = sum(counts.values()), counts['']
            line = (f'{total} row{"s" if total != 1 else ""} naming "{name}" (abolished in {abolished.year}): '
                    + (f'mapped {placed}' if placed else 'none mapped'))
            if undecided:
                line += f'; {undecided} rejected, as no postcode places {"it" if undecided == 1 else "them"}'
            out.append(line)
        return out


# --- row validation ---------------------------------------------------------------------------------------------


class _RowError(ValueError):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


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
    raise _RowError('bad-date', f'{label} "{text}" is not a date')


def _places(cell: Cell) -> int | None:
    text = _text(cell)
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise _RowError('bad-places', f'Places "{text}" is not a number') from None
    if number < 0 or not number.is_integer():
        raise _RowError('bad-places', f'Places "{text}" is not a whole number of places')
    return int(number)


def _redactable(text: str) -> str:
    return '' if text.upper() == 'REDACTED' else text


def validate_rows(parsed: ParsedFile, authority_lookup: dict[str, str],
                  locate: Callable[[str], str | None] = _postcode_authority) -> ValidatedFile:
    """Turn raw rows into :class:`RegisterRow` values, collecting a reason for each row we reject.

    :param authority_lookup: normalised authority name (Ofsted's or ONS's spelling) → authority code.
    :param locate: postcode → authority code, to place rows of an abolished council split between successors.
    """
    result = ValidatedFile(format=parsed.format, as_at=parsed.as_at, mapped=dict(parsed.mapped),
                           ignored=list(parsed.ignored))
    columns = parsed.columns
    authorities = _AuthorityMatcher(authority_lookup, locate)
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
        if not _is_provider(cells, columns['urn']) and len(filled) < 3:
            continue  # a footnote or source line under the table, not a provider
        urn = normalise_urn(raw_urn)
        if not URN_PATTERN.match(urn):
            result.reject(number, raw_urn, 'bad-urn',
                          f'URN "{raw_urn}" is not an Ofsted URN (SC and 6 digits, or 7 digits)')
            continue
        if urn in seen:
            result.reject(number, urn, 'duplicate-urn', f'URN {urn} appears more than once (first on row {seen[urn]})')
            continue
        status_text = _text(cell(cells, 'registration_status'))
        status = STATUSES.get(status_text.lower())
        if status is None:
            result.reject(number, urn, 'unknown-status', f'Unknown registration status "{status_text}"')
            continue
        provision_type_text = _text(cell(cells, 'provision_type'))
        if not provision_type_text:
            result.reject(number, urn, 'no-provision-type', 'No provision type')
            continue
        try:
            registration_date = _date(cell(cells, 'registration_date'), 'Registration date')
            inspection_date = _date(cell(cells, 'latest_inspection_date'), 'Latest inspection date')
            publication_date = _date(cell(cells, 'latest_publication_date'), 'Publication date')
            places = _places(cell(cells, 'places'))
        except _RowError as exc:
            result.reject(number, urn, exc.kind, str(exc))
            continue
        authority_name = _text(cell(cells, 'local_authority'))
        postcode = _redactable(_text(cell(cells, 'postcode'))).upper()[:10]
        authority_code, undecided = authorities.match(authority_name, postcode)
        if undecided:
            result.reject(number, urn, 'authority-undecided', undecided)
            continue
        seen[urn] = number
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
            'postcode': postcode,
            'local_authority_name': authority_name[:120],
            'authority_code': authority_code,
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
    result.warnings = authorities.warnings()
    return result
