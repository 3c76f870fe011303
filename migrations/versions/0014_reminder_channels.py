"""messages on the learner's own channel: push subscriptions, per-channel deliveries, reminder
channel and days off

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 03:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('short', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('url', sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column('channel', sa.String(length=16), server_default='email', nullable=False)
        )

    op.create_table(
        'outbox_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('to', sa.String(length=254), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('failed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['message_id'], ['outbox.id'], name=op.f('fk_outbox_deliveries_message_id_outbox'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_deliveries')),
        sa.UniqueConstraint('message_id', 'position', name=op.f('uq_outbox_deliveries_message_id_position')),
    )
    # Every message so far was email: its route is that one channel, as it stands.
    op.execute(
        'insert into outbox_deliveries (message_id, position, channel, "to", attempts,'
        ' last_error, sent_at, failed_at)'
        " select id, 0, 'email', \"to\", attempts, last_error, sent_at,"
        " case when failed_at is not null and expires_at is not null and failed_at >= expires_at"
        " then null else failed_at end from outbox"
    )

    op.create_table(
        'push_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('endpoint', sa.String(length=1000), nullable=False),
        sa.Column('p256dh', sa.String(length=100), nullable=False),
        sa.Column('auth', sa.String(length=40), nullable=False),
        sa.Column('device', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_push_subscriptions_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
        sa.UniqueConstraint('endpoint', name=op.f('uq_push_subscriptions_endpoint')),
    )
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_subscriptions_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_channel', sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column('reminder_days_off', sa.String(length=7), server_default='', nullable=False)
        )


def downgrade():
    # The older code sends email only: messages waiting on another channel would go to the
    # wrong address, so park them out of its reach (failed, with the reason).
    op.execute(
        "update outbox set failed_at = coalesce(next_attempt_at, created_at),"
        " last_error = 'not sent: the app was downgraded to email only'"
        " where channel != 'email' and sent_at is null and failed_at is null"
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('reminder_days_off')
        batch_op.drop_column('reminder_channel')

    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_subscriptions_user_id'))
    op.drop_table('push_subscriptions')
    op.drop_table('outbox_deliveries')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('channel')
        batch_op.drop_column('url')
        batch_op.drop_column('short')
