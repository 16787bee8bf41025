"""Every ``lendstack`` command that README.md, docs/ and ``make demo`` show, run as shown on a fresh database.

The commands are read out of the documents themselves: a command the docs
show that the scenario below does not run, an option the docs give that the
scenario never passes, or a documented command or option the CLI does not
have fails :func:`test_every_documented_command_runs_on_a_fresh_database` /
:func:`test_the_docs_show_only_commands_and_options_that_exist`. The
``make demo`` recipe is run line by line as the Makefile writes it.

Everything goes through click's runner with a real ini file, the real plugin
manager (entry points, plus one listening plugin registered as it loads) and
committing transactions; ``serve`` and ``worker`` run with waitress and the
huey consumer's loop replaced, since they would run forever. The hourly
close-of-day job runs inside ``lendstack worker`` as its consumer would:
the periodic task read from the schedule, enqueued on the configured
storage, dequeued and executed by a consumer worker.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import uuid
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli import main
from core import PluginInfo, hookimpl
from core.plugin_registry import PluginRegistry

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MAKEFILE = ROOT / "Makefile"
PG_URL = os.environ.get("LENDSTACK_TEST_DATABASE_URL")
OPTION = re.compile(r"^\[?(-{1,2}[a-zA-Z][\w-]*)\]?$")
INVOCATION = re.compile(r"(?<![\w./$-])lendstack[ \t]+(?=[a-z])")
ALWAYS = {"-c", "--config", "-h", "--help"}


# -- what the documents show ----------------------------------------------------


def _snippets(text: str) -> list[str]:
    """Code as the documents show it: fenced and indented lines, and inline spans (even across a line break)."""
    snippets, prose, fenced = [], [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif fenced or line.startswith("    "):
            snippets.append(line)
        else:
            prose.append(line)
    snippets += [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", "\n".join(prose))]
    return snippets


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def resolve(words: list[str], group: click.Group = main) -> tuple[tuple[str, ...], list[str]]:
    """The command path the words name (``("ledger", "verify")``) and the words after it."""
    path, command = [], group
    while words and isinstance(command, click.Group) and words[0] in command.commands:
        command = command.commands[words[0]]
        path.append(words.pop(0))
    return tuple(path), words


def _command(path: tuple[str, ...]) -> click.Command:
    command = main
    for name in path:
        command = command.commands[name]
    return command


def _options(words: list[str]) -> set[str]:
    return {m.group(1) for m in map(OPTION.match, words) if m}


def documented_commands() -> dict[tuple[str, ...], set[str]]:
    """Every command path the documents show, with the options they show for it.

    ``lendstack tenant list | show SLUG`` shows ``tenant list`` and ``tenant
    show``; a path ending at a group (``lendstack ledger``) names the group.
    """
    shown: dict[tuple[str, ...], set[str]] = {}
    for document in DOCUMENTS:
        for snippet in _snippets(document.read_text(encoding="utf-8")):
            for found in INVOCATION.finditer(snippet):
                rest = re.split(r"\s#", snippet[found.end() :])[0]
                parent: tuple[str, ...] = ()
                for n, segment in enumerate(re.split(r"\s\|\s", rest)):
                    group = _command(parent) if n else main
                    path, words = resolve(_words(segment), group)
                    if n and not path:
                        continue
                    path = parent + path
                    shown.setdefault(path, set()).update(_options(words))
                    if isinstance(_command(path), click.Group) and words and not OPTION.match(words[0]):
                        shown.setdefault(path + (words[0],), set())  # a command the CLI does not have
                    parent = path[:-1]
    return shown


def make_demo_commands(ini: str) -> list[tuple[list[str], dict]]:
    """The ``lendstack`` lines of ``make demo``'s recipes, in the order make runs them, as (args, env)."""
    text = MAKEFILE.read_text().replace("\\\n", " ")
    variables = dict(re.findall(r"^(\w+)\s*:?=\s*(.*)$", text, re.M))
    rules = {target: deps.split() for target, deps in re.findall(r"^([\w-]+):(?!=)([^\n]*)$", text, re.M)}
    recipes: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        rule = re.match(r"^([\w-]+):(?!=)", line)
        if rule:
            current = rule.group(1)
        elif line.startswith("\t") and current:
            recipes.setdefault(current, []).append(line.strip())
    order: list[str] = []

    def visit(target):
        for dep in rules.get(target, []):
            if dep in rules and dep not in order:
                visit(dep)
        order.append(target)

    visit("demo")
    commands = []
    for target in order:
        for line in recipes.get(target, []):
            loop = re.match(r"for (\w+) in ([^;]+);\s*do\s+(.*?);?\s*done$", line)
            bodies = [(loop.group(3), {loop.group(1): v}) for v in loop.group(2).split()] if loop else [(line, {})]
            for body, loop_vars in bodies:
                for part in re.split(r";|\|\||&&", body):
                    if "$(BIN)/lendstack " not in part:
                        continue
                    for name, value in loop_vars.items():
                        part = part.replace(f"$${name}", value)
                    part = re.sub(
                        r"\$\((\w+)\)",
                        lambda m: ini if m.group(1) == "CONFIG" else variables.get(m.group(1), m.group(0)),
                        part,
                    )
                    words = _words(part.strip())
                    binary = next(i for i, w in enumerate(words) if w.endswith("/lendstack"))
                    env = dict(w.split("=", 1) for w in words[:binary])  # VAR=value before the command
                    args = words[binary + 1 :]
                    expanded = []
                    for word in args:  # the shell expands globs from the repository root
                        expanded += sorted(str(p) for p in ROOT.glob(word)) if "*" in word else [word]
                    commands.append((expanded, env))
    return commands


