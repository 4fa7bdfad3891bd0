use std::process::Command;

use crate::helpers::{TestApp, TestDb};

fn innofolio(db_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_innofolio"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env_remove("RUST_LOG")
        .output()
        .expect("run innofolio")
}

#[test]
fn create_api_key_prints_a_working_key_on_the_last_line_and_stores_only_its_hash() {
    let app = TestApp::spawn();
    let out = innofolio(
        &app.db.url,
        &[
            "create-api-key",
            "--role",
            "staff",
            "--name",
            "Mette (contract unit)",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let key = stdout.lines().last().unwrap().trim().to_string();
    assert!(key.starts_with("ifo_") && key.len() == 44, "{stdout}");
    assert_eq!(app.get_as(&key, "/api/v1/organisations").status, 200);

    let db = innofolio::db::Db::connect(&app.db.url).unwrap();
    let mut conn = db.get().unwrap();
    let rows = innofolio::db::api_keys::list(&mut conn).unwrap();
    assert!(rows
        .iter()
        .all(|r| r.key_hash != key && !r.key_hash.contains(&key[4..])));
    assert!(rows
        .iter()
        .any(|r| r.key_hash == innofolio::auth::sha256_hex(key.as_bytes())));
}

#[test]
fn migrate_and_openapi_commands_work_and_bad_input_is_explained() {
    let db = TestDb::new();
    let out = innofolio(&db.url, &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = innofolio(&db.url, &["migrate"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("up to date"));

    let spec = innofolio(&db.url, &["openapi"]);
    let v: serde_json::Value = serde_json::from_slice(&spec.stdout).unwrap();
    assert_eq!(v["openapi"], "3.1.0");

    let bad_role = innofolio(
        &db.url,
        &["create-api-key", "--role", "king", "--name", "x"],
    );
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("unknown role"));

    let bad_url = innofolio("mysql://x", &["migrate"]);
    assert!(!bad_url.status.success());
    assert!(String::from_utf8_lossy(&bad_url.stderr).contains("sqlite:// or postgres://"));
}

#[test]
fn a_wrong_postgres_password_shows_the_real_error() {
    // Port 1 refuses connections: the driver's own message must come through.
    let out = innofolio(
        "postgres://innofolio:wrong@127.0.0.1:1/innofolio",
        &["migrate"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot connect to the postgres database") && err.contains("127.0.0.1"),
        "{err}"
    );
}
