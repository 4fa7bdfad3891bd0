use serde_json::json;

use crate::helpers::TestApp;

#[test]
fn an_organisation_can_be_created_read_listed_updated_and_deleted() {
    let app = TestApp::spawn();
    let r = app.post(
        "/api/v1/organisations",
        &json!({"name": "Aarhus University Hospital", "kind": "hospital", "country": "DK"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let created = r.json();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/organisations/{id}").as_str())
    );
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_eq!(created["kind"], "hospital");
    assert!(
        created["created_at"].as_str().unwrap().ends_with('Z'),
        "RFC 3339 UTC timestamps"
    );

    let dept = app.post(
        "/api/v1/organisations",
        &json!({"name": "Department of Cardiology", "kind": "department", "parent_id": id}),
    );
    assert_eq!(dept.status, 201, "{}", dept.text);

    let got = app.get(&format!("/api/v1/organisations/{id}"));
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), created);
    assert_eq!(got.header("etag"), Some("\"1\""));

    let list = app.get(&format!("/api/v1/organisations?parent_id={id}"));
    assert_eq!(list.json()["total"], 1);
    assert_eq!(list.json()["items"][0]["name"], "Department of Cardiology");

    let patched = app.patch(
        &format!("/api/v1/organisations/{id}"),
        "\"1\"",
        &json!({"notes": "Main partner", "country": null}),
    );
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.header("etag"), Some("\"2\""));
    let body = patched.json();
    assert_eq!(body["notes"], "Main partner");
    assert_eq!(
        body["country"],
        serde_json::Value::Null,
        "null clears an optional field"
    );
    assert_eq!(
        body["name"], "Aarhus University Hospital",
        "fields left out stay"
    );

    let child = dept.json();
    let gone = app.delete(&format!("/api/v1/organisations/{}", child["id"]), "\"1\"");
    assert_eq!(gone.status, 204, "{}", gone.text);
    app.get(&format!("/api/v1/organisations/{}", child["id"]))
        .problem(404);
}

#[test]
fn lists_filter_sort_and_page_with_a_stable_order_and_a_total() {
    let app = TestApp::spawn();
    for (name, kind) in [
        ("Novo Nordisk", "company"),
        ("Innovation Fund Denmark", "funder"),
        ("Coloplast", "company"),
        ("Aalborg University", "university"),
        ("Ambu", "company"),
    ] {
        app.create_organisation(name, kind);
    }
    let companies = app
        .get("/api/v1/organisations?kind=company&sort=name")
        .json();
    assert_eq!(companies["total"], 3);
    let names: Vec<&str> = companies["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ambu", "Coloplast", "Novo Nordisk"]);

    let desc = app
        .get("/api/v1/organisations?sort=-name&limit=2&offset=1")
        .json();
    assert_eq!(desc["total"], 5);
    assert_eq!(desc["limit"], 2);
    assert_eq!(desc["offset"], 1);
    let names: Vec<&str> = desc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Innovation Fund Denmark", "Coloplast"]);

    let search = app.get("/api/v1/organisations?q=UNIVERS").json();
    assert_eq!(search["total"], 1, "search is case-insensitive");
    let wildcard = app.get("/api/v1/organisations?q=%25").json();
    assert_eq!(
        wildcard["total"], 0,
        "LIKE wildcards in the search text are literal"
    );

    // Paging through everything one by one visits each organisation exactly once.
    let mut seen = Vec::new();
    for offset in 0..5 {
        let page = app
            .get(&format!(
                "/api/v1/organisations?sort=created_at&limit=1&offset={offset}"
            ))
            .json();
        seen.push(page["items"][0]["id"].as_i64().unwrap());
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5);

    app.get("/api/v1/organisations?limit=0").problem(422);
    app.get("/api/v1/organisations?limit=501").problem(422);
    app.get("/api/v1/organisations?kind=castle").problem(400);
    app.get("/api/v1/organisations?sort=colour").problem(400);
}

#[test]
fn a_parent_must_exist_and_cannot_make_a_cycle() {
    let app = TestApp::spawn();
    let missing = app.post(
        "/api/v1/organisations",
        &json!({"name": "X", "kind": "department", "parent_id": 999}),
    );
    let body = missing.problem(422);
    assert_eq!(body["errors"][0]["field"], "parent_id");
    assert_eq!(app.total("/api/v1/organisations"), 0, "nothing was created");

    let top = app.create_organisation("Region", "agency");
    let mid = app
        .post(
            "/api/v1/organisations",
            &json!({"name": "Hospital", "kind": "hospital", "parent_id": top["id"]}),
        )
        .json();
    let cyc = app.patch(
        &format!("/api/v1/organisations/{}", top["id"]),
        "\"1\"",
        &json!({"parent_id": mid["id"]}),
    );
    assert_eq!(cyc.problem(422)["errors"][0]["code"], "cycle");
    let own = app.patch(
        &format!("/api/v1/organisations/{}", top["id"]),
        "\"1\"",
        &json!({"parent_id": top["id"]}),
    );
    own.problem(422);
    assert_eq!(
        app.get(&format!("/api/v1/organisations/{}", top["id"]))
            .json()["version"],
        1,
        "unchanged"
    );
}

#[test]
fn an_organisation_still_referenced_cannot_be_deleted() {
    let app = TestApp::spawn();
    let org = app.create_organisation("Department of Surgery", "department");
    app.create_person(&json!({"name": "Karen Jensen", "organisation_id": org["id"]}));
    let r = app.delete(&format!("/api/v1/organisations/{}", org["id"]), "\"1\"");
    let problem = r.problem(409);
    assert!(
        problem["detail"].as_str().unwrap().contains("1 people"),
        "{problem}"
    );
    assert_eq!(
        app.get(&format!("/api/v1/organisations/{}", org["id"]))
            .status,
        200
    );
}

#[test]
fn a_required_field_cannot_be_patched_to_null() {
    let app = TestApp::spawn();
    let org = app.create_organisation("Ambu", "company");
    let r = app.patch(
        &format!("/api/v1/organisations/{}", org["id"]),
        "\"1\"",
        &json!({"name": null}),
    );
    assert_eq!(r.problem(422)["errors"][0]["field"], "name");
    let r = app.patch(
        &format!("/api/v1/organisations/{}", org["id"]),
        "\"1\"",
        &json!({"name": "   "}),
    );
    assert_eq!(r.problem(422)["errors"][0]["code"], "blank");
    assert_eq!(
        app.get(&format!("/api/v1/organisations/{}", org["id"]))
            .json()["name"],
        "Ambu"
    );
}
