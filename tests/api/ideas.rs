//! Ideas and the funnel, tried as the innovation unit would.

use chrono::{Datelike, NaiveDate, Utc};
use serde_json::{json, Value};

use crate::helpers::TestApp;
use innofolio::domain::Role;

const IDEAS: &str = "/api/v1/ideas";

fn new_idea(app: &TestApp, title: &str, kind: &str, received_on: &str) -> Value {
    let r = app.post(
        IDEAS,
        &json!({"title": title, "kind": kind, "received_on": received_on}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

fn etag(app: &TestApp, id: i64) -> String {
    app.get(&format!("{IDEAS}/{id}"))
        .header("etag")
        .unwrap()
        .to_string()
}

fn answer_all(app: &TestApp, id: i64, stage: &str, criteria: &[&str]) {
    let answers: Vec<Value> = criteria
        .iter()
        .map(|c| json!({"criterion": c, "answer": "yes", "note": "checked"}))
        .collect();
    let r = app.send(
        "PUT",
        &format!("{IDEAS}/{id}/checklists/{stage}"),
        Some(&app.admin_key),
        &[("If-Match", &etag(app, id))],
        Some(&json!({"answers": answers}).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.text);
}

fn transition(app: &TestApp, id: i64, body: Value) -> crate::helpers::Resp {
    app.post(&format!("{IDEAS}/{id}/transitions"), &body)
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

#[test]
fn an_invention_goes_from_intake_to_commercialisation_and_back_with_its_history() {
    let app = TestApp::spawn();
    let staff = app.key(Role::Staff);
    let received = (today() - chrono::TimeDelta::days(40)).to_string();
    let r = app.post_as(
        &staff,
        IDEAS,
        &json!({
            "title": "Pressure-sensing wound dressing",
            "description": "A dressing that warns before pressure ulcers form",
            "need": "Pressure ulcers in bedridden patients",
            "kind": "research_invention",
            "received_on": received,
            "tags": ["wound care", "sensors", "wound care"]
        }),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let idea = r.json();
    let id = idea["id"].as_i64().unwrap();
    assert_eq!(idea["stage"], "pre_screening");
    assert_eq!(idea["outcome"], Value::Null);
    assert_eq!(
        idea["tags"],
        json!(["sensors", "wound care"]),
        "deduplicated, sorted"
    );
    assert_eq!(idea["rights"]["status"], "open");
    assert_eq!(
        idea["rights"]["days_left"].as_i64().unwrap() + 40,
        (innofolio::domain::dates::rights_deadline(today() - chrono::TimeDelta::days(40))
            - today())
        .num_days()
            + 40
    );

    // Screening: the pre-screening checklist, then evaluation.
    answer_all(
        &app,
        id,
        "pre_screening",
        &[
            "health_related",
            "innovation_height",
            "clinical_need_confirmed",
            "value",
            "holder_commitment",
            "novelty_patentability",
        ],
    );
    let r = transition(&app, id, json!({"to": "evaluation", "reason": "promising"}));
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["idea"]["stage"], "evaluation");
    answer_all(
        &app,
        id,
        "evaluation",
        &[
            "novelty_screening",
            "market_cost_benefit",
            "value_to_hospital",
            "effect_on_cycle_of_care",
            "competences_needed",
            "unit_role",
        ],
    );

    // The rights are taken over within the deadline; then validation is open.
    let r = app.post(
        &format!("{IDEAS}/{id}/rights-decision"),
        &json!({"decision": "take_over", "note": "patent committee"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["rights"]["status"], "decided");
    assert_eq!(
        transition(&app, id, json!({"to": "validation"})).status,
        201
    );
    let r = transition(
        &app,
        id,
        json!({"to": "development", "override_reason": "business case follows"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        transition(&app, id, json!({"to": "commercialisation"})).status,
        201
    );
    let r = transition(
        &app,
        id,
        json!({"to": "commercialised", "reason": "licensed to MedTech A/S",
               "expected_results": "Product on the market in 2028",
               "expected_yearly_savings": {"amount_minor": 50000000, "currency": "DKK"}, "expected_fte": "1.5"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let left = r.json()["idea"].clone();
    assert_eq!(left["outcome"], "commercialised");
    assert_eq!(left["expected_fte"], "1.5");
    assert_eq!(left["expected_yearly_savings"]["amount_minor"], 50000000);

    // The licence ends: the invention returns to the active portfolio.
    let r = transition(
        &app,
        id,
        json!({"to": "development", "reason": "licence terminated; a new company must be found"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["idea"]["outcome"], Value::Null);
    assert_eq!(r.json()["idea"]["stage"], "development");

    let history = app.get(&format!("{IDEAS}/{id}/history")).json();
    let steps: Vec<(String, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_string(),
                e["to"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let expected = [
        ("created", "pre_screening"),
        ("transition", "evaluation"),
        ("rights_decision", ""),
        ("transition", "validation"),
        ("transition", "development"),
        ("transition", "commercialisation"),
        ("transition", "commercialised"),
        ("transition", "development"),
    ];
    assert_eq!(
        steps,
        expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
    let events = history.as_array().unwrap();
    assert_eq!(events[0]["actor"], "staff-key");
    assert_eq!(events[1]["actor"], "admin-key");
    assert_eq!(events[1]["reason"], "promising");
    assert_eq!(
        events[4]["override_reason"], "business case follows",
        "the override is recorded"
    );
    assert_eq!(events[6]["from"], "commercialisation");
    assert_eq!(events[7]["from"], "commercialised");
    assert!(events[7]["reason"]
        .as_str()
        .unwrap()
        .contains("new company"));
}

#[test]
fn illegal_moves_are_refused_with_the_allowed_moves_and_change_nothing() {
    let app = TestApp::spawn();
    let idea = new_idea(&app, "Smart bed", "idea_problem", "2026-01-10");
    let id = idea["id"].as_i64().unwrap();
    let r = transition(&app, id, json!({"to": "development"}));
    let p = r.problem(409);
    assert!(p["type"]
        .as_str()
        .unwrap()
        .ends_with("transition-not-allowed"));
    assert_eq!(
        p["allowed"],
        json!([
            "evaluation",
            "closed",
            "passed_on_internal",
            "passed_on_external",
            "commercialised",
            "implemented",
            "rights_returned"
        ])
    );

    // Forward out of pre-screening needs the checklist, or an override.
    let r = transition(&app, id, json!({"to": "evaluation"}));
    assert!(r.problem(409)["type"]
        .as_str()
        .unwrap()
        .ends_with("checklist-incomplete"));

    // Closing needs a reason; passing on needs a recipient.
    let r = transition(&app, id, json!({"to": "closed"}));
    assert_eq!(r.problem(422)["errors"][0]["field"], "reason");
    let r = transition(
        &app,
        id,
        json!({"to": "passed_on_internal", "reason": "IT owns this"}),
    );
    assert_eq!(
        r.problem(422)["errors"][0]["field"],
        "recipient_organisation_id"
    );
    transition(&app, id, json!({"to": "castle"})).problem(422);

    let after = app.get(&format!("{IDEAS}/{id}")).json();
    assert_eq!(after["version"], idea["version"], "nothing changed");
    assert_eq!(after["stage"], "pre_screening");
    assert_eq!(
        app.get(&format!("{IDEAS}/{id}/history"))
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // With a reason it closes, and a closed idea can only be reactivated.
    assert_eq!(
        transition(
            &app,
            id,
            json!({"to": "closed", "reason": "not health-related"})
        )
        .status,
        201
    );
    let p = transition(&app, id, json!({"to": "implemented"})).problem(409);
    assert_eq!(p["allowed"].as_array().unwrap().len(), 5);
}

#[test]
fn an_invention_cannot_enter_validation_without_a_take_over() {
    let app = TestApp::spawn();
    let idea = new_idea(&app, "Catheter clip", "clinical_invention", "2026-06-01");
    let id = idea["id"].as_i64().unwrap();
    assert_eq!(
        transition(
            &app,
            id,
            json!({"to": "evaluation", "override_reason": "fast track"})
        )
        .status,
        201
    );
    let r = transition(
        &app,
        id,
        json!({"to": "validation", "override_reason": "fast track"}),
    );
    assert!(r.problem(409)["type"]
        .as_str()
        .unwrap()
        .ends_with("rights-not-taken-over"));
    app.post(
        &format!("{IDEAS}/{id}/rights-decision"),
        &json!({"decision": "release"}),
    );
    transition(
        &app,
        id,
        json!({"to": "validation", "override_reason": "fast track"}),
    )
    .problem(409);
    assert_eq!(
        app.get(&format!("{IDEAS}/{id}")).json()["stage"],
        "evaluation"
    );
    // An idea/problem needs no rights decision.
    let p = new_idea(&app, "Waiting room flow", "idea_problem", "2026-06-01");
    let pid = p["id"].as_i64().unwrap();
    transition(
        &app,
        pid,
        json!({"to": "evaluation", "override_reason": "x"}),
    );
    assert_eq!(
        transition(
            &app,
            pid,
            json!({"to": "validation", "override_reason": "x"})
        )
        .status,
        201
    );
    let r = app.post(
        &format!("{IDEAS}/{pid}/rights-decision"),
        &json!({"decision": "take_over"}),
    );
    r.problem(409);
}

#[test]
fn inventor_and_owner_shares_must_sum_to_exactly_100() {
    let app = TestApp::spawn();
    let idea = new_idea(&app, "Infusion alarm", "clinical_invention", "2026-03-01");
    let id = idea["id"].as_i64().unwrap();
    let a = app.create_person(&json!({"name": "Anna"}))["id"]
        .as_i64()
        .unwrap();
    let b = app.create_person(&json!({"name": "Bo"}))["id"]
        .as_i64()
        .unwrap();
    let c = app.create_person(&json!({"name": "Cai"}))["id"]
        .as_i64()
        .unwrap();
    let path = format!("{IDEAS}/{id}/inventors");
    let put = |body: Value, tag: &str| {
        app.send(
            "PUT",
            &path,
            Some(&app.admin_key),
            &[("If-Match", tag)],
            Some(&body.to_string()),
        )
    };
    let tag = etag(&app, id);
    let thirds = json!({"inventors": [{"person_id": a, "share": 33.33}, {"person_id": b, "share": "33.33"}, {"person_id": c, "share": "33.33"}]});
    let p = put(thirds, &tag).problem(422);
    assert_eq!(p["errors"][0]["code"], "sum");
    assert!(p["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("99.99"));
    put(
        json!({"inventors": [{"person_id": a, "share": "60"}, {"person_id": a, "share": "40"}]}),
        &tag,
    )
    .problem(422);
    put(
        json!({"inventors": [{"person_id": a, "share": "100.5"}]}),
        &tag,
    )
    .problem(422);
    put(
        json!({"inventors": [{"person_id": 999, "share": "100"}]}),
        &tag,
    )
    .problem(422);
    assert_eq!(
        app.get(&path).json()["inventors"],
        json!([]),
        "nothing changed"
    );
    assert_eq!(etag(&app, id), tag);

    let exact = json!({"inventors": [{"person_id": a, "share": "33.3334"}, {"person_id": b, "share": 33.3333}, {"person_id": c, "share": "33.3333"}]});
    let r = put(exact.clone(), &tag);
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    let shares: Vec<&str> = body["inventors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["share"].as_str().unwrap())
        .collect();
    assert_eq!(shares, ["33.3334", "33.3333", "33.3333"]);
    put(exact, &tag).problem(412);

    let org = app.create_organisation("Aarhus University", "university")["id"]
        .as_i64()
        .unwrap();
    let own = app.create_organisation("Region Hospital", "hospital")["id"]
        .as_i64()
        .unwrap();
    let owners = app.get(&format!("{IDEAS}/{id}/owners")).json();
    assert_eq!(owners["own_institution_only"], true);
    let r = app.send(
        "PUT",
        &format!("{IDEAS}/{id}/owners"),
        Some(&app.admin_key),
        &[("If-Match", &etag(&app, id))],
        Some(&json!({"owners": [{"organisation_id": own, "share": "75"}, {"organisation_id": org, "share": "25", "agreement_ref": "CA-2026-7"}]}).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["owners"][1]["agreement_ref"], "CA-2026-7");
    // People named on an idea cannot be deleted.
    app.delete(&format!("/api/v1/people/{a}"), "\"1\"")
        .problem(409);
}

#[test]
fn the_rights_deadline_list_is_right_on_month_ends_and_leap_years() {
    let app = TestApp::spawn();
    let leap = new_idea(&app, "Leap", "research_invention", "2023-12-31");
    let plain = new_idea(&app, "Plain", "clinical_invention", "2024-12-31");
    let recent_day = today() - chrono::TimeDelta::days(10);
    let recent = new_idea(
        &app,
        "Recent",
        "research_invention",
        &recent_day.to_string(),
    );
    new_idea(&app, "Problem only", "idea_problem", "2024-12-31");
    assert_eq!(leap["rights"]["deadline"], "2024-02-29");
    assert_eq!(plain["rights"]["deadline"], "2025-02-28");
    assert_eq!(plain["rights"]["status"], "overdue");

    let open = app.get("/api/v1/rights-decisions").json();
    assert_eq!(open["total"], 3);
    let titles: Vec<&str> = open["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Leap", "Plain", "Recent"], "oldest deadline first");
    let expected_deadline = innofolio::domain::dates::rights_deadline(recent_day);
    assert_eq!(open["items"][2]["deadline"], expected_deadline.to_string());
    assert_eq!(
        open["items"][2]["days_left"],
        (expected_deadline - today()).num_days()
    );
    assert_eq!(
        open["items"][0]["days_left"],
        (NaiveDate::from_ymd_opt(2024, 2, 29).unwrap() - today()).num_days()
    );

    let overdue = app.get("/api/v1/rights-decisions?status=overdue").json();
    assert_eq!(overdue["total"], 2);
    let soon = app.get("/api/v1/rights-decisions?due_within_days=0").json();
    assert_eq!(soon["total"], 2, "only those due by today");

    // An extension agreed with the inventor moves the deadline.
    let rid = recent["id"].as_i64().unwrap();
    let new_deadline = expected_deadline + chrono::TimeDelta::days(30);
    let r = app.post(
        &format!("{IDEAS}/{rid}/rights-extensions"),
        &json!({"new_deadline": new_deadline.to_string(), "note": "signed by inventor"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let idea = app.get(&format!("{IDEAS}/{rid}")).json();
    assert_eq!(idea["rights"]["deadline"], new_deadline.to_string());
    assert_eq!(idea["rights"]["extended"], true);
    app.post(
        &format!("{IDEAS}/{rid}/rights-extensions"),
        &json!({"new_deadline": expected_deadline.to_string()}),
    )
    .problem(422);

    // Deciding removes it from the list.
    app.post(
        &format!("{IDEAS}/{}/rights-decision", leap["id"]),
        &json!({"decision": "release", "decided_on": "2024-02-20"}),
    );
    assert_eq!(app.get("/api/v1/rights-decisions").json()["total"], 2);
    assert!(today().year() > 2000);
}

#[test]
fn searching_for_a_near_duplicate_title_finds_the_earlier_idea_first() {
    let app = TestApp::spawn();
    let earlier = new_idea(
        &app,
        "Wireless vital-signs patch for home monitoring",
        "clinical_invention",
        "2025-03-01",
    );
    new_idea(
        &app,
        "Home hospital logistics",
        "idea_problem",
        "2025-04-01",
    );
    new_idea(
        &app,
        "Patch testing for allergies",
        "idea_problem",
        "2025-05-01",
    );
    new_idea(
        &app,
        "Parking app for visitors",
        "idea_problem",
        "2025-06-01",
    );
    let r = app.get("/api/v1/ideas?q=vital%20signs%20monitoring%20patch%20wireless");
    assert_eq!(r.status, 200, "{}", r.text);
    let found = r.json();
    assert_eq!(found["items"][0]["id"], earlier["id"], "{found}");
    assert!(found["total"].as_i64().unwrap() >= 2);
    let none = app.get("/api/v1/ideas?q=zebra").json();
    assert_eq!(none["total"], 0);
    // Diacritics and case do not matter; filters combine with the search.
    let r = app.get("/api/v1/ideas?q=WIRELESS&kind=idea_problem").json();
    assert_eq!(r["total"], 0);
    let r = app
        .get("/api/v1/ideas?q=wireless&kind=clinical_invention")
        .json();
    assert_eq!(r["total"], 1);
}

#[test]
fn ideas_filter_by_stage_kind_tag_and_date_and_roles_apply() {
    let app = TestApp::spawn();
    let a = app.post(IDEAS, &json!({"title": "A", "kind": "idea_problem", "received_on": "2025-01-15", "tags": ["ai"], "confidential": true, "description": "secret"})).json();
    new_idea(&app, "B", "clinical_invention", "2025-06-15");
    new_idea(&app, "C", "research_invention", "2026-02-01");
    assert_eq!(app.total("/api/v1/ideas?tag=ai"), 1);
    assert_eq!(
        app.total("/api/v1/ideas?received_from=2025-01-01&received_to=2025-12-31"),
        2
    );
    assert_eq!(app.total("/api/v1/ideas?kind=research_invention"), 1);
    assert_eq!(
        app.total("/api/v1/ideas?stage=pre_screening&active=true"),
        3
    );
    assert_eq!(app.total("/api/v1/ideas?active=false"), 0);
    let page = app.get("/api/v1/ideas?sort=received_on&limit=2").json();
    assert_eq!(page["items"][0]["title"], "A");
    assert_eq!(page["total"], 3);

    let management = app.key(Role::Management);
    let integration = app.key(Role::Integration);
    assert_eq!(app.get_as(&management, IDEAS).status, 200);
    app.post_as(
        &management,
        IDEAS,
        &json!({"title": "X", "kind": "idea_problem", "received_on": "2026-01-01"}),
    )
    .problem(403);
    let r = app.send(
        "POST",
        &format!("{IDEAS}/{}/transitions", a["id"]),
        Some(&integration),
        &[],
        Some(r#"{"to":"closed","reason":"x"}"#),
    );
    r.problem(403);
    let seen = app
        .get_as(&integration, &format!("{IDEAS}/{}", a["id"]))
        .json();
    assert_eq!(
        seen["description"],
        Value::Null,
        "confidential text is withheld from integrations"
    );
    assert_eq!(
        app.get_as(&management, &format!("{IDEAS}/{}", a["id"]))
            .json()["description"],
        "secret"
    );

    let future = (today() + chrono::TimeDelta::days(3)).to_string();
    app.post(
        IDEAS,
        &json!({"title": "F", "kind": "idea_problem", "received_on": future}),
    )
    .problem(422);
    app.post(
        IDEAS,
        &json!({"title": "F", "kind": "idea_problem", "received_on": "2026-02-30"}),
    )
    .problem(422);
}

#[test]
fn a_transition_retried_with_the_same_idempotency_key_is_recorded_once() {
    let app = TestApp::spawn();
    let idea = new_idea(&app, "Retry me", "idea_problem", "2026-01-01");
    let path = format!("{IDEAS}/{}/transitions", idea["id"]);
    let body = json!({"to": "closed", "reason": "duplicate of an earlier idea"}).to_string();
    let first = app.send(
        "POST",
        &path,
        Some(&app.admin_key),
        &[("Idempotency-Key", "t-1")],
        Some(&body),
    );
    let second = app.send(
        "POST",
        &path,
        Some(&app.admin_key),
        &[("Idempotency-Key", "t-1")],
        Some(&body),
    );
    assert_eq!(first.status, 201);
    assert_eq!(second.status, 201);
    assert_eq!(first.json(), second.json());
    assert_eq!(
        app.get(&format!("{IDEAS}/{}/history", idea["id"]))
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn checklist_answers_name_real_criteria() {
    let app = TestApp::spawn();
    let idea = new_idea(&app, "Checklist", "idea_problem", "2026-01-01");
    let id = idea["id"].as_i64().unwrap();
    let r = app.send(
        "PUT",
        &format!("{IDEAS}/{id}/checklists/pre_screening"),
        Some(&app.admin_key),
        &[("If-Match", "\"1\"")],
        Some(r#"{"answers":[{"criterion":"novelty_patentability","answer":"yes"},{"criterion":"value","answer":"maybe"}]}"#),
    );
    r.problem(422);
    let r = app.send(
        "PUT",
        &format!("{IDEAS}/{id}/checklists/pre_screening"),
        Some(&app.admin_key),
        &[("If-Match", "\"1\"")],
        Some(r#"{"answers":[{"criterion":"novelty_patentability","answer":"yes"}]}"#),
    );
    let p = r.problem(422);
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("health_related"),
        "{p}"
    );
    let lists = app.get(&format!("{IDEAS}/{id}/checklists")).json();
    assert_eq!(
        lists["checklists"][0]["items"].as_array().unwrap().len(),
        5,
        "no patentability question for problems"
    );
    assert_eq!(lists["checklists"][0]["complete"], false);
    app.send(
        "PUT",
        &format!("{IDEAS}/{id}/checklists/development"),
        Some(&app.admin_key),
        &[("If-Match", "\"1\"")],
        Some(r#"{"answers":[]}"#),
    )
    .problem(404);
}
