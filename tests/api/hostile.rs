//! Hostile input: deep nesting, very long strings, Unicode edge cases (NUL, lone surrogates,
//! RTL marks, emoji), invalid UTF-8, absurd numbers, huge URLs and headers. Every one gets a
//! 4xx problem (never a 5xx), and nothing is written.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::TestApp;

const IDEAS: &str = "/api/v1/ideas";

/// What a refused request must leave untouched: no idea, no audit record, no change event.
fn counts(app: &TestApp) -> (i64, i64, usize) {
    let events = app.get("/api/v1/events?after=0&limit=1000").json()["items"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    (app.total(IDEAS), app.total("/api/v1/audit"), events)
}

fn idea(title: &str) -> Value {
    json!({"title": title, "kind": "clinical_invention", "received_on": "2026-01-05"})
}

/// Sends bytes as they are (no client library to tidy them up) and returns the status code and
/// the response head and body.
fn raw(app: &TestApp, request: &[u8]) -> (u16, String) {
    let addr = app.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    // The server may answer and close before it has read everything we send.
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    (status, text)
}

fn post_raw(app: &TestApp, path: &str, body: &[u8]) -> (u16, String) {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.admin_key,
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    raw(app, &req)
}

fn assert_client_error(status: u16, what: &str, text: &str) {
    assert!(
        (400..500).contains(&status),
        "{what}: expected a 4xx, got {status}: {}",
        text.chars().take(400).collect::<String>()
    );
}

#[test]
fn deep_nesting_anywhere_in_a_body_is_refused_and_changes_nothing() {
    let app = TestApp::spawn();
    let before = counts(&app);
    for depth in [64, 200, 10_000, 100_000] {
        let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        for nested in [&arrays, &objects] {
            for body in [
                nested.clone(),
                format!(
                    r#"{{"title": {nested}, "kind": "clinical_invention", "received_on": "2026-01-05"}}"#
                ),
                format!(
                    r#"{{"title": "T", "kind": "clinical_invention", "received_on": "2026-01-05", "tags": {nested}}}"#
                ),
            ] {
                let r = app.send("POST", IDEAS, Some(&app.admin_key), &[], Some(&body));
                let p = r.problem(r.status);
                assert_client_error(r.status, &format!("depth {depth}"), &p.to_string());
            }
        }
    }
    // A merge patch is JSON too.
    let created = app.post(IDEAS, &idea("Target")).json();
    let path = format!("{IDEAS}/{}", created["id"]);
    let etag = app.get(&path).header("etag").unwrap().to_string();
    let deep = format!(
        r#"{{"description": {}null{}}}"#,
        "{\"a\":".repeat(5000),
        "}".repeat(5000)
    );
    let r = app.send(
        "PATCH",
        &path,
        Some(&app.admin_key),
        &[
            ("If-Match", &etag),
            ("Content-Type", "application/merge-patch+json"),
        ],
        Some(&deep),
    );
    assert_client_error(r.status, "deep patch", &r.text);
    assert_eq!(app.get(&path).header("etag").unwrap(), etag, "unchanged");
    let after = counts(&app);
    assert_eq!(after.0, before.0 + 1, "only the target idea was created");
    assert_eq!(after.1, before.1 + 1);
    assert_eq!(after.2, before.2 + 1);
}

#[test]
fn very_long_strings_are_422_naming_the_field_and_limits_count_characters() {
    let app = TestApp::spawn();
    let before = counts(&app);
    // 300 characters is the limit for a title, however many bytes they take.
    let emoji = "🚑".repeat(300);
    let r = app.post(IDEAS, &idea(&emoji));
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["title"], emoji);
    let r = app.post(IDEAS, &idea(&"🚑".repeat(301)));
    assert_eq!(r.problem(422)["errors"][0]["field"], "title");
    let mut body = idea("Long description");
    body["description"] = json!("x".repeat(20_001));
    body["need"] = json!("y".repeat(20_001));
    let p = r_fields(&app.post(IDEAS, &body).problem(422));
    assert!(p.contains(&"description".to_string()), "{p:?}");
    assert!(p.contains(&"need".to_string()), "{p:?}");
    let mut body = idea("Long tag");
    body["tags"] = json!(["t".repeat(51)]);
    app.post(IDEAS, &body).problem(422);
    // A megabyte-long string is over the body limit before it is over the field's.
    let mut body = idea("Huge");
    body["description"] = json!("z".repeat(1_000_000));
    app.post(IDEAS, &body).problem(413);
    // A very long query parameter or header is refused as well.
    let r = app.get(&format!("{IDEAS}?q={}", "q".repeat(3_000)));
    assert_client_error(r.status, "long q", &r.text);
    let (status, text) = raw(
        &app,
        format!(
            "GET {IDEAS}?q={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "a".repeat(200_000)
        )
        .as_bytes(),
    );
    assert_client_error(status, "200 kB URL", &text);
    let (status, text) = raw(
        &app,
        format!(
            "GET {IDEAS} HTTP/1.1\r\nHost: x\r\nX-Padding: {}\r\nConnection: close\r\n\r\n",
            "p".repeat(200_000)
        )
        .as_bytes(),
    );
    assert_client_error(status, "200 kB header", &text);
    let after = counts(&app);
    assert_eq!(after.0, before.0 + 1, "only the 300-emoji idea");
}

