"""session version and audit guards

user.session_version: every signed-in session stores it; logout, a password change, a reset or a
deactivation bumps it, and sessions carrying the old number stop counting.

The audit table's append-only guard (0001 refuses UPDATE and DELETE) had two holes:
- SQLite: INSERT OR REPLACE (or REPLACE INTO) on an existing id deletes the old row through conflict
  resolution, which fires no DELETE trigger (recursive_triggers is off). A BEFORE INSERT trigger now
  refuses an id that is already there; an AFTER INSERT trigger refuses ids below 1, because a BEFORE
  INSERT trigger sees NEW.id = -1 for an id SQLite has not picked yet, and a planted row -1 would
  otherwise block every later audit event.
- PostgreSQL: TRUNCATE fires no row triggers. A BEFORE TRUNCATE statement trigger now refuses it
  (also when the truncate cascades from "user").

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

AUDIT_NO_REPLACE_SQLITE = """
CREATE TRIGGER auditevent_no_replace BEFORE INSERT ON auditevent
WHEN EXISTS (SELECT 1 FROM auditevent WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'auditevent is append-only'); END
"""
AUDIT_POSITIVE_ID_SQLITE = """
CREATE TRIGGER auditevent_positive_id AFTER INSERT ON auditevent
WHEN NEW.id < 1
BEGIN SELECT RAISE(ABORT, 'auditevent ids start at 1'); END
"""
# the function auditevent_append_only() comes from 0001
AUDIT_NO_TRUNCATE_PG = """
CREATE TRIGGER auditevent_no_truncate BEFORE TRUNCATE ON auditevent
FOR EACH STATEMENT EXECUTE FUNCTION auditevent_append_only()
"""


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='1'))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(AUDIT_NO_TRUNCATE_PG)
    else:
        op.execute(AUDIT_NO_REPLACE_SQLITE)
        op.execute(AUDIT_POSITIVE_ID_SQLITE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS auditevent_no_truncate ON auditevent")
    else:
        op.execute("DROP TRIGGER IF EXISTS auditevent_positive_id")
        op.execute("DROP TRIGGER IF EXISTS auditevent_no_replace")
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
