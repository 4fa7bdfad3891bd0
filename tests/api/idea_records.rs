//! Disclosures, milestones, follow-ups and impacts recorded on ideas.

use chrono::{TimeDelta, Utc};
use serde_json::{json, Value};

use crate::helpers::TestApp;

fn idea(app: &TestApp, title: &str, kind: &str) -> i64 {
    let r = app.post(
        "/api/v1/ideas",
        &json!({"title": title, "kind": kind, "received_on": "2026-01-05"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()["id"].as_i64().unwrap()
}

fn days(n: i64) -> String {
    (Utc::now().date_naive() + TimeDelta::days(n)).to_string()
}

#[test]
fn a_public_disclosure_of_an_invention_puts_a_warning_on_the_idea() {
    let app = TestApp::spawn();
    let id = idea(&app, "Smart catheter", "research_invention");
    let problem = idea(&app, "Queue at the lab", "idea_problem");
    assert_eq!(
        app.get(&format!("/api/v1/ideas/{id}")).json()["warnings"],
        json!([])
    );
    let r = app.post(
        &format!("/api/v1/ideas/{id}/disclosures"),
        &json!({"kind": "talk", "disclosed_on": "2026-02-10", "venue": "Nordic Cardiology Days"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    app.post(
        &format!("/api/v1/ideas/{problem}/disclosures"),
        &json!({"kind": "poster", "disclosed_on": "2026-02-10", "venue": "X"}),
    );
    let warned = app.get(&format!("/api/v1/ideas/{id}")).json();
    assert_eq!(
        warned["warnings"][0]["code"],
        "public_disclosure_before_filing"
    );
    assert!(warned["warnings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("2026-02-10"));
    assert_eq!(
        app.get(&format!("/api/v1/ideas/{problem}")).json()["warnings"],
        json!([]),
        "ideas/problems are not patented"
    );
    let list = app.get("/api/v1/ideas?kind=research_invention").json();
    assert_eq!(list["items"][0]["warnings"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&format!("/api/v1/ideas/{id}/disclosures"))
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.post(
        &format!("/api/v1/ideas/{id}/disclosures"),
        &json!({"kind": "talk", "disclosed_on": days(5), "venue": "Future"}),
    )
    .problem(422);
    app.post(
        "/api/v1/ideas/999/disclosures",
        &json!({"kind": "talk", "disclosed_on": "2026-01-01", "venue": "X"}),
    )
    .problem(404);
}

#[test]
fn overdue_milestones_are_listed_across_the_portfolio_until_done() {
    let app = TestApp::spawn();
    let a = idea(&app, "Prototype A", "idea_problem");
    let b = idea(&app, "Prototype B", "idea_problem");
    let late = app
        .post(
            &format!("/api/v1/ideas/{a}/milestones"),
            &json!({"title": "CE marking file", "due_on": days(-10)}),
        )
        .json();
    app.post(
        &format!("/api/v1/ideas/{b}/milestones"),
        &json!({"title": "Ward test", "due_on": days(-3)}),
    );
    app.post(
        &format!("/api/v1/ideas/{b}/milestones"),
        &json!({"title": "Business case", "due_on": days(20)}),
    );
    assert_eq!(late["overdue"], true);

    let overdue = app.get("/api/v1/milestones?status=overdue").json();
    assert_eq!(overdue["total"], 2);
    assert_eq!(
        overdue["items"][0]["title"], "CE marking file",
        "earliest first"
    );
    assert_eq!(overdue["items"][0]["idea_title"], "Prototype A");
    assert_eq!(app.get("/api/v1/milestones?status=open").json()["total"], 3);

    let path = format!("/api/v1/milestones/{}", late["id"]);
    let done = app.patch(&path, "\"1\"", &json!({"done_on": days(0)}));
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.json()["overdue"], false);
    app.patch(&path, "\"1\"", &json!({"title": "stale"}))
        .problem(412);
    assert_eq!(app.get("/api/v1/milestones").json()["total"], 1);
    app.patch(&path, "\"2\"", &json!({"done_on": days(3)}))
        .problem(422);
    app.post(
        &format!("/api/v1/ideas/{a}/milestones"),
        &json!({"title": "x", "due_on": days(1), "owner_id": 77}),
    )
    .problem(422);
}

#[test]
fn passed_on_ideas_get_dated_follow_ups_and_impacts_are_recorded_with_evidence() {
    let app = TestApp::spawn();
    let it = app.create_organisation("Regional IT", "department")["id"]
        .as_i64()
        .unwrap();
    let id = idea(&app, "Digital referral form", "idea_problem");
    app.post(
        &format!("/api/v1/ideas/{id}/follow-ups"),
        &json!({"due_on": days(30)}),
    )
    .problem(409);
    let r = app.post(
        &format!("/api/v1/ideas/{id}/transitions"),
        &json!({"to": "passed_on_internal", "recipient_organisation_id": it, "reason": "IT owns forms",
                "expected_results": "Form live in 2027", "expected_fte": 0.5}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["idea"]["recipient_organisation_id"], it);
    let f = app.post(
        &format!("/api/v1/ideas/{id}/follow-ups"),
        &json!({"due_on": days(-1), "note": "Is the form live?"}),
    );
    assert_eq!(f.status, 201, "{}", f.text);
    let f = f.json();
    assert_eq!(app.get("/api/v1/follow-ups").json()["total"], 1);
    let done = app.patch(
        &format!("/api/v1/follow-ups/{}", f["id"]),
        "\"1\"",
        &json!({"done_on": days(0), "result": "Live since May"}),
    );
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(app.get("/api/v1/follow-ups").json()["total"], 0);
    assert_eq!(
        app.get(&format!("/api/v1/ideas/{id}/follow-ups")).json()[0]["result"],
        "Live since May"
    );

    let imp = app.post(
        &format!("/api/v1/ideas/{id}/impacts"),
        &json!({"yearly_savings": {"amount_minor": 25000000, "currency": "DKK"}, "fte": "0.75", "evidence": "Finance audit 2026"}),
    );
    assert_eq!(imp.status, 201, "{}", imp.text);
    assert_eq!(imp.json()["fte"], "0.75");
    let list: Value = app.get(&format!("/api/v1/ideas/{id}/impacts")).json();
    assert_eq!(list[0]["yearly_savings"]["amount_minor"], 25000000);
    app.post(
        &format!("/api/v1/ideas/{id}/impacts"),
        &json!({"evidence": "nothing measured"}),
    )
    .problem(422);
    app.post(
        &format!("/api/v1/ideas/{id}/impacts"),
        &json!({"fte": "0.755", "evidence": "x"}),
    )
    .problem(422);
    app.post(
        &format!("/api/v1/ideas/{id}/impacts"),
        &json!({"yearly_savings": {"amount_minor": 5, "currency": "dkk"}, "evidence": "x"}),
    )
    .problem(422);
}
