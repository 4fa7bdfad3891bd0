//! The API conventions every resource follows: problem+json errors that change nothing,
//! ETag/If-Match, Idempotency-Key, audit, request ids and metrics.

use serde_json::json;

use crate::helpers::TestApp;

const ORGS: &str = "/api/v1/organisations";

fn nothing_changed(app: &TestApp) {
    assert_eq!(app.total(ORGS), 0, "no organisation was created");
    assert_eq!(app.total("/api/v1/audit"), 0, "nothing was audited");
}

#[test]
fn malformed_json_is_a_400_problem_and_changes_nothing() {
    let app = TestApp::spawn();
    let key = app.admin_key.clone();
    let r = app.send("POST", ORGS, Some(&key), &[], Some("{\"name\": \"x\","));
    assert!(r.problem(400)["detail"]
        .as_str()
        .unwrap()
        .contains("not valid JSON"));
    app.send("POST", ORGS, Some(&key), &[], Some(""))
        .problem(400);
    let deep = "[".repeat(5000) + &"]".repeat(5000);
    app.send("POST", ORGS, Some(&key), &[], Some(&deep))
        .problem(400);
    nothing_changed(&app);
}

#[test]
fn missing_wrong_typed_and_unknown_fields_are_422_naming_the_field() {
    let app = TestApp::spawn();
    let r = app.post(ORGS, &json!({"kind": "company"}));
    let e = &r.problem(422)["errors"][0];
    assert_eq!(e["field"], "name");
    assert_eq!(e["code"], "required");
    let r = app.post(ORGS, &json!({"name": 5, "kind": "company"}));
    assert_eq!(r.problem(422)["errors"][0]["field"], "name");
    let r = app.post(
        ORGS,
        &json!({"name": "A", "kind": "company", "colour": "red"}),
    );
    assert_eq!(r.problem(422)["errors"][0]["code"], "unknown_field");
    let r = app.post(ORGS, &json!({"name": "x".repeat(201), "kind": "company"}));
    assert_eq!(r.problem(422)["errors"][0]["code"], "length");
    let r = app.post(ORGS, &json!({"name": "A\u{0}B", "kind": "company"}));
    assert_eq!(r.problem(422)["errors"][0]["code"], "nul_character");
    let r = app.post(ORGS, &json!([1, 2]));
    r.problem(422);
    nothing_changed(&app);
}

#[test]
fn whole_number_floats_are_accepted_as_integers() {
    let app = TestApp::spawn();
    let parent = app.create_organisation("Region", "agency");
    let body = format!(
        r#"{{"name": "Hospital", "kind": "hospital", "parent_id": {}.0}}"#,
        parent["id"]
    );
    let r = app.send("POST", ORGS, Some(&app.admin_key), &[], Some(&body));
    assert_eq!(r.status, 201, "{}", r.text);
}

#[test]
fn unicode_text_round_trips_unchanged() {
    let app = TestApp::spawn();
    let name = "Øre-klinikken \u{200f}עברית\u{200f} 🚑 naïve";
    let org = app.create_organisation(name, "department");
    assert_eq!(
        app.get(&format!("{ORGS}/{}", org["id"])).json()["name"],
        name
    );
}

#[test]
fn a_huge_body_is_413_the_wrong_content_type_415_and_nothing_changes() {
    let app = TestApp::spawn();
    let key = app.admin_key.clone();
    let huge = json!({"name": "A", "kind": "company", "notes": "n".repeat(400_000)}).to_string();
    app.send("POST", ORGS, Some(&key), &[], Some(&huge))
        .problem(413);
    app.send(
        "POST",
        ORGS,
        Some(&key),
        &[("Content-Type", "text/plain")],
        Some("{}"),
    )
    .problem(415);
    app.send(
        "POST",
        ORGS,
        Some(&key),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some("name=a"),
    )
    .problem(415);
    nothing_changed(&app);
}

#[test]
fn bad_ids_unknown_routes_and_wrong_methods_get_problems() {
    let app = TestApp::spawn();
    let key = app.admin_key.clone();
    app.get(&format!("{ORGS}/abc")).problem(404);
    app.get(&format!("{ORGS}/99999999999999999999"))
        .problem(404);
    app.get(&format!("{ORGS}/424242")).problem(404);
    app.get("/api/v1/castles").problem(404);
    app.send("GET", "/no/such/page", None, &[], None)
        .problem(404);
    let r = app.send("PUT", ORGS, Some(&key), &[], Some("{}"));
    r.problem(405);
    assert_eq!(r.header("allow"), Some("GET, POST"));
    let r = app.send("POST", &format!("{ORGS}/1"), Some(&key), &[], Some("{}"));
    r.problem(405);
    assert_eq!(r.header("allow"), Some("GET, PATCH, DELETE"));
    nothing_changed(&app);
}

#[test]
fn updates_need_if_match_and_two_patches_with_the_same_etag_give_one_412() {
    let app = TestApp::spawn();
    let org = app.create_organisation("Coloplast", "company");
    let path = format!("{ORGS}/{}", org["id"]);
    let key = app.admin_key.clone();
    let body = json!({"notes": "x"}).to_string();
    app.send("PATCH", &path, Some(&key), &[], Some(&body))
        .problem(428);
    app.send("DELETE", &path, Some(&key), &[], None)
        .problem(428);

    let etag = app.get(&path).header("etag").unwrap().to_string();
    let first = app.patch(&path, &etag, &json!({"notes": "first"}));
    let second = app.patch(&path, &etag, &json!({"notes": "second"}));
    assert_eq!(first.status, 200);
    second.problem(412);
    assert_eq!(
        app.get(&path).json()["notes"],
        "first",
        "the stale write changed nothing"
    );
    app.delete(&path, &etag).problem(412);
}

