"""The member community: members post, quote, report; moderators hide, lock, pin, move and ban; per tenant."""

import re

import sqlalchemy as sa

from core.accounts.models import AuditEvent
from core.community.models import Board, Post, Report, Topic
from core.members.models import Member, PointsEntry, Violation
from core.tenancy.services import tenant_by_slug
from tests.helpers import member_client, staff_client

DEMO, ACME = "demo.localhost", "acme.localhost"


def csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def post(client, host, path, data, status=303, admin=False):
    token = csrf(client.get(host, "/admin" if admin else "/account"))
    return client.post(host, path, {**data, "csrf_token": token}, status=status)


def board_id(db, slug="investing", tenant="demo") -> int:
    with db.transaction() as session:
        t = tenant_by_slug(session, tenant)
        return session.scalars(sa.select(Board.id).where(Board.tenant_id == t.id, Board.slug == slug)).one()


def open_community(client, host=DEMO):
    """The community's front page (a site has its default boards from the moment it is applied)."""
    return client.get(host, "/community")


def new_topic(client, board, title, body, status=303, host=DEMO):
    return post(client, host, f"/community/boards/{board}", {"title": title, "body": body}, status)


def topic_id_of(response) -> int:
    return int(re.search(r"/community/topics/(\d+)", response.location).group(1))


def set_community(db, tenant="demo", **values):
    from core.community.boards import settings_of

    with db.transaction() as session:
        t = tenant_by_slug(session, tenant)
        found = settings_of(session, t)
        for key, value in values.items():
            setattr(found, key, value)


def test_members_post_quote_report_and_a_moderator_hides_with_points_taken_back(wsgi_app, db, tenants, client):
    open_community(client)
    set_community(db, points_per_topic=5, points_per_reply=2)
    alice, alice_id = member_client(wsgi_app, db, "13800000101", name="陳大文")
    bob, bob_id = member_client(wsgi_app, db, "13800000102", name="李小龍")
    carol, _carol_id = member_client(wsgi_app, db, "13800000103", name="張三")
    board = board_id(db)
    topic = topic_id_of(new_topic(alice, board, "第一次出借的心得", "分散投資，**小額**開始。"))
    page = client.get(DEMO, f"/community/topics/{topic}")
    assert "第一次出借的心得" in page.text and "<strong>小額</strong>" in page.text
    with db.transaction() as session:
        opening = session.scalars(sa.select(Post).where(Post.topic_id == topic)).one()
    # Bob quotes Alice's opening post: the reply shows her name and her text in a quote.
    quoting = bob.get(DEMO, f"/community/topics/{topic}?quote={opening.id}")
    assert 'name="quote"' in quoting.text
    reply = post(bob, DEMO, f"/community/topics/{topic}", {"body": "同意，我也是這樣做的。", "quote": str(opening.id)})
    assert "#post-" in reply.location
    page = client.get(DEMO, f"/community/topics/{topic}")
    quote = page.html.select_one("blockquote.quote")
    assert quote is not None and opening.author.split(":")[2] in quote.text and "分散投資" in quote.text
    with db.transaction() as session:
        reply_post = session.scalars(sa.select(Post).where(Post.topic_id == topic, Post.opening.is_(False))).one()
        assert session.get(Member, alice_id).vip_points == 5 and session.get(Member, bob_id).vip_points == 2
    # Carol reports Bob's reply, once.
    post(carol, DEMO, f"/community/posts/{reply_post.id}/report", {"reason": "廣告"})
    again = post(carol, DEMO, f"/community/posts/{reply_post.id}/report", {"reason": "廣告"}, status=400)
    assert "already reported" in again.text or "已" in again.text
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1
    # A moderator finds it in the queue and hides it with a reason.
    moderator = staff_client(wsgi_app, db, "mod", "moderator")
    queue = moderator.get(DEMO, "/admin/community")
    assert "同意，我也是這樣做的。" in queue.text and "廣告" in queue.text
    refused = post(moderator, DEMO, f"/admin/community/posts/{reply_post.id}", {"action": "hide"}, 400, admin=True)
    assert refused.status_int == 400
    post(
        moderator,
        DEMO,
        f"/admin/community/posts/{reply_post.id}",
        {"action": "hide", "reason": "廣告內容", "next": "queue"},
        admin=True,
    )
    others = carol.get(DEMO, f"/community/topics/{topic}")
    assert "同意，我也是這樣做的。" not in others.text
    assert "同意，我也是這樣做的。" not in client.get(DEMO, f"/community/topics/{topic}").text
    assert "廣告內容" in bob.get(DEMO, f"/community/topics/{topic}").text  # the author reads why
    assert "廣告內容" in bob.get(DEMO, "/account/posts").text
    with db.transaction() as session:
        # hiding takes back the reply's points; the report is closed
        assert session.get(Member, bob_id).vip_points == 0
        assert [e.points for e in session.scalars(sa.select(PointsEntry).where(PointsEntry.member_id == bob_id))] == [
            2,
            -2,
        ]
        assert session.scalars(sa.select(Report)).one().resolved_at is not None
        actions = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("community.%"))).all()
    assert actions == ["community.post.hide"]
    assert "No open reports" in moderator.get(DEMO, "/admin/community?_LOCALE_=en").text
    # Restoring shows it again and gives the points back.
    post(moderator, DEMO, f"/admin/community/posts/{reply_post.id}", {"action": "restore"}, admin=True)
    assert "同意，我也是這樣做的。" in carol.get(DEMO, f"/community/topics/{topic}").text
    with db.transaction() as session:
        assert session.get(Member, bob_id).vip_points == 2


