"""organisations: one organisation per Companies House number and per charity number

Partial unique indexes on ``organisations.company_number`` and ``organisations.charity_number``, leaving out blank
numbers (sole traders, partnerships, local authorities have none). The form already refuses a number another
organisation holds; the indexes stop two requests at once (a double click) or any other path from registering one.

A database that already holds two organisations with one number cannot take the index. Which of them is the real
one is a decision for a person, not for a migration, so the upgrade refuses and names the numbers and
organisations: resolve each (keep the organisation the provider uses, correct or clear the other's number, or move
its settings and colleagues across and remove it), then run ``flask db upgrade`` again. Nothing is changed or lost.

Revision ID: c4e3cb8ed634
Revises: 20aa00000001
Create Date: 2026-12-07 05:25:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4e3cb8ed634'
down_revision = '20aa00000001'
branch_labels = None
depends_on = None

#: The unique columns, with how the refusal names them.
NUMBERS = {'company_number': 'Companies House number', 'charity_number': 'charity number'}


def _duplicates() -> list[str]:
    """Each number held by more than one organisation, with those organisations' ids and legal names."""
    bind = op.get_bind()
    problems = []
    for column, label in NUMBERS.items():
        rows = bind.execute(sa.text(
            f"SELECT id, legal_name, {column} FROM organisations WHERE {column} IN ("
            f"SELECT {column} FROM organisations WHERE {column} != '' GROUP BY {column} HAVING count(*) > 1) "
            f"ORDER BY {column}, id")).all()
        held: dict[str, list[str]] = {}
        for organisation_id, legal_name, number in rows:
            held.setdefault(number, []).append(f'{organisation_id} ({legal_name})')
        problems.extend(f'{label} {number} is held by organisations {", ".join(holders)}'
                        for number, holders in held.items())
    return problems


def upgrade():
    problems = _duplicates()
    if problems:
        raise RuntimeError(
            'Cannot make Companies House and charity numbers unique: ' + '; '.join(problems) + '. '
            'For each number decide which organisation is the real one; correct or clear the number on the others '
            '(or move their settings and colleagues to the real one and remove them), then run '
            '"flask db upgrade" again. This migration has changed nothing.')
    for column in NUMBERS:
        where = sa.text(f"{column} != ''")
        op.create_index(f'uq_organisations_{column}', 'organisations', [column], unique=True,
                        sqlite_where=where, postgresql_where=where)


def downgrade():
    for column in NUMBERS:
        op.drop_index(f'uq_organisations_{column}', table_name='organisations')
