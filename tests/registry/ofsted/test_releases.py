"""The register kept true over time: releases in order, providers that close, older releases, the drop check,
and what each release leaves for the supply-over-time figures."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qualification.listing import is_listed
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.ofsted import capacity
from registry.ofsted.importer import OfstedImportError
from registry.ofsted.models import OfstedImport, OfstedRegisterEntry, OfstedReviewItem, ReviewReason
from registry.ofsted.services import (
    import_register,
    latest_import,
    latest_release_date,
    settings_with_problems,
    supply_by_release,
    verify_setting,
)
from registry.settings.taxonomy import ProvisionType
from search.entries import build_entry, listed_setting_ids
from tests.registry.ofsted.conftest import HEADER_2025, make_organisation, make_setting, qualify, register_row

WESTMINSTER, LEEDS = 'E09000033', 'E08000035'
MARCH_2023, MARCH_2024, MARCH_2025 = date(2023, 3, 31), date(2024, 3, 31), date(2025, 3, 31)


def write_release(path: Path, as_at: date, rows: list[list[str]]) -> Path:
    """A CSV shaped like Ofsted's annual release: title rows naming the date, then the header and rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\r\n')
    writer.writerow([f"Children's social care data in England {as_at.year} – Provider level as at "
                     f"{as_at.day} {as_at:%B} {as_at.year}"])
    writer.writerow(['Some cells in this table are empty.'])
    writer.writerow(HEADER_2025)
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode('utf-8-sig'))
    return path


def homes(first: int, last: int, **kwargs) -> list[list[str]]:
    """Children's homes SC100<first>..SC100<last> in Westminster."""
    return [register_row(f'SC{100000 + n}', **kwargs) for n in range(first, last + 1)]


@pytest.fixture
def releases(tmp_path):
    """Three releases of 20 homes: SC100020 closes after 2023, SC100019 after 2024; SC100001 falls to
    inadequate in 2025, and 2024's release gives SC100002 a different judgement than 2025's."""
    r2023 = write_release(tmp_path / 'providers_2023.csv', MARCH_2023, homes(1, 20, inspected='01/02/2023'))
    r2024 = write_release(tmp_path / 'providers_2024.csv', MARCH_2024,
                          homes(1, 19, inspected='01/02/2024')
                          + [register_row('SC100021', provision_type='Independent Fostering Agency', places='')])
    r2025 = write_release(tmp_path / 'providers_2025.csv', MARCH_2025,
                          [register_row('SC100001', judgement='Inadequate', inspected='10/01/2025'),
                           register_row('SC100002', judgement='Outstanding', inspected='11/01/2025')]
                          + homes(3, 18, inspected='01/02/2024')
                          + [register_row('SC100021', provision_type='Independent Fostering Agency', places='')])
    return {2023: r2023, 2024: r2024, 2025: r2025}


def _listed_world():
    organisation = make_organisation('Long Standing Homes Ltd')
    qualify(organisation)
    settings = {n: make_setting(organisation, urn=f'SC{100000 + n}', name=f'Home {n}') for n in (1, 2, 3, 19, 20)}
    return organisation, settings


def test_a_sequence_of_releases_leaves_closed_providers_flagged_delisted_and_in_the_board_queue(app_ctx, releases):
    _organisation, settings = _listed_world()
    import_register(releases[2023], as_at=MARCH_2023)
    assert all(is_listed(setting) for setting in settings.values())

    summary_2024 = import_register(releases[2024], as_at=MARCH_2024)
    summary_2025 = import_register(releases[2025], as_at=MARCH_2025)

    assert (summary_2024.removed, summary_2025.removed) == (1, 1)
    removed = dict(db.session.execute(select(OfstedRegisterEntry.urn, OfstedRegisterEntry.removed_as_at)
                                      .where(OfstedRegisterEntry.removed_as_at.is_not(None))).all())
    assert removed == {'SC100020': MARCH_2024, 'SC100019': MARCH_2025}
    for n in (19, 20):
        db.session.refresh(settings[n])
        assert not is_listed(settings[n]) and build_entry(settings[n]) is None
        assert settings[n].id not in listed_setting_ids()
    assert verify_setting(settings[20]).problems == [
        "URN SC100020 is no longer in Ofsted's register: it is missing from the release as at 31/03/2024"]
    assert {result.setting.id for result in settings_with_problems()} >= {settings[19].id, settings[20].id}
    assert is_listed(settings[2]) and is_listed(settings[3])
    items = db.session.scalars(select(OfstedReviewItem).order_by(OfstedReviewItem.id)).all()
    assert [(item.setting_id, item.reason) for item in items] == [
        (settings[20].id, ReviewReason.REMOVED_FROM_REGISTER),
        (settings[1].id, ReviewReason.JUDGEMENT_INADEQUATE),
        (settings[19].id, ReviewReason.REMOVED_FROM_REGISTER),
    ]
    assert latest_release_date() == MARCH_2025 and latest_import().as_at == MARCH_2025
    db.session.refresh(settings[1])
    assert settings[1].is_suspended and not is_listed(settings[1])
    # the capacity page counts only what the latest release registers: 18 homes of 4 places and an agency
    westminster = next(row for row in capacity.by_authority() if row.key == WESTMINSTER)
    assert (westminster.registered_settings, westminster.registered_places) == (19, 72)
    homes_row = next(row for row in capacity.by_provision_type() if row.key == ProvisionType.CHILDRENS_HOME.value)
    assert (homes_row.registered_settings, homes_row.registered_places) == (18, 72)


