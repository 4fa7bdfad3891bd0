//! Patents: families, filings, the computed docket, marks, costs and warnings.

use serde_json::{json, Value};

use crate::helpers::TestApp;
use innofolio::domain::Role;

fn invention(app: &TestApp) -> i64 {
    let r = app.post("/api/v1/ideas", &json!({"title": "Glucose sensor", "kind": "research_invention", "received_on": "2024-01-10"}));
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()["id"].as_i64().unwrap()
}

fn family(app: &TestApp, idea: i64) -> i64 {
    let r = app.post(
        "/api/v1/patent-families",
        &json!({"idea_id": idea, "title": "Glucose sensor family", "internal_ref": "P-2024-01"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()["id"].as_i64().unwrap()
}

fn filing(app: &TestApp, family: i64, body: Value) -> Value {
    let r = app.post(&format!("/api/v1/patent-families/{family}/filings"), &body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

fn docket(app: &TestApp, query: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/patent-deadlines?{query}&limit=500"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["items"].as_array().unwrap().clone()
}

fn due(items: &[Value], rule: &str) -> Vec<String> {
    items
        .iter()
        .filter(|i| i["rule_key"] == rule)
        .map(|i| i["due_on"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_docket_computes_the_worked_dates_from_the_filings() {
    let app = TestApp::spawn();
    let fam = family(&app, invention(&app));
    let prio = filing(
        &app,
        fam,
        json!({"kind": "priority", "jurisdiction": "DK", "filing_date": "2024-03-15", "application_number": "PA 2024 70123"}),
    );
    let all = "from=2024-01-01&to=2027-12-31";
    let items = docket(&app, all);
    assert_eq!(due(&items, "priority_year"), ["2025-03-15"]);
    assert_eq!(due(&items, "publication"), ["2025-09-15"]);
    assert!(items
        .iter()
        .all(|i| i["status"] == "overdue" || i["status"] == "open"));

    // The PCT claims the priority: the priority year is met, the national phases appear.
    let pct = filing(
        &app,
        fam,
        json!({"kind": "pct", "jurisdiction": "WO", "filing_date": "2025-03-14", "priority_dates": ["2024-03-15"], "parent_id": prio["id"]}),
    );
    let items = docket(&app, all);
    let py = items
        .iter()
        .find(|i| i["rule_key"] == "priority_year")
        .unwrap();
    assert_eq!(py["status"], "done");
    assert_eq!(due(&items, "national_phase_30"), ["2026-09-15"]);
    assert_eq!(due(&items, "ep_regional_phase_31"), ["2026-10-15"]);

    // Entering the EP regional phase meets the EP deadline, not the others.
    let ep = filing(
        &app,
        fam,
        json!({"kind": "regional", "jurisdiction": "EP", "filing_date": "2025-03-14", "priority_dates": ["2024-03-15"], "parent_id": pct["id"]}),
    );
    let items = docket(&app, all);
    let status = |k: &str| {
        items
            .iter()
            .find(|i| i["rule_key"] == k && i["filing_id"] == pct["id"])
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("ep_regional_phase_31"), "done");
    assert_eq!(
        status("national_phase_30"),
        "done",
        "a regional phase entry also counts as entering the national phase"
    );
    assert_eq!(
        status("dk_national_phase_31"),
        "overdue",
        "2026-10-15 has passed and DK was not entered"
    );
    assert_eq!(
        due(&items, "ep_renewal"),
        ["2027-03-31"],
        "EP renewal year 3 at the end of the anniversary month"
    );

    // Withdrawing the EP filing removes its deadlines and re-opens the EP entry.
    let path = format!("/api/v1/patent-filings/{}", ep["id"]);
    let r = app.patch(&path, "\"1\"", &json!({"status": "withdrawn"}));
    assert_eq!(r.status, 200, "{}", r.text);
    let items = docket(&app, all);
    assert!(due(&items, "ep_renewal").is_empty());
    let entry = items
        .iter()
        .find(|i| i["rule_key"] == "ep_regional_phase_31")
        .unwrap();
    assert_ne!(entry["status"], "done");

    // The calendar feed has the open deadlines.
    let ics = app.get("/api/v1/patent-deadlines.ics");
    assert_eq!(ics.status, 200);
    assert!(ics
        .header("content-type")
        .unwrap()
        .starts_with("text/calendar"));
    assert!(
        ics.text.contains("BEGIN:VCALENDAR") && ics.text.contains("DTSTART;VALUE=DATE:20261015"),
        "{}",
        ics.text
    );
}

#[test]
fn ep_renewals_month_ends_and_marking_deadlines_done() {
    let app = TestApp::spawn();
    let fam = family(&app, invention(&app));
    let ep = filing(
        &app,
        fam,
        json!({"kind": "regional", "jurisdiction": "EP", "filing_date": "2016-11-15"}),
    );
    let items = docket(&app, "from=2018-01-01&to=2019-12-31");
    assert_eq!(due(&items, "ep_renewal"), ["2018-11-30", "2019-11-30"]);
    let leap = filing(
        &app,
        fam,
        json!({"kind": "pct", "jurisdiction": "WO", "filing_date": "2024-08-30", "priority_dates": ["2023-08-31"]}),
    );
    let items = docket(&app, "from=2026-01-01&to=2026-12-31");
    assert!(items.iter().any(|i| i["rule_key"] == "national_phase_30"
        && i["due_on"] == "2026-02-28"
        && i["filing_id"] == leap["id"]));

    let id = format!("{}-ep_renewal-2018-11-30", ep["id"]);
    let r = app.send(
        "PUT",
        &format!("/api/v1/patent-deadlines/{id}"),
        Some(&app.admin_key),
        &[],
        Some(r#"{"status":"done","note":"paid via agent"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["status"], "done");
    assert_eq!(r.json()["note"], "paid via agent");
    app.send(
        "PUT",
        "/api/v1/patent-deadlines/1-nope-2018-11-30",
        Some(&app.admin_key),
        &[],
        Some(r#"{"status":"done"}"#),
    )
    .problem(404);
    let overdue = docket(&app, "from=2018-01-01&to=2019-12-31&status=overdue");
    assert_eq!(due(&overdue, "ep_renewal"), ["2019-11-30"]);
    assert!(app.get("/api/v1/audit?action=mark_deadline").json()["total"] == 1);
}

#[test]
fn costs_total_per_idea_family_and_year() {
    let app = TestApp::spawn();
    let idea = invention(&app);
    let fam = family(&app, idea);
    let f = filing(
        &app,
        fam,
        json!({"kind": "priority", "jurisdiction": "DK", "filing_date": "2024-03-15"}),
    );
    for (date, amount, cat) in [
        ("2024-03-15", 450000, "filing"),
        ("2024-06-01", 1200000, "agent"),
        ("2025-03-10", 3500000, "filing"),
    ] {
        let r = app.post("/api/v1/patent-costs", &json!({"filing_id": f["id"], "incurred_on": date, "amount": {"amount_minor": amount, "currency": "DKK"}, "category": cat}));
        assert_eq!(r.status, 201, "{}", r.text);
    }
    app.post("/api/v1/patent-costs", &json!({"family_id": fam, "incurred_on": "2025-01-01", "amount": {"amount_minor": 10000, "currency": "EUR"}, "category": "translation"}));
    let by_year = app.get("/api/v1/patent-costs/totals?by=year").json();
    assert_eq!(
        by_year,
        json!([
            {"key": 2024, "currency": "DKK", "amount_minor": 1650000, "count": 2},
            {"key": 2025, "currency": "DKK", "amount_minor": 3500000, "count": 1},
            {"key": 2025, "currency": "EUR", "amount_minor": 10000, "count": 1}
        ])
    );
    let by_idea = app.get("/api/v1/patent-costs/totals?by=idea").json();
    assert_eq!(by_idea[0]["key"], idea);
    assert_eq!(by_idea[0]["amount_minor"], 5150000);
    assert_eq!(
        app.get(&format!("/api/v1/patent-costs?family_id={fam}"))
            .json()["total"],
        4
    );
    app.post("/api/v1/patent-costs", &json!({"incurred_on": "2025-01-01", "amount": {"amount_minor": 1, "currency": "DKK"}, "category": "other"})).problem(422);
    app.post("/api/v1/patent-costs", &json!({"family_id": fam, "incurred_on": "2025-01-01", "amount": {"amount_minor": 1, "currency": "kr"}, "category": "other"})).problem(422);
}

#[test]
fn a_disclosure_before_the_priority_date_warns_on_family_and_idea() {
    let app = TestApp::spawn();
    let idea = invention(&app);
    let fam = family(&app, idea);
    app.post(
        &format!("/api/v1/ideas/{idea}/disclosures"),
        &json!({"kind": "poster", "disclosed_on": "2024-02-01", "venue": "EASD"}),
    );
    assert_eq!(
        app.get(&format!("/api/v1/ideas/{idea}")).json()["warnings"][0]["code"],
        "public_disclosure_before_filing"
    );
    filing(
        &app,
        fam,
        json!({"kind": "priority", "jurisdiction": "DK", "filing_date": "2024-03-15"}),
    );
    let f = app.get(&format!("/api/v1/patent-families/{fam}")).json();
    assert_eq!(f["earliest_priority"], "2024-03-15");
    assert_eq!(
        f["warnings"][0]["code"],
        "public_disclosure_before_priority"
    );
    assert_eq!(
        app.get(&format!("/api/v1/ideas/{idea}")).json()["warnings"][0]["code"],
        "public_disclosure_before_priority"
    );

    let other = invention(&app);
    let fam2 = family(&app, other);
    filing(
        &app,
        fam2,
        json!({"kind": "priority", "jurisdiction": "DK", "filing_date": "2024-03-15"}),
    );
    app.post(
        &format!("/api/v1/ideas/{other}/disclosures"),
        &json!({"kind": "paper", "disclosed_on": "2024-05-01", "venue": "Diabetologia"}),
    );
    assert_eq!(
        app.get(&format!("/api/v1/ideas/{other}")).json()["warnings"],
        json!([]),
        "disclosed after filing: fine"
    );
}

#[test]
fn a_deadline_within_60_days_without_a_decision_warns() {
    let app = TestApp::spawn();
    let fam = family(&app, invention(&app));
    let today = chrono::Utc::now().date_naive();
    // A PCT whose 30-month deadline falls in 20 days.
    let priority = innofolio::domain::patents::shift(
        today + chrono::TimeDelta::days(20),
        -30,
        innofolio::domain::patents::OffsetUnit::Months,
    );
    filing(
        &app,
        fam,
        json!({"kind": "pct", "jurisdiction": "WO", "filing_date": priority.to_string(), "priority_dates": [priority.to_string()]}),
    );
    let f = app.get(&format!("/api/v1/patent-families/{fam}")).json();
    let codes: Vec<&str> = f["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"deadline_without_decision"), "{f}");
}

#[test]
fn deadline_rules_are_data_that_only_admins_change() {
    let app = TestApp::spawn();
    let rules = app.get("/api/v1/deadline-rules").json();
    let keys: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"]["key"].as_str().unwrap())
        .collect();
    for k in [
        "priority_year",
        "publication",
        "national_phase_30",
        "ep_regional_phase_31",
        "ep_renewal",
        "dk_annual_fee",
        "ep_validation",
        "expiry",
    ] {
        assert!(keys.contains(&k), "{k} is seeded");
    }
    assert!(rules[0]["rule"]["legal_source"]
        .as_str()
        .unwrap()
        .contains("Paris Convention"));
    let staff = app.key(Role::Staff);
    let mut rule = rules[0]["rule"].clone();
    rule["key"] = json!("custom_rule");
    app.post_as(&staff, "/api/v1/deadline-rules", &json!({"rule": rule}))
        .problem(403);
    let created = app.post("/api/v1/deadline-rules", &json!({"rule": rule}));
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json()["id"].as_i64().unwrap();
    let r = app.send(
        "PUT",
        &format!("/api/v1/deadline-rules/{id}"),
        Some(&app.admin_key),
        &[("If-Match", "\"1\"")],
        Some(&json!({"rule": rule, "active": false}).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["active"], false);
    rule["key"] = json!("Bad Key!");
    app.post("/api/v1/deadline-rules", &json!({"rule": rule}))
        .problem(422);
}

/// The docket over 10,000 families (30,000 filings). A benchmark, not a pass/fail timing test:
/// `cargo test --release --test api -- --ignored --nocapture docket_over_10000_families`
/// (add `TEST_DATABASE_URL=…` for PostgreSQL). It prints the figures.
#[test]
#[ignore]
fn docket_over_10000_families() {
    use innofolio::db::patents as repo;
    let app = TestApp::spawn();
    let idea = invention(&app);
    let db = innofolio::db::Db::connect(&app.db.url).unwrap();
    let started = std::time::Instant::now();
    db.write_blocking(|c| {
        let now = innofolio::db::now();
        for i in 0..10_000i64 {
            let fam = repo::insert_family(
                c,
                &repo::FamilyData {
                    idea_id: idea,
                    title: format!("Family {i}"),
                    internal_ref: None,
                    status: "active".into(),
                    responsible_id: None,
                    agent_id: None,
                },
                now,
            )?;
            let day = chrono::NaiveDate::from_ymd_opt(2015, 1, 1).unwrap()
                + chrono::TimeDelta::days(i % 4000);
            let filing = |kind: &str, j: &str, parent: Option<i64>, filed: chrono::NaiveDate| {
                repo::FilingData {
                    family_id: fam.id,
                    kind: kind.into(),
                    jurisdiction: j.into(),
                    parent_id: parent,
                    application_number: None,
                    filing_date: Some(filed),
                    priority_dates: day.to_string(),
                    publication_number: None,
                    publication_date: None,
                    grant_number: None,
                    grant_date: None,
                    status: "filed".into(),
                }
            };
            let p = repo::insert_filing(c, &filing("priority", "DK", None, day), now)?;
            let pct = repo::insert_filing(
                c,
                &filing("pct", "WO", Some(p.id), day + chrono::TimeDelta::days(360)),
                now,
            )?;
            repo::insert_filing(
                c,
                &filing(
                    "regional",
                    "EP",
                    Some(pct.id),
                    day + chrono::TimeDelta::days(900),
                ),
                now,
            )?;
        }
        Ok(())
    })
    .unwrap();
    eprintln!(
        "seeded 10,000 families / 30,000 filings in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut times = Vec::new();
    let mut total = 0;
    for _ in 0..7 {
        let t = std::time::Instant::now();
        let r = app.get("/api/v1/patent-deadlines?limit=500");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(r.status, 200);
        total = r.json()["total"].as_i64().unwrap();
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    eprintln!(
        "docket ({}): {total} deadlines in the default window; median {:.0} ms, max {:.0} ms over 7 requests",
        if app.db.is_postgres() { "postgres" } else { "sqlite" },
        times[3],
        times[6]
    );
    assert!(total > 10_000);
}
