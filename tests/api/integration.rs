//! Funding, collaborations, grant-system upserts, the change feed, webhooks and CSV exports.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use innofolio::domain::Role;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::TestApp;

const FUNDING: &str = "/api/v1/funding-applications";

fn funder(app: &TestApp) -> i64 {
    app.create_organisation("Innovationsfonden", "funder")["id"]
        .as_i64()
        .unwrap()
}

fn application(funder: i64) -> Value {
    json!({
        "title": "Smart infusion pump, clinical validation",
        "funder_id": funder,
        "programme": "Innobooster",
        "programme_kind": "national_fund",
        "amount_applied": {"amount_minor": 150_000_000, "currency": "DKK"},
        "own_cofinancing": {"amount_minor": 50_000_000, "currency": "DKK"},
        "grant_rate_bp": 7500
    })
}

#[test]
fn a_funding_application_goes_from_draft_to_awarded_and_is_paid() {
    let app = TestApp::spawn();
    let f = funder(&app);
    let r = app.post(FUNDING, &application(f));
    assert_eq!(r.status, 201, "{}", r.text);
    let a = r.json();
    assert_eq!(a["status"], "draft");
    assert_eq!(a["funder_name"], "Innovationsfonden");
    let id = a["id"].as_i64().unwrap();
    let url = format!("{FUNDING}/{id}");

    // Submitting needs the day; awarding needs the amount and the decision day.
    let tag = r.header("etag").unwrap().to_string();
    let p = app
        .patch(&url, &tag, &json!({"status": "submitted"}))
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "submitted_on");
    let r = app.patch(
        &url,
        &tag,
        &json!({"status": "submitted", "submitted_on": "2026-03-01"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let tag = r.header("etag").unwrap().to_string();
    let p = app
        .patch(
            &url,
            &tag,
            &json!({"status": "awarded", "decided_on": "2026-06-01"}),
        )
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "amount_awarded");
    let p = app.patch(&url, &tag, &json!({"status": "awarded", "decided_on": "2026-06-01", "amount_awarded": {"amount_minor": 1, "currency": "EUR"}})).problem(422);
    assert_eq!(p["errors"][0]["field"], "amount_awarded.currency");
    let r = app.patch(&url, &tag, &json!({"status": "awarded", "decided_on": "2026-06-01", "amount_awarded": {"amount_minor": 112_500_000, "currency": "DKK"}}));
    assert_eq!(r.status, 200, "{}", r.text);
    let tag = r.header("etag").unwrap().to_string();

    // Payments add up; an awarded application cannot go back to draft.
    for amount in [56_250_000, 56_250_000] {
        let r = app.post(
            &format!("{url}/payments"),
            &json!({"received_on": "2026-07-01", "amount": {"amount_minor": amount, "currency": "DKK"}}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let a = app.get(&url).json();
    assert_eq!(a["amount_received"]["amount_minor"], 112_500_000);
    assert_eq!(
        app.get(&format!("{url}/payments"))
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let p = app
        .patch(&url, &tag, &json!({"status": "draft"}))
        .problem(409);
    assert_eq!(p["allowed"], json!(["withdrawn"]));
    assert_eq!(app.get(&url).json()["status"], "awarded", "nothing changed");

    // Filters; management reads but cannot write.
    assert_eq!(app.total(&format!("{FUNDING}?status=awarded")), 1);
    assert_eq!(app.total(&format!("{FUNDING}?status=draft")), 0);
    assert_eq!(
        app.total(&format!(
            "{FUNDING}?programme_kind=national_fund&submitted_from=2026-01-01"
        )),
        1
    );
    let management = app.key(Role::Management);
    assert_eq!(app.get_as(&management, &url).status, 200);
    app.post_as(&management, FUNDING, &application(f))
        .problem(403);
    // A payment on a draft is refused.
    let draft = app.post(FUNDING, &application(f)).json()["id"]
        .as_i64()
        .unwrap();
    app.post(
        &format!("{FUNDING}/{draft}/payments"),
        &json!({"received_on": "2026-07-01", "amount": {"amount_minor": 5, "currency": "DKK"}}),
    )
    .problem(409);
    // The funder cannot be deleted while applications name it.
    let org = format!("/api/v1/organisations/{f}");
    let tag = app.get(&org).header("etag").unwrap().to_string();
    let p = app.delete(&org, &tag).problem(409);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("2 funding applications"),
        "{p}"
    );
}

#[test]
fn a_collaboration_request_is_signed_with_its_agreement() {
    let app = TestApp::spawn();
    let company = app.create_organisation("Sensorik ApS", "company")["id"]
        .as_i64()
        .unwrap();
    let dept = app.create_organisation("Kirurgisk afdeling", "department")["id"]
        .as_i64()
        .unwrap();
    let r = app.post(
        "/api/v1/collaboration-requests",
        &json!({"company_id": company, "department_id": dept, "received_on": "2026-02-01", "topic": "Sensor patch for post-operative monitoring"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let c = r.json();
    assert_eq!(c["status"], "new");
    let url = format!("/api/v1/collaboration-requests/{}", c["id"]);
    let tag = r.header("etag").unwrap().to_string();
    let p = app
        .patch(&url, &tag, &json!({"status": "agreement_signed"}))
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "agreement_id");
    let agreement = app
        .post(
            "/api/v1/agreements",
            &json!({"kind": "collaboration", "title": "Development collaboration", "counterparty_id": company, "idea_ids": []}),
        )
        .json()["id"]
        .as_i64()
        .unwrap();
    let r = app.patch(
        &url,
        &tag,
        &json!({"status": "agreement_signed", "agreement_id": agreement, "closed_on": "2026-05-02"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["closed_on"], "2026-05-02");
    let tag = r.header("etag").unwrap().to_string();
    app.patch(&url, &tag, &json!({"status": "new"}))
        .problem(409);
    assert_eq!(
        app.total(
            "/api/v1/collaboration-requests?status=agreement_signed&received_from=2026-01-01"
        ),
        1
    );
}

fn put(app: &TestApp, key: &str, path: &str, body: &Value) -> crate::helpers::Resp {
    app.send("PUT", path, Some(key), &[], Some(&body.to_string()))
}

#[test]
fn a_grant_system_retries_and_updates_out_of_order_without_duplicates_or_lost_updates() {
    let app = TestApp::spawn();
    let f = funder(&app);
    let grants = app.key(Role::Integration);
    let path = "/api/v1/integrations/region-grants/funding-applications/RG-2026-0042";
    let v1 = json!({"source_updated_at": "2026-03-01T10:00:00Z", "data": application(f)});

    // Ten retries of the same PUT: one application.
    let first = put(&app, &grants, path, &v1);
    assert_eq!(first.status, 201, "{}", first.text);
    let id = first.json()["id"].as_i64().unwrap();
    assert_eq!(first.header("location").unwrap(), format!("{FUNDING}/{id}"));
    for _ in 0..9 {
        let r = put(&app, &grants, path, &v1);
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json()["id"], id);
        assert_eq!(r.header("idempotent-replayed"), Some("true"));
    }
    assert_eq!(app.total(FUNDING), 1);
    let stored = app.get(&format!("{FUNDING}/{id}")).json();
    assert_eq!(stored["version"], 1);
    assert_eq!(stored["external_refs"][0]["system"], "region-grants");
    assert_eq!(stored["external_refs"][0]["external_ref"], "RG-2026-0042");

    // A newer version is applied.
    let mut data = application(f);
    data["status"] = json!("submitted");
    data["submitted_on"] = json!("2026-03-05");
    let v3 = json!({"source_updated_at": "2026-03-05T09:30:00+01:00", "data": data});
    let r = put(&app, &grants, path, &v3);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["status"], "submitted");

    // An older one arriving late is refused and changes nothing.
    let mut old = application(f);
    old["title"] = json!("Old title");
    let v2 = json!({"source_updated_at": "2026-03-02T00:00:00Z", "data": old});
    let p = put(&app, &grants, path, &v2).problem(409);
    assert_eq!(p["type"], "urn:innofolio:problem:stale-update");
    let now = app.get(&format!("{FUNDING}/{id}")).json();
    assert_eq!(now["status"], "submitted");
    assert_eq!(now["title"], "Smart infusion pump, clinical validation");
    assert_eq!(now["version"], 2);
    // The same source time with other data is a conflict too.
    put(
        &app,
        &grants,
        path,
        &json!({"source_updated_at": "2026-03-05T08:30:00Z", "data": old}),
    )
    .problem(409);

    // Validation errors name the field path; nothing is created.
    let mut bad = application(f);
    bad["own_cofinancing"]["currency"] = json!("EUR");
    let p = put(
        &app,
        &grants,
        "/api/v1/integrations/region-grants/funding-applications/RG-BAD",
        &json!({"source_updated_at": "2026-03-01T10:00:00Z", "data": bad}),
    )
    .problem(422);
    assert_eq!(p["errors"][0]["field"], "data.own_cofinancing.currency");
    let p = put(
        &app,
        &grants,
        "/api/v1/integrations/region-grants/funding-applications/RG-BAD",
        &json!({"source_updated_at": "2026-03-01T10:00:00Z", "data": {"title": 5}}),
    )
    .problem(422);
    assert!(
        p["errors"][0]["field"]
            .as_str()
            .unwrap()
            .starts_with("data."),
        "{p}"
    );
    assert_eq!(app.total(FUNDING), 1);
    // Staff keys do not use the integration door; management cannot write at all.
    put(&app, &app.key(Role::Staff), path, &v3).problem(403);

    // Concurrent first PUTs of a new reference create one application.
    let path2 = "/api/v1/integrations/region-grants/funding-applications/RG-2026-0099";
    let body = json!({"source_updated_at": "2026-04-01T00:00:00Z", "data": application(f)});
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| put(&app, &grants, path2, &body).status))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 200),
        "{statuses:?}"
    );
    assert_eq!(app.total(FUNDING), 2);
}

#[test]
fn an_intake_form_pushes_ideas_by_its_own_reference() {
    let app = TestApp::spawn();
    let form = app.key(Role::Integration);
    let path = "/api/v1/integrations/intake-form/ideas/F-1001";
    let body = |t: &str, title: &str| json!({"source_updated_at": t, "data": {"title": title, "kind": "idea_problem", "received_on": "2026-01-15"}});
    let r = put(
        &app,
        &form,
        path,
        &body("2026-01-15T08:00:00Z", "Quieter night wards"),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_i64().unwrap();
    assert_eq!(r.json()["stage"], "pre_screening");
    let r = put(
        &app,
        &form,
        path,
        &body("2026-01-16T08:00:00Z", "Quieter night wards (revised)"),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    put(&app, &form, path, &body("2026-01-15T09:00:00Z", "stale")).problem(409);
    let idea = app.get(&format!("/api/v1/ideas/{id}")).json();
    assert_eq!(idea["title"], "Quieter night wards (revised)");
    assert_eq!(app.total("/api/v1/ideas"), 1);
    let p = put(
        &app,
        &form,
        "/api/v1/integrations/intake-form/ideas/F-1002",
        &json!({"source_updated_at": "2026-01-15T08:00:00Z", "data": {"title": " ", "kind": "idea_problem", "received_on": "2026-01-15"}}),
    )
    .problem(422);
    assert_eq!(p["errors"][0]["field"], "data.title");
    put(
        &app,
        &form,
        "/api/v1/integrations/Not%20Valid/ideas/F-1",
        &body("2026-01-15T08:00:00Z", "x"),
    )
    .problem(422);
}

/// Reads the whole feed from `cursor` in small batches.
fn drain(app: &TestApp, key: &str, cursor: &mut i64) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let r = app.get_as(key, &format!("/api/v1/events?after={cursor}&limit=3"));
        assert_eq!(r.status, 200, "{}", r.text);
        let batch = r.json();
        let items = batch["items"].as_array().unwrap().clone();
        *cursor = batch["next_cursor"].as_i64().unwrap();
        out.extend(items);
        if !batch["has_more"].as_bool().unwrap() {
            return out;
        }
    }
}

#[test]
fn a_client_polling_the_change_feed_sees_every_change_once_across_a_restart() {
    let mut app = TestApp::spawn();
    let client = app.key(Role::Integration);
    let mut cursor = 0;
    let f = funder(&app);
    let idea = app
        .post(
            "/api/v1/ideas",
            &json!({"title": "Heart valve clip", "kind": "clinical_invention", "received_on": "2026-01-10"}),
        )
        .json()["id"]
        .as_i64()
        .unwrap();
    let r = app.post(FUNDING, &application(f));
    let tag = r.header("etag").unwrap().to_string();
    let fid = r.json()["id"].as_i64().unwrap();
    app.patch(
        &format!("{FUNDING}/{fid}"),
        &tag,
        &json!({"status": "submitted", "submitted_on": "2026-03-01"}),
    );
    let first = drain(&app, &client, &mut cursor);
    let types: Vec<&str> = first.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "organisation.created",
            "idea.created",
            "funding_application.created",
            "funding_application.status_changed"
        ]
    );
    assert_eq!(first[1]["entity_id"], idea);
    assert_eq!(first[1]["href"], format!("/api/v1/ideas/{idea}"));
    assert_eq!(first[3]["data"]["status"], "submitted");
    assert_eq!(first[3]["data"]["previous_status"], "draft");
    // People are personal data: not in the feed.
    app.create_person(&json!({"name": "Anna Hansen", "email": "anna@example.org"}));
    assert!(drain(&app, &client, &mut cursor).is_empty());

    app.restart();
    // Concurrent writers: the feed stays gap-free and in commit order.
    std::thread::scope(|s| {
        for t in 0..4 {
            let app = &app;
            s.spawn(move || {
                for i in 0..5 {
                    let r = app.post(
                        "/api/v1/ideas",
                        &json!({"title": format!("Idea {t}-{i}"), "kind": "idea_problem", "received_on": "2026-02-01"}),
                    );
                    assert_eq!(r.status, 201, "{}", r.text);
                }
            });
        }
    });
    let second = drain(&app, &client, &mut cursor);
    assert_eq!(second.len(), 20);
    let all: Vec<i64> = first
        .iter()
        .chain(second.iter())
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(all, (1..=24).collect::<Vec<i64>>(), "gap-free, each once");
    assert!(drain(&app, &client, &mut cursor).is_empty());
    // Filtering by type; bad cursors are rejected.
    let r = app.get_as(&client, "/api/v1/events?type=funding_application.created");
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
    app.get_as(&client, "/api/v1/events?after=-1").problem(422);
    app.get_as(&client, "/api/v1/events?limit=0").problem(422);
}

