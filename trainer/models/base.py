from datetime import UTC, datetime

from sqlalchemy import Insert, MetaData, Table, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session

# Named constraints from day one: SQLite migrations rebuild tables and need the names.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Naive UTC: stored the same way on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


def insert_skipping_duplicates(session: Session, table: Table) -> Insert:
    """An INSERT that leaves out rows whose unique key another process stored first."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    return insert(table)  # pragma: no cover - the product supports SQLite and PostgreSQL


def use_once(session: Session, model, row_id: int, now) -> bool:
    """Mark a one-time row (a link, a card) used at `now`, unless another request did it first:
    one conditional update, so two requests with the same link cannot both use it. Not
    committed; False when it was used already."""
    claimed = session.execute(
        update(model)
        .where(model.id == row_id, model.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1
