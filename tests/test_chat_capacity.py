"""100 chats held open do not take the server's threads: pages still answer.

The app runs in a process of its own, served by waitress sized as
development.ini's ``[server:main]`` says (threads, connection limit), as a
deployment runs it. A hundred visitors' pages
poll their chats as chat.js does (``wait=1``, then again after the
``retry_ms`` each answer asks for) while a visitor loads the home page and the
invest list. The pages must answer (200, within the client's timeout); no
timing is asserted beyond that. The figures measured are written to
test-artifacts/chat-capacity-<database>.json; docs/chat.md quotes a run.

``python -m tests.test_chat_capacity SETTINGS.json SERVER.json HOLD`` is the
server process (it prints its port).
"""

import asyncio
import configparser
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.chat import services
from core.chat.models import ChatMessage
from core.tenancy.services import tenant_by_slug

ROOT = Path(__file__).resolve().parents[1]
HEADROOM = 400
"""Connections a server takes beyond one per open chat: other visitors' browsers keep theirs open too."""
CHATS = 100
RUN_SECONDS = 10.0
CLIENT_TIMEOUT = 30.0
HOLD_SECONDS = 3  # shorter than the default: more turns of the waiting room in a short run
DEMO = "demo.localhost"


INI = ROOT / "development.ini"


def server_settings(path: Path = INI) -> dict:
    """The waitress settings of ``path``'s ``[server:main]`` that size the server: threads, connection limit."""
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(path)
    section = ini["server:main"]
    from waitress.adjustments import Adjustments

    return {
        "threads": int(section.get("threads", Adjustments.threads)),
        "connection_limit": int(section.get("connection_limit", Adjustments.connection_limit)),
    }


def serve(settings_file: str, server_file: str, hold: int) -> None:
    """The server process: the test's app on a free loopback port, waitress sized as ``server_file`` says."""
    import warnings

    warnings.filterwarnings("ignore")
    import waitress

    from core import make_config
    from core.chat import waiting
    from core.plugin_registry import PluginRegistry

    waiting.HOLD_SECONDS = hold
    plugins = PluginRegistry()
    plugins.load_entry_points()
    app = make_config(json.loads(Path(settings_file).read_text()), plugins).make_wsgi_app()
    server = waitress.create_server(app, host="127.0.0.1", port=0, **json.loads(Path(server_file).read_text()))
    print(server.effective_port, flush=True)
    server.run()


@pytest.mark.parametrize("ini", ["development.ini", "production.ini"])
def test_the_server_takes_more_connections_than_open_chats(ini):
    """Each open chat's page keeps its browser's connection between polls (keep-alive). Waitress takes 100
    connections by default and leaves the 101st waiting until one has idled for ``channel_timeout`` (120 s):
    a hundred chats would shut every other visitor out. The shipped server sections raise the limit."""
    assert server_settings(ROOT / ini)["connection_limit"] >= CHATS + HEADROOM


async def visitor(http, chat_id, stop, polls, seen):
    after = 1
    while not stop.is_set():
        try:
            response = await http.get(f"/chat/{chat_id}/messages", params={"after": after, "wait": 1})
            answer = response.json()
        except Exception:  # a refused or timed-out poll is counted, and the client tries again later
            polls["errors"] += 1
            await asyncio.sleep(1)
            continue
        for message in answer["messages"]:
            seen[chat_id] = message["text"]
        after = answer["last"]
        polls["held" if answer["retry_ms"] == 0 else "at_once"] += 1
        await asyncio.sleep(answer["retry_ms"] / 1000)


async def drive(base: str, tokens, post_message) -> dict:
    import httpx

    stop = asyncio.Event()
    polls = {"held": 0, "at_once": 0, "errors": 0}
    seen = {}
    clients = [
        httpx.AsyncClient(
            base_url=base, headers={"Host": DEMO}, cookies={"lendstack_chat": token}, timeout=CLIENT_TIMEOUT
        )
        for _chat_id, token in tokens
    ]
    tasks = [
        asyncio.create_task(visitor(http, chat_id, stop, polls, seen))
        for http, (chat_id, _token) in zip(clients, tokens)
    ]
    pages = []
    await asyncio.sleep(2)  # every chat polls by now
    async with httpx.AsyncClient(base_url=base, headers={"Host": DEMO}, timeout=CLIENT_TIMEOUT) as browser:
        started = time.monotonic()
        while time.monotonic() - started < RUN_SECONDS:
            for path in ("/", "/invest"):
                began = time.monotonic()
                response = await browser.get(path)
                pages.append((path, response.status_code, time.monotonic() - began))
                await asyncio.sleep(0.2)
    chat_id = tokens[CHATS // 2][0]
    posted = time.monotonic()
    await asyncio.to_thread(post_message, chat_id)
    while chat_id not in seen and time.monotonic() - posted < 10:
        await asyncio.sleep(0.05)
    delivered = time.monotonic() - posted if chat_id in seen else None
    stop.set()
    await asyncio.gather(*tasks)
    for http in clients:
        await http.aclose()
    return {"pages": pages, "polls": polls, "seen": seen, "chat_id": chat_id, "delivered": delivered}


def test_a_hundred_open_chats_leave_pages_answering(wsgi_app, db, tenants, settings, tmp_path):
    tokens = []
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        for n in range(CHATS):
            token = services.new_token()
            chat = services.open_chat(session, tenant, name=f"訪客{n}", body="您好", token=token)
            tokens.append((chat.id, token))

    def post_message(chat_id):
        with db.transaction() as session:
            services.say(session, chat_id, "排隊中的訪客您好")  # from another process than the server's

    settings_file = tmp_path / "settings.json"
    settings_file.write_text(json.dumps(settings))
    sizes = server_settings()
    server_file = tmp_path / "server.json"
    server_file.write_text(json.dumps(sizes))
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.test_chat_capacity", str(settings_file), str(server_file), str(HOLD_SECONDS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        text=True,
    )
    try:
        port = int(server.stdout.readline())
        result = _run_apart(drive(f"http://127.0.0.1:{port}", tokens, post_message))
    finally:
        server.terminate()
        server.wait(10)

    pages, polls = result["pages"], result["polls"]
    assert pages and all(status == 200 for _path, status, _seconds in pages), pages
    assert result["seen"].get(result["chat_id"]) == "排隊中的訪客您好"
    assert polls["errors"] == 0 and polls["held"] + polls["at_once"] >= CHATS
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ChatMessage)) == CHATS + 1
    seconds = [s for _path, _status, s in pages]
    report = {
        "database": db.registry["db_engine"].dialect.name,
        **sizes,
        "chats": CHATS,
        "hold_seconds": HOLD_SECONDS,
        "page_loads": len(pages),
        "page_seconds_median": round(statistics.median(seconds), 3),
        "page_seconds_max": round(max(seconds), 3),
        "polls_held": polls["held"],
        "polls_answered_at_once": polls["at_once"],
        "polls_per_second": round((polls["held"] + polls["at_once"]) / (RUN_SECONDS + 2), 1),
        "message_delivered_seconds": round(result["delivered"], 3),
    }
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / f"chat-capacity-{report['database']}.json").write_text(json.dumps(report, indent=2))


def _run_apart(coroutine):
    """Run ``coroutine`` on an event loop of its own thread (a browser test on this worker may hold the main
    thread's loop)."""
    import threading

    box = {}

    def run():
        try:
            box["result"] = asyncio.run(coroutine)
        except BaseException as error:  # handed to the test's thread
            box["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], int(sys.argv[3]))
