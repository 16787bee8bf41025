"""Rate limits hold under concurrent requests to a served app (each client its own thread and connection):
exactly the limit is accepted, the rest answered 429 with nothing stored, and the counts kept beside the posts
(a topic's replies) stay exact."""

import concurrent.futures
import re
import threading

import httpx
import sqlalchemy as sa

from core.chat.models import ChatMessage
from core.community.models import Post, Topic
from core.throttle import RULES
from tests.conftest import Client
from tests.helpers import member_client
from tests.test_chat import on_duty, open_chat
from tests.test_community import DEMO, board_id, new_topic, open_community, topic_id_of


def race(count, work):
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        return work(i)

    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def limit_of(rule: str) -> int:
    return int(re.match(r"(\d+)/", RULES[rule]).group(1))


def browser(client: Client, path: str) -> tuple[dict, str]:
    """The cookies of a WebTest client and the CSRF token of one of its pages, for httpx clients."""
    page = client.get(DEMO, path)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return {c.name: c.value for c in client.app.cookiejar}, token


def test_concurrent_replies_accept_exactly_the_limit_per_member_and_count_every_reply(
    served, wsgi_app, db, tenants, client
):
    open_community(client)
    author, _ = member_client(wsgi_app, db, "13800000801")
    topic = topic_id_of(new_topic(author, board_id(db), "一起討論", "歡迎回覆"))
    limit, tries, members = limit_of("community.post.minute"), limit_of("community.post.minute") + 3, 3
    browsers = [browser(member_client(wsgi_app, db, f"1380000081{n}")[0], "/account") for n in range(members)]

    def reply(i):
        cookies, token = browsers[i % members]
        with httpx.Client(base_url=served, headers={"Host": DEMO}, cookies=cookies, timeout=60) as http:
            answer = http.post(f"/community/topics/{topic}", data={"csrf_token": token, "body": f"回覆 {i}"})
            return i % members, answer.status_code

    answers = race(members * tries, reply)
    for member in range(members):
        statuses = sorted(status for who, status in answers if who == member)
        assert statuses == [303] * limit + [429] * (tries - limit), answers
    with db.transaction() as session:
        replies = session.scalar(
            sa.select(sa.func.count()).select_from(Post).where(Post.topic_id == topic, Post.opening.is_(False))
        )
        assert replies == members * limit
        assert session.get(Topic, topic).replies == members * limit  # no reply lost from the topic's count


def test_concurrent_chat_messages_accept_exactly_the_limit(served, wsgi_app, db, tenants):
    on_duty(wsgi_app, db)
    visitor = Client(wsgi_app)
    chat_id = open_chat(visitor)
    cookies, token = browser(visitor, f"/chat/{chat_id}")
    limit = limit_of("chat.say")
    tries = limit + 10

    def say(i):
        with httpx.Client(base_url=served, headers={"Host": DEMO}, cookies=cookies, timeout=60) as http:
            answer = http.post(
                f"/chat/{chat_id}/say",
                data={"csrf_token": token, "body": f"第 {i} 句"},
                headers={"Accept": "application/json"},
            )
            return answer.status_code

    statuses = race(tries, say)
    assert sorted(statuses) == [200] * limit + [429] * (tries - limit), statuses
    with db.transaction() as session:
        said = session.scalars(
            sa.select(ChatMessage.seq).where(ChatMessage.chat_id == chat_id, ChatMessage.author == "visitor")
        ).all()
    assert len(said) == 1 + limit  # the opening message and exactly the limit
    with db.transaction() as session:
        every = session.scalars(sa.select(ChatMessage.seq).where(ChatMessage.chat_id == chat_id)).all()
    assert sorted(every) == list(range(1, len(every) + 1))  # each message its own place in the chat