fn r_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn unicode_edge_cases_are_kept_exactly_or_refused_never_mangled() {
    let app = TestApp::spawn();
    let before = counts(&app);
    // Kept exactly: RTL and LTR marks, an RTL override, zero-width joiners in a family emoji,
    // combining accents, characters outside the BMP, a BOM inside the text, line separators.
    let kept = [
        "\u{200f}מכשיר\u{200e} for wounds",
        "\u{202e}reversed\u{202c} text",
        "Family 👨\u{200d}👩\u{200d}👧 and flags 🇩🇰",
        "Combining: e\u{301} a\u{30a} o\u{338}",
        "Math 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and 𠜎",
        "BOM \u{feff}inside and \u{2028}line separator",
    ];
    let mut ids = Vec::new();
    for title in kept {
        let mut body = idea(title);
        body["tags"] = json!([title.chars().take(40).collect::<String>()]);
        let r = app.post(IDEAS, &body);
        assert_eq!(r.status, 201, "{title:?}: {}", r.text);
        let id = r.json()["id"].clone();
        let back = app.get(&format!("{IDEAS}/{id}")).json();
        assert_eq!(back["title"], title, "round trip");
        ids.push(id);
    }
    // Search finds text with an RTL mark and an emoji in it.
    let r = app.get(&format!("{IDEAS}?q=%D7%9E%D7%9B%D7%A9%D7%99%D7%A8"));
    assert_eq!(r.status, 200, "{}", r.text);
    // Refused: NUL anywhere in a string (as an escape), and lone surrogates.
    for body in [
        r#"{"title": "a\u0000b", "kind": "clinical_invention", "received_on": "2026-01-05"}"#,
        r#"{"title": "ok", "kind": "clinical_invention", "received_on": "2026-01-05", "tags": ["\u0000"]}"#,
        r#"{"title": "\ud800", "kind": "clinical_invention", "received_on": "2026-01-05"}"#,
        r#"{"title": "\udc00x", "kind": "clinical_invention", "received_on": "2026-01-05"}"#,
        r#"{"title": "ok", "kind": "clinical_invention\u0000", "received_on": "2026-01-05"}"#,
    ] {
        let r = app.send("POST", IDEAS, Some(&app.admin_key), &[], Some(body));
        let p = r.problem(r.status);
        assert_client_error(r.status, body, &p.to_string());
    }
    // A raw NUL byte and invalid UTF-8 in the body.
    for body in [
        &b"{\"title\": \"a\x00b\", \"kind\": \"clinical_invention\", \"received_on\": \"2026-01-05\"}"[..],
        &b"{\"title\": \"\xff\xfe bad\", \"kind\": \"clinical_invention\", \"received_on\": \"2026-01-05\"}"[..],
        &b"{\"title\": \"\xed\xa0\x80 surrogate as UTF-8\", \"kind\": \"clinical_invention\", \"received_on\": \"2026-01-05\"}"[..],
        &b"\xef\xbb\xbf{\"title\": \"BOM first\", \"kind\": \"clinical_invention\", \"received_on\": \"2026-01-05\"}"[..],
    ] {
        let (status, text) = post_raw(&app, IDEAS, body);
        assert_client_error(status, "raw bytes", &text);
        assert!(text.contains("application/problem+json"), "{text}");
    }
    // NUL and invalid percent-encoding in query strings and paths: a read answers 4xx or an
    // empty result, never an error from the database.
    for path in [
        format!("{IDEAS}?q=%00"),
        format!("{IDEAS}?q=a%00b"),
        format!("{IDEAS}?tag=%00"),
        format!("{IDEAS}?q=%FF%FE"),
        format!("{IDEAS}?q=%ED%A0%80"),
        "/api/v1/people?q=%00".to_string(),
        "/api/v1/organisations?q=%00".to_string(),
        format!("{IDEAS}/%00"),
        format!("{IDEAS}/1%00"),
    ] {
        let r = app.get(&path);
        assert!(r.status < 500, "{path}: {} {}", r.status, r.text);
    }
    for (path, expected) in [
        ("/api/v1/integrations/%00/ideas/x", None),
        ("/api/v1/integrations/grants/ideas/%00", None),
        ("/api/v1/integrations/grants/ideas/%F0%9F%9A%91", Some(201)),
    ] {
        let integration = app.key(innofolio::domain::Role::Integration);
        let r = app.send(
            "PUT",
            path,
            Some(&integration),
            &[],
            Some(
                &json!({"source_updated_at": "2026-01-05T10:00:00Z", "data": idea("Pushed")})
                    .to_string(),
            ),
        );
        match expected {
            Some(status) => assert_eq!(r.status, status, "{path}: {}", r.text),
            None => assert_client_error(r.status, path, &r.text),
        }
    }
    // Headers with bytes that are not visible ASCII.
    for (name, value) in [
        ("Idempotency-Key", "\u{e6}\u{f8}\u{e5}"),
        ("If-Match", "\"\u{ff}\""),
        ("X-Request-Id", "🚑"),
    ] {
        let mut req = format!(
            "POST {IDEAS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n",
            app.admin_key
        )
        .into_bytes();
        req.extend_from_slice(name.as_bytes());
        req.extend_from_slice(b": ");
        // Latin-1 bytes, as an old client would send them.
        req.extend(value.chars().map(|c| c as u32 as u8));
        let body = idea("Header test").to_string();
        req.extend_from_slice(
            format!(
                "\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
        let (status, text) = raw(&app, &req);
        assert_eq!(status, 201, "{name}: {text}");
        if name == "Idempotency-Key" {
            // Any bytes make a key (it is stored hashed): the retry is a replay.
            let (again, replayed) = raw(&app, &req);
            assert_eq!(again, 201, "{replayed}");
            let id = |t: &str| {
                t.split("\"id\":")
                    .nth(1)
                    .map(|r| r.split(',').next().unwrap_or("").to_string())
            };
            assert_eq!(id(&text), id(&replayed), "one record for one key");
        }
    }
    let after = counts(&app);
    // The six kept titles, the idea pushed under an emoji reference, and the three header tests
    // (an unreadable request id is replaced; If-Match is not read on create).
    assert_eq!(after.0, before.0 + 10, "{after:?}");
    assert_eq!(after.0 - before.0, after.1 - before.1, "one audit per idea");
    assert_eq!(
        (after.0 - before.0) as usize,
        after.2 - before.2,
        "one event per idea"
    );
}

#[test]
fn absurd_numbers_and_dates_are_refused() {
    let app = TestApp::spawn();
    let before = counts(&app);
    let org = app.create_organisation("Funder", "funder");
    let base = json!({
        "title": "Grant", "funder_id": org["id"], "programme": "Fund",
        "programme_kind": "private_foundation",
        "amount_applied": {"amount_minor": 100, "currency": "DKK"}
    });
    for (pointer, value) in [
        (
            "/amount_applied/amount_minor",
            json!(9_223_372_036_854_775_808u64),
        ),
        (
            "/amount_applied/amount_minor",
            json!(1_000_000_000_000_000_001i64),
        ),
        ("/amount_applied/amount_minor", json!(1e300)),
        ("/amount_applied/amount_minor", json!(0.5)),
        ("/amount_applied/amount_minor", json!("100")),
        ("/amount_applied/currency", json!("DKKK")),
        ("/amount_applied/currency", json!("dkk")),
        ("/funder_id", json!(-9_223_372_036_854_775_807i64)),
        ("/grant_rate_bp", json!(i64::MAX)),
    ] {
        let mut body = base.clone();
        let (parent, leaf) = pointer.rsplit_once('/').expect("pointer");
        let target = if parent.is_empty() {
            &mut body
        } else {
            body.pointer_mut(parent).expect("parent")
        };
        target[leaf] = value.clone();
        let r = app.post("/api/v1/funding-applications", &body);
        assert_client_error(r.status, &format!("{pointer} = {value}"), &r.text);
        r.problem(r.status);
    }
    let body = r#"{"title": "Grant", "funder_id": 1, "programme": "Fund", "programme_kind": "private_foundation", "amount_applied": {"amount_minor": 1e400, "currency": "DKK"}}"#;
    let r = app.send(
        "POST",
        "/api/v1/funding-applications",
        Some(&app.admin_key),
        &[],
        Some(body),
    );
    assert_client_error(r.status, "1e400", &r.text);
    assert_eq!(app.total("/api/v1/funding-applications"), 0);
    for date in [
        "2026-02-30",
        "0000-01-01",
        "+275760-09-13",
        "2026-01-05T00:00:00Z",
        "",
        "٢٠٢٦-٠١-٠٥",
    ] {
        let mut body = idea("Dated");
        body["received_on"] = json!(date);
        let r = app.post(IDEAS, &body);
        assert_client_error(r.status, date, &r.text);
    }
    for q in [
        "limit=99999999999999999999",
        "limit=-1",
        "offset=-5",
        "received_from=2026-13-01",
        "limit=1e3",
    ] {
        let r = app.get(&format!("{IDEAS}?{q}"));
        assert_client_error(r.status, q, &r.text);
    }
    let after = counts(&app);
    assert_eq!(after.0, before.0, "no idea");
    assert_eq!(after.1, before.1 + 1, "only the funder was audited");
}
