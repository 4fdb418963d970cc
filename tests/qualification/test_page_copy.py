"""What a provider reads back: answers and evidence links render as HTML, never as tags shown as text, and a file
chosen on a page with another error is not lost without a word."""

from __future__ import annotations

import io

from flask import url_for
from sqlalchemy import func, select

from qualification.applications import Evidence
from qualification.schemes import load_scheme
from registry.extensions import db
from tests.house_checks import problems
from tests.qualification.conftest import PDF_BYTES, form_data_for
from tests.qualification.test_views import LOTS, fill_section, section_url, start

TWO_LINES = 'Our safeguarding lead meets the team weekly.\nIncidents are reviewed by the manager within a day.'


def test_check_answers_declaration_and_submitted_copy_show_links_and_line_breaks_not_tags(
        client, login_as, organisation, provider):
    login_as(provider)
    application = start(client, organisation)
    scheme = load_scheme('2026.1')
    for section in scheme.sections_for(LOTS):
        overrides = {'sg-risk-management': TWO_LINES} if section.id == 'safeguarding' else None
        assert fill_section(client, application, section, overrides=overrides).status_code == 302
    evidence = db.session.scalars(select(Evidence).where(Evidence.question_id == 'sg-policy')).one()
    link = f'<a class="govuk-link" href="{url_for("qualification.download_evidence", evidence_id=evidence.id)}">'

    pages = {
        'check': url_for('qualification.check_section', application_id=application.id, section_id='safeguarding'),
        'declaration': url_for('qualification.submit_application', application_id=application.id),
    }
    for name, url in pages.items():
        html = client.get(url).get_data(as_text=True)
        assert problems(html) == [], name
        assert link + 'sg-policy.pdf</a>' in html, name
        assert 'weekly.<br>Incidents' in html, name

    response = client.post(pages['declaration'], data={'name': 'Pat Provider', 'role': 'Director', 'confirm': 'y'})
    assert response.status_code == 302
    submitted = client.get(url_for('qualification.view_snapshot', application_id=application.id))
    html = submitted.get_data(as_text=True)
    assert problems(html) == []
    assert 'sg-policy.pdf</a>' in html and 'weekly.<br>Incidents' in html


def test_a_chosen_file_on_a_page_with_another_error_is_named_so_the_provider_chooses_it_again(
        client, login_as, organisation, provider):
    login_as(provider)
    application = start(client, organisation)
    section = load_scheme('2026.1').section('safeguarding')
    data = form_data_for(section, LOTS, {'sg-risk-management': 'too short'})
    data['sg-policy'] = (io.BytesIO(PDF_BYTES), 'safeguarding-policy.pdf')
    response = client.post(section_url(application, 'safeguarding'), data=data, content_type='multipart/form-data')

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    summary = html.split('govuk-error-summary__list')[1].split('</ul>')[0]
    assert 'Choose safeguarding-policy.pdf again' in summary and 'href="#sg-policy"' in summary
    assert db.session.scalar(select(func.count(Evidence.id))) == 0  # nothing half-saved


def test_the_settings_table_offers_the_ofsted_judgements_by_name(client, login_as, organisation, provider):
    login_as(provider)
    application = start(client, organisation)
    html = client.get(section_url(application, 'regulation')).get_data(as_text=True)
    cell = html.split('name="reg-urns__0__judgement"')[1].split('</select>')[0]
    assert '<option value="good">Good</option>' in cell
    assert '<option value="requires-improvement">Requires improvement</option>' in cell
    assert problems(html) == []
