"""Scheme versions published by the board, and supported accommodation as a provision type and lot

``scheme_versions`` gains a status (draft or published, replacing ``is_published``), the uploaded YAML, the day
the version takes effect and who uploaded and published it. The provision-type and lot CHECK constraints gain
``supported-accommodation`` (and the lot columns grow to hold it).

Downgrading turns Ofsted register rows of the new type back into "not covered" (NULL); it refuses while any
other row uses the new type or lot, rather than delete them.

Revision ID: 14bb00000001
Revises: 683c7a1a1afd
Create Date: 2026-12-06 15:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '14bb00000001'
down_revision = '683c7a1a1afd'
branch_labels = None
depends_on = None

_OLD_TYPES = ('childrens-home', 'secure-childrens-home', 'independent-fostering-agency', 'local-authority-fostering',
              'residential-family-centre', 'assessment-service')
_NEW_TYPES = (*_OLD_TYPES, 'supported-accommodation')
_OLD_LOTS = ('childrens-homes', 'fostering', 'assessment-services')
_NEW_LOTS = (*_OLD_LOTS, 'supported-accommodation')

#: (table, column, CHECK constraint name) for every provision-type and lot column.
_TYPE_COLUMNS = (('settings', 'provision_type', 'provision_type'),
                 ('ofsted_register', 'provision_type', 'ofsted_provision_type'),
                 ('referrals', 'provision_type', 'referral_provision_type'),
                 ('referral_responses', 'provision_type', 'response_provision_type'),
                 ('placements', 'provision_type', 'placement_provision_type'))
_LOT_COLUMNS = (('qualifications', 'lot', 'qualification_lot'),
                ('local_requirements', 'lot', 'local_requirements_lot'),
                ('local_applications', 'lot', 'local_application_lot'))


def _in(values) -> str:
    return ', '.join(f"'{value}'" for value in values)


def _checks(columns, values, length: int | None = None) -> None:
    for table, column, name in columns:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_{name}'), type_='check')
            if length is not None:
                batch_op.alter_column(column, existing_nullable=False, type_=sa.String(length=length))
            batch_op.create_check_constraint(op.f(f'ck_{table}_{name}'), sa.text(f'{column} IN ({_in(values)})'))


def upgrade():
    _checks(_TYPE_COLUMNS, _NEW_TYPES)
    _checks(_LOT_COLUMNS, _NEW_LOTS, length=23)

    with op.batch_alter_table('scheme_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False, server_default='draft'))
        batch_op.add_column(sa.Column('content', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('effective_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('uploaded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('published_by_id', sa.Integer(), nullable=True))
    op.execute(sa.text("UPDATE scheme_versions SET status = 'published' WHERE is_published"))
    with op.batch_alter_table('scheme_versions', schema=None) as batch_op:
        batch_op.alter_column('status', server_default=None, existing_type=sa.String(length=20),
                              existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_scheme_versions_scheme_version_status'),
                                         sa.text("status IN ('draft', 'published')"))
        batch_op.create_foreign_key(batch_op.f('fk_scheme_versions_uploaded_by_id_users'), 'users',
                                    ['uploaded_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_scheme_versions_published_by_id_users'), 'users',
                                    ['published_by_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_column('is_published')


def downgrade():
    bind = op.get_bind()
    in_use = []
    for table, column, _name in _TYPE_COLUMNS[:1] + _TYPE_COLUMNS[2:] + _LOT_COLUMNS:
        count = bind.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {column} = 'supported-accommodation'"))
        if count.scalar():
            in_use.append(table)
    uploaded = bind.execute(sa.text('SELECT count(*) FROM scheme_versions WHERE content IS NOT NULL')).scalar()
    problems = ([f'supported accommodation is used in {", ".join(in_use)}'] if in_use else []) + (
        [f'{uploaded} scheme version(s) were uploaded in the service'] if uploaded else [])
    if problems:
        raise RuntimeError(f'Cannot downgrade: {"; ".join(problems)}. Remove them first.')
    op.execute(sa.text("UPDATE ofsted_register SET provision_type = NULL "
                       "WHERE provision_type = 'supported-accommodation'"))

    with op.batch_alter_table('scheme_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_published', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(sa.text("UPDATE scheme_versions SET is_published = (status = 'published')"))
    with op.batch_alter_table('scheme_versions', schema=None) as batch_op:
        batch_op.alter_column('is_published', server_default=None, existing_type=sa.Boolean(),
                              existing_nullable=False)
        batch_op.drop_constraint(batch_op.f('fk_scheme_versions_published_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_scheme_versions_uploaded_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(op.f('ck_scheme_versions_scheme_version_status'), type_='check')
        batch_op.drop_column('published_by_id')
        batch_op.drop_column('uploaded_by_id')
        batch_op.drop_column('effective_from')
        batch_op.drop_column('content')
        batch_op.drop_column('status')

    _checks(_LOT_COLUMNS, _OLD_LOTS, length=20)
    _checks(_TYPE_COLUMNS, _OLD_TYPES)

