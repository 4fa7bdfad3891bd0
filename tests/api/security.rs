//! The security matrix: every operation of the OpenAPI document, called with no key, with a
//! made-up key, and with each role's key, answers as the role policy says (docs/API-DESIGN.md).

use innofolio::domain::Role;
use serde_json::Value;

use crate::helpers::TestApp;

/// What the policy allows, written out independently of the server's code.
fn expected_allowed(method: &str, path: &str, role: Role) -> bool {
    if role == Role::Admin {
        return true;
    }
    let admin_only = ["/api/v1/api-keys", "/api/v1/audit", "/api/v1/webhooks"];
    if admin_only.iter().any(|p| path.starts_with(p)) {
        return false;
    }
    if method == "get" {
        return true;
    }
    if path.starts_with("/api/v1/deadline-rules")
        || path.starts_with("/api/v1/distribution-policies")
    {
        return false;
    }
    if path.starts_with("/api/v1/integrations/") {
        return role == Role::Integration;
    }
    role == Role::Staff
}

fn concrete(path: &str) -> String {
    path.replace("{system}", "grants")
        .replace("{external_ref}", "R-1")
        .replace("{stage}", "pre_screening")
        .split('/')
        .map(|seg| if seg.starts_with('{') { "1" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn every_operation_answers_each_role_as_the_policy_says() {
    let app = TestApp::spawn();
    let spec: Value = app.send("GET", "/openapi.json", None, &[], None).json();
    let keys: Vec<(Role, String)> = Role::ALL.iter().map(|r| (*r, app.key(*r))).collect();
    let mut checked = 0;
    let mut bad_key_checks = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        if !path.starts_with("/api/") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let m = method.to_uppercase();
            let url = concrete(path);
            let body = op.get("requestBody").map(|_| "{}");
            let call = |key: Option<&str>| app.send(&m, &url, key, &[], body);
            let r = call(None);
            assert_eq!(r.status, 401, "{m} {url} without a key: {}", r.text);
            assert!(r.header("www-authenticate").is_some());
            // Made-up keys on a sample: more than 30 a minute would trip the guessing limit.
            if checked % 5 == 0 {
                let r = call(Some("ifo_0000000000000000000000000000000000000000"));
                assert_eq!(r.status, 401, "{m} {url} with a made-up key: {}", r.text);
                bad_key_checks += 1;
            }
            for (role, key) in &keys {
                let r = call(Some(key));
                if expected_allowed(method, path, *role) {
                    assert!(
                        r.status != 401 && r.status != 403,
                        "{m} {url} as {}: {} {}",
                        role.as_str(),
                        r.status,
                        r.text
                    );
                } else {
                    let p = r.problem(403);
                    assert!(p["detail"].as_str().unwrap().contains(role.as_str()), "{p}");
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "every operation: {checked}");
    assert!(bad_key_checks >= 20);
}

#[test]
fn management_and_integration_keys_see_no_contact_data_anywhere() {
    let app = TestApp::spawn();
    let org = app.create_organisation("Cardiology", "department")["id"].clone();
    let person = app.create_person(&serde_json::json!({
        "name": "Anna Hansen", "email": "anna@hospital.example", "phone": "+45 12 34 56 78",
        "organisation_id": org
    }));
    let idea = app.post(
        "/api/v1/ideas",
        &serde_json::json!({"title": "Valve clip", "kind": "clinical_invention", "received_on": "2026-01-10", "project_manager_id": person["id"]}),
    );
    assert_eq!(idea.status, 201);
    for role in [Role::Management, Role::Integration] {
        let key = app.key(role);
        for path in [
            "/api/v1/people",
            &format!("/api/v1/people/{}", person["id"]),
            "/api/v1/ideas",
            "/api/v1/events",
            "/api/v1/exports/ideas.csv",
        ] {
            let r = app.get_as(&key, path);
            assert_eq!(r.status, 200, "{path}: {}", r.text);
            assert!(
                !r.text.contains("anna@hospital.example") && !r.text.contains("12 34 56 78"),
                "{} sees contact data at {path}",
                role.as_str()
            );
        }
    }
    // Staff see it where they work with it.
    assert!(app
        .get_as(
            &app.key(Role::Staff),
            &format!("/api/v1/people/{}", person["id"])
        )
        .text
        .contains("anna@hospital.example"));
}