def test_each_release_keeps_its_counts_for_supply_over_time(app_ctx, releases):
    for year, as_at in ((2023, MARCH_2023), (2024, MARCH_2024), (2025, MARCH_2025)):
        import_register(releases[year], as_at=as_at)

    rows = supply_by_release(ProvisionType.CHILDRENS_HOME)

    assert [(row.as_at, row.authority_code, row.homes, row.places) for row in rows] == [
        (MARCH_2023, WESTMINSTER, 20, 80), (MARCH_2024, WESTMINSTER, 19, 76), (MARCH_2025, WESTMINSTER, 18, 72)]
    fostering = supply_by_release(ProvisionType.INDEPENDENT_FOSTERING_AGENCY)
    assert [(row.as_at, row.homes, row.places) for row in fostering] == [(MARCH_2024, 1, 0), (MARCH_2025, 1, 0)]
    # importing a release again replaces its counts rather than doubling them
    import_register(releases[2025], as_at=MARCH_2025)
    assert [row.homes for row in supply_by_release(ProvisionType.CHILDRENS_HOME)] == [20, 19, 18]


def test_an_older_release_after_a_newer_one_is_refused_and_nothing_changes(app_ctx, releases):
    import_register(releases[2025], as_at=MARCH_2025)
    before = db.session.execute(select(OfstedRegisterEntry.urn, OfstedRegisterEntry.row_hash,
                                       OfstedRegisterEntry.removed_as_at).order_by(OfstedRegisterEntry.urn)).all()

    with pytest.raises(OfstedImportError, match=r'providers_2024.csv is the register as at 31/03/2024, older than '
                                                r'the latest imported release \(31/03/2025\).*--historical'):
        import_register(releases[2024], as_at=MARCH_2024)

    after = db.session.execute(select(OfstedRegisterEntry.urn, OfstedRegisterEntry.row_hash,
                                      OfstedRegisterEntry.removed_as_at).order_by(OfstedRegisterEntry.urn)).all()
    assert after == before
    assert db.session.scalar(select(func.count()).select_from(OfstedImport)) == 1


def test_a_historical_release_is_recorded_without_overwriting_newer_facts(app_ctx, releases):
    _organisation, settings = _listed_world()
    import_register(releases[2024], as_at=MARCH_2024)
    import_register(releases[2025], as_at=MARCH_2025)
    before = db.session.execute(select(OfstedRegisterEntry.urn, OfstedRegisterEntry.row_hash,
                                       OfstedRegisterEntry.removed_as_at).order_by(OfstedRegisterEntry.urn)).all()

    summary = import_register(releases[2023], as_at=MARCH_2023, historical=True)

    assert summary.historical and 'for the history only' in summary.lines()[0]
    after = db.session.execute(select(OfstedRegisterEntry.urn, OfstedRegisterEntry.row_hash,
                                      OfstedRegisterEntry.removed_as_at).order_by(OfstedRegisterEntry.urn)).all()
    assert after == before
    entry = db.session.get(OfstedRegisterEntry, 'SC100002')
    assert entry.overall_judgement_text == 'Outstanding' and entry.latest_inspection_date == date(2025, 1, 11)
    db.session.refresh(settings[2])
    assert settings[2].judgement_date == date(2025, 1, 11)
    assert latest_release_date() == MARCH_2025 and latest_import().as_at == MARCH_2025
    assert [row.as_at for row in supply_by_release(ProvisionType.CHILDRENS_HOME)] == [
        MARCH_2023, MARCH_2024, MARCH_2025]
    historical = db.session.get(OfstedImport, summary.import_id)
    assert historical.historical and historical.as_at == MARCH_2023


def test_a_release_that_would_drop_too_many_providers_is_refused_unless_accepted(app_ctx, tmp_path, releases):
    _organisation, settings = _listed_world()
    import_register(releases[2024], as_at=MARCH_2024)
    cut = write_release(tmp_path / 'cut.csv', MARCH_2025, homes(1, 10))

    with pytest.raises(OfstedImportError, match=r'would mark 10 of the 20 providers in the register \(50%\) as no '
                                                r'longer registered, more than the 10% allowed.*--accept-drop'):
        import_register(cut, as_at=MARCH_2025)
    assert db.session.scalar(select(func.count()).select_from(OfstedRegisterEntry)
                             .where(OfstedRegisterEntry.removed_as_at.is_not(None))) == 0
    assert is_listed(settings[19])

    # a higher threshold lets it through, as does the operator's explicit acceptance
    with pytest.raises(OfstedImportError):
        import_register(cut, as_at=MARCH_2025, max_drop_share=0.49)
    summary = import_register(cut, as_at=MARCH_2025, accept_drop=True)

    assert summary.removed == 10
    assert not is_listed(settings[19]) and is_listed(settings[3])


