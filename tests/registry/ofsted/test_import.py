"""Importing Ofsted's register: the real 2025 release, other release shapes, rejections and malformed files."""

from __future__ import annotations

import shutil
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from registry.extensions import db
from registry.ofsted.importer import OfstedImportError
from registry.ofsted.models import OfstedImport, OfstedRegisterEntry
from registry.ofsted.services import import_register
from registry.settings.taxonomy import Judgement, ProvisionType, RegistrationStatus
from tests.registry.ofsted.conftest import AS_AT, REAL_FILE, register_row

#: Worked out from the file itself: 5,600 providers, every URN valid and unique, only Active and Suspended.
REAL_ROWS = 5600
REAL_REJECTED = 0


def _register_state() -> dict[str, tuple]:
    rows = db.session.execute(select(OfstedRegisterEntry.urn, OfstedRegisterEntry.row_hash,
                                     OfstedRegisterEntry.imported_at)).all()
    return {urn: (digest, imported_at) for urn, digest, imported_at in rows}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_operator_can_import_the_2025_release_twice_and_get_the_same_state(app_ctx):
    progress_calls = []
    first = import_register(REAL_FILE, progress=lambda done, total: progress_calls.append((done, total)), as_at=AS_AT)

    assert (first.total_rows, first.new, first.changed, first.unchanged, first.rejected) == (
        REAL_ROWS, REAL_ROWS, 0, 0, REAL_REJECTED)
    assert first.rejections == []
    assert progress_calls[-1] == (REAL_ROWS, REAL_ROWS)
    assert _count(OfstedRegisterEntry) == REAL_ROWS
    state = _register_state()

    # What the file says about a few providers, mapped.
    home = db.session.get(OfstedRegisterEntry, '2590934')
    assert home.provision_type == ProvisionType.CHILDRENS_HOME
    assert home.is_redacted and home.town == '' and home.postcode == ''
    assert home.authority_code == 'E09000023'  # Lewisham
    assert home.places == 2 and home.owner_name == 'Zone Central Ltd'
    assert home.overall_judgement == Judgement.REQUIRES_IMPROVEMENT
    assert home.latest_inspection_date == date(2024, 11, 5) and home.registration_date == date(2020, 6, 25)
    agency = db.session.get(OfstedRegisterEntry, 'SC486913')
    assert agency.provision_type == ProvisionType.INDEPENDENT_FOSTERING_AGENCY
    assert agency.postcode == 'RM18 8RH' and agency.places is None
    assert agency.judgements['How well children and young people are helped and protected'] == 'Good'
    assert db.session.get(OfstedRegisterEntry, '2821939').provision_type == ProvisionType.SUPPORTED_ACCOMMODATION
    counts = dict(db.session.execute(select(OfstedRegisterEntry.registration_status, func.count())
                                     .group_by(OfstedRegisterEntry.registration_status)).all())
    assert counts == {RegistrationStatus.ACTIVE: 5586, RegistrationStatus.SUSPENDED: 14}
    # The four Welsh sites Ofsted lists have no English authority.
    assert _count_where(OfstedRegisterEntry.authority_code.is_(None)) == 4

    second = import_register(REAL_FILE, as_at=AS_AT)

    assert (second.new, second.changed, second.unchanged, second.rejected) == (0, 0, REAL_ROWS, REAL_REJECTED)
    db.session.expire_all()
    assert _register_state() == state
    imports = db.session.scalars(select(OfstedImport).order_by(OfstedImport.id)).all()
    assert [(i.new_count, i.changed_count, i.unchanged_count, i.rejected_count) for i in imports] == [
        (REAL_ROWS, 0, 0, 0), (0, 0, REAL_ROWS, 0)]
    assert all(i.finished_at is not None and len(i.sha256) == 64 for i in imports)


def _count_where(condition) -> int:
    return db.session.scalar(select(func.count()).select_from(OfstedRegisterEntry).where(condition))


def test_operator_sees_one_changed_row_when_one_judgement_changes(app_ctx, tmp_path):
    import_register(REAL_FILE, as_at=AS_AT)
    edited = tmp_path / 'edited.csv'
    text = REAL_FILE.read_text(encoding='utf-8-sig')
    old_line = next(line for line in text.splitlines() if ',2775403,' in line)
    assert ',Good,,,Good,Good,' in old_line
    edited.write_text(text.replace(old_line, old_line.replace(',Good,,,Good,Good,', ',Outstanding,,,Good,Good,')),
                      encoding='utf-8-sig')

    summary = import_register(edited, as_at=AS_AT)

    assert (summary.new, summary.changed, summary.unchanged, summary.rejected) == (0, 1, REAL_ROWS - 1, 0)
    db.session.expire_all()
    entry = db.session.get(OfstedRegisterEntry, '2775403')
    assert entry.overall_judgement == Judgement.OUTSTANDING
    assert entry.source_file == 'edited.csv'


