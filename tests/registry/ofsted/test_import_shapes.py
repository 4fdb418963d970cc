"""Importing each real-world file shape through the service and the command line, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bench.ofsted_ods import release_rows, write_ods
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.ofsted.importer import REJECTION_LIMIT, OfstedImportError
from registry.ofsted.models import OfstedImport, OfstedRegisterEntry
from registry.ofsted.services import import_register
from registry.settings.taxonomy import Judgement
from tests.registry.ofsted.conftest import AS_AT, REAL_FILE
from tests.registry.ofsted.shapes import SHAPES, csv_text, provider, write_shape


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize('fmt', ['csv', 'xlsx', 'ods'])
@pytest.mark.parametrize('shape', SHAPES, ids=lambda shape: shape.name)
def test_operator_imports_each_release_shape_without_losing_judgements_or_owners(app_ctx, tmp_path, shape, fmt):
    path = write_shape(tmp_path / f'providers_{shape.name}.{fmt}', shape, [
        provider('SC100001', overall_judgement='Inadequate', owner_name='Northern Homes Ltd', local_authority='Kent'),
        provider('SC100002'),
    ], fmt=fmt)

    summary = import_register(path)

    assert (summary.new, summary.rejected) == (2, 0)
    assert summary.mapped['overall_judgement'] and summary.mapped['owner_name']
    entry = db.session.get(OfstedRegisterEntry, 'SC100001')
    assert entry.overall_judgement == Judgement.INADEQUATE
    assert entry.owner_name == 'Northern Homes Ltd' and entry.places == 4
    assert entry.authority_code == 'E10000016'
    assert db.session.get(OfstedRegisterEntry, 'SC100002').overall_judgement == Judgement.GOOD


def test_operator_imports_the_real_release_as_an_ods_with_its_title_and_padding(app_ctx, tmp_path):
    rows, links = release_rows(REAL_FILE, None)
    path = write_ods(tmp_path / 'providers_2025.ods', [('Cover', [['Contents']]), ('Providers', rows)],
                     links={('Providers', index): value for index, value in links.items()})

    summary = import_register(path)

    assert (summary.format, summary.new, summary.rejected) == ('ods', 5600, 0)
    home = db.session.get(OfstedRegisterEntry, '2590934')
    assert home.owner_name == 'Zone Central Ltd' and home.places == 2
    assert home.overall_judgement == Judgement.REQUIRES_IMPROVEMENT
    assert home.latest_inspection_date == date(2024, 11, 5) and home.authority_code == 'E09000023'


@pytest.mark.parametrize(('name', 'content', 'message'), [
    ('empty.csv', b'', 'empty.csv is empty'),
    ('header.csv', csv_text(['Providers at 31 March 2024'], ['URN', 'Provision type', 'Registration status',
                                                             'Local authority'], []).encode(),
     'has a header (row 2) but no providers under it'),
    ('half.csv', REAL_FILE.read_bytes()[:900_000], 'half.csv looks cut off'),
    ('inspections.csv', csv_text(['Management information'],
                                 ['URN', 'Provision type', 'Local authority', 'Inspection date', 'Event type',
                                  'Overall effectiveness'],
                                 [['SC100001', "Children's home", 'Leeds', '05/11/2024', 'Full', 'Good']]).encode(),
     "This looks like Ofsted's inspection outcomes file (one row per inspection), not the providers register"),
])
def test_operator_cannot_import_an_untrustworthy_file_and_nothing_is_written(app_ctx, tmp_path, register_file,
                                                                              name, content, message):
    from tests.registry.ofsted.conftest import register_row

    import_register(register_file([register_row('SC100009')], name='good.csv'), as_at=AS_AT)
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(OfstedImportError) as raised:
        import_register(path)

    assert message in str(raised.value)
    assert db.session.scalars(select(OfstedImport.file_name)).all() == ['good.csv']
    assert db.session.scalars(select(OfstedRegisterEntry.urn)).all() == ['SC100009']


def test_rejections_are_stored_bounded_with_counts_per_kind(app_ctx, tmp_path):
    header = ['URN', 'Provision type', 'Registration status', 'Local authority']
    rows = [[f'X{n}', "Children's home", 'Active', 'Leeds'] for n in range(REJECTION_LIMIT + 50)]
    rows += [['SC200001', "Children's home", 'Pending', 'Leeds'], ['SC300001', "Children's home", 'Active', 'Leeds']]
    path = tmp_path / 'noisy.csv'
    path.write_text(csv_text([], header, rows), encoding='utf-8')

    summary = import_register(path, as_at=AS_AT)

    assert (summary.new, summary.rejected) == (1, REJECTION_LIMIT + 51)
    assert summary.rejection_counts == {'bad-urn': REJECTION_LIMIT + 50, 'unknown-status': 1}
    record = db.session.scalars(select(OfstedImport)).one()
    assert record.rejected_count == REJECTION_LIMIT + 51 and record.total_rows == REJECTION_LIMIT + 52
    assert len(record.rejected_reasons) == REJECTION_LIMIT
    assert record.rejected_reasons[0] == {'row': 2, 'urn': 'X0', 'kind': 'bad-urn',
                                          'reason': 'URN "X0" is not an Ofsted URN (SC and 6 digits, or 7 digits)'}
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == 'ofsted.import')).one()
    assert event.after['rejection_counts'] == {'bad-urn': REJECTION_LIMIT + 50, 'unknown-status': 1}
    lines = summary.lines()
    assert f'  … and {REJECTION_LIMIT + 1} more rejected rows' in lines
    assert ('Rejected rows by reason: URN is not an Ofsted URN: 1050, unknown registration status: 1' in lines)


def test_command_line_prints_columns_read_and_ignored_and_abolished_councils(app, tmp_path):
    header = ['Web link', 'URN', 'Provider type', 'Reg Status', 'Local Authority', 'Postcode', 'Organisation',
              'Latest full inspection overall effectiveness']
    rows = [['link', 'SC100001', "Children's home", 'Active', 'Poole', 'REDACTED', 'Acme', 'Good'],
            ['link', 'SC100002', 'Independent Fostering Agency', 'Active', 'Cumbria', 'CA3 8QG', 'Acme', 'Good'],
            ['link', 'SC100003', "Children's home", 'Active', 'Cumbria', 'REDACTED', 'Acme', 'Good']]
    path = tmp_path / 'providers_2016.csv'
    path.write_text(csv_text(['Providers and places at 31 March 2016'], header, rows), encoding='cp1252')

    result = app.test_cli_runner().invoke(args=['registry', 'import-ofsted', str(path)])

    assert result.exit_code == 0, result.output
    assert 'new:        2' in result.output and 'rejected:   1' in result.output
    assert 'Columns read (7):' in result.output
    assert '  registration_status: "Reg Status"' in result.output
    assert '  overall_judgement: "Latest full inspection overall effectiveness"' in result.output
    assert 'Columns ignored (1): "Web link"' in result.output
    assert ('Warning: 1 row naming "Poole" (abolished in 2019): mapped 1 to Bournemouth, Christchurch and Poole'
            in result.output)
    assert ('Warning: 2 rows naming "Cumbria" (abolished in 2023): mapped 1 to Cumberland; 1 rejected, as no '
            'postcode places it' in result.output)
    assert 'row 5 (SC100003): Ofsted names "Cumbria", abolished in 2023' in result.output
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == 'ofsted.import')).one()
        assert event.after['rejection_counts'] == {'authority-undecided': 1}
        assert len(event.after['warnings']) == 2
        assert db.session.get(OfstedRegisterEntry, 'SC100001').authority_code == 'E06000058'
        assert db.session.get(OfstedRegisterEntry, 'SC100002').authority_code == 'E06000063'
        assert db.session.get(OfstedRegisterEntry, 'SC100003') is None


def test_command_line_refuses_an_inspection_outcomes_file_saying_what_it_is(app, tmp_path):
    path = tmp_path / 'inspections.csv'
    path.write_text(csv_text(["Children's social care in England: inspections and outcomes"],
                             ['URN', 'Provision type', 'Registration status', 'Local authority'],
                             [['SC100001', "Children's home", 'Active', 'Leeds']]), encoding='utf-8')

    result = app.test_cli_runner().invoke(args=['registry', 'import-ofsted', str(path)])

    assert result.exit_code == 1
    assert "This looks like Ofsted's inspection outcomes file (one row per inspection)" in result.output
    assert 'Nothing was imported.' in result.output
    with app.app_context():
        assert _count(OfstedImport) == 0
