"""The project's own copy of the authority and district reference data (Open Government Licence v3.0)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / 'data'

#: Shown wherever this data, or data derived from postcodes, is displayed.
ATTRIBUTION = ('Contains public sector information licensed under the Open Government Licence v3.0. '
               'Contains OS data © Crown copyright and database right 2025. '
               'Contains Royal Mail data © Royal Mail copyright and database right 2025.')


@dataclass(frozen=True)
class DistrictAuthority:
    district_code: str
    district_name: str
    code: str
    name: str
    region_name: str


def authority_rows() -> list[dict[str, str]]:
    """The 153 children's services authorities as in ``data/local_authorities_153.csv``."""
    with open(DATA_DIR / 'local_authorities_153.csv', encoding='utf-8-sig', newline='') as handle:
        return list(csv.DictReader(handle))


@cache
def district_to_authority() -> dict[str, DistrictAuthority]:
    """Every English district code mapped to its children's services authority."""
    with open(DATA_DIR / 'district_to_local_authority.csv', encoding='utf-8-sig', newline='') as handle:
        return {
            row['lad_code']: DistrictAuthority(row['lad_code'], row['lad_name'], row['new_la_code'],
                                               row['la_name'], row['region_name'])
            for row in csv.DictReader(handle)
        }
