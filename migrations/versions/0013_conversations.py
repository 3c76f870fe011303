"""conversations: branching role-plays, their runs, and their decisions as review items

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 02:40:31.411999

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

OPEN_RUN = sa.text('finished_at IS NULL')


def upgrade():
    op.create_table('conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('skill', sa.String(length=64), nullable=False),
    sa.Column('setting', sa.String(length=64), nullable=False),
    sa.Column('start', sa.String(length=120), nullable=False),
    sa.Column('nodes', sa.JSON(), nullable=False),
    sa.Column('best_score', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('source_path', sa.String(length=500), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['quiz_id'], ['quizzes.id'], name=op.f('fk_conversations_quiz_id_quizzes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations')),
    sa.UniqueConstraint('key', name=op.f('uq_conversations_key')),
    sa.UniqueConstraint('quiz_id', name=op.f('uq_conversations_quiz_id'))
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversations_skill'), ['skill'], unique=False)

    op.create_table('conversation_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('lesson_run_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('node', sa.String(length=120), nullable=False),
    sa.Column('steps', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('best', sa.Integer(), nullable=True),
    sa.Column('ending', sa.String(length=8), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_runs_conversation_id_conversations')),
    sa.ForeignKeyConstraint(['lesson_run_id'], ['lesson_runs.id'], name=op.f('fk_conversation_runs_lesson_run_id_lesson_runs')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_conversation_runs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_runs'))
    )
    with op.batch_alter_table('conversation_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_runs_lesson_run_id'), ['lesson_run_id'], unique=False)
        batch_op.create_index('ix_conversation_runs_user_conversation', ['user_id', 'conversation_id'], unique=False)
        batch_op.create_index('uq_conversation_runs_open', ['user_id', 'conversation_id'], unique=True, sqlite_where=OPEN_RUN, postgresql_where=OPEN_RUN)

    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conversation_run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('step', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_attempts_conversation_run_id_step'), ['conversation_run_id', 'step'])
        batch_op.create_foreign_key(batch_op.f('fk_attempts_conversation_run_id_conversation_runs'), 'conversation_runs', ['conversation_run_id'], ['id'])

    with op.batch_alter_table('lessons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conversation_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_lessons_conversation_id_conversations'), 'conversations', ['conversation_id'], ['id'])

    # Quiz files and conversations each have their own ids: a conversation's decisions are the
    # items of a quiz of kind "conversation", keyed by the conversation's id.
    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='quiz', nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_quizzes_key'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_quizzes_kind_key'), ['kind', 'key'])



def downgrade():
    # What conversations left behind goes with them: their decisions' attempts, cards and logs.
    items = (
        'SELECT quiz_items.id FROM quiz_items JOIN quizzes ON quizzes.id = quiz_items.quiz_id'
        " WHERE quizzes.kind = 'conversation'"
    )
    attempts = f'SELECT id FROM attempts WHERE item_id IN ({items})'
    cards = f'SELECT id FROM review_cards WHERE item_id IN ({items})'
    op.execute(f'DELETE FROM review_logs WHERE card_id IN ({cards}) OR attempt_id IN ({attempts})')
    op.execute(f'DELETE FROM review_cards WHERE id IN ({cards})')
    op.execute(f'DELETE FROM attempts WHERE id IN ({attempts})')
    op.execute('UPDATE lessons SET conversation_id = NULL')

    with op.batch_alter_table('lessons', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_lessons_conversation_id_conversations'), type_='foreignkey')
        batch_op.drop_column('conversation_id')

    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_attempts_conversation_run_id_conversation_runs'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_attempts_conversation_run_id_step'), type_='unique')
        batch_op.drop_column('step')
        batch_op.drop_column('conversation_run_id')

    with op.batch_alter_table('conversation_runs', schema=None) as batch_op:
        batch_op.drop_index('uq_conversation_runs_open')
        batch_op.drop_index('ix_conversation_runs_user_conversation')
        batch_op.drop_index(batch_op.f('ix_conversation_runs_lesson_run_id'))

    op.drop_table('conversation_runs')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversations_skill'))

    op.drop_table('conversations')
    op.execute(f'DELETE FROM quiz_items WHERE id IN ({items})')
    op.execute("DELETE FROM quizzes WHERE kind = 'conversation'")

    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_quizzes_kind_key'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_quizzes_key'), ['key'])
        batch_op.drop_column('kind')
