"""board review and local lists: reviews, clarifications, lot decisions, reminders, local requirements;
the application status gains decision-proposed

Revision ID: 7f7604af6fb2
Revises: 606c7ea6c57e
Create Date: 2026-11-23 17:50:43.039638

"""
from alembic import op
import sqlalchemy as sa

import registry.db


# revision identifiers, used by Alembic.
revision = '7f7604af6fb2'
down_revision = '606c7ea6c57e'
branch_labels = None
depends_on = None

_OLD_STATUSES = ('draft', 'submitted', 'in-review', 'clarification-requested', 'approved', 'rejected', 'withdrawn')
_NEW_STATUSES = _OLD_STATUSES[:4] + ('decision-proposed',) + _OLD_STATUSES[4:]
_OLD_OPEN = ('clarification-requested', 'draft', 'in-review', 'submitted')
_NEW_OPEN = ('clarification-requested', 'decision-proposed', 'draft', 'in-review', 'submitted')


def _in(values) -> str:
    return ', '.join(f"'{value}'" for value in values)


def _application_statuses(statuses, open_statuses) -> None:
    """Replace the status CHECK constraint and the one-open-application index (SQLite rebuilds the table)."""
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('uq_applications_one_open_per_organisation')
        batch_op.drop_constraint(op.f('ck_applications_application_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_applications_application_status'), sa.text(f'status IN ({_in(statuses)})'))
    with op.batch_alter_table('applications', schema=None) as batch_op:
        where = sa.text(f'status IN ({_in(open_statuses)})')
        batch_op.create_index('uq_applications_one_open_per_organisation', ['organisation_id'], unique=True,
                              sqlite_where=where, postgresql_where=where)


def upgrade():
    _application_statuses(_NEW_STATUSES, _NEW_OPEN)
    op.create_table('local_requirements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('authority_code', sa.String(length=9), nullable=False),
    sa.Column('lot', sa.Enum('childrens-homes', 'fostering', 'assessment-services', name='local_requirements_lot', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('documents', sa.JSON(), nullable=False),
    sa.Column('price_schedule', sa.JSON(), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', registry.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['authority_code'], ['local_authorities.code'], name=op.f('fk_local_requirements_authority_code_local_authorities')),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_local_requirements_published_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_local_requirements')),
    sa.UniqueConstraint('authority_code', 'lot', 'version', name='uq_local_requirements_version')
    )
    with op.batch_alter_table('local_requirements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_local_requirements_authority_code'), ['authority_code'], unique=False)

    op.create_table('application_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('assessor_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', registry.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_at', registry.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('signed_off_by_id', sa.Integer(), nullable=True),
    sa.Column('signed_off_at', registry.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_reviews_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['assessor_id'], ['users.id'], name=op.f('fk_application_reviews_assessor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_application_reviews_proposed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['signed_off_by_id'], ['users.id'], name=op.f('fk_application_reviews_signed_off_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_reviews')),
    sa.UniqueConstraint('application_id', name=op.f('uq_application_reviews_application_id'))
    )
    with op.batch_alter_table('application_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_reviews_assessor_id'), ['assessor_id'], unique=False)

    op.create_table('clarification_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', registry.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_clarification_requests_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_clarification_requests_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clarification_requests'))
    )
    with op.batch_alter_table('clarification_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clarification_requests_application_id'), ['application_id'], unique=False)

    op.create_table('lot_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('lot', sa.String(length=40), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_lot_decisions_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_lot_decisions_proposed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lot_decisions')),
    sa.UniqueConstraint('application_id', 'lot', name='uq_lot_decisions_lot')
    )
    op.create_table('question_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.String(length=80), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_question_reviews_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_question_reviews_reviewer_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_reviews')),
    sa.UniqueConstraint('application_id', 'question_id', name='uq_question_reviews_question')
    )
    op.create_table('qualification_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('qualification_id', sa.Integer(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('days_before', sa.Integer(), nullable=False),
    sa.Column('sent_at', registry.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['qualification_id'], ['qualifications.id'], name=op.f('fk_qualification_reminders_qualification_id_qualifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qualification_reminders')),
    sa.UniqueConstraint('qualification_id', 'valid_to', 'days_before', name='uq_qualification_reminders_once')
    )
    with op.batch_alter_table('local_applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requirements_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('answers', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('accepts_terms', sa.String(length=3), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('submitted_at', registry.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_at', registry.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_local_applications_requirements_id_local_requirements'), 'local_requirements', ['requirements_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_local_applications_decided_by_id_users'), 'users', ['decided_by_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('qualifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('application_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_qualifications_application_id'), ['application_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_qualifications_application_id_applications'), 'applications', ['application_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('qualifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_qualifications_application_id_applications'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_qualifications_application_id'))
        batch_op.drop_column('application_id')

    with op.batch_alter_table('local_applications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_local_applications_decided_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_local_applications_requirements_id_local_requirements'), type_='foreignkey')
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('decided_by_id')
        batch_op.drop_column('submitted_at')
        batch_op.drop_column('accepts_terms')
        batch_op.drop_column('answers')
        batch_op.drop_column('requirements_id')

    op.drop_table('qualification_reminders')
    op.drop_table('question_reviews')
    op.drop_table('lot_decisions')
    with op.batch_alter_table('clarification_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clarification_requests_application_id'))

    op.drop_table('clarification_requests')
    with op.batch_alter_table('application_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_reviews_assessor_id'))

    op.drop_table('application_reviews')
    with op.batch_alter_table('local_requirements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_local_requirements_authority_code'))

    op.drop_table('local_requirements')
    op.execute("UPDATE applications SET status = 'in-review' WHERE status = 'decision-proposed'")
    _application_statuses(_OLD_STATUSES, _OLD_OPEN)
