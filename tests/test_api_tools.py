"""The calculators' JSON API: schedules to the cent, problem details naming the field."""

import pytest

DEMO = "demo.localhost"
ACME = "acme.localhost"
LOAN = {
    "method": "equal_installment",
    "principal": "10000.00",
    "annual_rate_percent": "12",
    "term_months": 12,
    "start_date": "2027-01-15",
}


@pytest.fixture
def api(client, tenants):
    return client


def problem(response, status):
    assert response.status_int == status
    assert response.content_type == "application/problem+json"
    body = response.json
    assert body["status"] == status and body["errors"]
    return body


def test_lists_only_the_tenants_enabled_methods(api):
    demo = api.get(DEMO, "/api/v1/tools").json
    acme = api.get(ACME, "/api/v1/tools").json
    assert demo["currency"] == "CNY" and acme["currency"] == "USD"
    assert demo["max_annual_rate_percent"] == "36"
    demo_codes = {m["code"] for m in demo["methods"]}
    assert {"equal_installment", "equal_principal", "one_time", "quarterly"} <= demo_codes
    assert "quarterly" not in {m["code"] for m in acme["methods"]}
    one_time = next(m for m in demo["methods"] if m["code"] == "one_time")
    assert one_time["term_units"] == ["month", "day"]


def test_equal_installment_schedule_to_the_cent(api):
    body = api.post_json(DEMO, "/api/v1/tools/schedule", LOAN).json
    rows = body["installments"]
    assert len(rows) == 12
    assert rows[0] == {
        "period": 1,
        "due_date": "2027-02-15",
        "principal": "788.49",
        "interest": "100.00",
        "payment": "888.49",
        "balance": "9211.51",
    }
    assert all(r["payment"] == "888.49" for r in rows[:-1])
    assert rows[-1]["balance"] == "0.00"
    assert body["total_principal"] == "10000.00"
    assert body["total_interest"] == "661.86"
    assert body["total_payment"] == "10661.86"
    assert body["currency"] == "CNY"


def test_day_term_and_default_start_date(api):
    body = api.post_json(
        DEMO,
        "/api/v1/tools/schedule",
        {"method": "one_time", "principal": "10000", "annual_rate_percent": "12", "term_days": 30},
    ).json
    assert body["installments"] == [
        {
            "period": 1,
            "due_date": "2027-02-03",
            "principal": "10000.00",
            "interest": "98.63",
            "payment": "10098.63",
            "balance": "0.00",
        }
    ]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"principal": "0"}, "principal"),
        ({"principal": "1.001"}, "principal"),
        ({"principal": "10000000000000.01"}, "principal"),
        ({"annual_rate_percent": "1000.5"}, "annual_rate_percent"),
        ({"start_date": "2201-01-01"}, "start_date"),
        ({"annual_rate_percent": "36.01"}, "annual_rate_percent"),
        ({"annual_rate_percent": "12.00001"}, "annual_rate_percent"),
        ({"term_months": 0}, "term_months"),
        ({"term_months": 601}, "term_months"),
        ({"method": "quarterly", "term_months": 7}, "term_months"),
        ({"term_months": 12, "term_days": 30}, "term_months"),
        ({"method": "no_such_method"}, "method"),
    ],
)
def test_unusable_input_is_422_naming_the_field(api, change, field):
    body = problem(api.post_json(DEMO, "/api/v1/tools/schedule", {**LOAN, **change}, status=422), 422)
    assert body["field"] == field
    assert body["errors"][0]["message"]


def test_term_must_be_an_integer_and_in_a_unit_the_method_takes(api):
    body = problem(
        api.post_json(DEMO, "/api/v1/tools/schedule", {**LOAN, "term_months": None, "term_days": 30}, status=400), 400
    )
    assert body["field"] == "term_months"
    body = problem(
        api.post_json(
            DEMO,
            "/api/v1/tools/schedule",
            {k: v for k, v in LOAN.items() if k != "term_months"} | {"term_days": 30},
            status=422,
        ),
        422,
    )
    assert body["field"] == "term_days"


