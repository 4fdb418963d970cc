"""Index writes touch only what changed: an entry whose words are unchanged (a vacancy, a judgement, a local list)
is updated in place, the full-text index left alone; the index so written holds exactly what one built afresh from
the same settings would, so searches cannot tell the two apart."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text

from qualification.models import LocalApplication, LocalApplicationStatus
from registry.db import utcnow
from registry.extensions import db
from registry.settings.taxonomy import Judgement, Lot
from search.entries import build_entries
from search.models import SearchEntry, SearchEntryAuthority, SearchEntryNeed, SearchVocabulary
from search.query import parse_query
from tests.search.conftest import MANCHESTER


@pytest.fixture
def engine(sql_engine):
    return sql_engine


def index_contents() -> dict:
    """Every row of the index's tables, the full-text index's words included, in a comparable form."""
    entries = SearchEntry.__table__
    contents = {
        'entries': sorted(tuple(row) for row in db.session.execute(select(entries).order_by(entries.c.id))),
        'needs': sorted(tuple(row) for row in db.session.execute(select(SearchEntryNeed.__table__))),
        'accepted': sorted(tuple(row) for row in db.session.execute(select(SearchEntryAuthority.__table__))),
        'vocabulary': sorted(tuple(row) for row in db.session.execute(select(SearchVocabulary.__table__))),
    }
    if db.engine.dialect.name == 'postgresql':
        contents['words'] = sorted(tuple(row) for row in db.session.execute(
            text('SELECT entry_id, vector::text FROM search_words')))
    else:
        contents['words'] = sorted(tuple(row) for row in db.session.execute(
            text('SELECT doc, term, col, offset FROM search_fts_instances')))
    return contents


def full_text_state() -> list[tuple]:
    """What moves whenever the full-text index is written: each ``search_words`` row's transaction id on
    PostgreSQL; FTS5's blocks (segments and their structure record) on SQLite."""
    if db.engine.dialect.name == 'postgresql':
        return list(db.session.execute(text('SELECT entry_id, xmin::text FROM search_words ORDER BY entry_id')))
    return list(db.session.execute(text('SELECT id, block FROM search_fts_data ORDER BY id')))


def statements_while(action) -> list[str]:
    """The SQL statements ``action`` sends, upper-cased and on one line each."""
    sent = []

    def record(_connection, _cursor, statement, *_args):
        sent.append(' '.join(statement.split()).upper())

    event.listen(db.engine, 'before_cursor_execute', record)
    try:
        action()
    finally:
        event.remove(db.engine, 'before_cursor_execute', record)
    return sent


def test_a_vacancy_write_is_one_update_and_leaves_the_full_text_index_alone(engine, directory):
    directory.oak_house.vacancies = 0
    db.session.commit()
    untouched = full_text_state()

    sent = statements_while(lambda: (engine.index(build_entries([directory.oak_house.id])), db.session.commit()))

    written = [statement for statement in sent if statement.startswith(('INSERT', 'UPDATE', 'DELETE'))
               and 'SEARCH_INDEX_' not in statement]   # the version row and change log move on every write
    assert len(written) == 1 and written[0].startswith('UPDATE SEARCH_ENTRIES SET')
    assert full_text_state() == untouched
    found = engine.query(parse_query({'q': 'autism', 'has_vacancy': 'yes'})).hits
    assert directory.oak_house.id not in {hit.entry.id for hit in found}
    assert directory.oak_house.id in {hit.entry.id for hit in engine.query(parse_query({'q': 'autism'})).hits}


def test_an_index_written_in_place_holds_what_a_fresh_build_would(engine, directory):
    oak, leeds = directory.oak_house, directory.leeds_fostering
    oak.vacancies, oak.judgement = 0, Judgement.OUTSTANDING
    oak.needs = ['autism', 'mental-health']   # one need gone, one added: the needs' words change too
    leeds.vacancies = 0
    db.session.add(LocalApplication(organisation_id=leeds.organisation_id, authority_code=MANCHESTER,
                                    lot=Lot.FOSTERING, status=LocalApplicationStatus.ACCEPTED, decided_at=utcnow()))
    directory.willow_lodge.name = 'Willow Lodge Annexe'
    db.session.commit()
    for setting in (oak, leeds, directory.willow_lodge, directory.riverside):   # riverside: nothing changed
        engine.index(build_entries([setting.id]))
        db.session.commit()
    written = index_contents()

    engine.reindex(build_entries())

    assert written == index_contents()
    assert {hit.entry.name for hit in engine.query(parse_query({'q': 'annexe'})).hits} == {'Willow Lodge Annexe'}
    assert leeds.id in {hit.entry.id for hit in engine.query(parse_query({'accepted_by': MANCHESTER})).hits}


def test_a_need_taken_off_leaves_the_needs_filter_and_its_words(engine, directory):
    oak = directory.oak_house
    oak.needs = ['emotional-behavioural']
    db.session.commit()
    engine.index(build_entries([oak.id]))
    db.session.commit()

    assert oak.id not in {hit.entry.id for hit in engine.query(parse_query({'need': 'autism'})).hits}
    assert oak.id in {hit.entry.id for hit in engine.query(parse_query({'need': 'emotional-behavioural'})).hits}
    # "autism" is still in Oak House's description, so the word search finds it as before
    assert oak.id in {hit.entry.id for hit in engine.query(parse_query({'q': 'autism'})).hits}