# -- a fresh install -------------------------------------------------------------


class CloseWatch:
    """A plugin that notes every close of day it is told of (enabled per tenant in its manifest)."""

    PLUGIN = PluginInfo(id="test.close_watch", kind="extension", name="Close-of-day watch")

    def __init__(self):
        self.seen: list[tuple[str, dt.date, dt.date]] = []

    @hookimpl
    def lendstack_close_of_day(self, tenant, business_date):
        self.seen.append((tenant.slug, tenant.business_date, business_date))


@pytest.fixture
def watch(monkeypatch):
    """Every plugin registry the commands load from entry points also holds the watch plugin."""
    watch = CloseWatch()
    real = PluginRegistry.load_entry_points

    def load_entry_points(self):
        real(self)
        self.register(watch)

    monkeypatch.setattr(PluginRegistry, "load_entry_points", load_entry_points)
    return watch


@pytest.fixture
def fresh_database_url(backend, tmp_path):
    """An empty database of its own: a new SQLite file, or a scratch PostgreSQL database dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite'}"
        return
    from core.db import make_engine

    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"lendstack_cli_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    admin.dispose()


@pytest.fixture
def restore_jobs():
    """The commands point the process's huey at their ini's storage: put the test app's back afterwards."""
    from huey.storage import MemoryStorage

    from core import jobs

    saved = (jobs.context.settings, jobs.context.session_factory, jobs.context.plugins)
    yield
    if saved[0]:
        jobs.configure(*saved)
    else:
        jobs.huey.immediate = False
        jobs.huey.storage_class, jobs.huey.storage_kwargs = MemoryStorage, {}
        jobs.huey.storage = jobs.huey.create_storage()
        jobs.context.settings, jobs.context.session_factory, jobs.context.plugins = saved


@pytest.fixture
def ini(tmp_path, settings, fresh_database_url, restore_jobs):
    """A real ini file as an install has: the fresh database, jobs queued in SQLite, a [server:main]."""
    app = {
        **settings,
        "sqlalchemy.url": fresh_database_url,
        "lendstack.jobs.backend": "sqlite",
        "lendstack.jobs.sqlite_path": str(tmp_path / "var" / "jobs.sqlite"),
        "lendstack.var_dir": str(tmp_path / "var"),
    }
    lines = ["[app:main]", "use = egg:lendstack"]
    lines += [f"{key} = {str(value).replace('%', '%%')}" for key, value in app.items()]
    lines += ["", "[server:main]", "use = egg:waitress#main", "listen = 127.0.0.1:6599 [::1]:6599", "threads = 3"]
    path = tmp_path / "install.ini"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


