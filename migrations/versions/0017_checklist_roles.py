"""observation checklists for some job roles only

Revision ID: 0017
Revises: 0014
Create Date: 2026-11-29 05:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0014'
branch_labels = None
depends_on = None

# The built-in checklists that are not for every role, as trainer/manage/observations.py has
# them (copied: a migration must not change when the code does).
BUILTIN_ROLES = {
    'counter-or-table-greeting': ['teller', 'wait-staff'],
    'collections-call': ['contact-centre', 'teller'],
}


def upgrade():
    with op.batch_alter_table('observation_checklists', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roles', sa.JSON(), server_default='[]', nullable=False))
    checklists = sa.table(
        'observation_checklists', sa.column('key', sa.String), sa.column('roles', sa.JSON)
    )
    for key, roles in BUILTIN_ROLES.items():
        op.execute(checklists.update().where(checklists.c.key == key).values(roles=roles))


def downgrade():
    with op.batch_alter_table('observation_checklists', schema=None) as batch_op:
        batch_op.drop_column('roles')
