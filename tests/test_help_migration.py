"""Migration 0034: the staff↔member messages kept so far become one inbox thread per member."""

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command

from core.migrate import alembic_config, upgrade


@pytest.fixture
def old_database(tmp_path, backend):
    if backend != "sqlite":
        pytest.skip("the data migration is engine-neutral SQL; run on a private SQLite file")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0033")
    yield engine
    engine.dispose()


def test_earlier_messages_become_one_thread_per_member(old_database):
    engine = old_database
    now = dt.datetime(2027, 1, 4, 9, 0)
    with engine.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO tenants (id, slug, name, theme, default_locale, locales, currency, timezone, business_date,"
            " branding, status, created_at, updated_at) VALUES (1, 'demo', 'Demo', 'default', 'zh_Hant',"
            " '[\"zh_Hant\"]', 'CNY', 'Asia/Taipei', '2027-01-04', '{}', 'active', ?, ?)",
            (now, now),
        )
        for member_id, phone in ((1, "+8613800138001"), (2, "+8613800138002"), (3, "+8613800138003")):
            c.exec_driver_sql(
                "INSERT INTO members (id, tenant_id, phone, password_hash, display_name, locale, active, created_at,"
                " legal_name, id_type, id_number, verification, verification_note, login_frozen, bidding_frozen,"
                " withdrawal_frozen) VALUES (?, 1, ?, 'x', '', 'zh_Hant', 1, ?, '', '', '', 'unverified', '', 0, 0, 0)",
                (member_id, phone, now),
            )
        rows = [
            (1, "system", "to_member", "Recharge credited"),
            (1, "staff:7:wang", "to_member", "還款提醒"),
            (1, "member", "to_staff", "收到"),
            (2, "member", "to_staff", "請問"),
            (2, "staff:7:wang", "to_member", "已答覆"),
            (3, "system", "to_member", "Withdrawal paid"),
        ]
        for n, (member_id, sender, direction, subject) in enumerate(rows):
            c.exec_driver_sql(
                "INSERT INTO member_messages (tenant_id, member_id, direction, sender, subject, body, created_at)"
                " VALUES (1, ?, ?, ?, ?, 'text', ?)",
                (member_id, direction, sender, subject, now + dt.timedelta(minutes=n)),
            )
    upgrade(engine, "0034")
    with engine.connect() as c:
        threads = c.execute(
            sa.text("SELECT member_id, subject, status, origin, phone FROM help_threads ORDER BY member_id")
        ).all()
        assert [tuple(t) for t in threads] == [
            (1, "還款提醒", "open", "earlier", "+8613800138001"),  # the member wrote last: waiting for staff
            (2, "請問", "answered", "earlier", "+8613800138002"),
        ]
        in_threads = (
            c.execute(sa.text("SELECT subject FROM member_messages WHERE thread_id IS NOT NULL ORDER BY id"))
            .scalars()
            .all()
        )
        assert in_threads == ["還款提醒", "收到", "請問", "已答覆"]
        notices = c.execute(
            sa.text("SELECT subject FROM member_messages WHERE thread_id IS NULL ORDER BY id")
        ).scalars()
        assert list(notices) == ["Recharge credited", "Withdrawal paid"]  # system notices stay outside threads
    command.downgrade(alembic_config(engine), "0033")  # and back: the messages stay, without their threads
    assert "thread_id" not in {c["name"] for c in sa.inspect(engine).get_columns("member_messages")}
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM member_messages")).scalar() == len(rows)
