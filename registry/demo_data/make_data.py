"""Rebuild the demo data files from the shared Ofsted extract and the ONS Postcode Directory (run once, by hand).

``python -m registry.demo_data.make_data /path/to/shared/data``. The output is committed, so
``flask registry load-demo`` needs neither the shared folder nor a scan of the postcode directory.
"""

from __future__ import annotations

import csv
import math
import random
import shutil
import sys
from pathlib import Path

import brotli
import msgpack

from registry.geography.authorities import district_to_authority
from registry.geography.postcodes import _package_dir

HERE = Path(__file__).parent
#: Provision types the demo builds settings for.
TYPES = {"Children's home", "Children's Home", "Secure children's home", 'Independent Fostering Agency',
         'Residential Family Centre'}
#: Register columns kept (children's homes have name and address redacted by Ofsted).
COLUMNS = ['URN', 'Provision type', 'Registration status', 'Address 1', 'Address 2', 'Town', 'Postcode',
           'Government Office Region', 'Local authority', 'Sector', 'Places', 'Organisation which owns the provider',
           'Latest full inspection date', 'Overall experiences and progress of children and young people']
POSTCODES_PER_AUTHORITY = 8


def copy_register(shared: Path) -> None:
    """The rows and columns of Ofsted's provider-level register that the demo uses."""
    with open(shared / 'ofsted_providers_2025-03-31.csv', encoding='utf-8-sig', newline='') as handle:
        rows = list(csv.reader(handle))
    header = [name.strip() for name in rows[3]]
    index = {name: header.index(name) for name in COLUMNS}
    with open(HERE / 'ofsted_register_2025-03-31.csv', 'w', encoding='utf-8', newline='') as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for row in rows[4:]:
            if row[index['Provision type']] in TYPES:
                writer.writerow([row[index[name]].strip() for name in COLUMNS])
    shutil.copyfile(shared / 'ofsted_2025_non_childrens_homes_geocoded.csv',
                    HERE / 'ofsted_2025_non_childrens_homes_geocoded.csv')


def sample_postcodes(seed: int = 2025) -> None:
    """A few real, mappable postcodes in every authority, for placing fictional children's homes."""
    districts = district_to_authority()
    by_authority: dict[str, list[str]] = {}
    for path in sorted(_package_dir().glob('postcodes_*.msgpack.br')):
        data = msgpack.unpackb(brotli.decompress(path.read_bytes()), raw=False)['data']
        for pcd, district, easting in zip(data['pcd'], data['laua'], data['oseast1m'], strict=True):
            if district in districts and easting is not None and not math.isnan(easting):
                by_authority.setdefault(districts[district].code, []).append(pcd)
    rng = random.Random(seed)
    with open(HERE / 'home_postcodes.csv', 'w', encoding='utf-8', newline='') as out:
        writer = csv.writer(out)
        writer.writerow(['authority_code', 'postcode'])
        for code in sorted(by_authority):
            for pcd in sorted(rng.sample(sorted(by_authority[code]), POSTCODES_PER_AUTHORITY)):
                writer.writerow([code, f'{pcd[:-3].strip()} {pcd[-3:]}'])


if __name__ == '__main__':
    copy_register(Path(sys.argv[1]))
    sample_postcodes()
