"""Ofsted ODS benchmark: reading a provider-level ODS release as large as Ofsted's own, in time and memory.

Run: ``.venv/bin/python bench/ofsted_ods.py`` (``--rows``, ``--repeat`` and ``--keep FILE`` to change or keep it).

It writes an ODS shaped like Ofsted's release from the real 2025 register in ``/work/shared/data`` (or the copy in
``tests/registry/ofsted/data``): a title row with the "as at" date, notes, the header with its stray line breaks,
every one of the 45 columns, hyperlinked web links, date and number cells typed as a spreadsheet writes them, runs of
repeated empty cells padding each row to column 1024 and a million repeated empty rows after the table, as
LibreOffice and Excel leave them. Each measurement runs in a fresh Python process and reports its wall time, CPU
time and peak resident memory (``VmHWM``):

1. floor: unzip ``content.xml`` and ``iterparse`` it, clearing each row, without looking at a cell;
2. parse: ``registry.ofsted.importer.parse_file`` (find the header, map columns, read the title, check the file);
3. parse + validate: the above and ``validate_rows`` (every row checked and mapped, as the import does before
   writing), against the authority names from the project's reference data (no database);
4. import: ``import_register`` into a fresh, migrated SQLite database (the whole command but the progress bar).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import subprocess
import sys
import tempfile
import zipfile
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SOURCES = (Path('/work/shared/data/ofsted_providers_2025-03-31.csv'),
           ROOT / 'tests' / 'registry' / 'ofsted' / 'data' / 'ofsted_providers_2025-03-31.csv')

_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" '
    'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" office:version="1.3"'
)
_MANIFEST = ('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
             'manifest:version="1.3">'
             '<manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
             'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
             '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
             '</manifest:manifest>')
WEB_LINK = 'Ofsted Social Care Provider Webpage'


def _paragraph(text: str) -> str:
    """``<text:p>`` for a string, with line breaks and runs of spaces as ODS writes them."""
    parts = []
    for index, line in enumerate(text.split('\n')):
        if index:
            parts.append('<text:line-break/>')
        parts.append(escape(line).replace('  ', ' <text:s/>'))
    return f'<text:p>{"".join(parts)}</text:p>'


def _cell(value, link: str | None = None) -> str:
    if value is None or value == '':
        return '<table:table-cell table:style-name="ce1"/>'
    if isinstance(value, (datetime, date)):
        day = value.date() if isinstance(value, datetime) else value
        return (f'<table:table-cell table:style-name="ce4" office:value-type="date" '
                f'office:date-value="{day.isoformat()}" calcext:value-type="date">'
                f'<text:p>{day.strftime("%d/%m/%Y")}</text:p></table:table-cell>')
    if isinstance(value, (int, float)):
        return (f'<table:table-cell table:style-name="ce3" office:value-type="float" office:value="{value}" '
                f'calcext:value-type="float"><text:p>{value}</text:p></table:table-cell>')
    if link:
        return ('<table:table-cell table:style-name="ce5" office:value-type="string" calcext:value-type="string">'
                f'<text:p><text:a xlink:href={quoteattr(link)} xlink:type="simple">{escape(value)}</text:a>'
                '</text:p></table:table-cell>')
    return ('<table:table-cell table:style-name="ce2" office:value-type="string" calcext:value-type="string">'
            f'{_paragraph(str(value))}</table:table-cell>')


def _row(cells: list, *, width: int, links: dict[int, str] | None = None) -> str:
    """One row: its cells, empty runs collapsed into one repeated cell, padded to ``width`` columns."""
    out = ['<table:table-row table:style-name="ro1">']
    empty = 0
    for index, value in enumerate(cells):
        if value is None or value == '':
            empty += 1
            continue
        if empty:
            out.append(f'<table:table-cell table:number-columns-repeated="{empty}"/>' if empty > 1 else _cell(None))
            empty = 0
        out.append(_cell(value, (links or {}).get(index)))
    empty += width - len(cells)
    if empty > 0:
        out.append(f'<table:table-cell table:number-columns-repeated="{empty}"/>')
    out.append('</table:table-row>')
    return ''.join(out)


def write_ods(path: Path, sheets: list[tuple[str, list[list]]], *, width: int = 1024, empty_rows: int = 1048000,
              links: dict[tuple[str, int], dict[int, str]] | None = None) -> Path:
    """Write a spreadsheet as LibreOffice would: each sheet's rows, padded to ``width`` columns and followed by
    ``empty_rows`` repeated empty rows. Cells are ``str``, ``int``/``float``, ``date`` or None.

    :param links: ``{(sheet, row index): {column: url}}`` for cells that are hyperlinks.
    """
    content = io.StringIO()
    content.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {_NAMESPACES}>'
                  '<office:automatic-styles/><office:body><office:spreadsheet>')
    for name, rows in sheets:
        content.write(f'<table:table table:name={quoteattr(name)} table:style-name="ta1">'
                      f'<table:table-column table:style-name="co1" table:number-columns-repeated="{width}" '
                      'table:default-cell-style-name="Default"/>')
        for index, cells in enumerate(rows):
            content.write(_row(cells, width=width, links=(links or {}).get((name, index))))
        if empty_rows:
            content.write(f'<table:table-row table:style-name="ro1" table:number-rows-repeated="{empty_rows}">'
                          f'<table:table-cell table:number-columns-repeated="{width}"/></table:table-row>')
        content.write('</table:table>')
    content.write('</office:spreadsheet></office:body></office:document-content>')
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr(zipfile.ZipInfo('mimetype'), 'application/vnd.oasis.opendocument.spreadsheet',
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr('META-INF/manifest.xml', _MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr('content.xml', content.getvalue(), compress_type=zipfile.ZIP_DEFLATED)
    return path


def _typed(value: str):
    """A cell as a spreadsheet holds it: dates and whole numbers typed, the rest text."""
    if len(value) == 10 and value[2] == '/' and value[5] == '/':
        try:
            return datetime.strptime(value, '%d/%m/%Y').date()
        except ValueError:
            return value
    if value.isdigit() and len(value) < 7:
        return int(value)
    return value


def release_rows(source: Path, rows: int | None) -> tuple[list[list], dict[int, dict[int, str]]]:
    """The real release's title rows, header and provider rows (repeated with fresh URNs to reach ``rows``)."""
    with open(source, encoding='utf-8-sig', newline='') as handle:
        records = list(csv.reader(handle))
    titles, header, providers = records[:3], records[3], records[4:]
    wanted = rows or len(providers)
    out: list[list] = [[titles[0][0]], [titles[1][0]], [titles[2][0]], header]
    links: dict[int, dict[int, str]] = {}
    for index in range(wanted):
        cells = list(providers[index % len(providers)])
        if index >= len(providers):  # a copy: give it a URN of its own
            cells[1] = f'SC{900000 + index:06d}'
        urn = cells[1]
        links[len(out)] = {0: f'https://reports.ofsted.gov.uk/provider/44/{urn}'}
        out.append([_typed(value) if position not in (1, 25) else value for position, value in enumerate(cells)])
    return out, links


