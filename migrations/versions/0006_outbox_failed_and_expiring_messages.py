"""outbox: messages refused for good or expired are marked failed

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 01:07:56.717184

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_outbox_pending'))
        batch_op.create_index('ix_outbox_pending', ['sent_at', 'failed_at', 'next_attempt_at'], unique=False)


def downgrade():
    # The older code knows no failed state: park failed messages out of its reach rather than
    # let it send an expired reminder or retry a refusal.
    op.execute(
        "update outbox set next_attempt_at = '9999-12-31 00:00:00' where failed_at is not null"
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending')
        batch_op.create_index(batch_op.f('ix_outbox_pending'), ['sent_at', 'next_attempt_at'], unique=False)
        batch_op.drop_column('failed_at')
        batch_op.drop_column('expires_at')
