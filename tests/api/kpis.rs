//! KPIs, the funnel report, result contracts and the annual report, on a known dataset.

use std::collections::HashMap;

use innofolio::domain::Role;
use serde_json::{json, Value};

use crate::helpers::TestApp;

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app.post(path, &body);
    assert_eq!(r.status, 201, "{path}: {}", r.text);
    r.json()
}

fn moved(app: &TestApp, idea: i64, body: Value) {
    let r = app.post(&format!("/api/v1/ideas/{idea}/transitions"), &body);
    assert_eq!(r.status, 201, "{}", r.text);
}

/// A small portfolio whose every 2025 KPI is known by hand.
fn dataset(app: &TestApp) -> HashMap<&'static str, i64> {
    let dept = id(&app.create_organisation("Department of Surgery", "department"));
    let company = id(&app.create_organisation("MedTech A/S", "company"));
    let funder = id(&app.create_organisation("Innovationsfonden", "funder"));
    let idea = |title: &str, kind: &str, on: &str| {
        id(&created(
            app,
            "/api/v1/ideas",
            json!({"title": title, "kind": kind, "received_on": on, "source_organisation_id": dept}),
        ))
    };
    let i1 = idea("Quiet ward", "idea_problem", "2025-01-10");
    let i2 = idea("Bedside app", "idea_problem", "2025-02-01");
    let i3 = idea("Valve clip", "clinical_invention", "2025-03-01");
    let i4 = idea("Biomarker assay", "research_invention", "2025-04-01");
    let i5 = idea("Older idea", "idea_problem", "2024-06-01");
    // I1 is closed in pre-screening after 22 days; I2 moves on after 28 days, then is passed
    // on internally after 61 days in evaluation.
    moved(
        app,
        i1,
        json!({"to": "closed", "reason": "no clinical need", "on": "2025-02-01"}),
    );
    moved(
        app,
        i2,
        json!({"to": "evaluation", "override_reason": "fast track", "on": "2025-03-01"}),
    );
    moved(
        app,
        i2,
        json!({"to": "passed_on_internal", "recipient_organisation_id": dept, "reason": "IT department builds it", "on": "2025-05-01"}),
    );
    // I3's rights are decided on time (45 days); I4's deadline (2025-06-01) passes undecided.
    let r = app.post(
        &format!("/api/v1/ideas/{i3}/rights-decision"),
        &json!({"decision": "take_over", "decided_on": "2025-04-15"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    // Patents on I3: a priority filing and a PCT, with a cost.
    let family = id(&created(
        app,
        "/api/v1/patent-families",
        json!({"idea_id": i3, "title": "Valve clip"}),
    ));
    let pr = id(&created(
        app,
        &format!("/api/v1/patent-families/{family}/filings"),
        json!({"kind": "priority", "jurisdiction": "DK", "filing_date": "2025-05-01"}),
    ));
    created(
        app,
        &format!("/api/v1/patent-families/{family}/filings"),
        json!({"kind": "pct", "jurisdiction": "WO", "parent_id": pr, "filing_date": "2025-11-01", "priority_dates": ["2025-05-01"]}),
    );
    created(
        app,
        "/api/v1/patent-costs",
        json!({"family_id": family, "incurred_on": "2025-05-01", "amount": {"amount_minor": 3_000_000, "currency": "DKK"}, "category": "filing"}),
    );
    // A licence on I3 signed in June commercialises it; income follows.
    let licence = id(&created(
        app,
        "/api/v1/agreements",
        json!({"kind": "licence_exclusive", "title": "Licence", "counterparty_id": company, "idea_ids": [i3]}),
    ));
    let r = app.post(
        &format!("/api/v1/agreements/{licence}/transitions"),
        &json!({"to": "active", "on": "2025-06-01"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    for (kind, on, amount) in [
        ("upfront", "2025-06-15", 10_000_000),
        ("patent_cost_reimbursement", "2025-07-01", 1_000_000),
        ("upfront", "2024-12-31", 500_000),
    ] {
        created(
            app,
            "/api/v1/income",
            json!({"agreement_id": licence, "kind": kind, "received_on": on, "amount": {"amount_minor": amount, "currency": "DKK"}}),
        );
    }
    // Funding: a proof-of-concept grant applied for and awarded in 2025.
    created(
        app,
        "/api/v1/funding-applications",
        json!({"title": "PoC", "funder_id": funder, "programme": "PoC pool", "programme_kind": "proof_of_concept", "idea_id": i3,
               "status": "awarded", "submitted_on": "2025-02-01", "decided_on": "2025-04-01",
               "amount_applied": {"amount_minor": 50_000_000, "currency": "DKK"},
               "amount_awarded": {"amount_minor": 40_000_000, "currency": "DKK"}}),
    );
    // A company's request, converted into a collaboration agreement.
    let collab = id(&created(
        app,
        "/api/v1/agreements",
        json!({"kind": "collaboration", "title": "Joint development", "counterparty_id": company, "idea_ids": []}),
    ));
    let r = app.post(
        &format!("/api/v1/agreements/{collab}/transitions"),
        &json!({"to": "active", "on": "2025-09-01"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    created(
        app,
        "/api/v1/collaboration-requests",
        json!({"company_id": company, "department_id": dept, "received_on": "2025-03-01", "topic": "Sensor patch",
               "status": "agreement_signed", "agreement_id": collab, "closed_on": "2025-09-01"}),
    );
    HashMap::from([
        ("dept", dept),
        ("i1", i1),
        ("i2", i2),
        ("i3", i3),
        ("i4", i4),
        ("i5", i5),
    ])
}

fn values(app: &TestApp, key: &str, query: &str) -> HashMap<String, Value> {
    let r = app.get_as(key, &format!("/api/v1/kpis/values?{query}"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["key"].as_str().unwrap().to_string(), v.clone()))
        .collect()
}

#[test]
fn every_kpi_of_a_known_year_is_computed_from_the_data() {
    let app = TestApp::spawn();
    let ids = dataset(&app);
    let management = app.key(Role::Management);
    let catalogue = app.get_as(&management, "/api/v1/kpis").json();
    let keys: Vec<&str> = catalogue
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["key"].as_str().unwrap())
        .collect();
    assert!(keys.len() >= 40, "{keys:?}");
    assert!(catalogue[0]["definition"].as_str().unwrap().len() > 20);

    let v = values(&app, &management, "from=2025-01-01&to=2025-12-31");
    assert_eq!(v.len(), keys.len(), "a value for every KPI");
    let expect = [
        ("ideas_received", json!(4.0)),
        ("ideas_received_idea_problem", json!(2.0)),
        ("ideas_received_clinical_invention", json!(1.0)),
        ("ideas_received_research_invention", json!(1.0)),
        ("inventions_received", json!(2.0)),
        ("rights_decisions_on_time_share", json!(50.0)),
        ("median_days_to_rights_decision", json!(45.0)),
        ("pre_screening_rejection_share", json!(33.3)),
        ("passed_on_internal", json!(1.0)),
        ("passed_on_external", json!(0.0)),
        ("ideas_closed", json!(1.0)),
        ("commercialised_solutions", json!(1.0)),
        ("active_portfolio", json!(2.0)),
        ("priority_applications", json!(1.0)),
        ("pct_applications", json!(1.0)),
        ("patents_granted", json!(0.0)),
        ("agreements_signed", json!(2.0)),
        ("agreements_signed_licence", json!(1.0)),
        ("agreements_signed_collaboration", json!(1.0)),
        ("licence_income", json!(10_000_000.0)),
        ("total_income", json!(11_000_000.0)),
        ("patent_costs", json!(3_000_000.0)),
        ("net_ip_result", json!(8_000_000.0)),
        ("funding_applied", json!(50_000_000.0)),
        ("funding_awarded", json!(40_000_000.0)),
        ("proof_of_concept_projects", json!(1.0)),
        ("collaboration_requests_received", json!(1.0)),
        ("collaboration_requests_converted", json!(1.0)),
        ("conversion_from_pre_screening", json!(33.3)),
        ("median_days_in_pre_screening", json!(28.0)),
        ("median_days_in_evaluation", json!(61.0)),
        ("documented_yearly_savings", json!(0.0)),
    ];
    for (key, want) in expect {
        assert_eq!(v[key]["value"], want, "{key}: {}", v[key]);
    }
    assert_eq!(
        v["rights_decisions_on_time_share"]["basis"],
        json!({"numerator": 1, "denominator": 2})
    );
    assert_eq!(v["licence_income"]["currency"], "DKK");
    assert_eq!(v["total_income"]["basis"]["count"], 2);

    // The values reconcile with the lists they summarise.
    let listed = app.total("/api/v1/ideas?received_from=2025-01-01&received_to=2025-12-31");
    assert_eq!(v["ideas_received"]["value"], json!(listed as f64));
    let income = app
        .get("/api/v1/income?from=2025-01-01&to=2025-12-31")
        .json();
    let sum: i64 = income["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["amount"]["amount_minor"].as_i64().unwrap())
        .sum();
    assert_eq!(v["total_income"]["value"], json!(sum as f64));
    assert_eq!(
        v["funding_applied"]["basis"]["count"],
        app.total("/api/v1/funding-applications?submitted_from=2025-01-01&submitted_to=2025-12-31")
    );

    // The previous year and one organisation.
    let prev = values(&app, &management, "from=2024-01-01&to=2024-12-31");
    assert_eq!(prev["ideas_received"]["value"], json!(1.0));
    assert_eq!(prev["total_income"]["value"], json!(500_000.0));
    assert_eq!(prev["active_portfolio"]["value"], json!(1.0));
    let other = id(&app.create_organisation("Cardiology", "department"));
    let none = values(
        &app,
        &management,
        &format!("from=2025-01-01&to=2025-12-31&organisation_id={other}"),
    );
    assert_eq!(none["ideas_received"]["value"], json!(0.0));
    assert_eq!(none["total_income"]["value"], json!(0.0));
    let mine = values(
        &app,
        &management,
        &format!(
            "from=2025-01-01&to=2025-12-31&organisation_id={}",
            ids["dept"]
        ),
    );
    assert_eq!(mine["ideas_received"]["value"], json!(4.0));
    assert_eq!(mine["licence_income"]["value"], json!(10_000_000.0));
    let empty = values(&app, &management, "from=2025-12-31&to=2025-01-01");
    assert_eq!(empty["ideas_received"]["value"], json!(0.0));
    let nobody = values(
        &app,
        &management,
        "from=2025-01-01&to=2025-12-31&organisation_id=999999",
    );
    assert_eq!(nobody["total_income"]["value"], json!(0.0));
    app.get_as(&management, "/api/v1/kpis/values?from=2025-01-01")
        .problem(400);
}

#[test]
fn the_funnel_report_adds_up_to_the_ideas_received() {
    let app = TestApp::spawn();
    dataset(&app);
    let r = app.get("/api/v1/reports/funnel?from=2025-01-01&to=2025-12-31");
    assert_eq!(r.status, 200, "{}", r.text);
    let report = r.json();
    let rows = report["rows"].as_array().unwrap();
    let row = |kind: &str| rows.iter().find(|r| r["kind"] == kind).unwrap()["counts"].clone();
    assert_eq!(row("idea_problem")["closed"], 1);
    assert_eq!(row("idea_problem")["passed_on_internal"], 1);
    assert_eq!(row("clinical_invention")["commercialised"], 1);
    assert_eq!(row("research_invention")["pre_screening"], 1);
    assert_eq!(row("total")["total"], 4);
    // Every row sums to its total; every column of the total row is the sum of the kinds.
    let columns: Vec<&str> = report["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .filter(|c| *c != "total")
        .collect();
    for r in rows {
        let sum: i64 = columns
            .iter()
            .map(|c| r["counts"][*c].as_i64().unwrap())
            .sum();
        assert_eq!(json!(sum), r["counts"]["total"], "{r}");
    }
    for c in &columns {
        let sum: i64 = rows
            .iter()
            .filter(|r| r["kind"] != "total")
            .map(|r| r["counts"][*c].as_i64().unwrap())
            .sum();
        assert_eq!(json!(sum), row("total")[*c], "{c}");
    }
    let conv = &report["conversion"][0];
    assert_eq!(conv["from_stage"], "pre_screening");
    assert_eq!(conv["reached_from"], 4);
    assert_eq!(conv["reached_to"], 1);
    assert_eq!(conv["percent"], 25.0);
}

#[test]
fn a_result_contract_scorecard_shows_targets_actuals_and_the_previous_year() {
    let app = TestApp::spawn();
    dataset(&app);
    let body = json!({
        "title": "Result contract 2025",
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
        "targets": [
            {"kpi_key": "ideas_received", "target": 4, "direction": "at_least"},
            {"kpi_key": "licence_income", "target": 20_000_000, "direction": "at_least", "at_risk_threshold": 15_000_000},
            {"kpi_key": "pre_screening_rejection_share", "target": 60, "direction": "at_most"}
        ]
    });
    let r = app.post("/api/v1/result-contracts", &body);
    assert_eq!(r.status, 201, "{}", r.text);
    let c = r.json();
    assert_eq!(c["status"], "draft");
    let url = format!("/api/v1/result-contracts/{}", c["id"]);
    let tag = r.header("etag").unwrap().to_string();
    let r = app.patch(&url, &tag, &json!({"status": "agreed"}));
    assert_eq!(r.status, 200, "{}", r.text);
    let tag = r.header("etag").unwrap().to_string();
    // Agreed targets are fixed.
    app.patch(&url, &tag, &json!({"targets": []})).problem(409);

    let card = app
        .get_as(&app.key(Role::Management), &format!("{url}/scorecard"))
        .json();
    assert_eq!(card["elapsed"], 1.0);
    assert_eq!(card["previous_start"], "2024-01-01");
    let line = |k: &str| {
        card["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["kpi_key"] == k)
            .unwrap()
            .clone()
    };
    assert_eq!(line("ideas_received")["status"], "met");
    assert_eq!(line("ideas_received")["actual"]["value"], 4.0);
    assert_eq!(line("ideas_received")["attainment_percent"], 100.0);
    assert_eq!(line("ideas_received")["previous"]["value"], 1.0);
    assert_eq!(line("licence_income")["status"], "missed");
    assert_eq!(line("licence_income")["attainment_percent"], 50.0);
    assert_eq!(line("pre_screening_rejection_share")["status"], "met");
    // The actuals are those of GET /kpis/values for the same period.
    let v = values(&app, &app.admin_key, "from=2025-01-01&to=2025-12-31");
    assert_eq!(line("licence_income")["actual"], v["licence_income"]);

    // Unknown KPIs and impossible percentages are refused with the field named.
    let p = app
        .post(
            "/api/v1/result-contracts",
            &json!({"title": "x", "period_start": "2025-01-01", "period_end": "2025-12-31",
                    "targets": [{"kpi_key": "happiness", "target": 1, "direction": "at_least"},
                                {"kpi_key": "pre_screening_rejection_share", "target": 150, "direction": "at_most"}]}),
        )
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "targets[0].kpi_key");
    assert_eq!(p["errors"][1]["field"], "targets[1].target");
    app.post_as(
        &app.key(Role::Management),
        "/api/v1/result-contracts",
        &body,
    )
    .problem(403);
}

#[test]
fn the_annual_report_comes_as_html_xlsx_and_csv() {
    let app = TestApp::spawn();
    dataset(&app);
    app.post(
        "/api/v1/result-contracts",
        &json!({"title": "Result contract <2025>", "period_start": "2025-01-01", "period_end": "2025-12-31",
                "targets": [{"kpi_key": "ideas_received", "target": 10, "direction": "at_least"}]}),
    );
    let management = app.key(Role::Management);
    let r = app.get_as(&management, "/api/v1/reports/annual?year=2025");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let html = &r.text;
    assert!(html.contains("<svg"), "charts are inline SVG");
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(!html.contains("<script"), "no scripts");
    for external in ["<link", "src=", "href=\"http", "@import", "url("] {
        assert!(
            !html.contains(external),
            "nothing loaded from elsewhere: {external}"
        );
    }
    assert!(html.contains("Result contract &lt;2025&gt;"), "escaped");
    assert!(html.contains("status-missed"));

    let r = ureq::get(&app.url("/api/v1/reports/annual?year=2025&format=xlsx"))
        .set("Authorization", &format!("Bearer {management}"))
        .call()
        .unwrap();
    assert!(r.header("content-disposition").unwrap().contains(".xlsx"));
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut r.into_reader(), &mut bytes).unwrap();
    assert_eq!(&bytes[..2], b"PK", "a zip container");
    let names = String::from_utf8_lossy(&bytes);
    // One sheet per section: KPIs, funnel, income and costs, scorecard.
    assert!(names.contains("xl/worksheets/sheet4.xml"));
    assert!(!names.contains("xl/worksheets/sheet5.xml"));

    let r = app.get_as(&management, "/api/v1/reports/annual?year=2025&format=csv");
    assert_eq!(r.status, 200);
    assert!(
        r.text.contains("kpis,ideas_received,2025,4"),
        "{}",
        &r.text[..200]
    );
    assert!(r.text.contains("scorecard,ideas_received,status,missed"));
    app.get("/api/v1/reports/annual?year=20250").problem(422);
}

#[test]
fn demo_data_fills_an_empty_database_the_same_way_for_a_seed() {
    let a = TestApp::spawn();
    let b = TestApp::spawn();
    for app in [&a, &b] {
        let db = innofolio::db::Db::connect(&app.db.url).unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        innofolio::demo::generate(&db, 300, 7, today).unwrap();
        let again = innofolio::demo::generate(&db, 300, 7, today);
        assert!(again.is_err(), "refuses a database with ideas");
    }
    let va = values(&a, &a.admin_key, "from=2020-01-01&to=2025-12-31");
    let vb = values(&b, &b.admin_key, "from=2020-01-01&to=2025-12-31");
    assert_eq!(va, vb, "deterministic");
    assert!(va["ideas_received"]["value"].as_f64().unwrap() > 100.0);
    assert!(va["total_income"]["value"].as_f64().unwrap() > 0.0);
    assert!(va["patents_granted"]["value"].as_f64().unwrap() >= 0.0);
    // The API works on top of it: ids continue after the generated ones.
    let r = a.post(
        "/api/v1/ideas",
        &json!({"title": "After the demo", "kind": "idea_problem", "received_on": "2026-01-05"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let report = a.get("/api/v1/reports/annual?year=2025");
    assert_eq!(report.status, 200);
    assert!(
        report.text.contains("status-"),
        "the demo contract is on the report"
    );
}

#[test]
fn the_active_portfolio_at_a_past_day_follows_later_reactivations() {
    let app = TestApp::spawn();
    let idea = |title: &str, on: &str| {
        id(&created(
            &app,
            "/api/v1/ideas",
            json!({"title": title, "kind": "idea_problem", "received_on": on}),
        ))
    };
    let a = idea("Closed, then reactivated later", "2025-01-10");
    idea("Active all along", "2025-03-01");
    let c = idea("Closed after the year", "2025-04-01");
    idea("Received after the year", "2026-02-01");
    moved(
        &app,
        a,
        json!({"to": "closed", "reason": "parked", "on": "2025-02-01"}),
    );
    moved(
        &app,
        a,
        json!({"to": "pre_screening", "reason": "new evidence", "on": "2026-01-15"}),
    );
    moved(
        &app,
        c,
        json!({"to": "closed", "reason": "no budget", "on": "2026-03-01"}),
    );
    let v = values(&app, &app.admin_key, "from=2025-01-01&to=2025-12-31");
    // At the end of 2025: b and c were active, a was closed; the 2026 idea did not exist.
    assert_eq!(v["active_portfolio"]["value"], json!(2.0));
    let v = values(&app, &app.admin_key, "from=2026-01-01&to=2026-06-30");
    // Mid-2026: a (reactivated), b and the new idea; c is closed.
    assert_eq!(v["active_portfolio"]["value"], json!(3.0));
}
