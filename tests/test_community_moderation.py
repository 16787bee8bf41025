"""Moderation mends: hiding a reported opening post hides its whole topic (and restoring it shows the topic
again); the author of what is hidden and a banned member get a notice, with the reason, in their language."""

import sqlalchemy as sa

from core.community.models import Post, Report, Topic
from core.members.models import Member, Message
from tests.helpers import member_client, staff_client
from tests.test_community import DEMO, board_id, new_topic, open_community, post, topic_id_of


def notices(db, member_id) -> list[Message]:
    with db.transaction() as session:
        return session.scalars(
            sa.select(Message)
            .where(Message.member_id == member_id, Message.thread_id.is_(None), Message.sender == "system")
            .order_by(Message.id)
        ).all()


def opening_of(db, topic) -> Post:
    with db.transaction() as session:
        return session.scalars(sa.select(Post).where(Post.topic_id == topic, Post.opening.is_(True))).one()


def test_hiding_a_reported_opening_post_hides_the_whole_topic(wsgi_app, db, tenants, client):
    open_community(client)
    author, author_id = member_client(wsgi_app, db, "13800000701", name="陳大文")
    reader, _ = member_client(wsgi_app, db, "13800000702", name="李小龍")
    board = board_id(db)
    topic = topic_id_of(new_topic(author, board, "保本高息產品", "私下轉賬，月息百分之十"))
    post(reader, DEMO, f"/community/topics/{topic}", {"body": "這是騙局吧"})
    opening = opening_of(db, topic)
    post(reader, DEMO, f"/community/posts/{opening.id}/report", {"reason": "詐騙"})

    moderator = staff_client(wsgi_app, db, "mod-open", "moderator")
    post(
        moderator,
        DEMO,
        f"/admin/community/posts/{opening.id}",
        {"action": "hide", "reason": "疑似詐騙", "next": "queue"},
        admin=True,
    )
    with db.transaction() as session:
        assert session.get(Topic, topic).status == "hidden" and session.get(Topic, topic).hidden_reason == "疑似詐騙"
        assert session.scalars(sa.select(Report)).one().resolved_at is not None
    listing = client.get(DEMO, f"/community/boards/{board}").text
    assert "保本高息產品" not in listing  # the topic is gone from the list, not only its first post
    thread = reader.get(DEMO, f"/community/topics/{topic}").text
    assert "私下轉賬" not in thread and "這是騙局吧" not in thread

    post(moderator, DEMO, f"/admin/community/posts/{opening.id}", {"action": "restore"}, admin=True)
    with db.transaction() as session:
        assert session.get(Topic, topic).status == "published"
    assert "保本高息產品" in client.get(DEMO, f"/community/boards/{board}").text


def test_the_author_of_hidden_content_is_told_why_in_their_language(wsgi_app, db, tenants, client):
    open_community(client)
    author, author_id = member_client(wsgi_app, db, "13800000711")
    other, other_id = member_client(wsgi_app, db, "13800000712")
    with db.transaction() as session:
        session.get(Member, other_id).locale = "en"
    board = board_id(db)
    topic = topic_id_of(new_topic(author, board, "加我微信", "高息理財"))
    post(other, DEMO, f"/community/topics/{topic}", {"body": "Buy followers here"})
    with db.transaction() as session:
        reply = session.scalars(sa.select(Post).where(Post.topic_id == topic, Post.opening.is_(False))).one()
    moderator = staff_client(wsgi_app, db, "mod-notice", "moderator")
    post(moderator, DEMO, f"/admin/community/posts/{reply.id}", {"action": "hide", "reason": "Spam"}, admin=True)
    post(moderator, DEMO, f"/admin/community/topics/{topic}", {"action": "hide", "reason": "廣告"}, admin=True)

    (told,) = notices(db, other_id)
    assert told.subject == "A moderator hid your reply in \u201c加我微信\u201d" and "Reason: Spam" in told.body
    (told,) = notices(db, author_id)  # a zh_Hant member (the site's language)
    assert "加我微信" in told.subject and "廣告" in told.body and "A moderator" not in told.subject
    assert told.subject in author.get(DEMO, "/account/messages").text


def test_a_banned_member_is_told_until_when_and_why(wsgi_app, db, tenants, client):
    open_community(client)
    spammer, spammer_id = member_client(wsgi_app, db, "13800000721")
    with db.transaction() as session:
        session.get(Member, spammer_id).locale = "en"
    topic = topic_id_of(new_topic(spammer, board_id(db), "快速致富", "加我微信"))
    opening = opening_of(db, topic)
    moderator = staff_client(wsgi_app, db, "mod-ban", "moderator")
    post(moderator, DEMO, f"/admin/community/posts/{opening.id}/ban", {"days": "7", "reason": "Ads"}, admin=True)
    (told,) = notices(db, spammer_id)
    assert told.subject == "You may not post in the community for now"
    assert "until 20" in told.body and "Reason: Ads" in told.body  # the end in the site's local time
    post(moderator, DEMO, f"/admin/community/posts/{opening.id}/ban", {"days": "0", "reason": "Again"}, admin=True)
    assert "until the ban is lifted" in notices(db, spammer_id)[-1].body
    refused = post(moderator, DEMO, f"/admin/community/posts/{opening.id}/ban", {"days": "3", "reason": "x"}, 400, True)
    assert refused.status_int == 400 and len(notices(db, spammer_id)) == 2  # a refused ban tells nobody