def test_operator_sees_rejected_rows_with_reasons_and_the_rest_imported(app_ctx, register_file):
    path = register_file([
        register_row('SC100001'),
        register_row('ABC'),
        register_row('SC100002', status='Pending'),
        register_row('SC100001'),
        ['Ofsted Social Care Provider Webpage', '1234567', "Children's home", '31/02/2020', 'Active'],
        register_row('1234568', places='lots'),
        register_row('1234569'),
        [],
        ['Source: Ofsted'],
    ])

    summary = import_register(path, as_at=AS_AT)

    assert (summary.new, summary.rejected) == (2, 5)
    reasons = {(r.row_number, r.urn): r.reason for r in summary.rejections}
    assert reasons == {
        (5, 'ABC'): 'URN "ABC" is not an Ofsted URN (SC and 6 digits, or 7 digits)',
        (6, 'SC100002'): 'Unknown registration status "Pending"',
        (7, 'SC100001'): 'URN SC100001 appears more than once (first on row 4)',
        (8, '1234567'): 'Registration date "31/02/2020" is not a date',
        (9, '1234568'): 'Places "lots" is not a number',
    }
    record = db.session.scalars(select(OfstedImport)).one()
    assert record.rejected_count == 5
    assert {'row': 6, 'urn': 'SC100002', 'reason': 'Unknown registration status "Pending"',
            'kind': 'unknown-status'} in record.rejected_reasons
    assert sorted(db.session.scalars(select(OfstedRegisterEntry.urn))) == ['1234569', 'SC100001']


def test_operator_can_import_a_cp1252_release_with_renamed_columns(app_ctx, register_file):
    header = ['Provider URN', 'Provider type', 'Provider status', 'Provider name', 'Local Authority',
              'Number of registered places', 'Owner', 'Inspection date', 'Overall effectiveness']
    path = register_file([
        ['SC200001', 'Independent Fostering Agency', 'Active', 'Café Fostering £ Ltd', 'Leeds', '', 'Café Group',
         '12/03/2019', 'Outstanding'],
        ['SC200002', "Children’s home", 'Resigned', 'REDACTED', 'Kent', '3', 'Owner Ltd', '', ''],
    ], header=header, encoding='cp1252', name='old_release.csv')

    summary = import_register(path, as_at=AS_AT)

    assert (summary.format, summary.new, summary.rejected) == ('csv', 2, 0)
    agency = db.session.get(OfstedRegisterEntry, 'SC200001')
    assert agency.name == 'Café Fostering £ Ltd' and agency.owner_name == 'Café Group'
    assert agency.authority_code == 'E08000035'
    assert agency.overall_judgement == Judgement.OUTSTANDING and agency.latest_inspection_date == date(2019, 3, 12)
    home = db.session.get(OfstedRegisterEntry, 'SC200002')
    assert home.provision_type == ProvisionType.CHILDRENS_HOME  # curly apostrophe as in some releases
    assert home.registration_status == RegistrationStatus.RESIGNED and home.places == 3
    assert home.authority_code == 'E10000016'


