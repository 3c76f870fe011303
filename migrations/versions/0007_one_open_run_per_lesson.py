"""one open lesson run per person and lesson

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 09:00:00

Two tabs sending question 1 of a lesson at the same moment each started a run, so a person
could hold several open runs of one lesson. A partial unique index now allows one open run per
person and lesson. Before it can be built, the duplicates already stored are resolved:

- The newest open run of each person and lesson stays open: it is the one the learner was
  continuing in (the app always picked the newest).
- Each older duplicate gives that run every answer it lacks (an attempt for an item, or a
  role-play answer, not yet in the newest run), so no progress is lost. The newest run then
  counts as started when the earliest run that gave it answers started.
- An older run left with nothing is deleted: all it held now lives in the newest run.
- An older run still holding answers (the same question answered in both tabs) is marked
  `abandoned_at`: it keeps its answers, and it is neither open (the index and the app ignore
  it) nor completed (it counts as no completed lesson, on no score).

Nothing is deleted that holds an attempt or a role-play answer, and no review card changes.
Downgrading drops the index and the marker; merged answers stay in the run they moved to.
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OPEN_RUN = sa.text('completed_at IS NULL AND abandoned_at IS NULL')

runs = sa.table(
    'lesson_runs',
    sa.column('id', sa.Integer),
    sa.column('user_id', sa.Integer),
    sa.column('lesson_id', sa.Integer),
    sa.column('started_at', sa.DateTime),
    sa.column('completed_at', sa.DateTime),
    sa.column('abandoned_at', sa.DateTime),
)
attempts = sa.table(
    'attempts', sa.column('run_id', sa.Integer), sa.column('item_id', sa.Integer)
)
roleplay_answers = sa.table(
    'roleplay_answers', sa.column('run_id', sa.Integer), sa.column('roleplay_id', sa.Integer)
)
# What each kind of answer is "to": one answer per run and thing answered.
ANSWERS = ((attempts, 'item_id'), (roleplay_answers, 'roleplay_id'))


def upgrade():
    with op.batch_alter_table('lesson_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('abandoned_at', sa.DateTime(), nullable=True))

    resolve_duplicate_open_runs(op.get_bind())

    with op.batch_alter_table('lesson_runs', schema=None) as batch_op:
        batch_op.create_index(
            'uq_lesson_runs_open',
            ['user_id', 'lesson_id'],
            unique=True,
            sqlite_where=OPEN_RUN,
            postgresql_where=OPEN_RUN,
        )


def downgrade():
    with op.batch_alter_table('lesson_runs', schema=None) as batch_op:
        batch_op.drop_index('uq_lesson_runs_open')
        batch_op.drop_column('abandoned_at')


def resolve_duplicate_open_runs(conn):
    is_open = runs.c.completed_at.is_(None)
    duplicated = (
        sa.select(runs.c.user_id, runs.c.lesson_id)
        .where(is_open)
        .group_by(runs.c.user_id, runs.c.lesson_id)
        .having(sa.func.count() > 1)
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    for user_id, lesson_id in conn.execute(duplicated).all():
        newest, *older = conn.execute(
            sa.select(runs.c.id, runs.c.started_at)
            .where(is_open, runs.c.user_id == user_id, runs.c.lesson_id == lesson_id)
            .order_by(runs.c.id.desc())
        ).all()
        started_at = newest.started_at
        for run in older:  # newest first: of two older answers to one thing, the later moves
            if sum(move_missing_answers(conn, run.id, newest.id)):
                started_at = min(started_at, run.started_at)
            if any(holds_answers(conn, run.id)):
                conn.execute(runs.update().where(runs.c.id == run.id).values(abandoned_at=now))
            else:
                conn.execute(runs.delete().where(runs.c.id == run.id))
        conn.execute(
            runs.update().where(runs.c.id == newest.id).values(started_at=started_at)
        )


def move_missing_answers(conn, from_run, to_run):
    """Move to `to_run` the answers of `from_run` to things `to_run` has no answer to yet."""
    for table, key in ANSWERS:
        taken = sa.select(table.c[key]).where(table.c.run_id == to_run)
        moved = conn.execute(
            table.update()
            .where(table.c.run_id == from_run, table.c[key].not_in(taken))
            .values(run_id=to_run)
        )
        yield moved.rowcount


def holds_answers(conn, run_id):
    for table, _key in ANSWERS:
        yield conn.scalar(sa.select(sa.func.count()).where(table.c.run_id == run_id)) > 0
