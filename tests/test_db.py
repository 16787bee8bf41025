"""The automatic tenant filter and the schema's guarantees."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core.db import Base, CrossTenantWrite
from core.sms import SmsMessage
from core.tenancy.models import TenantHost
from core.tenancy.services import tenant_by_slug


def add_sms(session, tenant, phone):
    session.add(SmsMessage(tenant_id=tenant.id, phone=phone, body="hi", purpose="test"))


def test_a_scoped_session_sees_only_its_tenants_rows(db, tenants):
    with db.transaction() as session:
        demo, acme = tenant_by_slug(session, "demo"), tenant_by_slug(session, "acme")
        add_sms(session, demo, "+8613800138000")
        add_sms(session, acme, "+12025550143")
    with db.transaction(demo) as session:
        assert [m.phone for m in session.scalars(sa.select(SmsMessage))] == ["+8613800138000"]
        assert {h.host for h in session.scalars(sa.select(TenantHost))} == {"demo.localhost", "localhost", "127.0.0.1"}
        other = session.scalars(sa.select(SmsMessage.id).execution_options(populate_existing=True)).all()
        assert len(other) == 1
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SmsMessage)) == 2


def test_orm_updates_and_deletes_are_filtered_too(db, tenants):
    with db.transaction() as session:
        demo, acme = tenant_by_slug(session, "demo"), tenant_by_slug(session, "acme")
        add_sms(session, demo, "+8613800138000")
        add_sms(session, acme, "+12025550143")
    with db.transaction(demo) as session:
        session.execute(sa.update(SmsMessage).values(status="sent"))
        session.execute(sa.delete(SmsMessage).where(SmsMessage.status == "queued"))
    with db.transaction() as session:
        rows = {m.phone: m.status for m in session.scalars(sa.select(SmsMessage))}
    assert rows == {"+8613800138000": "sent", "+12025550143": "queued"}


def test_get_by_id_of_another_tenant_finds_nothing(db, tenants):
    with db.transaction() as session:
        acme = tenant_by_slug(session, "acme")
        demo_id = tenant_by_slug(session, "demo").id
        add_sms(session, acme, "+12025550143")
        session.flush()
        acme_sms = session.scalars(sa.select(SmsMessage.id)).one()
    with db.transaction(demo_id) as session:
        assert session.scalars(sa.select(SmsMessage).where(SmsMessage.id == acme_sms)).first() is None


def test_writing_another_tenants_row_is_refused(db, tenants):
    with db.transaction() as session:
        acme_id = tenant_by_slug(session, "acme").id
        demo_id = tenant_by_slug(session, "demo").id
    with pytest.raises(CrossTenantWrite):
        with db.transaction(demo_id) as session:
            session.add(SmsMessage(tenant_id=acme_id, phone="+1", body="x", purpose="x"))
    with db.transaction(demo_id) as session:
        message = SmsMessage(phone="+8613800138000", body="x", purpose="x")
        session.add(message)
        session.flush()
        assert message.tenant_id == demo_id


def test_migrations_match_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_sqlite_runs_with_foreign_keys_and_wal(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas: this run is on PostgreSQL")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