class Runner:
    """``lendstack`` through click's runner, remembering which commands and options ran."""

    def __init__(self, ini: str):
        self.ini = ini
        self.ran: dict[tuple[str, ...], set[str]] = {}

    def __call__(self, *args, env=None, expect=0):
        path, words = resolve(list(args))
        self.ran.setdefault(path, set()).update(_options(words))
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == expect, f"lendstack {' '.join(args)} → {result.exit_code}\n{result.output}"
        return result

    def json(self, *args):
        return json.loads(self(*args, "--json").output)


@pytest.fixture
def served(monkeypatch):
    """``waitress.serve`` and the worker child process replaced: what ``lendstack serve`` asked of them."""
    import subprocess

    import waitress

    calls = {"serve": [], "children": []}

    class Child:
        def __init__(self, args):
            calls["children"].append(args)
            self.terminated = False

        def terminate(self):
            self.terminated = True

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(waitress, "serve", lambda app, **kw: calls["serve"].append((app, kw)))
    monkeypatch.setattr(subprocess, "Popen", Child)
    return calls


@pytest.fixture
def consumer_runs(monkeypatch):
    """``Consumer.run`` replaced by the given function (``lendstack worker`` would loop forever)."""
    from huey.consumer import Consumer

    def replace(run):
        monkeypatch.setattr(Consumer, "run", run)

    return replace


def tenant_field(run, slug, key):
    return run.json("tenant", "show", slug, "-c", run.ini)[key]


