"""Every tenant setting docs/operators.md documents is one the manifest accepts, and the reverse; bad values of the
overdue and fee settings are refused naming the field."""

import re
from pathlib import Path

import pytest

from tenants.manifest import FUNDS_KEYS, LENDING_KEYS, ManifestError, load

OPERATORS = Path(__file__).parent.parent / "docs" / "operators.md"


def documented(table: str) -> set[str]:
    """The keys in the first column of docs/operators.md's ``### `[table]``` section."""
    text = OPERATORS.read_text(encoding="utf-8")
    section = text.split(f"### `[{table}]`", 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))


@pytest.mark.parametrize("table, accepted", [("lending", LENDING_KEYS), ("funds", FUNDS_KEYS)])
def test_the_documented_settings_are_the_accepted_ones(table, accepted):
    keys = documented(table)
    assert len(keys) >= 6
    assert keys - accepted == set(), "documented but refused by the manifest"
    assert accepted - keys == set(), "accepted by the manifest but not documented"


def manifest(tmp_path, lending: str) -> Path:
    path = tmp_path / "t.toml"
    path.write_text(
        'slug = "settings-test"\nname = "T"\ntheme = "default"\ndefault_locale = "en"\nlocales = ["en"]\n'
        'currency = "CNY"\ntimezone = "Asia/Shanghai"\nbusiness_date = "2027-01-04"\n'
        f'hosts = ["settings-test.localhost"]\n\n[lending]\n{lending}\n',
        encoding="utf-8",
    )
    return path


def test_the_documented_settings_apply(tmp_path, plugins):
    loaded = load(
        manifest(
            tmp_path,
            'collect_partial = false\nallow_partial_funding = true\n'
            'partial_funding_min_percent = "60"\npenalty_base = "principal_and_interest"\n'
            'overdue_charges_cap_percent = "15.4"\nreserve_advances = true\n'
            'borrower_fee_mode = "upfront"',
        ),
        plugins,
    )
    assert loaded.lending == {
        "collect_partial": False,
        "allow_partial_funding": True,
        "partial_funding_min_percent": "60",
        "penalty_base": "principal_and_interest",
        "overdue_charges_cap_percent": "15.4",
        "reserve_advances": True,
        "borrower_fee_mode": "upfront",
    }


@pytest.mark.parametrize(
    "line, field",
    [
        ('penalty_base = "interest"', "lending.penalty_base"),
        ('borrower_fee_mode = "later"', "lending.borrower_fee_mode"),
        ('reserve_advances = "yes"', "lending.reserve_advances"),
        ('collect_partial = 1', "lending.collect_partial"),
        ('overdue_charges_cap_percent = "101"', "lending.overdue_charges_cap_percent"),
        ('overdue_charges_cap_percent = 24.5', "lending.overdue_charges_cap_percent"),
        ('partial_funding_min_percent = "-5"', "lending.partial_funding_min_percent"),
        ('reserve_advance = true', "lending.reserve_advance"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(tmp_path, plugins, line, field):
    with pytest.raises(ManifestError) as refused:
        load(manifest(tmp_path, line), plugins)
    assert refused.value.field == field