def test_the_drop_share_comes_from_configuration(app, app_ctx, tmp_path, releases):
    import_register(releases[2024], as_at=MARCH_2024)
    cut = write_release(tmp_path / 'cut.csv', MARCH_2025, homes(1, 10))
    app.config['OFSTED_MAX_DROP_SHARE'] = 0.6
    try:
        assert import_register(cut, as_at=MARCH_2025).removed == 10
    finally:
        app.config['OFSTED_MAX_DROP_SHARE'] = 0.10


def test_a_provider_back_in_a_later_release_is_registered_again(app_ctx, tmp_path, releases):
    _organisation, settings = _listed_world()
    import_register(releases[2023], as_at=MARCH_2023)
    import_register(releases[2024], as_at=MARCH_2024)
    assert not is_listed(settings[20])

    back = write_release(tmp_path / 'back.csv', MARCH_2025, homes(1, 20, inspected='01/02/2023') + [
        register_row('SC100021', provision_type='Independent Fostering Agency', places='')])
    summary = import_register(back, as_at=MARCH_2025)

    assert db.session.get(OfstedRegisterEntry, 'SC100020').removed_as_at is None
    assert summary.removed == 0 and is_listed(settings[20])


def test_an_import_without_a_release_date_is_refused(app_ctx, register_file):
    path = register_file([register_row('SC100001')])

    with pytest.raises(OfstedImportError, match=r'does not say which date it describes.*--as-at YYYY-MM-DD'):
        import_register(path)
    assert db.session.scalar(select(func.count()).select_from(OfstedImport)) == 0


def test_the_import_is_audited_with_its_release_date(app_ctx, releases):
    summary = import_register(releases[2023], as_at=MARCH_2023)

    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == 'ofsted.import')).one()
    assert event.after['as_at'] == '2023-03-31' and event.object_id == str(summary.import_id)
    assert 'as at 31/03/2023' in summary.lines()[0]


# --- the command line ----------------------------------------------------------------------------------------------


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=['registry', 'import-ofsted', *map(str, args)])


def test_cli_takes_the_release_date_from_the_titles_or_as_at_and_refuses_without_one(app, app_ctx, releases,
                                                                                     register_file):
    undated = register_file([register_row('SC100001')], name='undated.csv')
    missing = _cli(app, undated)
    assert missing.exit_code == 1
    assert 'does not say which date it describes' in missing.output and 'Nothing was imported' in missing.output

    from_titles = _cli(app, releases[2023])
    assert from_titles.exit_code == 0, from_titles.output
    assert 'Imported providers_2023.csv as at 31/03/2023' in from_titles.output

    contradicted = _cli(app, '--as-at', '2023-04-30', releases[2024])
    assert contradicted.exit_code == 1
    assert 'says it is the register as at 31/03/2024, but --as-at gives 30/04/2023' in contradicted.output

    given = _cli(app, '--as-at', '2024-03-31', undated)
    assert given.exit_code == 1 and 'would mark 19 of the 20 providers' in given.output  # the drop check still applies
    assert latest_release_date() == MARCH_2023

    bad = _cli(app, '--as-at', '31/03/2024', releases[2024])
    assert bad.exit_code == 2 and '31/03/2024' in bad.output


def test_an_import_takes_the_release_date_from_the_title_rows(app_ctx, releases):
    summary = import_register(releases[2024])

    assert summary.as_at == MARCH_2024 and latest_import().as_at == MARCH_2024


def test_cli_refuses_an_older_release_unless_historical(app, app_ctx, releases):
    assert _cli(app, '--as-at', '2025-03-31', releases[2025]).exit_code == 0

    refused = _cli(app, '--as-at', '2024-03-31', releases[2024])
    assert refused.exit_code == 1 and 'older than the latest imported release' in refused.output

    historical = _cli(app, '--as-at', '2024-03-31', '--historical', releases[2024])
    assert historical.exit_code == 0, historical.output
    assert 'for the history only' in historical.output
    assert latest_release_date() == MARCH_2025


def test_cli_refuses_a_large_drop_unless_accepted(app, app_ctx, tmp_path, releases):
    assert _cli(app, '--as-at', '2024-03-31', releases[2024]).exit_code == 0
    cut = write_release(tmp_path / 'cut.csv', MARCH_2025, homes(1, 5))

    refused = _cli(app, '--as-at', '2025-03-31', cut)
    assert refused.exit_code == 1 and '--accept-drop' in refused.output

    accepted = _cli(app, '--as-at', '2025-03-31', '--accept-drop', cut)
    assert accepted.exit_code == 0, accepted.output
    assert 'no longer registered (missing from this release): 15' in accepted.output