def test_operator_can_import_an_xlsx_release_with_a_cover_sheet_and_titles(app_ctx, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    cover = workbook.active
    cover.title = 'Cover'
    cover.append(["Children's social care data in England 2024"])
    sheet = workbook.create_sheet('Providers')
    sheet.append(['Provider level data as at 31 March 2024'])
    sheet.append([])
    sheet.append(['URN', 'Provision type', 'Registration status', 'Local authority', 'Places',
                  '\nLatest full inspection date',
                  '\nOverall experiences and progress of children and young people'])
    sheet.append(['SC300001', "Children's home", 'Active', 'Westminster', 4, datetime(2024, 1, 9), 'Good'])
    sheet.append([1234570, 'Residential Family Centre', 'Suspended', 'Leeds', 6.0, None, None])
    path = tmp_path / 'release.xlsx'
    workbook.save(path)

    summary = import_register(path)

    assert (summary.format, summary.new, summary.rejected) == ('xlsx', 2, 0)
    assert summary.as_at == date(2024, 3, 31)  # from the sheet's title row
    home = db.session.get(OfstedRegisterEntry, 'SC300001')
    assert home.places == 4 and home.latest_inspection_date == date(2024, 1, 9)
    assert home.overall_judgement == Judgement.GOOD
    centre = db.session.get(OfstedRegisterEntry, '1234570')
    assert centre.provision_type == ProvisionType.RESIDENTIAL_FAMILY_CENTRE and centre.places == 6
    assert centre.registration_status == RegistrationStatus.SUSPENDED


def test_operator_can_import_an_ods_release(app_ctx, tmp_path):
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name='Providers')

    def row(*values):
        table_row = TableRow()
        for value in values:
            if isinstance(value, int):
                cell = TableCell(valuetype='float', value=value)
                cell.addElement(P(text=str(value)))
            elif isinstance(value, date):
                cell = TableCell(valuetype='date', datevalue=value.isoformat())
                cell.addElement(P(text=value.strftime('%d/%m/%Y')))
            else:
                cell = TableCell(valuetype='string')
                cell.addElement(P(text=value))
            table_row.addElement(cell)
        table.addElement(table_row)

    row("Children's social care data in England 2023")
    row('URN', 'Provision type', 'Registration status', 'Local authority', 'Places', 'Latest full inspection date',
        'Overall effectiveness')
    row('SC400001', "Secure children's home", 'Active', 'Kent', 8, date(2023, 5, 2), 'Inadequate')
    row('SC400002', 'Boarding School', 'Active', 'Leeds', 40, date(2022, 1, 1), '')
    document.spreadsheet.addElement(table)
    path = tmp_path / 'release.ods'
    document.save(str(path))

    summary = import_register(path, as_at=AS_AT)

    assert (summary.format, summary.new, summary.rejected) == ('ods', 2, 0)
    secure = db.session.get(OfstedRegisterEntry, 'SC400001')
    assert secure.provision_type == ProvisionType.SECURE_CHILDRENS_HOME and secure.places == 8
    assert secure.overall_judgement == Judgement.INADEQUATE and secure.latest_inspection_date == date(2023, 5, 2)
    assert db.session.get(OfstedRegisterEntry, 'SC400002').provision_type is None


def test_operator_cannot_import_a_file_missing_columns_and_nothing_is_written(app_ctx, register_file):
    import_register(register_file([register_row('SC100001')], name='good.csv'), as_at=AS_AT)
    before = _register_state()
    header = ['URN', 'Provision type', 'Name', 'Places']
    bad = register_file([['SC100009', "Children's home", 'REDACTED', '3']], header=header, name='bad.csv')

    with pytest.raises(OfstedImportError) as raised:
        import_register(bad, as_at=AS_AT)

    message = str(raised.value)
    assert '"Registration status"' in message and '"Local authority"' in message
    assert 'bad.csv' in message
    db.session.expire_all()
    assert _register_state() == before
    assert db.session.scalars(select(OfstedImport.file_name)).all() == ['good.csv']


def test_operator_cannot_import_a_file_with_no_recognisable_header(app_ctx, tmp_path):
    path = tmp_path / 'notes.csv'
    path.write_text('just,some\ntext,here\n', encoding='utf-8')

    with pytest.raises(OfstedImportError, match='no header row we recognise.*URN, Provision type'):
        import_register(path, as_at=AS_AT)

    assert _count(OfstedRegisterEntry) == 0 and _count(OfstedImport) == 0


def test_operator_cannot_import_a_broken_spreadsheet(app_ctx, tmp_path):
    path = tmp_path / 'broken.xlsx'
    path.write_bytes(b'not really a spreadsheet')

    with pytest.raises(OfstedImportError, match='broken.xlsx is not a readable XLSX spreadsheet'):
        import_register(path, as_at=AS_AT)
    assert _count(OfstedImport) == 0


def test_operator_can_import_from_the_command_line_and_read_the_summary(app, tmp_path, register_file):
    path = register_file([register_row('SC100001'), register_row('bad urn')])
    runner = app.test_cli_runner()

    result = runner.invoke(args=['registry', 'import-ofsted', '--as-at', '2025-03-31', str(path)])

    assert result.exit_code == 0, result.output
    assert 'new:        1' in result.output and 'rejected:   1' in result.output
    assert 'row 5 (bad urn): URN "bad urn" is not an Ofsted URN' in result.output

    shutil.copy(path, tmp_path / 'again.csv')
    again = runner.invoke(args=['registry', 'import-ofsted', '--as-at', '2025-03-31', str(tmp_path / 'again.csv')])
    assert 'unchanged:  1' in again.output


def test_operator_sees_a_clean_error_from_the_command_line_for_a_malformed_file(app, register_file):
    path = register_file([['SC100001']], header=['URN'])

    result = app.test_cli_runner().invoke(args=['registry', 'import-ofsted', '--as-at', '2025-03-31', str(path)])

    assert result.exit_code == 1
    assert 'Missing columns: "Provision type", "Registration status", "Local authority"' in result.output
    assert 'Nothing was imported.' in result.output
