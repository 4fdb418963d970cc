"""Small register files in the shapes Ofsted's releases have taken since 2015, built in the test rather than stored.

Each shape is the header one release used (renamed headings, prefixes, line breaks) with the titles above it.
A provider is described once by our field names and written under whatever heading the shape uses for that field;
headings the importer does not read get a plausible value so that "ignored" is tested against real cells.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from bench.ofsted_ods import write_ods


@dataclass(frozen=True)
class Shape:
    name: str
    titles: tuple[str, ...]
    #: ``(heading as published, our field or None when the importer ignores it)``.
    columns: tuple[tuple[str, str | None], ...]
    encoding: str = 'utf-8-sig'

    @property
    def header(self) -> list[str]:
        return [heading for heading, _field in self.columns]

    def row(self, provider: dict[str, str]) -> list[str]:
        return [provider.get(field_name, '') if field_name else f'({heading.strip()} value)'
                for heading, field_name in self.columns]


#: As the issue describes the 2015 release: "Reg Status", "Provider type", "Organisation", "Maximum users".
SHAPE_2015 = Shape('2015', ('Children’s social care providers and places as at 31 March 2015',
                            'Source: Ofsted'), (
    ('URN', 'urn'), ('Provider type', 'provision_type'), ('Reg Status', 'registration_status'),
    ('Registration date', 'registration_date'), ('Provider name', 'name'), ('Local Authority', 'local_authority'),
    ('Maximum users', 'places'), ('Organisation', 'owner_name'), ('Inspection date', 'latest_inspection_date'),
    ('Overall effectiveness', 'overall_judgement'), ('Outcomes for children and young people', 'outcomes'),
    ('Quality of care', 'quality_of_care'), ('Keeping children and young people safe', 'safety'),
    ('Leadership and management', 'leadership'), ('Inspection ID', None),
), encoding='cp1252')

#: Judgements under "Latest full inspection ..." headings, places as "Number of registered places".
SHAPE_2017 = Shape('2017', ("Children's social care data in England 2017", 'Providers and places at 31 August 2017',
                            'Published 12 December 2017'), (
    ('Web link', None), ('URN', 'urn'), ('Provision type', 'provision_type'),
    ('Registration Status', 'registration_status'), ('Setting name', 'name'), ('Local authority', 'local_authority'),
    ('Number of registered places', 'places'), ('Organisation which owns the provider', 'owner_name'),
    ('Latest full inspection date', 'latest_inspection_date'),
    ('Latest full inspection overall effectiveness', 'overall_judgement'),
    ('Latest full inspection: quality of care', 'quality_of_care'),
))

#: The heading that lost 3,309 judgements, the owner as "Organisation", a no-break space and a note marker.
SHAPE_2019 = Shape('2019', ("Children's social care data in England 2019 – Provider level", '31/03/2019'), (
    ('URN', 'urn'), ('Provision\u00a0type', 'provision_type'), ('Registration status', 'registration_status'),
    ('Local authority', 'local_authority'), ('Places [note 2]', 'places'), ('Organisation', 'owner_name'),
    ('Latest full inspection\nevent type', 'inspection_event_type'),
    ('Latest full inspection date', 'latest_inspection_date'),
    ('Latest full inspection overall experiences and progress of children and young people', 'overall_judgement'),
    ('Latest full inspection how well children and young people are helped and protected', 'protection'),
    ('Latest interim inspection judgement', None),
))

#: The 2025 release's layout (the real file is in ``data/``): line breaks before headings, an event number.
SHAPE_2025 = Shape('2025', ("Children's social care data in England 2025 – Provider level as at 31 March 2025",
                            'This worksheet contains one table.'), (
    ('Web link', None), ('URN', 'urn'), ('Linked Education URN', None), ('Provision type', 'provision_type'),
    ('Registration date', 'registration_date'), ('Registration status', 'registration_status'), ('Name', 'name'),
    ('Local authority', 'local_authority'), ('Places', 'places'),
    ('Organisation which owns the provider', 'owner_name'),
    ('\nLatest Full inspection event type', 'inspection_event_type'),
    ('\nLatest full inspection date', 'latest_inspection_date'),
    ('\nLatest full inspection event number', None),
    ('\nOverall experiences and progress of children and young people', 'overall_judgement'),
))

SHAPES = (SHAPE_2015, SHAPE_2017, SHAPE_2019, SHAPE_2025)

#: The "as at" date each shape's titles give.
AS_AT = {'2015': (2015, 3, 31), '2017': (2017, 8, 31), '2019': (2019, 3, 31), '2025': (2025, 3, 31)}


def provider(urn: str, **values: str) -> dict[str, str]:
    """One provider by our field names: an active, good children's home in Leeds owned by Acme unless told."""
    return {'urn': urn, 'provision_type': "Children's home", 'registration_status': 'Active',
            'registration_date': '01/04/2012', 'name': 'REDACTED', 'local_authority': 'Leeds', 'places': '4',
            'owner_name': 'Acme Care Ltd', 'inspection_event_type': 'Full inspection',
            'latest_inspection_date': '05/11/2024', 'overall_judgement': 'Good', 'outcomes': 'Good',
            'quality_of_care': 'Outstanding', 'safety': 'Good', 'leadership': 'Good', 'protection': 'Good',
            **values}


def csv_text(titles, header, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\r\n')
    for title in titles:
        writer.writerow([title] + [''] * (len(header) - 1))
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def write_shape(path: Path, shape: Shape, providers: list[dict[str, str]], *, fmt: str = 'csv') -> Path:
    """The shape's titles, header and one row per provider, as CSV (in the shape's encoding), XLSX or ODS."""
    rows = [shape.row(item) for item in providers]
    if fmt == 'csv':
        path.write_bytes(csv_text(shape.titles, shape.header, rows).encode(shape.encoding))
    elif fmt == 'xlsx':
        from openpyxl import Workbook

        workbook = Workbook()
        workbook.active.title = 'Cover'
        workbook.active.append(['Contents'])
        sheet = workbook.create_sheet('Providers')
        for title in shape.titles:
            sheet.append([title])
        sheet.append(shape.header)
        for row in rows:
            sheet.append(row)
        workbook.save(path)
    else:
        write_ods(path, [('Providers', [[title] for title in shape.titles] + [shape.header] + rows)],
                  width=64, empty_rows=1000)
    return path
