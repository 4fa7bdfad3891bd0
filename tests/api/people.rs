use serde_json::json;

use crate::helpers::TestApp;
use innofolio::domain::Role;

#[test]
fn a_person_can_be_created_read_updated_and_deleted() {
    let app = TestApp::spawn();
    let org = app.create_organisation("Department of Radiology", "department");
    let person = app.create_person(&json!({
        "name": "Søren Ærø-Østergaard",
        "email": "soren@region.dk",
        "phone": "+45 12 34 56 78",
        "profession": "Radiographer",
        "organisation_id": org["id"]
    }));
    let id = person["id"].as_i64().unwrap();
    assert_eq!(person["name"], "Søren Ærø-Østergaard");
    let got = app.get(&format!("/api/v1/people/{id}"));
    assert_eq!(got.json(), person);

    let r = app.patch(
        &format!("/api/v1/people/{id}"),
        "\"1\"",
        &json!({"phone": null, "profession": "Physicist"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json().get("phone").is_none(), "cleared phone is absent");
    assert_eq!(r.json()["profession"], "Physicist");

    assert_eq!(
        app.delete(&format!("/api/v1/people/{id}"), "\"2\"").status,
        204
    );
    app.get(&format!("/api/v1/people/{id}")).problem(404);
}

#[test]
fn management_and_integration_keys_see_no_contact_data() {
    let app = TestApp::spawn();
    let p = app.create_person(
        &json!({"name": "Karen Jensen", "email": "karen@region.dk", "phone": "11223344"}),
    );
    let path = format!("/api/v1/people/{}", p["id"]);
    for role in [Role::Staff, Role::Admin] {
        let body = app.get_as(&app.key(role), &path).json();
        assert_eq!(
            body["email"], "karen@region.dk",
            "{role:?} sees contact data"
        );
    }
    for role in [Role::Management, Role::Integration] {
        let key = app.key(role);
        let one = app.get_as(&key, &path);
        assert_eq!(one.status, 200);
        let body = one.json();
        assert_eq!(body["name"], "Karen Jensen");
        assert!(
            body.get("email").is_none() && body.get("phone").is_none(),
            "{role:?}: {body}"
        );
        let list = app.get_as(&key, "/api/v1/people");
        assert!(
            !list.text.contains("karen@region.dk"),
            "{role:?} list leaks e-mail"
        );
        app.get_as(&key, "/api/v1/people?email=karen@region.dk")
            .problem(403);
    }
    let found = app.get("/api/v1/people?email=KAREN@region.dk").json();
    assert_eq!(found["total"], 1, "e-mail filter is case-insensitive");
}

#[test]
fn invalid_contact_data_is_rejected_with_field_details() {
    let app = TestApp::spawn();
    let r = app.post(
        "/api/v1/people",
        &json!({"name": "A", "email": "not-an-email", "phone": "call me"}),
    );
    let body = r.problem(422);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "phone"]);
    let r = app.post(
        "/api/v1/people",
        &json!({"name": "A", "organisation_id": 42}),
    );
    assert_eq!(r.problem(422)["errors"][0]["field"], "organisation_id");
    assert_eq!(app.total("/api/v1/people"), 0);
}
