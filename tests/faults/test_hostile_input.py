"""Odd or hostile input gets a message or a 404, never a 500: money that is not a number, date boxes missing from a
POST, ids no database column can hold, and API errors in the JSON its OpenAPI document describes."""

from __future__ import annotations

import pytest
from flask import Flask, url_for
from flask_login import current_user
from jsonschema import validate

from qualification import services
from registry.accounts.models import Role
from registry.app import create_app
from registry.extensions import db
from search.api import openapi_document
from tests.factories import make_user
from tests.qualification.conftest import make_member, make_organisation

ERRORS_SCHEMA = openapi_document()['components']['schemas']['Errors']


# --- money --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('raw', ['inf', '-inf', 'Infinity', 'nan', 'NaN', '1e309', '1e3', '0x10', '12.345', '£',
                                 '١٢٣', '5,000.5.5', '99999999999999', '--5'])
def test_parse_money_refuses_anything_but_plain_pounds(raw):
    from registry.inputs import parse_money

    with pytest.raises(ValueError):
        parse_money(raw)


@pytest.mark.parametrize(('raw', 'pence'), [('5200', 520000), ('£5,200.50', 520050), (' 250.5 ', 25050),
                                            ('0', 0), ('10000000', 1_000_000_000)])
def test_parse_money_reads_pounds_as_people_type_them(raw, pence):
    from registry.inputs import parse_money

    assert parse_money(raw) == pence


@pytest.mark.parametrize('price', ['inf', 'nan', '1e309', '-inf', 'Infinity', '99999999999999999999'])
def test_a_price_that_is_not_a_number_gets_a_message_not_an_error_page(app_ctx, client, login_as, price):
    login_as(make_user(Role.COMMISSIONER))
    response = client.post(url_for('qualification.publish_local_requirements'),
                           data={'lot': 'childrens-homes', 'prices': f'Solo placement | {price}'})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'govuk-error-summary' in page and 'Price schedule line 1' in page


def test_money_field_gives_gov_uk_messages(app_ctx):
    from flask_wtf import FlaskForm
    from werkzeug.datastructures import MultiDict

    from registry.inputs import MoneyField

    class PriceForm(FlaskForm):
        class Meta:
            csrf = False

        weekly_price = MoneyField('Weekly price')

    for raw, message in (('inf', 'Weekly price must be an amount in pounds, like 5200 or 250.50'),
                         ('-5', 'Weekly price must be £0 or more'),
                         ('20000000', 'Weekly price must be £10,000,000 or less')):
        form = PriceForm(formdata=MultiDict({'weekly_price': raw}))
        assert not form.validate() and form.weekly_price.errors == [message]
    form = PriceForm(formdata=MultiDict({'weekly_price': '£4,250.00'}))
    assert form.validate() and form.weekly_price.data == 425000


# --- dates --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(('parts', 'message'), [
    ([], None), (['', '', ''], None), (['1'], 'must include a month and year'), (['1', '2'], 'must include a year'),
    (['31', '2', '2025'], 'must be a real date'), (['1', '2', '25'], 'must be a real date'),
    (['x', '2', '2025'], 'must be a real date'), (['1', '2', '2025', 'extra'], None)])
def test_date_parts_from_any_post(parts, message):
    from registry.inputs import parse_date_parts

    if message is None:
        result = parse_date_parts(parts, 'Start date')
        assert result is None or result.isoformat() == '2025-02-01'
    else:
        with pytest.raises(ValueError, match=message):
            parse_date_parts(parts, 'Start date')


def test_a_section_post_without_its_date_boxes_shows_the_form_again(app_ctx, client, login_as):
    organisation = make_organisation()
    provider = make_member(organisation)
    application = services.start_application(organisation, ['childrens-homes'], actor=provider)
    login_as(provider)
    url = url_for('qualification.edit_section', application_id=application.id, section_id='financial')
    for data in ({'save_and_continue': 'Save and continue'},
                 {'fin-year-end': ['1', '2', '2025', '4', '5'], 'save_and_continue': 'Save and continue'}):
        response = client.post(url, data=data)
        assert response.status_code == 400, response.status_code
        page = response.get_data(as_text=True)
        assert 'govuk-error-summary' in page
        assert 'name="fin-year-end"' in page


def test_the_finder_without_its_date_boxes_asks_for_the_date(app_ctx, client, login_as):
    login_as(make_user(Role.COMMISSIONER))
    response = client.get(url_for('workspace.finder', age='12', sex='female', max_distance='20', postcode='LS1 4DY',
                                  placement='solo', submit='Find placements'))
    assert response.status_code in (200, 400)
    assert 'Enter the placement start date' in response.get_data(as_text=True)
    more = client.get(url_for('workspace.finder', age='12', sex='female', max_distance='20', postcode='LS1 4DY',
                              placement='solo', start_date=['1', '2', '2030', '9'], submit='Find placements'))
    assert more.status_code in (200, 400)


def test_gov_date_field_keeps_three_boxes_whatever_was_posted(app_ctx):
    from flask_wtf import FlaskForm
    from werkzeug.datastructures import MultiDict

    from registry.inputs import GovDateField

    class DateForm(FlaskForm):
        class Meta:
            csrf = False

        start = GovDateField('Start date')

    for values in ([], ['1'], ['1', '2', '2030', '4', '5']):
        form = DateForm(formdata=MultiDict([('start', value) for value in values]))
        form.validate()
        assert len(form.start.raw_data) == 3
        assert 'name="start"' in str(form.start)