#[test]
fn concurrent_patches_with_one_etag_never_lose_an_update() {
    let app = TestApp::spawn();
    let org = app.create_organisation("Ambu", "company");
    let path = format!("{ORGS}/{}", org["id"]);
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (app, path) = (&app, &path);
                s.spawn(move || {
                    app.patch(path, "\"1\"", &json!({"notes": format!("writer {i}")}))
                        .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        7,
        "{statuses:?}"
    );
    assert_eq!(app.get(&path).json()["version"], 2);
}

#[test]
fn a_post_retried_with_the_same_idempotency_key_creates_one_record_even_after_a_restart() {
    let mut app = TestApp::spawn();
    let key = app.admin_key.clone();
    let body = json!({"name": "Innovation Fund Denmark", "kind": "funder"}).to_string();
    let headers = [("Idempotency-Key", "grant-42")];
    let first = app.send("POST", ORGS, Some(&key), &headers, Some(&body));
    assert_eq!(first.status, 201);
    let again = app.send("POST", ORGS, Some(&key), &headers, Some(&body));
    assert_eq!(again.status, 201);
    assert_eq!(again.json(), first.json());
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));

    app.restart();
    let after_restart = app.send("POST", ORGS, Some(&key), &headers, Some(&body));
    assert_eq!(after_restart.status, 201);
    assert_eq!(after_restart.json()["id"], first.json()["id"]);
    assert_eq!(app.total(ORGS), 1);

    let other = json!({"name": "Something else", "kind": "funder"}).to_string();
    let reused = app.send("POST", ORGS, Some(&key), &headers, Some(&other));
    assert!(reused.problem(422)["type"]
        .as_str()
        .unwrap()
        .ends_with("idempotency-key-reused"));
    assert_eq!(app.total(ORGS), 1);
}

#[test]
fn concurrent_retries_with_one_idempotency_key_create_one_record() {
    let app = TestApp::spawn();
    let body = json!({"name": "Novo Nordisk", "kind": "company"}).to_string();
    let ids: Vec<serde_json::Value> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (app, body) = (&app, &body);
                s.spawn(move || {
                    let r = app.send(
                        "POST",
                        ORGS,
                        Some(&app.admin_key),
                        &[("Idempotency-Key", "same")],
                        Some(body),
                    );
                    assert_eq!(r.status, 201, "{}", r.text);
                    r.json()["id"].clone()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(app.total(ORGS), 1);
}

#[test]
fn every_mutation_is_audited_with_actor_and_before_and_after() {
    let app = TestApp::spawn();
    let org = app.create_organisation("Ambu", "company");
    let path = format!("{ORGS}/{}", org["id"]);
    app.patch(&path, "\"1\"", &json!({"notes": "licensee"}));
    app.delete(&path, "\"2\"");
    let audit = app
        .get(&format!(
            "/api/v1/audit?entity=organisation&entity_id={}",
            org["id"]
        ))
        .json();
    assert_eq!(audit["total"], 3);
    let items = audit["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["delete", "update", "create"], "newest first");
    assert_eq!(items[0]["actor"], "admin-key");
    assert_eq!(items[1]["before"]["notes"], serde_json::Value::Null);
    assert_eq!(items[1]["after"]["notes"], "licensee");
    assert!(items[2]["before"].is_null());
    assert!(items[0]["after"].is_null());
    assert!(items[0]["request_id"].is_string());
}

#[test]
fn responses_carry_a_request_id_and_metrics_count_requests_by_route() {
    let app = TestApp::spawn();
    let r = app.send(
        "GET",
        "/health",
        None,
        &[("X-Request-Id", "trace-me-123")],
        None,
    );
    assert_eq!(r.header("x-request-id"), Some("trace-me-123"));
    let r = app.get(ORGS);
    assert!(r.header("x-request-id").is_some_and(|id| id.len() >= 8));
    let metrics = app.send("GET", "/metrics", None, &[], None);
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.text.contains(r#"route="/api/v1/organisations""#),
        "{}",
        metrics.text
    );
    assert!(metrics
        .text
        .contains("http_request_duration_seconds_bucket"));
}

#[test]
fn health_ready_and_the_api_docs_are_public() {
    let app = TestApp::spawn();
    let h = app.send("GET", "/health", None, &[], None);
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["status"], "ok");
    let r = app.send("GET", "/ready", None, &[], None);
    assert_eq!(r.status, 200);
    let expected = if app.db.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(r.json()["database"], expected);
    let docs = app.send("GET", "/docs/", None, &[], None);
    assert_eq!(docs.status, 200);
    assert!(
        docs.text.contains("swagger-ui"),
        "Swagger UI is served from the binary"
    );
    let init = app.send("GET", "/docs/swagger-initializer.js", None, &[], None);
    assert!(init.text.contains("/openapi.json"));
    let spec = app.send("GET", "/openapi.json", None, &[], None);
    assert_eq!(spec.status, 200);
    assert_eq!(spec.json()["openapi"], "3.1.0");
}
