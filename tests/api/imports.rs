//! Importing the legacy register.

use std::fmt::Write;

use serde_json::json;

use crate::helpers::TestApp;

fn legacy_csv(rows: usize, bad_line: Option<usize>) -> String {
    let mut csv = String::from("title,kind,received_on,inventors,owner_institution,employer,patent_status,commercial_status,outcome\n");
    let kinds = ["idea", "clinical_invention", "research_invention"];
    let outcomes = [
        "",
        "closed",
        "licence",
        "passed_on_internal",
        "implemented",
        "",
    ];
    for i in 0..rows {
        let line = i + 2;
        let date = if Some(line) == bad_line {
            "31-02-2019".to_string()
        } else {
            format!("{:02}-{:02}-{}", 1 + i % 28, 1 + i % 12, 2010 + i % 15)
        };
        writeln!(
            csv,
            "Legacy idea {i} about {},{},{date},Inventor {}: 50; Inventor {}: 50,Region Hospital,Dept {},{},{},{}",
            ["sensors", "logistics", "imaging", "wound care"][i % 4],
            kinds[i % 3],
            i % 500,
            (i + 1) % 500,
            i % 20,
            if i % 7 == 0 { "granted" } else { "" },
            if i % 11 == 0 { "licence" } else { "" },
            outcomes[i % 6],
        )
        .unwrap();
    }
    csv
}

fn import(app: &TestApp, body: &str, content_type: &str, query: &str) -> crate::helpers::Resp {
    app.send(
        "POST",
        &format!("/api/v1/imports/ideas{query}"),
        Some(&app.admin_key),
        &[("Content-Type", content_type)],
        Some(body),
    )
}

#[test]
fn ten_thousand_legacy_rows_import_with_their_real_dates() {
    let app = TestApp::spawn();
    let csv = legacy_csv(10_000, None);
    let started = std::time::Instant::now();
    let r = import(&app, &csv, "text/csv", "");
    let elapsed = started.elapsed();
    assert_eq!(r.status, 201, "{}", &r.text[..r.text.len().min(2000)]);
    eprintln!(
        "imported 10,000 rows in {:.2} s ({})",
        elapsed.as_secs_f64(),
        if app.db.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        }
    );
    let summary = r.json();
    assert_eq!(summary["ideas_created"], 10_000);
    assert_eq!(summary["people_created"], 500);
    assert_eq!(summary["organisations_created"], 21);
    assert_eq!(app.total("/api/v1/ideas"), 10_000);
    assert_eq!(app.total("/api/v1/ideas?outcome=commercialised"), 1667);
    assert_eq!(app.total("/api/v1/ideas?active=true"), 3333);
    assert_eq!(
        app.total("/api/v1/ideas?received_from=2010-01-01&received_to=2010-12-31"),
        667
    );

    let first = summary["idea_ids"][0].as_i64().unwrap();
    let idea = app.get(&format!("/api/v1/ideas/{first}")).json();
    assert_eq!(idea["received_on"], "2010-01-01", "the real date is kept");
    assert_eq!(idea["kind"], "idea_problem");
    assert!(idea["tags"]
        .as_array()
        .unwrap()
        .contains(&json!("legacy patent: granted")));
    let inventors = app.get(&format!("/api/v1/ideas/{first}/inventors")).json();
    assert_eq!(inventors["inventors"].as_array().unwrap().len(), 2);
    let owners = app.get(&format!("/api/v1/ideas/{first}/owners")).json();
    assert_eq!(owners["owners"][0]["name"], "Region Hospital");
    let history = app.get(&format!("/api/v1/ideas/{first}/history")).json();
    assert_eq!(history[0]["occurred_on"], "2010-01-01");
    // Imported text is searchable at once.
    assert!(
        app.get("/api/v1/ideas?q=wound").json()["total"]
            .as_i64()
            .unwrap()
            >= 2500
    );
    let audit = app.get("/api/v1/audit?action=import").json();
    assert_eq!(audit["total"], 1);
}

#[test]
fn a_file_with_one_bad_row_imports_nothing_and_names_the_row() {
    let app = TestApp::spawn();
    let csv = legacy_csv(500, Some(301));
    let r = import(&app, &csv, "text/csv", "");
    let p = r.problem(422);
    assert_eq!(p["errors"].as_array().unwrap().len(), 1);
    assert_eq!(p["errors"][0]["line"], 301);
    assert_eq!(p["errors"][0]["field"], "received_on");
    assert_eq!(app.total("/api/v1/ideas"), 0);
    assert_eq!(
        app.total("/api/v1/people"),
        0,
        "no person was created either"
    );

    let r = import(&app, "title,kind,colour\nx,idea,red\n", "text/csv", "");
    let p = r.problem(422);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["colour", "received_on"]);
    import(&app, "<xml/>", "application/xml", "").problem(415);
}

#[test]
fn a_dry_run_checks_everything_and_writes_nothing_and_json_works_too() {
    let app = TestApp::spawn();
    let rows = json!([
        {"title": "Bed alarm", "kind": "clinical", "received_on": "2018-05-02", "inventors": "Anna; Bo; Cai", "outcome": "licence"},
        {"title": "Discharge letters", "kind": "idea_problem", "received_on": "2019-11-30", "innovation_type": "service", "tags": ["logistics", "IT"]}
    ]);
    let r = import(&app, &rows.to_string(), "application/json", "?dry_run=true");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["people_created"], 3);
    assert_eq!(r.json()["dry_run"], true);
    assert_eq!(app.total("/api/v1/ideas"), 0);
    assert_eq!(app.total("/api/v1/people"), 0);

    let r = import(&app, &rows.to_string(), "application/json", "");
    assert_eq!(r.status, 201, "{}", r.text);
    let ids = r.json()["idea_ids"].clone();
    let bed = app.get(&format!("/api/v1/ideas/{}", ids[0])).json();
    assert_eq!(bed["outcome"], "commercialised");
    assert_eq!(bed["stage"], "commercialisation");
    let shares = app
        .get(&format!("/api/v1/ideas/{}/inventors", ids[0]))
        .json();
    let s: Vec<&str> = shares["inventors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["share"].as_str().unwrap())
        .collect();
    assert_eq!(s, ["33.3334", "33.3333", "33.3333"]);
    let letters = app.get(&format!("/api/v1/ideas/{}", ids[1])).json();
    assert_eq!(letters["innovation_type"], "service");
    assert_eq!(letters["tags"], json!(["IT", "logistics"]));
}

#[test]
fn the_import_command_reads_a_file() {
    let app = TestApp::spawn();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.csv");
    std::fs::write(&path, legacy_csv(50, None)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_innofolio"))
        .args(["import", "ideas", path.to_str().unwrap()])
        .env("DATABASE_URL", &app.db.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 50 rows"));
    assert_eq!(app.total("/api/v1/ideas"), 50);
    std::fs::write(&path, legacy_csv(50, Some(10))).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_innofolio"))
        .args(["import", "ideas", path.to_str().unwrap()])
        .env("DATABASE_URL", &app.db.url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 10, column received_on"));
    assert_eq!(app.total("/api/v1/ideas"), 50);
}
