"""Every user-facing string is translated in every shipped locale."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from core.i18n import SUPPORTED_LOCALES, normalize_locale

ROOT = Path(__file__).resolve().parents[1]
LOCALE_DIR = ROOT / "themes" / "default" / "locale"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("pot") / "lendstack.pot"
    pot_create = Path(sys.executable).with_name("pot-create")
    subprocess.run(
        [
            str(pot_create),
            "-o",
            str(pot),
            "-d",
            "lendstack",
            "themes",
            "core",
            "plugins",
            "examples/lendstack-flatrate/lendstack_flatrate",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        return {m.id for m in read_po(f) if m.id}


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_string_is_translated(extracted, locale):
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "lendstack.po").open("rb") as f:
        catalog = {m.id: m for m in read_po(f) if m.id}
    untranslated = sorted(i for i in extracted if i not in catalog or not catalog[i].string or catalog[i].fuzzy)
    assert untranslated == [], f"untranslated in {locale}"


@pytest.mark.parametrize(
    "tag, locale",
    [
        ("zh-TW", "zh_Hant"),
        ("zh-HK", "zh_Hant"),
        ("zh-MO", "zh_Hant"),
        ("zh-Hant", "zh_Hant"),
        ("zh-CN", "zh_Hans"),
        ("zh-SG", "zh_Hans"),
        ("zh", "zh_Hans"),
        ("zh_Hans", "zh_Hans"),
        ("en-GB", "en"),
        ("fr", None),
        ("", None),
    ],
)
def test_browser_tags_map_to_scripts(tag, locale):
    assert normalize_locale(tag) == locale


def test_pages_are_served_translated(client, tenants):
    assert "網貸工具" in client.get("demo.localhost", "/").text
    assert "网贷工具" in client.get("demo.localhost", "/?_LOCALE_=zh_Hans").text
    assert "Calculators" in client.get("demo.localhost", "/?_LOCALE_=en").text


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_catalog_compiles(locale):
    """What ``pybabel compile`` checks: every translation keeps its message's placeholders."""
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "lendstack.po").open("rb") as f:
        catalog = read_po(f)
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalog.check()]
    assert problems == []
