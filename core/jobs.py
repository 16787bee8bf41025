"""Background jobs with huey: configuration, enqueue-after-commit, and the task context.

The huey instance is created with in-memory storage at import (a default
``SqliteHuey`` would write ``huey.db`` into the working directory) and the
configured storage is swapped in by :func:`configure`:

``lendstack.jobs.backend = sqlite``   (embedded default, file under ``var/``)
``lendstack.jobs.backend = redis``    with ``lendstack.jobs.redis_url``
``lendstack.jobs.backend = immediate`` tasks run in-process at enqueue (tests)

Tasks are enqueued only after the current transaction commits (:func:`enqueue`),
take ids and ``tenant_id`` as arguments, never ORM objects, and open their own
transaction with :func:`task_session`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import transaction
from huey import Huey
from huey.storage import MemoryStorage, SqliteStorage

from .db import scope_to_tenant, tm_session

huey = Huey("lendstack", storage_class=MemoryStorage, results=False, utc=True)


class _Context:
    """What tasks need from the running app: sessions and the plugin registry."""

    session_factory = None
    plugins = None
    settings: dict = {}


context = _Context()


def configure(settings: dict, session_factory, plugins) -> None:
    """Point huey at the configured storage and give tasks the app's resources."""
    context.session_factory = session_factory
    context.plugins = plugins
    context.settings = settings
    backend = settings.get("lendstack.jobs.backend", "sqlite")
    if backend == "immediate":
        huey.immediate = True
        return
    huey.immediate = False
    if backend == "sqlite":
        path = Path(settings.get("lendstack.jobs.sqlite_path", "var/jobs.sqlite"))
        path.parent.mkdir(parents=True, exist_ok=True)
        huey.storage_class = SqliteStorage
        huey.storage_kwargs = {"filename": str(path)}
    elif backend == "redis":
        from huey.storage import RedisStorage

        huey.storage_class = RedisStorage
        huey.storage_kwargs = {"url": settings["lendstack.jobs.redis_url"]}
    else:
        raise ValueError(f"lendstack.jobs.backend: unknown backend {backend!r}")
    huey.storage = huey.create_storage()


def enqueue(session, task, *args, **kwargs) -> None:
    """Run ``task(*args)`` in the background once ``session``'s transaction commits.

    A transaction that aborts enqueues nothing.
    """
    txn = session.info["transaction_manager"].get()

    def after_commit(success: bool):
        if success:
            task(*args, **kwargs)

    txn.addAfterCommitHook(after_commit)


@contextlib.contextmanager
def task_session(tenant_id: int | None):
    """A session in its own committed transaction, scoped to ``tenant_id``."""
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = tm_session(context.session_factory, manager)
        scope_to_tenant(session, tenant_id)
        yield session


def load_tenant(session, tenant_id: int):
    from .tenancy.models import Tenant

    return session.get(Tenant, tenant_id)