def test_lock_refuses_replies_pin_sorts_first_and_move_changes_board(wsgi_app, db, tenants, client):
    open_community(client)
    alice, _ = member_client(wsgi_app, db, "13800000111")
    bob, _ = member_client(wsgi_app, db, "13800000112")
    board, other = board_id(db), board_id(db, "borrowing")
    first = topic_id_of(new_topic(alice, board, "舊話題", "第一篇"))
    second = topic_id_of(new_topic(alice, board, "新話題", "第二篇"))
    listing = client.get(DEMO, f"/community/boards/{board}").text
    assert listing.index("新話題") < listing.index("舊話題")  # by last post
    post(bob, DEMO, f"/community/topics/{first}", {"body": "回覆舊話題"})
    listing = client.get(DEMO, f"/community/boards/{board}").text
    assert listing.index("舊話題") < listing.index("新話題")  # a reply brings it up
    moderator = staff_client(wsgi_app, db, "mod2", "moderator")
    post(moderator, DEMO, f"/admin/community/topics/{second}", {"action": "pin"}, admin=True)
    listing = client.get(DEMO, f"/community/boards/{board}").text
    assert listing.index("新話題") < listing.index("舊話題")  # pinned first
    post(moderator, DEMO, f"/admin/community/topics/{first}", {"action": "lock"}, admin=True)
    refused = post(bob, DEMO, f"/community/topics/{first}", {"body": "還能回覆嗎"}, status=400)
    assert "locked" in refused.text or "鎖定" in refused.text
    post(moderator, DEMO, f"/admin/community/topics/{first}", {"action": "move", "board": str(other)}, admin=True)
    assert "舊話題" in client.get(DEMO, f"/community/boards/{other}").text
    assert "舊話題" not in client.get(DEMO, f"/community/boards/{board}").text
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Post).where(Post.topic_id == first)) == 2
        actions = session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert [a for a in actions if a.startswith("community.")] == [
        "community.topic.pin",
        "community.topic.lock",
        "community.topic.move",
    ]