def test_a_method_the_tenant_disabled_is_refused(api):
    body = problem(
        api.post_json(ACME, "/api/v1/tools/schedule", {**LOAN, "method": "quarterly", "term_months": 12}, status=422),
        422,
    )
    assert body["field"] == "method"


@pytest.mark.parametrize(
    "body, field",
    [
        ("{not json", "body"),
        ({**LOAN, "principal": 10000}, "principal"),
        ({**LOAN, "term_months": "twelve"}, "term_months"),
        ({k: v for k, v in LOAN.items() if k != "method"}, "method"),
        ({**LOAN, "colour": "red"}, "colour"),
        ({**LOAN, "start_date": "2027-02-30"}, "start_date"),
        ({**LOAN, "start_date": "20270115"}, "start_date"),
        ({**LOAN, "principal": "-5"}, "principal"),
        ({**LOAN, "principal": "ten"}, "principal"),
        ({**LOAN, "principal": "１００００"}, "principal"),
        ({**LOAN, "principal": "١٠٠٠٠"}, "principal"),
        ({**LOAN, "principal": "10_000"}, "principal"),
        ({**LOAN, "principal": "+10000"}, "principal"),
        ({**LOAN, "principal": "1e4"}, "principal"),
        ({**LOAN, "principal": " 10000"}, "principal"),
        ({**LOAN, "principal": "10,000"}, "principal"),
        ({**LOAN, "principal": "1" * 33}, "principal"),
        ({**LOAN, "annual_rate_percent": "NaN"}, "annual_rate_percent"),
        ({**LOAN, "annual_rate_percent": "Infinity"}, "annual_rate_percent"),
        ({**LOAN, "annual_rate_percent": "1e999999999"}, "annual_rate_percent"),
        ({**LOAN, "annual_rate_percent": "0e999999999"}, "annual_rate_percent"),
        ({**LOAN, "annual_rate_percent": "1e1"}, "annual_rate_percent"),
        ({**LOAN, "method": "m" * 41}, "method"),
    ],
)
def test_a_request_outside_the_document_is_400(api, body, field):
    answer = problem(api.post_json(DEMO, "/api/v1/tools/schedule", body, status=400), 400)
    assert answer["field"] == field


def test_rate_cap_is_the_tenants_policy(api, apply_manifest):
    import tomllib

    from tenants.manifest import shipped_manifests

    demo = tomllib.loads(next(p for p in shipped_manifests() if p.stem == "demo").read_text())
    apply_manifest({**demo, "lending": {"max_annual_rate_percent": "24"}})
    assert api.get(DEMO, "/api/v1/tools").json["max_annual_rate_percent"] == "24"
    api.post_json(DEMO, "/api/v1/tools/schedule", {**LOAN, "annual_rate_percent": "24"})
    body = problem(
        api.post_json(DEMO, "/api/v1/tools/schedule", {**LOAN, "annual_rate_percent": "24.5"}, status=422), 422
    )
    assert body["field"] == "annual_rate_percent" and "24" in body["errors"][0]["message"]
    page = api.get(DEMO, "/tools/equal_installment", params={**LOAN, "annual_rate_percent": "30"}, status=400)
    assert "24%" in page.text


def test_messages_follow_the_request_locale(api):
    body = api.post_json(
        DEMO,
        "/api/v1/tools/schedule",
        {**LOAN, "annual_rate_percent": "40"},
        status=422,
        headers={"Accept-Language": "zh-TW"},
    ).json
    assert body["errors"][0]["message"] == "年利率不得超過 36%。"


def test_openapi_document_is_served(api):
    spec = api.get(DEMO, "/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert {"/tools", "/tools/schedule"} <= set(spec["paths"])


def test_unknown_api_path_is_a_problem_404(api):
    answer = api.get(DEMO, "/api/v1/nothing", status=404)
    assert answer.content_type == "application/problem+json"