# --- ids ----------------------------------------------------------------------------------------------------------

#: The first id past what a PostgreSQL integer holds, the first past SQLite's 64 bits, and far beyond.
HUGE_IDS = [2 ** 31, 2 ** 63, 10 ** 30]


@pytest.mark.parametrize('huge', HUGE_IDS)
def test_ids_no_integer_column_can_hold_are_simply_not_found(app_ctx, client, login_as, huge):
    provider = make_member(make_organisation())
    login_as(make_user(Role.ADMIN))
    for path in (f'/directory/providers/{huge}', f'/admin/users/{huge}', f'/qualification/evidence/{huge}',
                 f'/qualification/board/applications/{huge}'):
        assert client.get(path).status_code == 404, path
    login_as(provider)
    for path in (f'/organisations/{huge}', f'/qualification/applications/{huge}',
                 f'/qualification/applications/{huge}/sections/organisation'):
        assert client.get(path).status_code == 404, path
    for path in (f'/api/v1/settings/{huge}', f'/api/v1/providers/{huge}'):
        response = client.get(path)
        assert response.status_code == 404 and response.is_json, path
        validate(response.get_json(), ERRORS_SCHEMA)
    db.session.remove()


#: Characters Python calls digits that ``int()`` cannot read: superscripts and circled numbers.
DIGITS_INT_CANNOT_READ = ['\u00b2', '\u2460', '1\u00b3']


@pytest.mark.parametrize('odd', DIGITS_INT_CANNOT_READ)
def test_digits_int_cannot_read_are_refused_or_ignored_not_an_error_page(app_ctx, client, login_as, odd):
    login_as(make_user(Role.COMMISSIONER, authority_code='E08000035'))
    finder = url_for('workspace.finder', age='12', sex='female', max_distance='20', postcode='LS1 4DY',
                     placement='solo', start_date=['1', '2', '2030'], submit='Find placements', page=odd)
    for path in (finder, f'/placements/referrals/new?shortlist={odd}', f'/placements/referrals/new?setting={odd}',
                 f'/api/v1/hsds/services?page={odd}', f'/api/v1/hsds/services?per_page={odd}'):
        response = client.get(path)
        assert response.status_code < 500, path
    response = client.post('/workspace/shortlists', data={'name': 'Odd', 'setting': odd})
    assert response.status_code < 500
    assert client.get(f'/notifications/?page={odd}').status_code == 200
    login_as(make_user(Role.BOARD_MEMBER))
    assert client.get(f'/qualification/board/conflicts?organisation_id={odd}').status_code < 500
    db.session.remove()


# --- API errors ---------------------------------------------------------------------------------------------------

@pytest.fixture
def api_app(app_config, tmp_path) -> Flask:
    """An app with one extra API route that fails, to see what a 500 looks like."""
    failing = create_app({**app_config, 'PROPAGATE_EXCEPTIONS': False, 'TESTING': False})

    @failing.route('/api/v1/test-failure')
    def fail():
        raise RuntimeError('a bug')

    return failing


def test_api_errors_come_back_as_json_in_the_documented_shape(api_app):
    client = api_app.test_client()
    cases = [
        (client.get('/api/v1/no-such-thing'), 404),
        (client.get('/api/v1/settings/not-a-number'), 404),
        (client.post('/api/v1/settings'), 405),
        (client.delete('/api/v1/providers/1'), 405),
        (client.get('/api/v1/test-failure'), 500),
    ]
    for response, status in cases:
        assert response.status_code == status
        assert response.mimetype == 'application/json', response.get_data(as_text=True)[:200]
        validate(response.get_json(), ERRORS_SCHEMA)
    assert cases[2][0].headers['Allow'] and 'GET' in cases[2][0].headers['Allow']
    # the pages around the API keep their GOV.UK error pages
    page = client.get('/no-such-page')
    assert page.status_code == 404 and page.mimetype == 'text/html'
    with api_app.app_context():
        db.engine.dispose()


@pytest.fixture
def failing_page_app(app, app_config) -> Flask:
    """An app (on the migrated database) with one page that fails for a signed-in user."""
    failing = create_app({**app_config, 'PROPAGATE_EXCEPTIONS': False, 'TESTING': False})

    @failing.route('/test-failure')
    def fail():
        assert current_user.is_authenticated
        raise RuntimeError('a bug')

    yield failing
    with failing.app_context():
        db.engine.dispose()


def test_a_page_that_fails_for_a_signed_in_user_shows_the_service_error_page(failing_page_app):
    # The rollback before the error page expired the signed-in user and closing the session detached it, so the
    # page's header failed to read it and people saw a bare "Internal Server Error" instead of the GOV.UK page.
    with failing_page_app.test_request_context():
        user_id = make_user(Role.COMMISSIONER, authority_code='E08000035').get_id()
        db.session.remove()
    client = failing_page_app.test_client()
    with client.session_transaction() as session:
        session.update({'_user_id': user_id, '_fresh': True, 'second_factor_verified': True})

    response = client.get('/test-failure')

    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert 'Sorry, there is a problem with the service' in page and 'govuk-header' in page
    assert 'Sign out' in page   # still shown as signed in