/// A request a test receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: std::collections::HashMap<String, String>,
    body: String,
}

/// A minimal HTTP receiver on `listener`: records each POST and answers 204.
fn receiver(listener: TcpListener) -> Arc<Mutex<Vec<Received>>> {
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = std::collections::HashMap::new();
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                continue;
            }
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
            }
            let len: usize = headers
                .get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            sink.lock().unwrap().push(Received {
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            let _ = stream.write_all(
                b"HTTP/1.1 204 No Content\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            );
        }
    });
    got
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_webhook_receiver_that_was_down_gets_every_event_signed_once_it_is_back() {
    let mut app = TestApp::spawn();
    // A port with nobody listening: the receiver is down.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let secret = "a-long-enough-shared-secret";
    let r = app.post(
        "/api/v1/webhooks",
        &json!({"url": format!("http://127.0.0.1:{port}/hook"), "event_types": ["idea.*", "funding_application.*"], "secret": secret}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let hook = r.json();
    assert_eq!(hook["secret"], secret, "shown once");
    let hook_id = hook["id"].as_i64().unwrap();
    let shown = app.get(&format!("/api/v1/webhooks/{hook_id}")).json();
    assert!(shown.get("secret").is_none(), "{shown}");
    assert_eq!(shown["secret_hint"], "…cret");
    // Only admins manage webhooks.
    app.get_as(&app.key(Role::Staff), "/api/v1/webhooks")
        .problem(403);
    app.post(
        "/api/v1/webhooks",
        &json!({"url": "ftp://example.org", "secret": "0123456789abcdef"}),
    )
    .problem(422);

    let f = funder(&app); // organisation.created: not subscribed
    for t in ["Night ward lights", "Ward noise meter"] {
        app.post(
            "/api/v1/ideas",
            &json!({"title": t, "kind": "idea_problem", "received_on": "2026-02-01"}),
        );
    }
    app.post(FUNDING, &application(f));
    let deliveries = format!("/api/v1/webhooks/{hook_id}/deliveries");
    wait_for("failed attempts", Duration::from_secs(20), || {
        let page = app.get(&deliveries).json();
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["attempts"].as_i64().unwrap() >= 2)
    });
    let page = app.get(&deliveries).json();
    assert_eq!(page["total"], 3);
    assert!(page["items"][0]["last_error"].is_string(), "{page}");
    assert_eq!(page["items"][0]["status"], "pending");

    // Pending deliveries survive a restart; the receiver comes back on its port.
    app.restart();
    let got = receiver(TcpListener::bind(("127.0.0.1", port)).unwrap());
    wait_for("all deliveries", Duration::from_secs(30), || {
        app.get(&format!("{deliveries}?status=delivered")).json()["total"] == 3
    });
    let got = got.lock().unwrap().clone();
    let mut seqs: Vec<i64> = Vec::new();
    for r in &got {
        let ts = &r.headers["innofolio-timestamp"];
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{ts}.{}", r.body).as_bytes());
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(r.headers["innofolio-signature"], format!("v1={expected}"));
        let event: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            r.headers["innofolio-event"],
            event["type"].as_str().unwrap()
        );
        seqs.push(event["seq"].as_i64().unwrap());
    }
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 3, "every subscribed event: {got:?}");
    let delivered = app.get(&deliveries).json();
    assert!(
        delivered["items"][0]["attempt_log"]
            .as_array()
            .unwrap()
            .len()
            >= 3
    );

    // A delivery can be sent again by hand.
    let d = delivered["items"][0]["id"].as_i64().unwrap();
    let r = app.send(
        "POST",
        &format!("{deliveries}/{d}/retry"),
        Some(&app.admin_key),
        &[],
        None,
    );
    assert_eq!(r.status, 202, "{}", r.text);
}

