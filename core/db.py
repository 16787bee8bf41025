"""Database: the declarative base, engines, per-request sessions and the tenant filter.

Every tenant-owned model mixes in :class:`TenantOwned`. A session whose
``info["tenant_id"]`` is set (every request on a tenant's host, every job run
for a tenant) sees and writes only that tenant's rows: reads get a
``with_loader_criteria`` filter, flushes refuse rows of another tenant.
Raw SQL is not filtered and must name the tenant itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
from decimal import Decimal

import sqlalchemy as sa
import zope.sqlalchemy
from sqlalchemy import event
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    declared_attr,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)
from transaction._transaction import Status as TransactionStatus
from zope.sqlalchemy.datamanager import STATUS_ACTIVE, join_transaction

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ExactDecimal(sa.types.TypeDecorator):
    """A ``Decimal`` stored as its canonical string, so no engine turns it into a float."""

    impl = sa.String(40)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"ExactDecimal takes Decimal, not {type(value).__name__}")
        return format(value, "f")

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value)


class UTCDateTime(sa.types.TypeDecorator):
    """An aware UTC datetime on every engine (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value


class SealedJSON(sa.types.TypeDecorator):
    """JSON encrypted at rest (Fernet, with a key derived from ``lendstack.secret``).

    For settings that hold credentials (plugin settings: gateway keys, SMS
    tokens). Rows written before sealing was introduced (plain JSON) still read.
    """

    impl = sa.Text
    cache_ok = True
    PREFIX = "fernet:"

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return self.PREFIX + _sealer().encrypt(json.dumps(value, sort_keys=True).encode()).decode()

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str) and value.startswith(self.PREFIX):
            return json.loads(_unseal(value[len(self.PREFIX) :]))
        return json.loads(value) if isinstance(value, str) else value


@functools.lru_cache(maxsize=4096)
def _unseal(token: str) -> str:
    """The plaintext of one sealed value. Every write seals anew (a fresh IV), so a token names one value
    for good: remembering it saves a decryption per plugin row on every request."""
    return _sealer().decrypt(token.encode()).decode()


_SEALING_KEY: list[bytes] = []


def configure_sealing(secret: str) -> None:
    """Derive the settings-encryption key from the app secret (done by ``make_config``)."""
    digest = hashlib.sha256(b"lendstack sealed settings\0" + secret.encode()).digest()
    _SEALING_KEY[:] = [base64.urlsafe_b64encode(digest)]
    _unseal.cache_clear()


def keyed_hash(purpose: str, text: str) -> str:
    """HMAC-SHA256 (hex) of ``text`` under a key derived from ``lendstack.secret`` for ``purpose``.

    For values drawn from a small space (six-digit one-time codes): a plain hash
    of one is found by trying every value, a keyed one only with the secret.
    """
    if not _SEALING_KEY:
        raise RuntimeError("keyed hashes need configure_sealing(lendstack.secret) first")
    key = hashlib.sha256(b"lendstack keyed hash\0" + purpose.encode() + b"\0" + _SEALING_KEY[0]).digest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _sealer():
    from cryptography.fernet import Fernet

    if not _SEALING_KEY:
        raise RuntimeError("sealed settings need configure_sealing(lendstack.secret) first")
    return Fernet(_SEALING_KEY[0])


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {Decimal: ExactDecimal(), dt.datetime: UTCDateTime()}


class TenantOwned:
    """Mixin for rows owned by one tenant: ``tenant_id`` first, filtered automatically."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)


class CrossTenantWrite(RuntimeError):
    """A session scoped to one tenant was asked to write another tenant's row."""


def scope_to_tenant(session: Session, tenant_id: int | None) -> None:
    """Scope ``session`` to one tenant (``None`` lifts the scope: operator and CLI use)."""
    if tenant_id is None:
        session.info.pop("tenant_id", None)
    else:
        session.info["tenant_id"] = tenant_id


@event.listens_for(Session, "do_orm_execute")
def _refresh_on_lock(state):
    """A locking select refreshes the rows it returns.

    ``SELECT … FOR UPDATE`` waits for the row, but an object already in the
    session's identity map comes back with its old column values unless the
    query says ``populate_existing``: a check made under the lock would read
    what the row held before another transaction changed it (concurrent bids
    over-funded a loan this way). Every locking select in every session gets
    the refresh, so no caller can forget it. Pending changes are flushed
    first (autoflush), so nothing of this transaction's own is lost.
    """
    if state.is_select and getattr(state.statement, "_for_update_arg", None) is not None:
        state.update_execution_options(populate_existing=True)


