"""What every command shares: ``-c/--config``, bootstrapping the app, transactions, errors."""

from __future__ import annotations

import contextlib
import functools
import json as jsonlib
import sys
import unicodedata
from pathlib import Path

import click
import transaction

DEFAULT_CONFIG = "development.ini"


class BadInput(click.ClickException):
    """Bad input: the message goes to stderr and the command exits with 2, changing nothing."""

    exit_code = 2


def config_option(command):
    """Add ``-c/--config INI`` (default ``$LENDSTACK_CONFIG``, else ``development.ini``)."""

    @click.option(
        "-c",
        "--config",
        "config_uri",
        envvar="LENDSTACK_CONFIG",
        default=DEFAULT_CONFIG,
        show_default=True,
        metavar="INI",
        help="The app's ini file.",
    )
    @functools.wraps(command)
    def wrapper(*args, config_uri, **kwargs):
        if not Path(config_uri).is_file():
            raise BadInput(f"config file {config_uri} not found (use -c or LENDSTACK_CONFIG)")
        with AppEnv(config_uri) as env:
            return command(env, *args, **kwargs)

    return wrapper


class AppEnv:
    """The bootstrapped app: its registry, settings and a way to run a transaction."""

    def __init__(self, config_uri: str):
        self.config_uri = config_uri

    def __enter__(self):
        from pyramid.paster import bootstrap, setup_logging

        from core.settings import SettingsError

        setup_logging(self.config_uri)
        try:
            self._env = bootstrap(self.config_uri)
        except SettingsError as error:
            raise BadInput(f"{self.config_uri}: {error}") from None
        self.registry = self._env["registry"]
        self.settings = self.registry.settings
        self.plugins = self.registry["plugins"]
        self.engine = self.registry["db_engine"]
        return self

    def __exit__(self, *exc):
        self._env["closer"]()
        self.engine.dispose()

    @contextlib.contextmanager
    def transaction(self, tenant_id: int | None = None):
        """A session in one committed transaction; an exception aborts everything."""
        from core.db import scope_to_tenant, tm_session

        manager = transaction.TransactionManager(explicit=True)
        with manager:
            session = tm_session(self.registry["dbsession_factory"], manager)
            scope_to_tenant(session, tenant_id)
            yield session


def emit(data, as_json: bool, human) -> None:
    """Print ``data`` as JSON for scripts, or through ``human(data)`` for people."""
    if as_json:
        click.echo(jsonlib.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        human(data)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text, width: int) -> str:
    text = str(text)
    return text + " " * (width - _width(text))


def table(rows: list[list], headers: list[str]) -> None:
    """Print aligned columns (wide CJK characters count double)."""
    widths = [max(_width(str(x)) for x in [h] + [r[i] for r in rows]) for i, h in enumerate(headers)]
    click.echo("  ".join(_pad(h, w) for h, w in zip(headers, widths)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in rows:
        click.echo("  ".join(_pad(x, w) for x, w in zip(row, widths)).rstrip())


def python() -> str:
    return sys.executable