def test_a_banned_member_is_refused_naming_the_ban_and_the_ban_is_on_their_record(wsgi_app, db, tenants, client):
    open_community(client)
    spammer, spammer_id = member_client(wsgi_app, db, "13800000121")
    board = board_id(db)
    topic = topic_id_of(new_topic(spammer, board, "快速致富", "加我微信"))
    with db.transaction() as session:
        opening = session.scalars(sa.select(Post).where(Post.topic_id == topic)).one()
    moderator = staff_client(wsgi_app, db, "mod3", "moderator")
    post(
        moderator,
        DEMO,
        f"/admin/community/posts/{opening.id}/ban",
        {"days": "7", "reason": "發布廣告"},
        admin=True,
    )
    refused = new_topic(spammer, board, "再來一次", "還是廣告", status=400)
    assert "發布廣告" in refused.text
    with db.transaction() as session:
        violation = session.scalars(sa.select(Violation).where(Violation.member_id == spammer_id)).one()
        assert violation.freeze_posting and violation.ends_at is not None and violation.lifted_at is None
        assert session.scalar(sa.select(sa.func.count()).select_from(Topic)) == 1
    record = moderator.get(DEMO, f"/admin/members/{spammer_id}")
    assert "發布廣告" in record.text
    # Lifting the violation on the member's record lets them post again.
    admin = staff_client(wsgi_app, db, "boss", "administrator")
    post(admin, DEMO, f"/admin/members/{spammer_id}/violations", {"lift": str(violation.id)}, admin=True)
    new_topic(spammer, board, "我改過了", "正常發言")


def test_an_unverified_member_may_not_post_unless_the_site_allows_it(wsgi_app, db, tenants, client):
    open_community(client)
    newcomer, _ = member_client(wsgi_app, db, "13800000131", verified=False)
    board = board_id(db)
    refused = new_topic(newcomer, board, "你好", "新人報到", status=400)
    assert "實名認證" in refused.text or "real-name verification" in refused.text
    moderator = staff_client(wsgi_app, db, "mod4", "moderator")
    page = moderator.get(DEMO, "/admin/community/settings")
    assert page.forms  # the settings form
    post(
        moderator,
        DEMO,
        "/admin/community/settings",
        {"points_per_topic": "0", "points_per_reply": "0", "sensitive_words": "", "sensitive_action": "hold"},
        admin=True,
    )
    new_topic(newcomer, board, "你好", "新人報到")
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Topic)) == 1
        assert session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action == "community.settings")).one()


def test_a_sensitive_word_holds_the_post_until_approved_or_refuses_it(wsgi_app, db, tenants, client):
    open_community(client)
    set_community(db, sensitive_words="保證收益\n代客操作", sensitive_action="hold", points_per_topic=3)
    alice, alice_id = member_client(wsgi_app, db, "13800000141")
    board = board_id(db)
    held = new_topic(alice, board, "穩賺不賠", "本平台保證收益百分之二十")
    topic = topic_id_of(held)
    assert "done=held" in held.location
    assert "穩賺不賠" not in client.get(DEMO, f"/community/boards/{board}").text
    client.get(DEMO, f"/community/topics/{topic}", status=404)
    assert "穩賺不賠" in alice.get(DEMO, f"/community/topics/{topic}").text  # its author sees it waiting
    with db.transaction() as session:
        opening = session.scalars(sa.select(Post).where(Post.topic_id == topic)).one()
        assert session.get(Member, alice_id).vip_points == 0
    moderator = staff_client(wsgi_app, db, "mod5", "moderator")
    assert "本平台保證收益百分之二十" in moderator.get(DEMO, "/admin/community").text
    post(moderator, DEMO, f"/admin/community/posts/{opening.id}", {"action": "approve", "next": "queue"}, admin=True)
    assert "穩賺不賠" in client.get(DEMO, f"/community/boards/{board}").text
    assert "本平台保證收益百分之二十" in client.get(DEMO, f"/community/topics/{topic}").text
    with db.transaction() as session:
        assert session.get(Member, alice_id).vip_points == 3  # points once published
    set_community(db, sensitive_action="refuse")
    refused = post(alice, DEMO, f"/community/topics/{topic}", {"body": "可以代客操作"}, status=400)
    assert "代客操作" in refused.text
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Post)) == 1


