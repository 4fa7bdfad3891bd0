//! Test harness: each test starts the real application on a random port against its own fresh
//! database (a temporary SQLite file, or a new PostgreSQL database when `TEST_DATABASE_URL` is
//! set) and talks HTTP to it.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use diesel::{Connection, PgConnection, RunQueryDsl};
use innofolio::db::Db;
use innofolio::domain::Role;
use serde_json::Value;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database of the test's own.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn new() -> TestDb {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!(
                    "innofolio_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    chrono::Utc::now().timestamp_micros() % 1_000_000
                );
                let mut conn =
                    PgConnection::establish(&admin_url).expect("connect to TEST_DATABASE_URL");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create test database");
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(b, _)| b.to_string())
                    .expect("URL with a database name");
                TestDb {
                    url: format!("{base}/{name}"),
                    _dir: None,
                    pg: Some((admin_url, name)),
                }
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                TestDb {
                    url,
                    _dir: Some(dir),
                    pg: None,
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.pg {
            if let Ok(mut conn) = PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

/// A response as the tests see it.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Asserts an RFC 9457 problem with this status and returns it.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "expected {status}, got {}: {}",
            self.status, self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "problem content type for {}",
            self.text
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        assert!(
            body["type"].as_str().is_some_and(|t| !t.is_empty()),
            "problem has a type: {body}"
        );
        assert!(body["title"].is_string());
        body
    }
}

/// The running application.
pub struct TestApp {
    pub base: String,
    pub admin_key: String,
    pub db: TestDb,
    handle: Option<ServerHandle>,
    agent: ureq::Agent,
}

fn start(db_url: &str) -> (String, ServerHandle) {
    // Webhook retries on a test's time scale (the defaults are seconds to an hour).
    static PACE: std::sync::Once = std::sync::Once::new();
    PACE.call_once(|| {
        std::env::set_var("INNOFOLIO_WEBHOOK_POLL_MS", "50");
        std::env::set_var("INNOFOLIO_WEBHOOK_RETRY_BASE_MS", "200");
    });
    let db = Db::connect(db_url).expect("connect");
    db.migrate().expect("migrate");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = innofolio::app::run(listener, db, Some(2)).expect("server");
            tx.send(server.handle()).expect("send handle");
            let _ = server.await;
        })
    });
    let handle = rx.recv().expect("server started");
    (format!("http://127.0.0.1:{port}"), handle)
}

impl TestApp {
    pub fn spawn() -> TestApp {
        let db = TestDb::new();
        let (base, handle) = start(&db.url);
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(30))
            .build();
        let mut app = TestApp {
            base,
            admin_key: String::new(),
            db,
            handle: Some(handle),
            agent,
        };
        app.admin_key = app.key(Role::Admin);
        app
    }

    /// A second server on an existing database (another instance, or a restored backup); the
    /// database is not dropped when it stops.
    pub fn spawn_on(url: &str, admin_key: &str) -> TestApp {
        let (base, handle) = start(url);
        TestApp {
            base,
            admin_key: admin_key.to_string(),
            db: TestDb {
                url: url.to_string(),
                _dir: None,
                pg: None,
            },
            handle: Some(handle),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build(),
        }
    }

    /// Stops the server and starts a new one on the same database, as after a restart.
    pub fn restart(&mut self) {
        if let Some(h) = self.handle.take() {
            actix_web::rt::System::new().block_on(h.stop(true));
        }
        let (base, handle) = start(&self.db.url);
        self.base = base;
        self.handle = Some(handle);
    }

    /// A new API key with this role, made the way `create-api-key` makes one.
    pub fn key(&self, role: Role) -> String {
        self.key_expiring(role, None)
    }

    pub fn key_expiring(&self, role: Role, expires_at: Option<chrono::NaiveDateTime>) -> String {
        let db = Db::connect(&self.db.url).expect("connect");
        let name = format!("{}-key", role.as_str());
        let (_, key) = db
            .write_blocking(|c| innofolio::auth::create_key(c, &name, role, expires_at))
            .expect("create key");
        key
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request; `key` None sends no Authorization header.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Resp {
        let mut req = self.agent.request(method, &self.url(path));
        if let Some(k) = key {
            req = req.set("Authorization", &format!("Bearer {k}"));
        }
        let mut has_ct = false;
        for (n, v) in headers {
            has_ct |= n.eq_ignore_ascii_case("content-type");
            req = req.set(n, v);
        }
        if body.is_some() && !has_ct {
            req = req.set("Content-Type", "application/json");
        }
        let result = match body {
            Some(b) => req.send_string(b),
            None => req.call(),
        };
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = resp.status();
        let mut map = HashMap::new();
        for name in resp.headers_names() {
            if let Some(v) = resp.header(&name) {
                map.insert(name.to_ascii_lowercase(), v.to_string());
            }
        }
        let text = resp.into_string().unwrap_or_default();
        Resp {
            status,
            headers: map,
            text,
        }
    }

    pub fn get(&self, path: &str) -> Resp {
        self.get_as(&self.admin_key, path)
    }

    pub fn get_as(&self, key: &str, path: &str) -> Resp {
        self.send("GET", path, Some(key), &[], None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Resp {
        self.post_as(&self.admin_key, path, body)
    }

    pub fn post_as(&self, key: &str, path: &str, body: &Value) -> Resp {
        self.send("POST", path, Some(key), &[], Some(&body.to_string()))
    }

    pub fn patch(&self, path: &str, etag: &str, body: &Value) -> Resp {
        self.send(
            "PATCH",
            path,
            Some(&self.admin_key),
            &[("If-Match", etag)],
            Some(&body.to_string()),
        )
    }

    pub fn delete(&self, path: &str, etag: &str) -> Resp {
        self.send(
            "DELETE",
            path,
            Some(&self.admin_key),
            &[("If-Match", etag)],
            None,
        )
    }

    /// Creates an organisation and returns its JSON.
    pub fn create_organisation(&self, name: &str, kind: &str) -> Value {
        let r = self.post(
            "/api/v1/organisations",
            &serde_json::json!({"name": name, "kind": kind}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        r.json()
    }

    /// Creates a person and returns its JSON.
    pub fn create_person(&self, body: &Value) -> Value {
        let r = self.post("/api/v1/people", body);
        assert_eq!(r.status, 201, "{}", r.text);
        r.json()
    }

    /// `total` of a list endpoint.
    pub fn total(&self, path: &str) -> i64 {
        let r = self.get(path);
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["total"].as_i64().expect("total")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            actix_web::rt::System::new().block_on(h.stop(false));
        }
    }
}
