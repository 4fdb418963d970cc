"""Public-text check benchmark: what checking a children's home's name and description costs a directory entry.

Every children's home's entry runs :func:`registry.settings.public_text.setting_findings` whenever it is built
(reindex, outbox drain, provider profile), so its cost is measured against the floor of building the same entry
without the check, in the same run, on transient settings (no database: the query cost is the same either way).

Run: ``.venv/bin/python bench/public_text.py --homes 20000``
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STREETS = ('Kirkstall Road', 'Church Lane', 'Victoria Street', 'Oak Avenue', 'Mill Close', 'The Grove',
           'Station Road', 'Park View', 'High Street', 'Meadow Way')
SENTENCES = (
    'A therapeutic home for up to {places} young people aged {low} to {high}, with a registered manager and '
    '{staff} care staff.',
    'We offer care informed by PACE and DDP, and work closely with the local virtual school.',
    'Rated Good by Ofsted in {year}; the home has a large garden and a sensory room.',
    'The home is {minutes} minutes from the town centre by bus and close to parks and a leisure centre.',
    'Staff hold the Level 3 Diploma in Residential Childcare, and the manager the Level 5.',
    'Children are supported into education, training or work, with a key worker each.',
)


def description(rng: random.Random, length: int) -> str:
    """Believable description text of about ``length`` characters, with the digits real ones carry."""
    parts, size = [], 0
    while size < length:
        sentence = rng.choice(SENTENCES).format(places=rng.randint(2, 5), low=rng.choice((8, 10, 11)),
                                                high=rng.choice((16, 17, 18)), staff=rng.randint(8, 16),
                                                year=rng.randint(2019, 2025), minutes=rng.randint(5, 25))
        parts.append(sentence)
        size += len(sentence) + 1
    return ' '.join(parts)[:length]


def make_settings(count: int, length: int, seed: int):
    from registry.geography.models import LocalAuthority
    from registry.organisations.models import Organisation
    from registry.settings.models import Setting
    from registry.settings.taxonomy import ProvisionType, SexAccepted

    rng = random.Random(seed)
    organisation = Organisation(legal_name='Bench Homes Ltd', id=1)
    authority = LocalAuthority(code='E08000035', name='Leeds', region_code='E12000003', region_name='Yorkshire')
    settings = []
    for index in range(count):
        setting = Setting(id=index + 1, organisation_id=1, provision_type=ProvisionType.CHILDRENS_HOME,
                          name=f'Home {index}', address_line_1=f'{rng.randint(1, 200)} {rng.choice(STREETS)}',
                          address_line_2='', town='Leeds', postcode='LS5 3BT', easting=426009.0, northing=435314.0,
                          district_code='E08000035', district_name='Leeds', authority_code='E08000035', places=4,
                          age_min=8, age_max=17, sex_accepted=SexAccepted.ANY, needs=['autism'],
                          description=description(rng, length), vacancies=1)
        setting.organisation = organisation
        settings.append(setting)
    return settings, authority


def time_entries(settings, authority, rounds: int, checked: bool) -> float:
    """Median CPU seconds to build every entry, with the check or with it replaced by a no-op.

    CPU time rather than wall time, so other processes on a shared machine do not inflate the figures.
    """
    import search.entries as entries

    original = entries.setting_findings
    if not checked:
        entries.setting_findings = lambda setting: []
    try:
        times = []
        for _ in range(rounds):
            start = time.process_time()
            for setting in settings:
                entries._entry(setting, authority, ())
            times.append(time.process_time() - start)
    finally:
        entries.setting_findings = original
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--homes', type=int, default=20000)
    parser.add_argument('--lengths', type=int, nargs='+', default=[200, 600, 2000],
                        help='description lengths in characters (2000 is the most the form allows)')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--seed', type=int, default=2026)
    args = parser.parse_args()

    from registry.app import create_app

    app = create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://', 'TESTING': True})
    print('| description (chars) | homes | entry without check (µs) | entry with check (µs) | check (µs) | ratio |')
    print('| ---: | ---: | ---: | ---: | ---: | ---: |')
    with app.app_context():
        for length in args.lengths:
            settings, authority = make_settings(args.homes, length, args.seed)
            floor = time_entries(settings, authority, args.rounds, checked=False)
            checked = time_entries(settings, authority, args.rounds, checked=True)
            per = 1e6 / args.homes
            print(f'| {length:,} | {args.homes:,} | {floor * per:.1f} | {checked * per:.1f} | '
                  f'{(checked - floor) * per:.1f} | {checked / floor:.2f} |')


if __name__ == '__main__':
    main()