MEASURE = '''
import sys, time
sys.path.insert(0, {root!r})
started, cpu = time.perf_counter(), time.process_time()
mode, path = {mode!r}, {path!r}
if mode == 'import':
    import logging, tempfile
    import flask_migrate
    from registry.app import create_app
    from registry.ofsted.services import import_register
    logging.disable(logging.WARNING)
    folder = tempfile.mkdtemp(prefix='ofsted-import-')
    app = create_app({{'SQLALCHEMY_DATABASE_URI': f'sqlite:///{{folder}}/bench.sqlite', 'SECRET_KEY': 'bench',
                      'SEARCH_SNAPSHOT_REFRESH_SECONDS': 0, 'SEARCH_SNAPSHOT_DIR': '', 'MAIL_BACKEND': 'outbox'}})
    with app.app_context():
        flask_migrate.upgrade()
        started, cpu = time.perf_counter(), time.process_time()
        summary = import_register(path)
    detail = f'{{summary.new}} new rows written to SQLite in one transaction (migrations not timed)'
elif mode == 'imports':
    from registry.ofsted.importer import parse_file, validate_rows
    detail = 'the importer and what it imports (Flask, SQLAlchemy, the registry package), no file read'
elif mode == 'floor':
    import zipfile
    from xml.etree import ElementTree
    rows = 0
    with zipfile.ZipFile(path) as archive, archive.open('content.xml') as stream:
        for event, element in ElementTree.iterparse(stream, events=('end',)):
            if element.tag.endswith('}}table-row'):
                rows += 1
                element.clear()
    detail = f'{{rows}} row elements'
else:
    from registry.geography.authorities import authority_rows
    from registry.ofsted.importer import normalise_heading, parse_file, validate_rows
    started, cpu = time.perf_counter(), time.process_time()  # the imports are measured on their own
    parsed = parse_file(path)
    detail = f'{{len(parsed.rows)}} rows, {{len(parsed.mapped)}} columns mapped, as at {{parsed.as_at}}'
    if mode == 'validate':
        lookup = {{}}
        for row in authority_rows():
            for name in (row['ofsted_la_name'], row['la_name']):
                lookup[normalise_heading(name)] = row['new_la_code']
        validated = validate_rows(parsed, lookup)
        detail += f', {{len(validated.rows)}} valid, {{validated.rejected}} rejected'
wall, cpu = time.perf_counter() - started, time.process_time() - cpu
# VmHWM is this process's own peak (ru_maxrss can carry the parent's over fork and exec).
peak = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM:'))
print(f'{{wall:.2f}} {{cpu:.2f}} {{peak / 1024:.0f}} {{detail}}')
'''


