"""Reading Ofsted's files without a database: release shapes since 2015, titles, encodings, and files refused."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import date

import pytest

from bench.ofsted_ods import write_ods
from registry.geography.authorities import authority_rows
from registry.ofsted.importer import (
    REJECTION_LIMIT,
    OfstedImportError,
    normalise_heading,
    parse_file,
    release_date,
    validate_rows,
)
from registry.settings.taxonomy import Judgement, ProvisionType, RegistrationStatus
from tests.registry.ofsted.conftest import REAL_FILE
from tests.registry.ofsted.shapes import AS_AT, SHAPES, csv_text, provider, write_shape


def _lookup() -> dict[str, str]:
    """The same names → codes the import builds from the database, from the reference data."""
    lookup = {}
    for row in authority_rows():
        for name in (row['ofsted_la_name'], row['la_name']):
            lookup[normalise_heading(name)] = row['new_la_code']
    return lookup


def _write(tmp_path, text: str | bytes, name: str = 'release.csv'):
    path = tmp_path / name
    path.write_bytes(text.encode('utf-8') if isinstance(text, str) else text)
    return path


# --- release shapes -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize('fmt', ['csv', 'xlsx', 'ods'])
@pytest.mark.parametrize('shape', SHAPES, ids=lambda shape: shape.name)
def test_every_release_shape_keeps_status_owner_places_and_judgement(tmp_path, shape, fmt):
    path = write_shape(tmp_path / f'release.{fmt}', shape, [
        provider('SC100001'),
        provider('1234567', provision_type='Independent Fostering Agency', registration_status='Suspended',
                 overall_judgement='Requires improvement to be good', owner_name='Café Fostering Ltd', places=''),
    ], fmt=fmt)

    parsed = parse_file(path)
    validated = validate_rows(parsed, _lookup())

    assert parsed.format == fmt
    assert parsed.as_at == date(*AS_AT[shape.name])
    assert validated.as_at == parsed.as_at
    # Every column is either read or reported as ignored, never dropped silently.
    read = {field_name for _heading, field_name in shape.columns if field_name}
    assert set(parsed.mapped) == read
    assert parsed.ignored == [' '.join(heading.split()) for heading, field_name in shape.columns if not field_name]
    assert validated.rejections == [] and len(validated.rows) == 2
    home, agency = (row.values for row in validated.rows)
    assert home['registration_status'] == RegistrationStatus.ACTIVE
    assert home['provision_type'] == ProvisionType.CHILDRENS_HOME
    assert home['owner_name'] == 'Acme Care Ltd' and home['places'] == 4
    assert home['overall_judgement'] == Judgement.GOOD and home['latest_inspection_date'] == date(2024, 11, 5)
    assert home['authority_code'] == 'E08000035'
    assert agency['registration_status'] == RegistrationStatus.SUSPENDED
    assert agency['overall_judgement'] == Judgement.REQUIRES_IMPROVEMENT
    assert agency['owner_name'] == 'Café Fostering Ltd' and agency['places'] is None


def test_the_2015_release_maps_its_old_headings(tmp_path):
    shape = SHAPES[0]
    parsed = parse_file(write_shape(tmp_path / 'providers_2015.csv', shape, [provider('SC100001')]))

    assert parsed.mapped['registration_status'] == 'Reg Status'
    assert parsed.mapped['provision_type'] == 'Provider type'
    assert parsed.mapped['owner_name'] == 'Organisation'
    assert parsed.mapped['places'] == 'Maximum users'
    assert parsed.mapped['overall_judgement'] == 'Overall effectiveness'
    values = validate_rows(parsed, _lookup()).rows[0].values
    # The older framework's sub-judgements are kept under their published headings.
    assert values['judgements'] == {'Outcomes for children and young people': 'Good',
                                    'Quality of care': 'Outstanding',
                                    'Keeping children and young people safe': 'Good',
                                    'Leadership and management': 'Good'}


def test_latest_full_inspection_prefix_is_read_for_judgement_headings(tmp_path):
    parsed = parse_file(write_shape(tmp_path / 'providers_2019.csv', SHAPES[2], [provider('SC100001')]))

    assert parsed.mapped['overall_judgement'] == ('Latest full inspection overall experiences and progress of '
                                                  'children and young people')
    assert parsed.mapped['protection'] == ('Latest full inspection how well children and young people are helped '
                                           'and protected')
    assert parsed.mapped['places'] == 'Places [note 2]' and parsed.mapped['provision_type'] == 'Provision type'
    assert parsed.ignored == ['Latest interim inspection judgement']


def test_the_real_2025_release_reports_every_column(tmp_path):
    parsed = parse_file(REAL_FILE)

    assert parsed.as_at == date(2025, 3, 31) and parsed.header_row == 4
    assert len(parsed.mapped) == 22 and parsed.mapped['owner_name'] == 'Organisation which owns the provider'
    assert parsed.mapped['inspection_event_type'] == 'Latest Full inspection event type'
    assert parsed.ignored == ['Web link', 'Linked Education URN', 'Address 1', 'Address 2', 'County',
                              'Parliamentary constituency', 'Supported accommodation premises',
                              "Short-break-only children's home", "Multi Building Children's Home",
                              'Latest full inspection event number']


def test_a_missing_required_column_is_named(tmp_path):
    path = _write(tmp_path, csv_text(['Providers at 31 March 2020'],
                                     ['URN', 'Provider type', 'Local authority', 'Places'],
                                     [['SC100001', "Children's home", 'Leeds', '3']]))

    with pytest.raises(OfstedImportError, match='has no "Registration status" column'):
        parse_file(path)


# --- the "as at" date ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(('titles', 'expected'), [
    (["Children's social care providers and places at 31 March 2024"], date(2024, 3, 31)),
    (['Provider level data', 'as at 31 August 2019'], date(2019, 8, 31)),
    (['Providers', '31/03/2023'], date(2023, 3, 31)),
    (['Published 16 July 2025', 'Provider level data as at 31st March 2025'], date(2025, 3, 31)),
    (['Data: 2022-03-31 snapshot'], date(2022, 3, 31)),
    (['Published 16 July 2025'], None),
    (["Children's social care data in England 2025"], None),
    ([], None),
])
def test_release_date_is_read_from_the_titles(titles, expected):
    assert release_date(titles) == expected


def test_release_date_can_come_from_a_cover_sheet_or_a_date_cell(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = 'Cover'
    workbook.active.append(['Providers and places as at 31 March 2021'])
    sheet = workbook.create_sheet('Providers')
    sheet.append(['URN', 'Provision type', 'Registration status', 'Local authority'])
    sheet.append(['SC100001', "Children's home", 'Active', 'Leeds'])
    workbook.save(tmp_path / 'cover.xlsx')
    assert parse_file(tmp_path / 'cover.xlsx').as_at == date(2021, 3, 31)

    workbook = Workbook()
    workbook.active.append(['As at', date(2022, 3, 31)])
    workbook.active.append(['URN', 'Provision type', 'Registration status', 'Local authority'])
    workbook.active.append(['SC100001', "Children's home", 'Active', 'Leeds'])
    workbook.save(tmp_path / 'cell.xlsx')
    assert parse_file(tmp_path / 'cell.xlsx').as_at == date(2022, 3, 31)


# --- encodings and headings ------------------------------------------------------------------------------------------


@pytest.mark.parametrize('encoding', ['utf-8', 'utf-8-sig', 'cp1252'])
def test_csv_in_each_encoding_keeps_accents_and_pound_signs(tmp_path, encoding):
    text = csv_text(['Providers at 31 March 2018'],
                    ['URN', 'Provision\u00a0type', 'Registration\nstatus', ' Local authority ', 'Organisation'],
                    [['SC100001', 'Children’s home', 'Active', 'Leeds', 'Café £ Care Ltd']])
    parsed = parse_file(_write(tmp_path, text.encode(encoding)))

    values = validate_rows(parsed, _lookup()).rows[0].values
    assert values['owner_name'] == 'Café £ Care Ltd'
    assert values['provision_type'] == ProvisionType.CHILDRENS_HOME
    assert parsed.mapped['registration_status'] == 'Registration status'


# --- files refused ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize('content', [b'', b'   \r\n\r\n', b'\xef\xbb\xbf', b'\xef\xbb\xbf\r\n'])
def test_an_empty_file_is_refused(tmp_path, content):
    with pytest.raises(OfstedImportError, match='release.csv is empty'):
        parse_file(_write(tmp_path, content))


def test_an_empty_spreadsheet_is_refused(tmp_path):
    from openpyxl import Workbook

    Workbook().save(tmp_path / 'empty.xlsx')
    with pytest.raises(OfstedImportError, match='empty.xlsx is empty'):
        parse_file(tmp_path / 'empty.xlsx')


def test_a_header_only_file_is_refused(tmp_path):
    text = csv_text(['Providers at 31 March 2020'],
                    ['URN', 'Provision type', 'Registration status', 'Local authority'], [['Source: Ofsted']])

    with pytest.raises(OfstedImportError, match=r'has a header \(row 2\) but no providers under it'):
        parse_file(_write(tmp_path, text))


def test_the_real_release_cut_in_half_is_refused(tmp_path):
    data = REAL_FILE.read_bytes()
    cut = data[:len(data) // 2]
    assert not cut.endswith(b'\n')

    with pytest.raises(OfstedImportError, match=r'looks cut off: its last row \(row \d+\) has \d+ of the header'):
        parse_file(_write(tmp_path, cut))


def test_a_file_cut_inside_a_quoted_field_is_refused(tmp_path):
    text = csv_text([], ['URN', 'Provision type', 'Registration status', 'Local authority', 'Name'],
                    [['SC100001', "Children's home", 'Active', 'Leeds', 'Home, one'],
                     ['SC100002', "Children's home", 'Active', 'Leeds', 'Home, two']])
    cut = text[:text.rindex('two')]

    with pytest.raises(OfstedImportError, match='ends inside a quoted field'):
        parse_file(_write(tmp_path, cut))


def test_short_rows_at_the_end_are_refused_but_excel_short_rows_are_not(tmp_path):
    header = ['URN', 'Provision type', 'Registration status', 'Local authority', 'Places', 'Organisation']
    full = [[f'SC10000{n}', "Children's home", 'Active', 'Leeds', '3', 'Acme'] for n in range(1, 4)]
    # Every row complete but the last, which stops after the status: a file cut at a line break.
    cut = csv_text([], header, full + [['SC100009', "Children's home", 'Active']])
    with pytest.raises(OfstedImportError, match=r'its last row \(row 5\) has 3 of the header\'s 6 columns'):
        parse_file(_write(tmp_path, cut))

    # Excel leaves empty trailing cells off rows after the first few: short rows throughout are a whole file.
    excel = csv_text([], header, [[f'SC10000{n}', "Children's home", 'Active', 'Leeds'] for n in range(1, 5)])
    assert len(parse_file(_write(tmp_path, excel, 'excel.csv')).rows) == 4


@pytest.mark.parametrize('fmt', ['ods', 'xlsx'])
def test_a_spreadsheet_cut_off_while_downloading_is_refused(tmp_path, fmt):
    path = write_shape(tmp_path / f'release.{fmt}', SHAPES[3], [provider('SC100001')], fmt=fmt)
    data = path.read_bytes()

    with pytest.raises(OfstedImportError, match=f'cut.{fmt} is a damaged spreadsheet'):
        parse_file(_write(tmp_path, data[:len(data) // 2], f'cut.{fmt}'))


# --- inspection-outcome files ----------------------------------------------------------------------------------------


INSPECTIONS_MESSAGE = ("This looks like Ofsted's inspection outcomes file \\(one row per inspection\\), not the "
                       'providers register')


def test_an_inspection_outcomes_file_without_registration_status_is_refused(tmp_path):
    header = ['URN', 'Provision type', 'Local authority', 'Inspection date', 'Inspection type',
              'Overall effectiveness']
    rows = [['SC100001', "Children's home", 'Leeds', '05/11/2024', 'Full', 'Good'],
            ['SC100001', "Children's home", 'Leeds', '01/03/2024', 'Interim', 'Improved effectiveness']]

    with pytest.raises(OfstedImportError, match=INSPECTIONS_MESSAGE) as raised:
        parse_file(_write(tmp_path, csv_text(['Management information'], header, rows)))
    assert 'release.csv cannot be imported. ' in str(raised.value)
    assert 'it has "Inspection date", "Inspection type" columns and no registration status' in str(raised.value)


def test_an_inspection_file_with_status_but_urns_repeated_is_refused(tmp_path):
    header = ['URN', 'Provision type', 'Registration status', 'Local authority', 'Event type', 'Inspection date',
              'Overall effectiveness']
    rows = [[f'SC1000{n % 20:02d}', "Children's home", 'Active', 'Leeds', 'Full inspection', '05/11/2024', 'Good']
            for n in range(60)]

    with pytest.raises(OfstedImportError, match=INSPECTIONS_MESSAGE) as raised:
        parse_file(_write(tmp_path, csv_text([], header, rows)))
    assert 'URNs repeat on 40 rows' in str(raised.value)


def test_an_inspection_file_is_known_by_its_title(tmp_path):
    header = ['URN', 'Provision type', 'Registration status', 'Local authority']
    text = csv_text(["Children's social care in England: inspections and outcomes as at 31 March 2024"], header,
                    [['SC100001', "Children's home", 'Active', 'Leeds']])

    with pytest.raises(OfstedImportError, match=INSPECTIONS_MESSAGE + '.*its title says'):
        parse_file(_write(tmp_path, text))


def test_a_workbook_whose_cover_lists_an_inspections_table_is_still_the_register(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = 'Cover'
    workbook.active.append(['Contents'])
    workbook.active.append(['Table 1: Providers and places as at 31 March 2024'])
    workbook.active.append(['Table 2: Inspections and outcomes'])
    sheet = workbook.create_sheet('Table 1')
    sheet.append(['URN', 'Provision type', 'Registration status', 'Local authority'])
    sheet.append(['SC100001', "Children's home", 'Active', 'Leeds'])
    workbook.save(tmp_path / 'workbook.xlsx')

    parsed = parse_file(tmp_path / 'workbook.xlsx')

    assert len(parsed.rows) == 1 and parsed.as_at == date(2024, 3, 31)


def test_many_repeated_urns_refuse_the_file_and_a_few_are_rejected_rows(tmp_path):
    header = ['URN', 'Provision type', 'Registration status', 'Local authority']
    few = [[f'SC1{n:05d}', "Children's home", 'Active', 'Leeds'] for n in range(200)]
    few += [['SC100001', "Children's home", 'Active', 'Leeds'], ['SC100002', "Children's home", 'Active', 'Leeds']]
    validated = validate_rows(parse_file(_write(tmp_path, csv_text([], header, few))), _lookup())
    assert len(validated.rows) == 200
    assert validated.rejection_counts == {'duplicate-urn': 2}
    assert validated.rejections[0].reason == 'URN SC100001 appears more than once (first on row 3)'

    many = [[f'SC1{n % 150:05d}', "Children's home", 'Active', 'Leeds'] for n in range(200)]
    with pytest.raises(OfstedImportError, match=r'repeats URNs on 50 rows \(for example SC100000, SC100001, '
                                                r'SC100002\): a register has one row per provider'):
        parse_file(_write(tmp_path, csv_text([], header, many), 'many.csv'))


# --- rejections, authorities ------------------------------------------------------------------------------------


def test_rejection_reasons_are_bounded_and_counted_by_kind(tmp_path):
    header = ['URN', 'Provision type', 'Registration status', 'Local authority']
    rows = [[f'X{n}', "Children's home", 'Active', 'Leeds'] for n in range(REJECTION_LIMIT + 200)]
    rows += [[f'SC2{n:05d}', "Children's home", 'Pending', 'Leeds'] for n in range(5)]
    rows += [['SC300001', "Children's home", 'Active', 'Leeds']]

    validated = validate_rows(parse_file(_write(tmp_path, csv_text([], header, rows))), _lookup())

    assert len(validated.rows) == 1
    assert len(validated.rejections) == REJECTION_LIMIT
    assert validated.rejection_counts == {'bad-urn': REJECTION_LIMIT + 200, 'unknown-status': 5}
    assert validated.rejected == REJECTION_LIMIT + 205


@pytest.mark.parametrize(('name', 'code'), [
    ('Bristol', 'E06000023'), ('Bristol, City of', 'E06000023'), ('City of Bristol', 'E06000023'),
    ('Herefordshire', 'E06000019'), ('Herefordshire, County of', 'E06000019'),
    ('Kingston upon Hull', 'E06000010'), ('Kingston Upon Hull, City of', 'E06000010'), ('Hull', 'E06000010'),
    ('St. Helens', 'E08000013'), ('Southend on Sea', 'E06000033'), ('Brighton & Hove', 'E06000043'),
    ('Durham', 'E06000047'), ('City of London', 'E09000001'), ('Bournemouth, Christchurch & Poole', 'E06000058'),
])
def test_older_spellings_of_authorities_are_matched(tmp_path, name, code):
    header = ['URN', 'Provision type', 'Registration status', 'Local authority']
    parsed = parse_file(_write(tmp_path, csv_text([], header, [['SC100001', "Children's home", 'Active', name]])))

    validated = validate_rows(parsed, _lookup())

    assert validated.rows[0].values['authority_code'] == code
    assert validated.warnings == []


def test_abolished_councils_map_to_their_successors_with_a_warning(tmp_path):
    header = ['URN', 'Provision type', 'Registration status', 'Local authority', 'Postcode']
    rows = [
        ['SC100001', "Children's home", 'Active', 'Poole', 'REDACTED'],
        ['SC100002', "Children's home", 'Active', 'Bournemouth', 'REDACTED'],
        ['SC100003', 'Independent Fostering Agency', 'Active', 'Cumbria', 'CA3 8QG'],  # Carlisle
        ['SC100004', 'Independent Fostering Agency', 'Active', 'Cumbria', 'LA14 2LD'],  # Barrow-in-Furness
        ['SC100005', "Children's home", 'Active', 'Cumbria', 'REDACTED'],
        ['SC100006', 'Independent Fostering Agency', 'Active', 'Northamptonshire', 'NN16 0AP'],  # Kettering
        ['SC100007', 'Independent Fostering Agency', 'Active', 'Northamptonshire', 'NN1 1DE'],  # Northampton
        ['SC100008', 'Independent Fostering Agency', 'Active', 'Northamptonshire', 'LS1 4DY'],  # Leeds
    ]
    validated = validate_rows(parse_file(_write(tmp_path, csv_text([], header, rows))), _lookup())

    codes = {row.urn: row.values['authority_code'] for row in validated.rows}
    assert codes == {'SC100001': 'E06000058', 'SC100002': 'E06000058', 'SC100003': 'E06000063',
                     'SC100004': 'E06000064', 'SC100006': 'E06000061', 'SC100007': 'E06000062'}
    reasons = {rejection.urn: rejection.reason for rejection in validated.rejections}
    assert reasons == {
        'SC100005': 'Ofsted names "Cumbria", abolished in 2023 and split between Cumberland or Westmorland and '
                    'Furness; the postcode is withheld, so we cannot tell which',
        'SC100008': 'Ofsted names "Northamptonshire", abolished in 2021 and split between North Northamptonshire '
                    'or West Northamptonshire; its postcode LS1 4DY is in neither, so we cannot tell which',
    }
    assert validated.rejection_counts == {'authority-undecided': 2}
    assert validated.warnings == [
        '1 row naming "Poole" (abolished in 2019): mapped 1 to Bournemouth, Christchurch and Poole',
        '1 row naming "Bournemouth" (abolished in 2019): mapped 1 to Bournemouth, Christchurch and Poole',
        '3 rows naming "Cumbria" (abolished in 2023): mapped 1 to Cumberland, 1 to Westmorland and Furness; '
        '1 rejected, as no postcode places it',
        '3 rows naming "Northamptonshire" (abolished in 2021): mapped 1 to North Northamptonshire, 1 to West '
        'Northamptonshire; 1 rejected, as no postcode places it',
    ]


# --- ODS streaming ---------------------------------------------------------------------------------------------------


def test_ods_repeats_are_expanded_only_where_they_hold_something(tmp_path):
    header = ['URN', 'Provision\ntype', 'Registration status', 'Local  authority', 'Places']
    path = write_ods(tmp_path / 'wide.ods', [
        ('Cover', [['Providers at 31 March 2022']]),
        ('Providers', [['Title'], header, ['SC100001', "Children's home", 'Active', 'Leeds', 3],
                       ['SC100002', "Children's home", 'Active', 'Leeds', 4]]),
    ], width=16384, empty_rows=1048000)
    # A value repeated across columns, and a row repeated, as spreadsheet writers compress them.
    with zipfile.ZipFile(path) as archive:
        content = archive.read('content.xml').decode()
    repeated_row = ('<table:table-row table:number-rows-repeated="2"><table:table-cell office:value-type="string">'
                    '<text:p>SC100003</text:p></table:table-cell><table:table-cell table:number-columns-repeated="2" '
                    'office:value-type="string"><text:p>Active</text:p></table:table-cell></table:table-row>')
    at = content.rindex('<table:table-row table:style-name="ro1" table:number-rows-repeated="1048000">')
    content = content[:at] + repeated_row + content[at:]
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rebuilt, 'w') as target:
        for item in source.infolist():
            target.writestr(item, content if item.filename == 'content.xml' else source.read(item.filename))
    path.write_bytes(rebuilt.getvalue())

    started = time.perf_counter()
    parsed = parse_file(path)
    elapsed = time.perf_counter() - started

    assert elapsed < 5  # 16,384 columns and a million rows, never materialised
    assert parsed.as_at == date(2022, 3, 31) and parsed.header_row == 2
    assert parsed.mapped['local_authority'] == 'Local authority'
    assert [(number, cells) for number, cells in parsed.rows] == [
        (3, ['SC100001', "Children's home", 'Active', 'Leeds', 3]),
        (4, ['SC100002', "Children's home", 'Active', 'Leeds', 4]),
        (5, ['SC100003', 'Active', 'Active']),
        (6, ['SC100003', 'Active', 'Active']),
    ]
