"""Jobs: enqueued after commit only; SMS delivery through the tenant's provider; Redis storage."""

import sqlalchemy as sa

from core import jobs
from core.sms import SmsMessage, deliver_sms, queue_sms
from core.tenancy.services import tenant_by_slug


def statuses(db):
    with db.transaction() as session:
        return [(m.status, m.provider) for m in session.scalars(sa.select(SmsMessage).order_by(SmsMessage.id))]


def test_a_committed_sms_is_delivered_through_the_outbox(db, tenants):
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        queue_sms(session, demo, "13800138000", "驗證碼 123456", "verify")
    assert statuses(db) == [("sent", "outbox")]


CALLS = []


@jobs.huey.task()
def record(value):
    CALLS.append(value)


def test_an_aborted_transaction_enqueues_nothing(db, tenants):
    CALLS.clear()

    with db.transaction() as session:
        jobs.enqueue(session, record, 1)
        session.info["transaction_manager"].abort()
        session.info["transaction_manager"].begin()
    assert CALLS == []


def test_enqueue_waits_for_the_commit(db, tenants):
    CALLS.clear()

    with db.transaction() as session:
        jobs.enqueue(session, record, 7)
        assert CALLS == []
    assert CALLS == [7]


def test_without_an_enabled_provider_the_message_fails_visibly(db, tenants, apply_manifest):
    import tomllib

    from tenants.manifest import SHIPPED

    data = tomllib.loads((SHIPPED / "acme.toml").read_text())
    data["plugins"]["sms.outbox"] = {"enabled": False}
    apply_manifest(data)
    with db.transaction() as session:
        queue_sms(session, tenant_by_slug(session, "acme"), "+12025550143", "code 1", "verify")
    with db.transaction() as session:
        message = session.scalars(sa.select(SmsMessage)).one()
        assert message.status == "failed" and "no SMS provider" in message.error


def test_queue_sms_refuses_a_bad_phone_and_records_nothing(db, tenants):
    import pytest

    from core.sms import SmsError

    with pytest.raises(SmsError):
        with db.transaction() as session:
            queue_sms(session, tenant_by_slug(session, "demo"), "12", "x", "verify")
    assert statuses(db) == []


def _run_queued_on(storage_settings, db, settings):
    registry = db.registry
    jobs.configure({**settings, **storage_settings}, registry["dbsession_factory"], registry["plugins"])
    try:
        jobs.huey.flush()
        with db.transaction() as session:
            queue_sms(session, tenant_by_slug(session, "demo"), "13800138000", "hello", "notice")
        assert statuses(db) == [("queued", None)]
        assert jobs.huey.pending_count() == 1
        task = jobs.huey.dequeue()
        jobs.huey.execute(task)
        assert statuses(db) == [("sent", "outbox")]
    finally:
        jobs.huey.flush()
        jobs.configure(settings, registry["dbsession_factory"], registry["plugins"])


def test_sqlite_storage_queues_until_a_consumer_runs_the_task(db, tenants, settings, tmp_path):
    _run_queued_on(
        {"lendstack.jobs.backend": "sqlite", "lendstack.jobs.sqlite_path": str(tmp_path / "jobs.sqlite")}, db, settings
    )


def test_redis_storage_queues_until_a_consumer_runs_the_task(db, tenants, settings, redis_url):
    _run_queued_on({"lendstack.jobs.backend": "redis", "lendstack.jobs.redis_url": redis_url}, db, settings)


def test_the_delivery_job_is_idempotent(db, tenants):
    with db.transaction() as session:
        message = queue_sms(session, tenant_by_slug(session, "demo"), "13800138000", "x", "verify")
        tenant_id, message_id = message.tenant_id, message.id
    deliver_sms.call_local(tenant_id, message_id)
    assert statuses(db) == [("sent", "outbox")]


def test_every_task_is_registered_when_the_app_starts(wsgi_app):
    """The consumer knows a task only if its module was imported at start-up."""
    from core.jobs import huey

    names = set(huey._registry._registry)
    assert {"core.sms.deliver_sms", "core.mail.deliver_mail", "core.loans.schedule_jobs.hourly"} <= names