@event.listens_for(Session, "do_orm_execute")
def _filter_by_tenant(state):
    tenant_id = state.session.info.get("tenant_id")
    if tenant_id is None or state.is_column_load or state.is_relationship_load:
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(
                TenantOwned,
                lambda cls: cls.tenant_id == tenant_id,
                include_aliases=True,
            )
        )


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session, flush_context, instances):
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        return
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantOwned):
            continue
        if obj.tenant_id is None and obj in session.new:
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise CrossTenantWrite(
                f"{type(obj).__name__} of tenant {obj.tenant_id} in a session scoped to tenant {tenant_id}"
            )


def _sqlite_setup(engine: sa.Engine) -> None:
    """WAL, foreign keys, a busy timeout, and ``BEGIN IMMEDIATE`` for every transaction.

    pysqlite's own transaction handling is switched off (SQLAlchemy's documented
    recipe) so that a transaction takes the write lock when it starts: two
    writers then queue on the busy timeout instead of failing on lock upgrade.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # Straight to the driver: this runs before every transaction.
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs) -> sa.Engine:
    """An engine for ``url``; SQLite gets the embedded-mode set-up, others are left as is."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _sqlite_setup(engine)
    return engine


class _JoinTransactionManager:
    """zope.sqlalchemy's session events, listened to once on the session factory.

    ``zope.sqlalchemy.register(session, transaction_manager=…)`` adds seven
    event listeners to every new session, which costs more than a small
    transaction's SQL. Registered once on the factory instead, each session
    joins the transaction manager kept in its ``info["transaction_manager"]``;
    a session without one (a script's plain session) is left alone.
    """

    @staticmethod
    def _manager(session):
        return session.info.get("transaction_manager")

    def _join(self, session, *_args):
        manager = self._manager(session)
        if manager is not None:
            join_transaction(session, STATUS_ACTIVE, manager)

    after_begin = after_attach = _join

    def after_flush(self, session, _flush_context):
        mark_changed(session)

    def after_bulk_update(self, context):
        mark_changed(context.session)

    after_bulk_delete = after_bulk_update

    def before_commit(self, session):
        manager = self._manager(session)
        assert (
            manager is None or session.in_nested_transaction() or (manager.get().status == TransactionStatus.COMMITTING)
        ), "Transaction must be committed using the transaction manager"

    def do_orm_execute(self, state):
        if state.is_orm_statement and (state.is_update or state.is_insert or state.is_delete):
            mark_changed(state.session)


def mark_changed(session: Session) -> None:
    """Tell the transaction manager that ``session`` wrote with Core statements (raw SQL)."""
    manager = session.info.get("transaction_manager")
    if manager is not None:
        zope.sqlalchemy.mark_changed(session, manager)


def make_session_factory(engine: sa.Engine, plugins=None) -> sessionmaker:
    """Sessions on ``engine``; ``plugins`` (the registry) lets core fire lifecycle events (core.events)."""
    factory = sessionmaker(bind=engine, expire_on_commit=False, info={"plugins": plugins} if plugins else {})
    events = _JoinTransactionManager()
    for name in (
        "after_begin",
        "after_attach",
        "after_flush",
        "after_bulk_update",
        "after_bulk_delete",
        "before_commit",
        "do_orm_execute",
    ):
        event.listen(factory, name, getattr(events, name))
    return factory


def tm_session(session_factory: sessionmaker, transaction_manager, **info) -> Session:
    """A session joined to ``transaction_manager``: commit and abort go through it only."""
    return session_factory(info={**info, "transaction_manager": transaction_manager})


def checkpoint(session: Session) -> None:
    """Commit the work so far and go on in a new transaction (long batches: a crash keeps what was done).

    Only for sessions of an explicit transaction manager (jobs, the CLI);
    never inside a request.
    """
    manager = session.info["transaction_manager"]
    manager.commit()
    manager.begin()


def includeme(config):
    """Give every request ``request.dbsession``, joined to the request's transaction."""
    config.include("pyramid_tm")
    config.include("pyramid_retry")
    settings = config.get_settings()
    settings.setdefault("tm.manager_hook", "pyramid_tm.explicit_manager")
    # pyramid_tm would ask for the user before the tenancy tween has found the site (and nobody reads the note)
    settings.setdefault("tm.annotate_user", False)
    # A 4xx or 5xx answer (bad input, refusal, error) aborts the request's transaction:
    # bad input changes nothing.
    settings.setdefault("tm.commit_veto", "pyramid_tm.default_commit_veto")
    settings.setdefault("retry.attempts", 3)
    session_factory = config.registry["dbsession_factory"]

    def dbsession(request):
        session = request.environ.get("app.dbsession")
        if session is None:
            session = tm_session(session_factory, request.tm, request=request)
        return session

    config.add_request_method(dbsession, reify=True)