def money(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# -- the tests -------------------------------------------------------------------


def test_the_docs_show_only_commands_and_options_that_exist():
    shown = documented_commands()
    assert ("jobs", "close-of-day") in shown and ("ledger", "history") in shown and ("tenant", "resume") in shown
    for path, options in sorted(shown.items()):
        assert path, "a `lendstack` invocation that names no command"
        parent = _command(path[:-1])
        assert path[-1] in parent.commands, f"the docs show `lendstack {' '.join(path)}`, which does not exist"
        known = {o for p in _command(path).params for o in (*p.opts, *p.secondary_opts)} | ALWAYS
        assert options <= known, f"`lendstack {' '.join(path)}` has no {sorted(options - known)}"


def test_every_documented_command_runs_on_a_fresh_database(ini, tmp_path, watch, served, consumer_runs):
    run = Runner(ini)
    # A fresh database has no schema yet; `make demo` migrates it, loads the tenants and makes the accounts.
    assert "current: empty" in run("db", "current", "-c", ini, expect=1).output
    demo = make_demo_commands(ini)
    assert demo[0][0][:2] == ["db", "upgrade"] and demo[-1][0][0] == "serve"
    for args, env in demo:
        output = run(*args, env=env).output
        if args[:2] == ["staff", "create"] and "--role" not in args:
            assert "otpauth://" in output  # an administrator moves money: two-factor sign-in
        if args[:2] == ["demo", "seed"]:  # the sample site, its close of day run through five weeks
            assert "business date now 2027-02-09" in output and "settled" in output, output
    assert "latest:" in run("db", "current", "-c", ini).output
    for args, env in demo:  # make demo twice: every step is idempotent
        if args[0] != "serve":
            output = run(*args, env=env).output
            if args[:2] == ["demo", "seed"]:
                assert "already seeded" in output
    assert "no tenant 'ghost'" in run("demo", "seed", "-c", ini, "--tenant", "ghost", expect=2).output
    assert served["serve"][-1][1] == {"listen": "127.0.0.1:6599 [::1]:6599", "threads": "3"}
    assert served["children"][-1][-4:] == ["cli", "worker", "-c", ini]

    # tenants
    assert [t["slug"] for t in run.json("tenant", "list", "-c", ini)] == ["acme", "demo"]
    assert "demo" in run("tenant", "list", "-c", ini).output
    # the seed closed 2027-01-04 through the overdue installment's due date (2027-02-04) and four days more
    assert "2027-02-09" in run("tenant", "show", "demo", "-c", ini).output
    run("tenant", "suspend", "acme", "-c", ini)
    assert tenant_field(run, "acme", "status") == "suspended"
    run("tenant", "resume", "acme", "-c", ini)
    assert tenant_field(run, "acme", "status") == "active"
    run("tenant", "archive", "acme", "-c", ini)
    assert tenant_field(run, "acme", "status") == "archived"
    run("tenant", "restore", "acme", "-c", ini)
    assert tenant_field(run, "acme", "status") == "active"
    exported = tmp_path / "acme-export.toml"
    run("tenant", "export", "acme", "-c", ini, "-o", str(exported))
    assert run("tenant", "export", "acme", "-c", ini).output == exported.read_text(encoding="utf-8")
    assert "updated tenant acme" in run("tenant", "apply", "-c", ini, str(exported)).output
    assert "no tenant 'ghost'" in run("tenant", "export", "ghost", "-c", ini, expect=2).output
    watched = tmp_path / "demo.toml"
    watched.write_text(
        (ROOT / "tenants" / "demo.toml").read_text(encoding="utf-8") + '\n[plugins."test.close_watch"]\n',
        encoding="utf-8",
    )
    assert "updated tenant demo" in run("tenant", "apply", "-c", ini, str(watched)).output

    # plugins and the calculators
    every = {p["id"] for p in run.json("plugins", "list", "-c", ini)}
    acme = {p["id"] for p in run.json("plugins", "list", "--tenant", "acme", "-c", ini)}
    assert "payments.offline" in every and "payments.offline" not in acme and acme <= every
    assert "tools.equal_installment" in run("plugins", "list", "--tenant", "demo", "-c", ini).output
    monthly = run.json(
        "tools",
        "schedule",
        "-c",
        ini,
        "--tenant",
        "demo",
        "--method",
        "equal_installment",
        "--principal",
        "10000",
        "--rate",
        "12",
        "--months",
        "12",
        "--start",
        "2027-01-15",
    )
    r = Decimal("0.01")  # 12% a year, a month's rate
    assert monthly["installments"][0]["payment"] == money(10000 * r / (1 - (1 + r) ** -12))  # 888.49
    assert monthly["installments"][0]["interest"] == "100.00"
    days = run(
        "tools",
        "schedule",
        "-c",
        ini,
        "--tenant",
        "demo",
        "--method",
        "one_time",
        "--principal",
        "10000",
        "--rate",
        "12",
        "--days",
        "30",
        "--start",
        "2027-01-15",
    )
    assert money(Decimal(10000) * Decimal("0.12") * 30 / 365) in days.output  # 98.63, 365-day basis

    # money: an operator's adjustments on a new member (the demo member holds the seed's money), then the ledger
    run(
        "member",
        "create",
        "-c",
        ini,
        "--tenant",
        "demo",
        "--phone",
        "13700137000",
        env={"LENDSTACK_PASSWORD": "a long enough password"},
    )
    credit = run(
        "funds",
        "adjust",
        "-c",
        ini,
        "--tenant",
        "demo",
        "--member",
        "13700137000",
        "--amount",
        "100.00",
        "--reason",
        "goodwill credit",
    )
    member_id = int(re.search(r"adjusted member (\d+)", credit.output).group(1))
    run(
        "funds",
        "adjust",
        "--tenant",
        "demo",
        "--member",
        "13700137000",
        "--amount",
        "-20.00",
        "--reason",
        "refund of a duplicate fee",
        "-c",
        ini,
    )
    run(
        "funds",
        "adjust",
        "-c",
        ini,
        "--tenant",
        "demo",
        "--member",
        "13700137000",
        "--amount",
        "-500.00",
        "--reason",
        "too much",
        expect=2,
    )  # would overdraw: refused, nothing changes
    accounts = run.json("ledger", "balance", "-c", ini, "--tenant", "demo", "--owner", f"member:{member_id}")
    available = next(a for a in accounts if a["code"] == "available")
    assert available["balance"] == "80.00"  # 100.00 − 20.00
    assert "platform" in run("ledger", "balance", "-c", ini, "--tenant", "demo").output
    first = run("ledger", "history", "-c", ini, "--tenant", "demo", "--account", str(available["id"]), "--limit", "1")
    assert "-20.00" in first.output and "80.00" in first.output
    before = re.search(r"--before (\d+)", first.output).group(1)
    older = run.json(
        "ledger", "history", "-c", ini, "--tenant", "demo", "--account", str(available["id"]), "--before", before
    )
    assert [(e["change"], e["balance"]) for e in older] == [("100.00", "100.00")]
    assert "ledger ok" in run("ledger", "verify", "-c", ini).output
    assert run.json("ledger", "verify", "-c", ini, "--tenant", "demo")["ok"] is True

    # close of day, two consecutive dates: the business date moves on, plugins hear of it
    closed = run("jobs", "close-of-day", "-c", ini, "--tenant", "demo", "--date", "2027-02-09")
    assert "closed 2027-02-09 for demo" in closed.output
    assert tenant_field(run, "demo", "business_date") == "2027-02-10"
    closed = run("jobs", "close-of-day", "-c", ini, "--tenant", "demo", "--date", "2027-02-10")
    assert "closed 2027-02-10 for demo" in closed.output
    skipped = run("jobs", "close-of-day", "-c", ini, "--tenant", "demo", "--date", "2027-02-13", expect=2)
    assert "2027-02-11" in skipped.output  # the date to close first
    run("jobs", "close-of-day", "-c", ini, "--tenant", "demo", "--date", "2027-02-10")  # again: the first summary
    run("jobs", "close-of-day", "-c", ini, "--tenant", "demo", "--date", "10/02/2027", expect=2)
    run("jobs", "close-of-day", "-c", ini, "--tenant", "ghost", "--date", "2027-02-11", expect=2)
    assert tenant_field(run, "demo", "business_date") == "2027-02-11"
    assert tenant_field(run, "acme", "business_date") == "2027-02-09"  # acme's own batch has not run
    assert watch.seen == [
        ("demo", dt.date(2027, 2, 9), dt.date(2027, 2, 9)),
        ("demo", dt.date(2027, 2, 10), dt.date(2027, 2, 10)),
    ]
    assert "ledger ok" in run("ledger", "verify", "-c", ini).output

    # the credit system: the seeded customers re-rated, the approval workflow out to TOML and back
    rated = run.json("credit", "rate", "-c", ini, "--tenant", "demo", "--all")
    assert len(rated) == 3 and {r["status"] for r in rated} <= {"approved", "pending"}
    one = run("credit", "rate", "-c", ini, "--tenant", "demo", "--customer", str(rated[0]["customer"]))
    assert rated[0]["number"] in one.output
    run("credit", "rate", "-c", ini, "--tenant", "ghost", "--all", expect=2)
    exported = tmp_path / "workflows.toml"
    run("credit", "workflow", "export", "-c", ini, "--tenant", "demo", "--code", "standard", "-o", str(exported))
    assert "[workflows.standard]" in exported.read_text(encoding="utf-8")
    run("credit", "workflow", "import", "-c", ini, "--tenant", "demo", str(exported))
    # the last closed day classified again (close of day did it: nothing changes), then the ledger book to a file
    classified = run.json("credit", "classify", "-c", ini, "--tenant", "demo", "--date", "2027-02-10")
    assert classified["date"] == "2027-02-10" and classified["changed"] == 0
    run("credit", "classify", "-c", ini, "--tenant", "demo", "--date", "2027-02-11", expect=2)  # not closed yet
    book = tmp_path / "book.json"
    run("report", "ledger-book", "-c", ini, "--tenant", "demo", "--format", "json", "-o", str(book))
    assert book.is_file() and book.stat().st_size > 0
    run("report", "ledger-book", "-c", ini, "--tenant", "ghost", "--format", "json", "-o", str(book), expect=2)

    # the server and the consumer, as far as they go without running forever
    run("serve", "-c", ini, "--host", "0.0.0.0", "--port", "7001", "--no-worker")
    assert served["serve"][-1][1] == {"host": "0.0.0.0", "port": 7001, "threads": "3"}
    consumers = []
    consumer_runs(lambda self: consumers.append((self.workers, self.periodic, self.huey.immediate)))
    run("worker", "-c", ini, "--workers", "3")
    assert consumers == [(3, True, False)]

    # every command and option the documents show ran above
    for path, options in documented_commands().items():
        command = _command(path)
        if isinstance(command, click.Group):
            assert any(ran[: len(path)] == path for ran in run.ran), f"nothing under `lendstack {' '.join(path)}` ran"
            continue
        assert path in run.ran, f"the docs show `lendstack {' '.join(path)}` but this test never runs it"
        missing = options - run.ran[path] - ALWAYS
        assert not missing, f"the docs show `lendstack {' '.join(path)}` with {sorted(missing)}, never run here"


def test_serve_listens_where_the_ini_says_with_its_threads(ini, served):
    run = Runner(ini)
    output = run("serve", "-c", ini, "--no-worker").output
    app, options = served["serve"][-1]
    assert options == {"listen": "127.0.0.1:6599 [::1]:6599", "threads": "3"} and callable(app)
    assert "http://127.0.0.1:6599 http://[::1]:6599 with 3 threads" in output
    assert served["children"] == []  # --no-worker
    run("serve", "-c", ini, "--port", "7002")
    assert served["serve"][-1][1] == {"host": "127.0.0.1", "port": 7002, "threads": "3"}
    assert served["children"][-1][-4:] == ["cli", "worker", "-c", ini]


def test_serve_refuses_a_server_section_waitress_does_not_know(ini, served):
    text = Path(ini).read_text().replace("threads = 3", "threads = many")
    Path(ini).write_text(text)
    result = CliRunner().invoke(main, ["serve", "-c", ini, "--no-worker"])
    assert result.exit_code == 2 and "[server:main]" in result.output
    assert served["serve"] == [] and served["children"] == []


def test_the_hourly_job_closes_each_tenants_ended_days_as_the_consumer_runs_it(
    ini, tmp_path, watch, caplog, consumer_runs, monkeypatch
):
    from core.loans import schedule_jobs

    run = Runner(ini)
    run("db", "upgrade", "-c", ini)
    watched = tmp_path / "demo.toml"
    watched.write_text(
        (ROOT / "tenants" / "demo.toml").read_text(encoding="utf-8") + '\n[plugins."test.close_watch"]\n',
        encoding="utf-8",
    )
    run("tenant", "apply", "-c", ini, str(watched), str(ROOT / "tenants" / "acme.toml"))
    # 02:05 UTC on 6 January 2027: 10:05 on the 6th in Shanghai (demo), 21:05 on the 5th in New York (acme)
    tick = dt.datetime(2027, 1, 6, 2, 5)
    monkeypatch.setattr(schedule_jobs, "utcnow", lambda: tick.replace(tzinfo=dt.timezone.utc))
    ran = []

    def one_tick(consumer):
        """What the consumer's scheduler and one worker do at ``tick``."""
        assert not consumer.huey.immediate
        consumer._create_scheduler().enqueue_periodic_tasks(tick)
        ran.append(consumer.huey.pending_count())
        worker = consumer._create_worker()
        while consumer.huey.pending_count():
            worker.loop(tick)

    consumer_runs(one_tick)
    run("worker", "-c", ini)
    assert ran == [1]  # the hourly task, read from the schedule at minute 5
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")], caplog.text
    assert tenant_field(run, "demo", "business_date") == "2027-01-06"  # closed the 4th and the 5th
    assert tenant_field(run, "acme", "business_date") == "2027-01-05"  # its 5th has not ended yet
    assert watch.seen == [
        ("demo", dt.date(2027, 1, 4), dt.date(2027, 1, 4)),
        ("demo", dt.date(2027, 1, 5), dt.date(2027, 1, 5)),
    ]  # acme does not enable it
    run("worker", "-c", ini)  # the next hour: nothing left to close
    assert tenant_field(run, "demo", "business_date") == "2027-01-06" and len(watch.seen) == 2