def measure(mode: str, path: Path) -> tuple[float, float, float, str]:
    """``(wall s, CPU s, peak RSS MiB, detail)`` of one mode in a fresh interpreter."""
    code = MEASURE.format(root=str(ROOT), mode=mode, path=str(path))
    output = subprocess.run([sys.executable, '-c', code], check=True, capture_output=True, text=True).stdout
    wall, cpu, rss, detail = output.strip().split(' ', 3)
    return float(wall), float(cpu), float(rss), detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rows', type=int, default=None,
                        help='provider rows (default: as many as make a --target-mb file, at least the 5,600 real)')
    parser.add_argument('--target-mb', type=float, default=3.2,
                        help="size of ODS to reach by repeating rows with fresh URNs (Ofsted's own is 3.2 MB)")
    parser.add_argument('--repeat', type=int, default=3, help='runs of each measurement (the median is shown)')
    parser.add_argument('--keep', type=Path, default=None, help='write the ODS here and keep it')
    args = parser.parse_args()

    source = next(path for path in SOURCES if path.exists())
    folder = Path(tempfile.mkdtemp(prefix='ofsted-ods-'))
    path = args.keep or folder / 'providers_2025.ods'
    wanted = args.rows
    for _attempt in range(3):
        rows, links = release_rows(source, wanted)
        write_ods(path, [('Cover', [["Children's social care data in England 2025"], ['Contents']]),
                         ('Provider_level_at_31_Mar_2025', rows)],
                  links={('Provider_level_at_31_Mar_2025', index): value for index, value in links.items()})
        size = path.stat().st_size / 1e6
        if args.rows or size >= args.target_mb:
            break
        wanted = int((len(rows) - 4) * args.target_mb / size * 1.01) + 1
    with zipfile.ZipFile(path) as archive:
        content_size = archive.getinfo('content.xml').file_size
    print(f'{path}: {path.stat().st_size / 1e6:.2f} MB ODS, content.xml {content_size / 1e6:.1f} MB, '
          f'{len(rows) - 4} provider rows; Python {platform.python_version()}, {os.cpu_count()} CPUs, '
          f'load average {os.getloadavg()[0]:.1f}')
    results = {}
    for mode in ('imports', 'floor', 'parse', 'validate', 'import'):
        runs = sorted((measure(mode, path) for _ in range(args.repeat)), key=lambda run: run[0])
        results[mode] = runs[len(runs) // 2]
        wall, cpu, rss, detail = results[mode]
        print(f'{mode:>9}: wall {wall:6.2f} s  CPU {cpu:6.2f} s  peak RSS {rss:5.0f} MiB  ({detail})')
    floor = results['floor']
    for mode in ('parse', 'validate'):
        print(f'{mode:>9} / floor: wall x{results[mode][0] / floor[0]:.2f}, CPU x{results[mode][1] / floor[1]:.2f}')
    if not args.keep:
        path.unlink()
        folder.rmdir()


if __name__ == '__main__':
    main()
