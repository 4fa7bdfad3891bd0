//! Deals and money: agreements moving ideas, income, exact distributions.

use serde_json::{json, Value};

use crate::helpers::TestApp;

struct Setup {
    idea: i64,
    company: i64,
    cardiology: i64,
    surgery: i64,
    inventors: [i64; 3],
}

fn setup(app: &TestApp) -> Setup {
    let cardiology = app.create_organisation("Cardiology", "department")["id"]
        .as_i64()
        .unwrap();
    let surgery = app.create_organisation("Surgery", "department")["id"]
        .as_i64()
        .unwrap();
    let company = app.create_organisation("MedTech A/S", "company")["id"]
        .as_i64()
        .unwrap();
    let a = app.create_person(&json!({"name": "Anna", "organisation_id": cardiology}))["id"]
        .as_i64()
        .unwrap();
    let b = app.create_person(&json!({"name": "Bo", "organisation_id": cardiology}))["id"]
        .as_i64()
        .unwrap();
    let c = app.create_person(&json!({"name": "Cai", "organisation_id": surgery}))["id"]
        .as_i64()
        .unwrap();
    let idea = app.post("/api/v1/ideas", &json!({"title": "Heart valve clip", "kind": "clinical_invention", "received_on": "2025-01-10"})).json()["id"].as_i64().unwrap();
    let tag = app
        .get(&format!("/api/v1/ideas/{idea}"))
        .header("etag")
        .unwrap()
        .to_string();
    let r = app.send(
        "PUT",
        &format!("/api/v1/ideas/{idea}/inventors"),
        Some(&app.admin_key),
        &[("If-Match", &tag)],
        Some(&json!({"inventors": [{"person_id": a, "share": "50"}, {"person_id": b, "share": "30"}, {"person_id": c, "share": "20"}]}).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    Setup {
        idea,
        company,
        cardiology,
        surgery,
        inventors: [a, b, c],
    }
}

fn licence(app: &TestApp, s: &Setup) -> i64 {
    let r = app.post(
        "/api/v1/agreements",
        &json!({"kind": "licence_exclusive", "title": "Licence to MedTech", "counterparty_id": s.company, "idea_ids": [s.idea],
                "terms": {"royalty_rate_bp": 500, "annual_minimum": {"amount_minor": 5000000, "currency": "DKK"}, "reporting": "quarterly",
                          "tiers": [{"from_yearly_net_sales": {"amount_minor": 1000000000, "currency": "DKK"}, "rate_bp": 300}]}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()["id"].as_i64().unwrap()
}

fn income(app: &TestApp, s: &Setup, amount: i64) -> Value {
    let r = app.post("/api/v1/income", &json!({"idea_id": s.idea, "kind": "running_royalty", "received_on": "2026-03-31", "amount": {"amount_minor": amount, "currency": "DKK"}}));
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

#[test]
fn one_hundred_thousand_kroner_is_split_to_the_ore_and_only_once() {
    let app = TestApp::spawn();
    let s = setup(&app);
    let inc = income(&app, &s, 10_000_000);
    assert_eq!(
        inc["amount"],
        json!({"amount_minor": 10000000, "currency": "DKK"}),
        "money is minor units with a currency"
    );
    let r = app.post("/api/v1/distributions", &json!({"income_id": inc["id"]}));
    assert_eq!(r.status, 201, "{}", r.text);
    let d = r.json();
    let lines = d["lines"].as_array().unwrap();
    let amount = |kind: &str, person: Option<i64>, org: Option<i64>| -> i64 {
        lines
            .iter()
            .find(|l| {
                l["recipient_kind"] == kind
                    && (person.is_none() || l["person_id"] == json!(person))
                    && (org.is_none() || l["organisation_id"] == json!(org))
            })
            .unwrap()["amount"]["amount_minor"]
            .as_i64()
            .unwrap()
    };
    // Exact shares: inventors' third 3,333,333.33 øre split 50/30/20; the department third split
    // 80/20 between Cardiology (Anna, Bo) and Surgery (Cai); the institution's third. Floors sum
    // to 9,999,997 øre; the 3 øre left go to the largest remainders (.67: Anna, Cai, Cardiology,
    // Surgery), ties to the first listed: Anna, Cai, Cardiology.
    assert_eq!(amount("inventor", Some(s.inventors[0]), None), 1_666_667);
    assert_eq!(amount("inventor", Some(s.inventors[1]), None), 1_000_000);
    assert_eq!(amount("inventor", Some(s.inventors[2]), None), 666_667);
    assert_eq!(amount("department", None, Some(s.cardiology)), 2_666_667);
    assert_eq!(amount("department", None, Some(s.surgery)), 666_666);
    assert_eq!(amount("institution", None, None), 3_333_333);
    let sum: i64 = lines
        .iter()
        .map(|l| l["amount"]["amount_minor"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, 10_000_000, "the payouts sum exactly to DKK 100,000.00");
    for l in lines {
        assert_eq!(l["amount"]["currency"], "DKK");
        assert!(l["amount"]["amount_minor"].is_i64(), "never a float");
    }

    // Distributing the same income again changes nothing.
    let again = app.post("/api/v1/distributions", &json!({"income_id": inc["id"]}));
    assert_eq!(again.status, 200);
    assert_eq!(again.json(), d);
    assert_eq!(app.get("/api/v1/distributions").json()["total"], 1);

    // A mistake is reversed by a counter-entry, then the income can be distributed again.
    let rev = app.post(
        &format!("/api/v1/distributions/{}/reversal", d["id"]),
        &json!({"reason": "wrong inventor shares"}),
    );
    assert_eq!(rev.status, 201, "{}", rev.text);
    let rev = rev.json();
    assert_eq!(rev["reverses_id"], d["id"]);
    assert_eq!(rev["distributable"]["amount_minor"], -10_000_000);
    app.post(
        &format!("/api/v1/distributions/{}/reversal", d["id"]),
        &json!({"reason": "twice"}),
    )
    .problem(409);
    assert_eq!(
        app.get(&format!("/api/v1/distributions/{}", d["id"]))
            .json()["reversed"],
        true
    );
    let redo = app.post("/api/v1/distributions", &json!({"income_id": inc["id"]}));
    assert_eq!(redo.status, 201);

    let per_inventor = app.get("/api/v1/reports/distributions?by=inventor").json();
    let anna = per_inventor
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == s.inventors[0])
        .unwrap();
    assert_eq!(anna["amount_minor"], 1_666_667, "the reversal nets out");
    assert_eq!(anna["name"], "Anna");
}

#[test]
fn net_of_patent_costs_deducts_the_ideas_costs_once() {
    let app = TestApp::spawn();
    let s = setup(&app);
    let fam = app
        .post(
            "/api/v1/patent-families",
            &json!({"idea_id": s.idea, "title": "Clip"}),
        )
        .json()["id"]
        .as_i64()
        .unwrap();
    app.post("/api/v1/patent-costs", &json!({"family_id": fam, "incurred_on": "2025-06-01", "amount": {"amount_minor": 3_000_000, "currency": "DKK"}, "category": "filing"}));
    let p = app.post("/api/v1/distribution-policies", &json!({"name": "Net", "basis": "net_of_patent_costs", "inventors_weight": 1, "department_weight": 1, "institution_weight": 1}));
    assert_eq!(p.status, 201, "{}", p.text);
    let policy = p.json()["id"].as_i64().unwrap();
    let first = income(&app, &s, 2_000_000);
    let d1 = app
        .post(
            "/api/v1/distributions",
            &json!({"income_id": first["id"], "policy_id": policy}),
        )
        .json();
    assert_eq!(d1["costs_deducted"]["amount_minor"], 2_000_000);
    assert_eq!(d1["distributable"]["amount_minor"], 0);
    let second = income(&app, &s, 2_000_000);
    let d2 = app
        .post(
            "/api/v1/distributions",
            &json!({"income_id": second["id"], "policy_id": policy}),
        )
        .json();
    assert_eq!(
        d2["costs_deducted"]["amount_minor"], 1_000_000,
        "only what is left of the costs"
    );
    assert_eq!(d2["distributable"]["amount_minor"], 1_000_000);
}

#[test]
fn signing_a_licence_commercialises_and_terminating_the_only_licence_reactivates_the_idea() {
    let app = TestApp::spawn();
    let s = setup(&app);
    let lic = licence(&app, &s);
    let r = app.post(
        &format!("/api/v1/agreements/{lic}/transitions"),
        &json!({"to": "active", "on": "2026-02-01"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["signed_on"], "2026-02-01");
    let idea = app.get(&format!("/api/v1/ideas/{}", s.idea)).json();
    assert_eq!(idea["outcome"], "commercialised");

    app.post(
        &format!("/api/v1/agreements/{lic}/transitions"),
        &json!({"to": "terminated"}),
    )
    .problem(422);
    let r = app.post(
        &format!("/api/v1/agreements/{lic}/transitions"),
        &json!({"to": "terminated", "reason": "licensee insolvent"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let idea = app.get(&format!("/api/v1/ideas/{}", s.idea)).json();
    assert_eq!(idea["outcome"], Value::Null, "back in the active portfolio");
    let history = app.get(&format!("/api/v1/ideas/{}/history", s.idea)).json();
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert!(
        last["reason"].as_str().unwrap().contains("new partner"),
        "{last}"
    );
    let p = app
        .post(
            &format!("/api/v1/agreements/{lic}/transitions"),
            &json!({"to": "active"}),
        )
        .problem(409);
    assert_eq!(p["allowed"], json!([]));
    let fam = app
        .post(
            "/api/v1/patent-families",
            &json!({"idea_id": s.idea, "title": "Clip"}),
        )
        .json()["id"]
        .as_i64()
        .unwrap();
    let opt = app.post("/api/v1/agreements", &json!({"kind": "option", "title": "Option", "counterparty_id": s.company, "idea_ids": [s.idea], "family_ids": [fam]}));
    assert_eq!(opt.status, 201, "{}", opt.text);
    assert_eq!(opt.json()["family_ids"], json!([fam]));
    app.post("/api/v1/agreements", &json!({"kind": "option", "title": "Option", "counterparty_id": s.company, "idea_ids": [], "family_ids": [999]})).problem(422);
    let terms = app.get(&format!("/api/v1/agreements/{lic}")).json()["terms"].clone();
    assert_eq!(
        terms["annual_minimum"],
        json!({"amount_minor": 5000000, "currency": "DKK"})
    );
}

#[test]
fn income_needs_a_known_idea_and_a_positive_amount() {
    let app = TestApp::spawn();
    let s = setup(&app);
    let lic = licence(&app, &s);
    let r = app.post("/api/v1/income", &json!({"agreement_id": lic, "kind": "upfront", "received_on": "2026-01-05", "amount": {"amount_minor": 25000000, "currency": "DKK"}}));
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["idea_id"], s.idea, "inferred from the agreement");
    app.post("/api/v1/income", &json!({"idea_id": s.idea, "kind": "upfront", "received_on": "2026-01-05", "amount": {"amount_minor": -5, "currency": "DKK"}})).problem(422);
    app.post("/api/v1/income", &json!({"idea_id": s.idea, "kind": "upfront", "received_on": "2026-01-05", "amount": {"amount_minor": 5.5, "currency": "DKK"}})).problem(422);
    app.post("/api/v1/income", &json!({"idea_id": 999, "kind": "upfront", "received_on": "2026-01-05", "amount": {"amount_minor": 5, "currency": "DKK"}})).problem(422);
    assert_eq!(app.get("/api/v1/income?kind=upfront").json()["total"], 1);
    let no_inventors = app
        .post(
            "/api/v1/ideas",
            &json!({"title": "Orphan", "kind": "idea_problem", "received_on": "2025-01-01"}),
        )
        .json()["id"]
        .as_i64()
        .unwrap();
    let inc = app.post("/api/v1/income", &json!({"idea_id": no_inventors, "kind": "other", "received_on": "2026-01-05", "amount": {"amount_minor": 100, "currency": "DKK"}})).json();
    app.post("/api/v1/distributions", &json!({"income_id": inc["id"]}))
        .problem(409);
}

#[test]
fn statements_compute_tiered_royalties_and_the_minimum_true_up() {
    let app = TestApp::spawn();
    let s = setup(&app);
    let lic = licence(&app, &s);
    app.post(&format!("/api/v1/agreements/{lic}/statements"), &json!({"period_start": "2025-01-01", "period_end": "2025-03-31", "net_sales": {"amount_minor": 1, "currency": "DKK"}}))
        .problem(409);
    app.post(
        &format!("/api/v1/agreements/{lic}/transitions"),
        &json!({"to": "active", "on": "2025-01-01"}),
    );
    let st = |start: &str, end: &str, sales: i64| {
        let r = app.post(&format!("/api/v1/agreements/{lic}/statements"), &json!({"period_start": start, "period_end": end, "net_sales": {"amount_minor": sales, "currency": "DKK"}}));
        assert_eq!(r.status, 201, "{}", r.text);
        r.json()
    };
    // 5 % up to DKK 10,000,000 of yearly net sales, 3 % above; minimum DKK 50,000 a year.
    let q1 = st("2025-01-01", "2025-03-31", 400_000_000);
    assert_eq!(q1["royalty"]["amount_minor"], 20_000_000);
    let q2 = st("2025-04-01", "2025-06-30", 800_000_000);
    // 600,000,000 øre more at 5 % (up to the 1,000,000,000 threshold), 200,000,000 at 3 %.
    assert_eq!(q2["royalty"]["amount_minor"], 30_000_000 + 6_000_000);
    let bad = st("2026-10-01", "2026-12-31", 10_000_000);
    // A quiet year: 5 % of DKK 100,000 = DKK 5,000; trued up to the DKK 50,000 minimum.
    assert_eq!(bad["royalty"]["amount_minor"], 500_000);
    assert_eq!(bad["minimum_true_up"]["amount_minor"], 4_500_000);
    assert_eq!(bad["due"]["amount_minor"], 5_000_000);
    app.post(&format!("/api/v1/agreements/{lic}/statements"), &json!({"period_start": "2025-01-01", "period_end": "2025-03-31", "net_sales": {"amount_minor": 1, "currency": "DKK"}}))
        .problem(409);
    app.post(&format!("/api/v1/agreements/{lic}/statements"), &json!({"period_start": "2025-11-01", "period_end": "2026-01-31", "net_sales": {"amount_minor": 1, "currency": "DKK"}}))
        .problem(422);

    let paid = app.post(&format!("/api/v1/statements/{}/payments", q1["id"]), &json!({"amount": {"amount_minor": 20_000_000, "currency": "DKK"}, "received_on": "2025-04-20"}));
    assert_eq!(paid.status, 200, "{}", paid.text);
    assert_eq!(paid.json()["balance"]["amount_minor"], 0);
    assert_eq!(
        app.get(&format!("/api/v1/income?agreement_id={lic}"))
            .json()["total"],
        1,
        "the payment is income"
    );
}

#[test]
fn compliance_lists_missing_statements_and_unpaid_royalties_largest_first() {
    let app = TestApp::spawn();
    let s = setup(&app);
    let lic = licence(&app, &s);
    app.post(
        &format!("/api/v1/agreements/{lic}/transitions"),
        &json!({"to": "active", "on": "2025-01-01"}),
    );
    let st = app.post(&format!("/api/v1/agreements/{lic}/statements"), &json!({"period_start": "2025-01-01", "period_end": "2025-03-31", "net_sales": {"amount_minor": 400_000_000, "currency": "DKK"}})).json();
    let items = app.get("/api/v1/compliance").json();
    let items = items.as_array().unwrap();
    let missing: Vec<&str> = items
        .iter()
        .filter(|i| i["issue"] == "statement_missing")
        .map(|i| i["detail"].as_str().unwrap())
        .collect();
    assert!(
        missing.iter().any(|d| d.contains("2025-06-30")),
        "{missing:?}"
    );
    assert!(
        !missing.iter().any(|d| d.contains("2025-03-31")),
        "that statement came in"
    );
    let today = chrono::Utc::now().date_naive();
    let current_quarter_end = innofolio::api::deals::period_ends(
        innofolio::api::deals::Reporting::Quarterly,
        today - chrono::TimeDelta::days(100),
        today + chrono::TimeDelta::days(100),
    )
    .into_iter()
    .find(|d| *d >= today)
    .unwrap();
    assert!(
        !missing
            .iter()
            .any(|d| d.contains(&current_quarter_end.to_string())),
        "not due yet"
    );
    let unpaid = items
        .iter()
        .find(|i| i["issue"] == "payment_overdue")
        .unwrap();
    assert_eq!(
        unpaid["amount_at_stake"],
        json!({"amount_minor": 20_000_000, "currency": "DKK"})
    );
    assert_eq!(unpaid["counterparty"], "MedTech A/S");
    assert!(
        !items.iter().any(|i| i["issue"] == "below_minimum"),
        "2025's royalties exceed the minimum"
    );
    assert_eq!(
        missing.len() as i64,
        items
            .iter()
            .filter(|i| i["issue"] == "statement_missing")
            .count() as i64
    );
    let _ = st;
}

#[test]
fn overdue_diligence_obligations_are_listed_and_can_be_met() {
    let app = TestApp::spawn();
    let s = setup(&app);
    let lic = licence(&app, &s);
    app.post(
        &format!("/api/v1/agreements/{lic}/transitions"),
        &json!({"to": "active", "on": "2025-01-01"}),
    );
    let o = app.post(
        &format!("/api/v1/agreements/{lic}/obligations"),
        &json!({"description": "CE-marked product on the market", "due_on": "2026-01-01"}),
    );
    assert_eq!(o.status, 201, "{}", o.text);
    let o = o.json();
    assert_eq!(o["status"], "overdue");
    app.post(
        &format!("/api/v1/agreements/{lic}/obligations"),
        &json!({"description": "Later", "due_on": "2099-01-01"}),
    );
    let overdue = app.get("/api/v1/obligations?status=overdue").json();
    assert_eq!(overdue.as_array().unwrap().len(), 1);
    let compliance = app.get("/api/v1/compliance").json();
    assert!(compliance
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["issue"] == "obligation_overdue"));
    let met = app.patch(
        &format!("/api/v1/obligations/{}", o["id"]),
        "\"1\"",
        &json!({"met_on": "2026-02-01"}),
    );
    assert_eq!(met.status, 200, "{}", met.text);
    assert_eq!(met.json()["status"], "met");
    assert_eq!(
        app.get("/api/v1/obligations?status=overdue")
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn a_year_below_the_annual_minimum_is_flagged_with_the_shortfall() {
    let app = TestApp::spawn();
    let s = setup(&app);
    let lic = licence(&app, &s);
    app.post(
        &format!("/api/v1/agreements/{lic}/transitions"),
        &json!({"to": "active", "on": "2024-01-01"}),
    );
    let r = app.post(&format!("/api/v1/agreements/{lic}/statements"), &json!({"period_start": "2024-01-01", "period_end": "2024-03-31", "net_sales": {"amount_minor": 1_000_000, "currency": "DKK"}}));
    assert_eq!(r.json()["due"]["amount_minor"], 50_000);
    let items = app.get("/api/v1/compliance").json();
    let short: Vec<(String, i64)> = items
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["issue"] == "below_minimum")
        .map(|i| {
            (
                i["detail"].as_str().unwrap().to_string(),
                i["amount_at_stake"]["amount_minor"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(short.len(), 2, "{short:?}");
    assert!(short
        .iter()
        .any(|(d, a)| d.contains("2024") && *a == 4_950_000));
    assert!(short
        .iter()
        .any(|(d, a)| d.contains("2025") && *a == 5_000_000));
    let amounts: Vec<i64> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["amount_at_stake"]["amount_minor"].as_i64().unwrap())
        .collect();
    assert!(
        amounts.windows(2).all(|w| w[0] >= w[1]),
        "largest first: {amounts:?}"
    );
}