def test_flooding_is_refused_by_the_rate_limit_and_nothing_is_stored(wsgi_app, db, tenants, client):
    open_community(client)
    alice, _ = member_client(wsgi_app, db, "13800000151")
    board = board_id(db)
    topic = topic_id_of(new_topic(alice, board, "洗版測試", "第一篇"))
    for n in range(4):
        post(alice, DEMO, f"/community/topics/{topic}", {"body": f"回覆 {n}"})
    flooded = post(alice, DEMO, f"/community/topics/{topic}", {"body": "第六篇"}, status=429)
    assert "too often" in flooded.text or "頻繁" in flooded.text or "频繁" in flooded.text
    with db.transaction() as session:
        bodies = session.scalars(sa.select(Post.body).where(Post.topic_id == topic)).all()
    assert len(bodies) == 5 and "第六篇" not in bodies
    other, _ = member_client(wsgi_app, db, "13800000152")  # the limit is per member
    post(other, DEMO, f"/community/topics/{topic}", {"body": "我不受影響"})


def test_search_finds_a_chinese_phrase_inside_a_sentence(wsgi_app, db, tenants, client):
    open_community(client)
    alice, _ = member_client(wsgi_app, db, "13800000161")
    board = board_id(db)
    new_topic(alice, board, "還款日問題", "我想知道提前還款是否需要手續費，謝謝大家。")
    new_topic(alice, board, "Auto-invest", "How does automatic bidding choose loans?")

    def search(query, host=DEMO):
        return client.get(host, "/community/search", params={"q": query}).text

    found = search("手續費")
    assert "還款日問題" in found and "Auto-invest" not in found
    assert "還款日問題" in search("還款日")  # in a title
    assert "還款日問題" in search("提前還款 謝謝")  # every term, anywhere
    assert "Auto-invest" in search("BIDDING")
    assert "還款日問題" not in search("利率")
    assert "還款日問題" not in search("手續費", ACME)
    assert "還款日問題" not in search("%_") and "Auto-invest" not in search("%")  # wildcards match themselves


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><script>alert(2)</script>',
    "<svg onload=alert(3)>",
    "[click](javascript:alert(4))",
    '<a href="jAvAsCrIpT:alert(5)">x</a>',
    "[x](jAvAsCrIpT:alert(6))",
    "![p](https://evil.example/p.png)",
]


