"""Host resolution, unknown hosts, suspended tenants, themes and locales, through the web app."""

import re

from core.tenancy.models import TenantStatus
from core.tenancy.services import set_status


def test_each_host_serves_its_own_tenant(client, tenants):
    demo = client.get("demo.localhost:6543", "/")
    acme = client.get("acme.localhost", "/")
    assert "鼎信網貸" in demo.text and "Acme Lending" not in demo.text
    assert "Acme Lending" in acme.text and "鼎信網貸" not in acme.text
    assert 'lang="zh-Hant"' in demo.text and 'lang="en"' in acme.text


def test_host_matching_ignores_case_and_port(client, tenants):
    assert "Acme Lending" in client.get("ACME.LocalHost:80", "/").text


def test_unknown_host_gets_a_plain_404_and_no_tenant_data(client, tenants):
    response = client.get("evil.localhost", "/", status=404)
    assert "Site not found" in response.text
    assert "Acme" not in response.text and "鼎信" not in response.text
    client.get("evil.localhost", "/static/css/site.css", status=404)


def test_suspended_tenant_answers_503_and_the_other_is_untouched(client, tenants, db):
    with db.transaction() as session:
        set_status(session, "acme", TenantStatus.suspended)
    response = client.get("acme.localhost", "/tools/equal_installment", status=503)
    assert "temporarily unavailable" in response.text
    assert response.headers["Retry-After"]
    client.get("demo.localhost", "/", status=200)


def test_theme_overrides_a_template_and_falls_back_for_the_rest(client, tenants):
    acme_home = client.get("acme.localhost", "/").text
    demo_home = client.get("demo.localhost", "/").text
    assert "classic-hero" in acme_home and "classic-hero" not in demo_home
    # classic has no calculator template of its own: the default one is used.
    page = client.get("acme.localhost", "/tools/equal_installment").text
    assert 'class="calculator"' in page


def test_theme_static_files_fall_back_to_default(client, tenants):
    acme_css = client.get("acme.localhost", "/static/css/theme.css").text
    demo_css = client.get("demo.localhost", "/static/css/theme.css").text
    assert "classic" in acme_css and "classic" not in demo_css
    assert (
        client.get("acme.localhost", "/static/css/site.css").text
        == client.get("demo.localhost", "/static/css/site.css").text
    )
    client.get("acme.localhost", "/static/img/acme-logo.svg", status=200)
    client.get("demo.localhost", "/static/img/acme-logo.svg", status=404)


def test_static_files_cannot_escape_the_theme(client, tenants):
    client.get("demo.localhost", "/static/../../core/db.py", status=404)
    client.get("demo.localhost", "/static/%2e%2e/%2e%2e/setup.cfg", status=404)


def test_branding_colours_become_css_custom_properties(client, tenants):
    page = client.get("demo.localhost", "/").text
    assert "--brand-primary:#b3261e" in page


def test_locale_switching_is_limited_to_the_tenants_locales(client, tenants):
    assert client.get("demo.localhost", "/").text.count('lang="zh-Hant"') >= 1
    english = client.get("demo.localhost", "/?_LOCALE_=en")
    assert '<html' in english.text and 'lang="en"' in english.text
    assert "_LOCALE_=en" in english.headers.get("Set-Cookie", "")
    # acme offers en and zh_Hans only: zh_Hant falls back to its default.
    assert 'lang="en"' in client.get("acme.localhost", "/?_LOCALE_=zh_Hant").text


def test_accept_language_maps_regions_to_scripts(client, tenants):
    page = client.get("demo.localhost", "/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert re.search(r'<html[^>]*lang="zh-Hans"', page)
    page = client.get("demo.localhost", "/", headers={"Accept-Language": "zh-HK"}).text
    assert re.search(r'<html[^>]*lang="zh-Hant"', page)


def test_unknown_page_on_a_tenant_is_a_themed_404(client, tenants):
    response = client.get("acme.localhost", "/no-such-page", status=404)
    assert "Acme Lending" in response.text


def test_money_is_formatted_in_the_tenants_currency_and_locale(client, tenants):
    query = "/tools/equal_installment?principal=10000&annual_rate_percent=12&term_months=12"
    assert "$10,000.00" in client.get("acme.localhost", query).text
    assert "¥10,000.00" in client.get("demo.localhost", query + "&_LOCALE_=zh_Hans").text


def test_calculator_takes_day_terms_where_the_method_allows(client, tenants):
    page = client.get(
        "acme.localhost", "/tools/one_time?principal=10000&annual_rate_percent=12&term_days=30&start_date=2027-01-01"
    )
    assert "$98.63" in page.text and "$10,098.63" in page.text
    bad = client.get(
        "acme.localhost", "/tools/quarterly?principal=10000&annual_rate_percent=12&term_months=10", status=404
    )
    assert bad.status_int == 404  # acme has no quarterly calculator
    bad = client.get(
        "demo.localhost",
        "/tools/quarterly?principal=10000&annual_rate_percent=12&term_months=10&_LOCALE_=en",
        status=400,
    )
    assert "multiple of 3" in bad.text and 'aria-invalid="true"' in bad.text


def test_calculator_draws_a_chart_and_downloads_the_schedule_as_csv(client, tenants):
    query = "/tools/equal_installment?principal=10000&annual_rate_percent=12&term_months=12&start_date=2027-01-31"
    page = client.get("acme.localhost", query)
    assert page.text.count('class="bar-principal"') == 12
    csv_link = page.html.find("a", attrs={"download": True})["href"]
    download = client.get("acme.localhost", csv_link)
    assert download.content_type == "text/csv"
    lines = download.text.splitlines()
    assert lines[0] == "period,due_date,principal,interest,payment,balance"
    assert lines[1] == "1,2027-02-28,788.49,100.00,888.49,9211.51"
    assert lines[-1] == "total,,10000.00,661.86,10661.86,"