#[test]
fn csv_exports_open_in_a_spreadsheet_with_danish_letters() {
    let app = TestApp::spawn();
    let f = app.create_organisation("Region Hovedstadens Innovationspulje", "funder")["id"]
        .as_i64()
        .unwrap();
    app.post(
        "/api/v1/ideas",
        &json!({"title": "Sårpleje med ø-tang, \"ny\" model", "kind": "idea_problem", "received_on": "2026-02-01", "tags": ["sår"]}),
    );
    app.post(
        "/api/v1/ideas",
        &json!({"title": "Åndedrætsmåler", "kind": "clinical_invention", "received_on": "2026-02-03"}),
    );
    let mut a = application(f);
    a["title"] = json!("Prøvning af pumpe");
    a["programme_kind"] = json!("proof_of_concept");
    app.post(FUNDING, &a);

    let r = app.get("/api/v1/exports/ideas.csv?kind=idea_problem");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(r.header("content-disposition").unwrap().contains("ideas-"));
    assert!(r.text.starts_with('\u{feff}'), "BOM for spreadsheets");
    let mut rows = csv::Reader::from_reader(r.text.trim_start_matches('\u{feff}').as_bytes());
    let headers = rows.headers().unwrap().clone();
    assert_eq!(&headers[0], "id");
    assert_eq!(&headers[1], "title");
    let records: Vec<csv::StringRecord> = rows.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), 1, "the list filter applies");
    assert_eq!(&records[0][1], "Sårpleje med ø-tang, \"ny\" model");
    let all = app.get("/api/v1/exports/ideas.csv");
    assert_eq!(all.text.lines().count(), 3);
    assert!(all.text.contains("Åndedrætsmåler"));

    let r = app.get("/api/v1/exports/funding-applications.csv?delimiter=semicolon&programme_kind=proof_of_concept");
    let text = r.text.trim_start_matches('\u{feff}');
    let mut rows = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let records: Vec<csv::StringRecord> = rows.records().map(|r| r.unwrap()).collect();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(&records[0][col("title")], "Prøvning af pumpe");
    assert_eq!(&records[0][col("amount_applied")], "1500000.00");
    assert_eq!(&records[0][col("amount_applied_minor")], "150000000");
    assert_eq!(&records[0][col("currency")], "DKK");
    for path in [
        "/api/v1/exports/filings.csv",
        "/api/v1/exports/agreements.csv",
        "/api/v1/exports/income.csv",
    ] {
        let r = app.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert_eq!(r.text.lines().count(), 1, "header only: {path}");
    }
    let management = app.key(Role::Management);
    assert_eq!(
        app.get_as(&management, "/api/v1/exports/ideas.csv").status,
        200
    );
}

