"""household coverage index

Coverage counts read only household index entries: area, status, kind and the two care flags.
It replaces ix_household_area_status, which is its prefix.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = ['area_code', 'status', 'kind', 'care_agreement_signed', 'wants_institutional_care']


def upgrade() -> None:
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index('ix_household_coverage', COLUMNS, unique=False)
        batch_op.drop_index('ix_household_area_status')


def downgrade() -> None:
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index('ix_household_area_status', ['area_code', 'status'], unique=False)
        batch_op.drop_index('ix_household_coverage')
