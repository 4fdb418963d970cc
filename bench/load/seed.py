"""Seed the load-test database: provider accounts with draft applications, and the ids of listed providers.

Run by run.sh after ``flask registry load-demo`` and ``flask search reindex``; writes ``accounts.json`` next to the
database for the locustfile. Everything goes through the real services.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from registry.accounts import services as account_services
from registry.accounts.models import Role
from registry.app import create_app
from registry.extensions import db

PASSWORD = 'load-test-passphrase-2026'
PROVIDERS = 20


def main(out: Path) -> None:
    """Create the providers (idempotently) and write their emails, application ids and the listed providers."""
    from qualification import services as qualification_services
    from registry.organisations import services as organisation_services
    from search.entries import build_entries

    app = create_app()
    with app.test_request_context():
        accounts = []
        for n in range(PROVIDERS):
            email = f'load{n}@load.example.org'
            user = account_services.find_user_by_email(email) or account_services.create_user(
                email=email, full_name=f'Load Provider {n}', password=PASSWORD, role=Role.PROVIDER, verified=True)
            organisation = user.memberships[0].organisation if getattr(user, 'memberships', None) else None
            if organisation is None:
                organisation = organisation_services.create_organisation({
                    'legal_name': f'Load Test Care {n} Ltd', 'trading_name': '',
                    'legal_form': 'company-limited-by-shares', 'company_number': f'{90000000 + n}',
                    'charity_number': '', 'sector': 'private', 'address_line_1': '1 Park Row', 'address_line_2': '',
                    'town': 'Leeds', 'postcode': 'LS1 4DY', 'contact_name': 'Load Tester',
                    'contact_email': email, 'contact_phone': '0113 496 0000', 'website': ''}, actor=user)
            application = (qualification_services.open_application(organisation.id)
                           or qualification_services.start_application(organisation, ['childrens-homes'],
                                                                        actor=user))
            accounts.append({'email': email, 'password': PASSWORD, 'application_id': application.id})
        providers = sorted({entry.organisation_id for entry in build_entries()})
        out.write_text(json.dumps({'providers': accounts, 'profiles': providers}))
        db.session.remove()
    print(f'seeded {len(accounts)} provider accounts; {len(providers)} listed providers')


if __name__ == '__main__':
    main(Path(sys.argv[1]))