def assert_harmless(text: str) -> None:
    """No script the vectors brought, no event handler attribute, no javascript: link, no outside image."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    assert not [s for s in soup.find_all("script") if "alert" in s.get_text()]
    for tag in soup.find_all(True):
        for attribute, value in tag.attrs.items():
            assert not attribute.lower().startswith("on"), tag
            if attribute in ("href", "src", "action"):
                assert not str(value).strip().lower().startswith("javascript:"), tag
        if tag.name == "img":
            assert "evil.example" not in tag.get("src", ""), tag
    assert not soup.find("svg", onload=True)


def test_xss_in_titles_and_bodies_is_rendered_harmless(wsgi_app, db, tenants, client):
    open_community(client)
    alice, _ = member_client(wsgi_app, db, "13800000171")
    board = board_id(db)
    for n, vector in enumerate(XSS):
        wsgi_app.registry["throttle"].reset()  # eight topics in a row: past the posting rate limit
        topic = topic_id_of(new_topic(alice, board, f"{n} {vector}"[:120], f"{vector}\n\n> {vector}"))
    pages = [
        client.get(DEMO, f"/community/boards/{board}").text,
        client.get(DEMO, f"/community/topics/{topic}").text,
        client.get(DEMO, "/community/search?q=alert").text,
        alice.get(DEMO, "/account/posts").text,
    ]
    with db.transaction() as session:
        topics = session.scalars(sa.select(Topic.id)).all()
    pages += [client.get(DEMO, f"/community/topics/{t}").text for t in topics]
    moderator = staff_client(wsgi_app, db, "mod6", "moderator")
    pages += [moderator.get(DEMO, f"/admin/community/topics/{t}").text for t in topics]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]  # the titles are on the page, as text
    for text in pages:
        assert_harmless(text)


def test_another_tenants_boards_topics_and_posts_are_not_found_both_ways(wsgi_app, db, tenants, client):
    open_community(client, DEMO)
    open_community(client, ACME)
    zhang, _ = member_client(wsgi_app, db, "13800000181")
    smith, _ = member_client(wsgi_app, db, "+12025550182", slug="acme", host=ACME, name="John Smith")
    demo_board, acme_board = board_id(db), board_id(db, tenant="acme")
    demo_topic = topic_id_of(new_topic(zhang, demo_board, "鼎信的話題", "只在這裡"))
    acme_topic = topic_id_of(new_topic(smith, acme_board, "Acme topic", "Only here", host=ACME))
    with db.transaction() as session:
        demo_post = session.scalars(sa.select(Post.id).where(Post.topic_id == demo_topic)).one()
        acme_post = session.scalars(sa.select(Post.id).where(Post.topic_id == acme_topic)).one()
    for host, board, topic, post_id, member in (
        (ACME, demo_board, demo_topic, demo_post, smith),
        (DEMO, acme_board, acme_topic, acme_post, zhang),
    ):
        client.get(host, f"/community/boards/{board}", status=404)
        client.get(host, f"/community/topics/{topic}", status=404)
        post(member, host, f"/community/boards/{board}", {"title": "跨站", "body": "跨站"}, status=404)
        wsgi_app.registry["throttle"].reset()
        post(member, host, f"/community/topics/{topic}", {"body": "跨站"}, status=404)
        post(member, host, f"/community/posts/{post_id}/report", {"reason": "x"}, status=404)
    assert "鼎信的話題" not in client.get(ACME, "/community/search", params={"q": "話題"}).text
    demo_mod = staff_client(wsgi_app, db, "mod7", "moderator")
    acme_mod = staff_client(wsgi_app, db, "mod7", "moderator", slug="acme", host=ACME)
    for mod, host, topic, post_id in ((demo_mod, DEMO, acme_topic, acme_post), (acme_mod, ACME, demo_topic, demo_post)):
        mod.get(host, f"/admin/community/topics/{topic}", status=404)
        post(mod, host, f"/admin/community/topics/{topic}", {"action": "pin"}, 404, admin=True)
        post(mod, host, f"/admin/community/posts/{post_id}", {"action": "hide", "reason": "x"}, 404, admin=True)
        post(mod, host, f"/admin/community/posts/{post_id}/ban", {"days": "1", "reason": "x"}, 404, admin=True)
    # moving a topic to another tenant's board is refused as an unknown board
    refused = post(
        demo_mod,
        DEMO,
        f"/admin/community/topics/{demo_topic}",
        {"action": "move", "board": str(acme_board)},
        400,
        admin=True,
    )
    assert refused.status_int == 400
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Post)) == 2
        assert not session.scalars(sa.select(Topic).where(Topic.pinned.is_(True))).all()


def test_staff_without_community_moderate_are_refused_the_moderation_pages(wsgi_app, db, tenants, client):
    open_community(client)
    alice, _ = member_client(wsgi_app, db, "13800000191")
    topic = topic_id_of(new_topic(alice, board_id(db), "一個話題", "內容"))
    editor = staff_client(wsgi_app, db, "editor", "content_editor")
    token = csrf(editor.get(DEMO, "/admin"))
    for path in (
        "/admin/community",
        "/admin/community/settings",
        "/admin/community/boards",
        f"/admin/community/topics/{topic}",
    ):
        editor.get(DEMO, path, status=403)
    for path, data in (
        (f"/admin/community/topics/{topic}", {"action": "lock"}),
        ("/admin/community/settings", {"sensitive_action": "refuse"}),
        ("/admin/community/topics/new", {"title": "x", "body": "y"}),
    ):
        editor.post(DEMO, path, {**data, "csrf_token": token}, status=403)
    assert "/admin/community" not in editor.get(DEMO, "/admin").text
    moderator = staff_client(wsgi_app, db, "mod8", "moderator")
    assert "/admin/community" in moderator.get(DEMO, "/admin").text
    with db.transaction() as session:
        assert not session.get(Topic, topic).locked


def test_staff_post_announcements_that_members_cannot_and_boards_are_edited(wsgi_app, db, tenants, client):
    page = client.get(DEMO, "/community")
    assert "官方公告" in page.text and "投資交流" in page.text
    assert "Announcements" in client.get(ACME, "/community").text
    announcements = board_id(db, "announcements")
    alice, _ = member_client(wsgi_app, db, "13800000201")
    refused = new_topic(alice, announcements, "我來公告", "不行", status=400)
    assert refused.status_int == 400
    moderator = staff_client(wsgi_app, db, "mod9", "moderator")
    done = post(
        moderator,
        DEMO,
        "/admin/community/topics/new",
        {"board": str(announcements), "title": "春節服務時間", "body": "春節期間客服照常。"},
        admin=True,
    )
    assert "/community/topics/" in done.location
    assert "春節服務時間" in client.get(DEMO, f"/community/boards/{announcements}").text
    post(
        moderator,
        DEMO,
        "/admin/community/boards",
        {
            "slug": "events",
            "name_zh_Hant": "活動專區",
            "name_zh_Hans": "活动专区",
            "name_en": "Events",
            "position": "5",
        },
        admin=True,
    )
    assert "活動專區" in client.get(DEMO, "/community").text
    assert "活动专区" in client.get(DEMO, "/community?_LOCALE_=zh_Hans").text
    refused = post(
        moderator, DEMO, "/admin/community/boards", {"slug": "events", "name_zh_Hant": "重複"}, 400, admin=True
    )
    assert refused.status_int == 400
    with db.transaction() as session:
        actions = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("community.%"))).all()
    assert sorted(actions) == ["community.board", "community.topic.post"]


def test_a_members_own_posts_and_paging(wsgi_app, db, tenants, client):
    from core.community.reading import PER_PAGE

    open_community(client)
    alice, alice_id = member_client(wsgi_app, db, "13800000211")
    board = board_id(db)
    topic = topic_id_of(new_topic(alice, board, "長串討論", "開頭"))
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        for n in range(PER_PAGE + 3):  # arranged directly: the rate limit keeps a member to 5 a minute
            session.add(
                Post(
                    tenant_id=demo.id,
                    topic_id=topic,
                    member_id=alice_id,
                    author=f"member:{alice_id}:阿麗",
                    body=f"第{n:02d}樓",
                )
            )
    first = client.get(DEMO, f"/community/topics/{topic}")
    assert "第00樓" in first.text and "第22樓" not in first.text and "page=2" in first.text
    second = client.get(DEMO, f"/community/topics/{topic}?page=2")
    assert "第22樓" in second.text and "第00樓" not in second.text
    mine = alice.get(DEMO, "/account/posts")
    assert "長串討論" in mine.text and "第22樓" in mine.text
    assert "/account/posts" in alice.get(DEMO, "/account").text  # the account area's entry
    assert "/community" in client.get(DEMO, "/").text  # the portal's entry
    client.get(DEMO, "/account/posts", status=302)


def test_community_pages_are_accessible_in_both_themes(wsgi_app, db, tenants, client):
    from tests.test_accessibility import problems

    for slug, host, phone in (("demo", DEMO, "13800000221"), ("acme", ACME, "+12025550222")):
        open_community(client, host)
        member, _ = member_client(wsgi_app, db, phone, slug=slug, host=host, name="Lin")
        board = board_id(db, tenant=slug)
        topic = topic_id_of(new_topic(member, board, "Accessible topic", "A *readable* post.", host=host))
        for path in (
            "/community",
            f"/community/boards/{board}",
            f"/community/topics/{topic}",
            "/community/search?q=readable",
            "/account/posts",
        ):
            page = member.get(host, path)
            assert not problems(page.text), (host, path, problems(page.text))
            assert "Accessible topic" in page.text or path == "/community"
