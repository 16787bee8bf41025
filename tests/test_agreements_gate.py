"""The agreements gate costs little: a member with nothing to accept is checked with one query that reads no
page's words, then not again for the page cache's lifetime; a member with a new version waiting is always
checked afresh, and the wait ends when the lifetime does."""

import pytest
import sqlalchemy as sa

from core.members.agreements import CACHE, AcceptedCache, accepted_all, pending
from core.tenancy.services import tenant_by_slug
from tests.helpers import member_client, submit
from tests.test_agreements import DEMO, publish


class Clock:
    def __init__(self):
        self.now = 1000

    def __call__(self):
        return self.now


@pytest.fixture
def statements(engine):
    """The SQL statements the app runs, as they run."""
    seen = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", note)


@pytest.fixture
def kept(wsgi_app):
    """The gate's cache kept 60 seconds by a clock the test moves (the tests' settings keep nothing)."""
    clock = Clock()
    registry = wsgi_app.registry
    before = registry[CACHE]
    registry[CACHE] = AcceptedCache(60, clock=clock)
    yield clock
    registry[CACHE] = before


def gate_queries(statements) -> list[str]:
    return [s for s in statements if "member_agreements" in s]


def test_one_light_query_then_none_while_kept_and_a_new_version_asked_once_it_ends(
    wsgi_app, db, tenants, statements, kept
):
    publish(db, "terms")
    member, _ = member_client(wsgi_app, db, "13800138631")
    page = member.get(DEMO, "/account/agreements?next=/account")
    submit(member, DEMO, page, {"accept_terms": True}, status=303)
    statements.clear()
    member.get(DEMO, "/account", status=200)
    (query,) = gate_queries(statements)
    assert "body" not in query.split("FROM")[0]  # the check reads no page's words
    statements.clear()
    member.get(DEMO, "/account", status=200)
    assert gate_queries(statements) == []  # kept: no query

    publish(db, "terms", body="## 新版條款\n\n第二版。")
    member.get(DEMO, "/account", status=200)  # within the lifetime the kept answer stands
    kept.now += 61
    member.get(DEMO, "/account", status=303)  # then the new version is asked for
    member.get(DEMO, "/account", status=303)  # and asked for again: a waiting answer is never kept
    page = member.get(DEMO, "/account/agreements")
    submit(member, DEMO, page, {"accept_terms": True}, status=303)
    member.get(DEMO, "/account", status=200)


def test_the_light_check_answers_as_the_full_one(wsgi_app, db, tenants):
    member, member_id = member_client(wsgi_app, db, "13800138632")
    kinds = ("terms", "privacy")

    def both():
        with db.transaction() as session:
            demo = tenant_by_slug(session, "demo")
            full = not pending(session, demo, member_id, kinds, "zh_Hant")
            return accepted_all(session, member_id, kinds), full

    assert both() == (True, True)  # nothing published: nothing to accept
    publish(db, "terms")
    publish(db, "privacy")
    assert both() == (False, False)
    page = member.get(DEMO, "/account/agreements?next=/account")
    submit(member, DEMO, page, {"accept_terms": True}, status=400)
    assert both() == (False, False)
    submit(member, DEMO, page, {"accept_terms": True, "accept_privacy": True}, status=303)
    assert both() == (True, True)
    publish(db, "privacy", body="第二版")
    assert both() == (False, False)
