use serde_json::json;

use crate::helpers::TestApp;
use innofolio::domain::Role;

#[test]
fn the_api_refuses_requests_without_a_valid_key() {
    let app = TestApp::spawn();
    let r = app.send("GET", "/api/v1/organisations", None, &[], None);
    r.problem(401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    app.send(
        "GET",
        "/api/v1/organisations",
        Some("ifo_not-a-real-key"),
        &[],
        None,
    )
    .problem(401);
    app.send(
        "GET",
        "/api/v1/organisations",
        None,
        &[("Authorization", "Basic YWRtaW46YWRtaW4=")],
        None,
    )
    .problem(401);
    // Authentication comes before the body is looked at.
    app.send("POST", "/api/v1/organisations", None, &[], Some("{broken"))
        .problem(401);
}

#[test]
fn roles_are_enforced_on_the_server() {
    let app = TestApp::spawn();
    let staff = app.key(Role::Staff);
    let management = app.key(Role::Management);
    let integration = app.key(Role::Integration);
    let body = json!({"name": "Ambu", "kind": "company"});

    assert_eq!(
        app.post_as(&staff, "/api/v1/organisations", &body).status,
        201
    );
    for key in [&management, &integration] {
        app.post_as(key, "/api/v1/organisations", &body)
            .problem(403);
        assert_eq!(
            app.get_as(key, "/api/v1/organisations").status,
            200,
            "may read"
        );
        app.get_as(key, "/api/v1/audit").problem(403);
        app.get_as(key, "/api/v1/api-keys").problem(403);
    }
    app.get_as(&staff, "/api/v1/audit").problem(403);
    app.get_as(&staff, "/api/v1/api-keys").problem(403);
    let org = app.get("/api/v1/organisations").json()["items"][0].clone();
    let path = format!("/api/v1/organisations/{}", org["id"]);
    let r = app.send(
        "PATCH",
        &path,
        Some(&management),
        &[("If-Match", "\"1\"")],
        Some("{\"notes\":\"x\"}"),
    );
    r.problem(403);
    let r = app.send(
        "DELETE",
        &path,
        Some(&integration),
        &[("If-Match", "\"1\"")],
        None,
    );
    r.problem(403);
    assert_eq!(app.total("/api/v1/organisations"), 1);
}

#[test]
fn keys_made_over_the_api_work_until_revoked_and_expired_keys_do_not() {
    let app = TestApp::spawn();
    let r = app.post(
        "/api/v1/api-keys",
        &json!({"name": "grant-system", "role": "integration"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let created = r.json();
    let key = created["key"].as_str().unwrap().to_string();
    assert_eq!(app.get_as(&key, "/api/v1/organisations").status, 200);

    let listed = app.get("/api/v1/api-keys");
    assert!(!listed.text.contains(&key), "keys are never listed");
    assert!(listed.text.contains("grant-system"));

    let revoke = app.send(
        "DELETE",
        &format!("/api/v1/api-keys/{}", created["id"]),
        Some(&app.admin_key),
        &[],
        None,
    );
    assert_eq!(revoke.status, 204);
    assert!(
        app.get_as(&key, "/api/v1/organisations").problem(401)["detail"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );

    let past = innofolio::db::now() - chrono::TimeDelta::hours(1);
    let expired = app.key_expiring(Role::Staff, Some(past));
    assert!(
        app.get_as(&expired, "/api/v1/organisations").problem(401)["detail"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    app.post("/api/v1/api-keys", &json!({"name": "x", "role": "emperor"}))
        .problem(422);
    app.post(
        "/api/v1/api-keys",
        &json!({"name": "x", "role": "staff", "expires_at": "2001-01-01T00:00:00Z"}),
    )
    .problem(422);
}

#[test]
fn guessing_keys_from_one_address_is_slowed_down() {
    let app = crate::helpers::TestApp::spawn();
    let mut statuses = Vec::new();
    for i in 0..35 {
        let r = app.send(
            "GET",
            "/api/v1/ideas",
            Some(&format!("ifo_{i:040}")),
            &[],
            None,
        );
        statuses.push(r.status);
        if r.status == 429 {
            let p = r.problem(429);
            assert!(p["detail"].as_str().unwrap().contains("retry in"));
            assert!(r.header("retry-after").is_some());
        }
    }
    assert!(statuses[..30].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[30..].iter().all(|s| *s == 429), "{statuses:?}");
    // While blocked, even a valid key from this address waits: the guessing cannot go on.
    assert_eq!(app.get("/api/v1/ideas").status, 429);
    // Health and the docs stay open.
    assert_eq!(app.send("GET", "/health", None, &[], None).status, 200);
}
