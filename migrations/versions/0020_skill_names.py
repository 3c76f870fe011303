"""skill names: each skill's name and its translations, and the translations of the job roles'
names, from lessons/paths.yaml and lessons/paths.<language>.yaml

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 09:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'skills',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('translations', sa.JSON(), nullable=True),
        sa.Column('retired', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_skills')),
        sa.UniqueConstraint('key', name=op.f('uq_skills_key')),
    )
    with op.batch_alter_table('job_roles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('job_roles', schema=None) as batch_op:
        batch_op.drop_column('translations')
    op.drop_table('skills')