/// The outbox rows follow each subscription's event types — `*`, an exact type, a `prefix.*`,
/// a prefix that only looks similar, a list. (On
/// PostgreSQL they are written in SQL by the statement that numbers the events; on SQLite in
/// Rust: both must agree.)
#[test]
fn outbox_rows_follow_each_subscriptions_event_types() {
    let app = TestApp::spawn();
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut hooks = Vec::new();
    for types in [
        json!(["*"]),
        json!(["idea.created"]),
        json!(["idea.*"]),
        json!(["agreement.*", "ide.*"]),
        json!(["funding_application.*", "idea.created"]),
    ] {
        let r = app.post(
            "/api/v1/webhooks",
            &json!({"url": format!("http://127.0.0.1:{port}/hook"), "event_types": types, "secret": "a-long-enough-shared-secret"}),
        );
        assert_eq!(r.status, 201, "{types}: {}", r.text);
        hooks.push(r.json()["id"].as_i64().unwrap());
    }
    let r = app.post(
        "/api/v1/ideas",
        &json!({"title": "Night ward lights", "kind": "idea_problem", "received_on": "2026-02-01"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let total = |hook: i64| {
        app.get(&format!("/api/v1/webhooks/{hook}/deliveries"))
            .json()["total"]
            .as_i64()
            .unwrap()
    };
    let got: Vec<i64> = hooks.iter().map(|h| total(*h)).collect();
    assert_eq!(got, vec![1, 1, 1, 0, 1], "deliveries per subscription");
}
