"""Fixtures: an app on a fresh database per backend, tenants from manifests, a WebTest client.

Every test that uses ``engine`` (directly or through ``app``, ``db``, ``tenants``)
runs on SQLite and again on PostgreSQL when ``LENDSTACK_TEST_DATABASE_URL``
names a server; without it the PostgreSQL run is skipped with that reason.
Each PostgreSQL run creates a scratch database and drops it at the end.
"""

from __future__ import annotations

import contextlib
import os
import uuid
import warnings

import pytest
import sqlalchemy as sa
import transaction

warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

from core import make_config  # noqa: E402
from core.db import Base, make_engine, scope_to_tenant, tm_session  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.plugin_registry import PluginRegistry  # noqa: E402

PG_URL = os.environ.get("LENDSTACK_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("LENDSTACK_TEST_REDIS_URL")
SECRET = "test-secret-" + "x" * 40


def _scratch_postgres():
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"lendstack_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = admin.url.set(database=name)
    return admin, name, url.render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request):
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL run skipped: LENDSTACK_TEST_DATABASE_URL is not set")
    return request.param


@pytest.fixture(scope="session")
def database_url(backend, tmp_path_factory):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'lendstack.sqlite'}"
        return
    admin, name, url = _scratch_postgres()
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    admin.dispose()


@pytest.fixture(scope="session")
def plugins():
    registry = PluginRegistry()
    registry.load_entry_points()
    return registry


@pytest.fixture(scope="session")
def settings(database_url, tmp_path_factory):
    return {
        "sqlalchemy.url": database_url,
        "lendstack.secret": SECRET,
        "lendstack.operator_hosts": "operator.localhost",
        "lendstack.jobs.backend": "immediate",
        "lendstack.var_dir": str(tmp_path_factory.mktemp("var")),
        "pyramid.default_locale_name": "en",
        "lendstack.argon2": "cheapest",
        "lendstack.page_cache_seconds": "0",  # tests read their writes at once; tests/test_page_cache.py turns it on
    }


@pytest.fixture(scope="session")
def wsgi_app(settings, plugins):
    config = make_config(settings, plugins)
    engine = config.registry["db_engine"]
    upgrade(engine)
    app = config.make_wsgi_app()
    yield app
    engine.dispose()


@pytest.fixture
def engine(wsgi_app):
    """The app's engine; every table is emptied after the test."""
    from core import jobs

    registry = wsgi_app.registry
    jobs.configure(registry.settings, registry["dbsession_factory"], registry["plugins"])
    engine = registry["db_engine"]
    yield engine
    registry["throttle"].reset()
    transaction.abort()
    tables = reversed(Base.metadata.sorted_tables)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # one round trip for every table (psycopg runs the script at once)
            conn.exec_driver_sql("; ".join(f'DELETE FROM "{table.name}"' for table in tables))
        else:
            for table in tables:
                conn.execute(table.delete())


class Database:
    """Committed transactions for arranging and checking state outside requests."""

    def __init__(self, registry):
        self.registry = registry
        self.factory = registry["dbsession_factory"]

    @contextlib.contextmanager
    def transaction(self, tenant=None):
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            session = tm_session(self.factory, manager)
            scope_to_tenant(session, getattr(tenant, "id", tenant))
            yield session


@pytest.fixture
def db(engine, wsgi_app):
    return Database(wsgi_app.registry)


@pytest.fixture
def apply_manifest(db, plugins, settings):
    """Apply a manifest file (or a dict written to TOML) and return the tenant's slug."""
    from tenants.manifest import apply, apply_file, parse

    def _apply(source):
        with db.transaction() as session:
            if isinstance(source, dict):
                tenant, _ = apply(session, parse(source, "<test>", plugins), ("operator.localhost",))
            else:
                tenant, _ = apply_file(session, source, plugins, ("operator.localhost",))
            return tenant.slug

    return _apply


@pytest.fixture
def tenants(apply_manifest):
    """The shipped demo tenants: ``demo`` (zh_Hant, CNY) and ``acme`` (en, USD, classic)."""
    from tenants.manifest import shipped_manifests

    return [apply_manifest(path) for path in shipped_manifests()]


class Client:
    """WebTest with a host per call: ``client.get("demo.localhost", "/")``."""

    def __init__(self, app):
        from webtest import TestApp

        self.app = TestApp(app)

    def _env(self, host, extra):
        env = {"HTTP_HOST": host}
        env.update(extra or {})
        return env

    def get(self, host, path, status=None, headers=None, extra_environ=None, **kw):
        return self.app.get(path, status=status, headers=headers, extra_environ=self._env(host, extra_environ), **kw)

    def post(self, host, path, params=None, status=None, headers=None, extra_environ=None, **kw):
        return self.app.post(
            path, params=params, status=status, headers=headers, extra_environ=self._env(host, extra_environ), **kw
        )

    def post_json(self, host, path, body, status=None, headers=None, **kw):
        """POST a JSON body (a dict, or a str sent as it is, for malformed JSON)."""
        import json

        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        headers = {"Content-Type": "application/json", **(headers or {})}
        return self.app.post(
            path,
            params=data,
            status=status,
            headers=headers,
            extra_environ=self._env(host, kw.pop("extra_environ", None)),
            **kw,
        )


@pytest.fixture
def client(wsgi_app, engine):
    return Client(wsgi_app)


@pytest.fixture
def registered(plugins):
    """Register plugin objects for one test; they are unregistered afterwards."""
    added = []

    def _register(plugin):
        added.append(plugins.register(plugin))
        return plugin

    yield _register
    for plugin_id in added:
        plugins.unregister(plugin_id)


@pytest.fixture
def served(wsgi_app, engine):
    """The app on a free loopback port (waitress, 12 threads); yields its base URL."""
    from webtest.http import StopableWSGIServer

    server = StopableWSGIServer.create(wsgi_app, threads=12, expose_tracebacks=False)
    yield server.application_url.rstrip("/")
    server.shutdown()


@pytest.fixture
def redis_url():
    if not REDIS_URL:
        pytest.skip("Redis run skipped: LENDSTACK_TEST_REDIS_URL is not set")
    return REDIS_URL


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))
