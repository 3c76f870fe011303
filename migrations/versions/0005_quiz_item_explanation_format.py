"""quiz items: the explanation's own format

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # NULL: the explanation is written in the item's text_format, as before.
    with op.batch_alter_table('quiz_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('explanation_format', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('quiz_items', schema=None) as batch_op:
        batch_op.drop_column('explanation_format')
