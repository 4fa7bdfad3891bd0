//! Operations: backups taken under load, two instances on one database.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use diesel::{QueryableByName, RunQueryDsl};
use innofolio::db::{AnyConnection, Db};
use serde_json::json;

use crate::helpers::TestApp;

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    title: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    version: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut AnyConnection, sql: &str) -> i64 {
    let rows: Vec<Count> = match conn {
        AnyConnection::Sqlite(c) => diesel::sql_query(sql).load(c).unwrap(),
        AnyConnection::Postgresql(c) => diesel::sql_query(sql).load(c).unwrap(),
    };
    rows[0].n
}

fn ideas(conn: &mut AnyConnection) -> Vec<(i64, String, i64)> {
    let sql = "SELECT id, title, version FROM ideas ORDER BY id";
    let rows: Vec<Row> = match conn {
        AnyConnection::Sqlite(c) => diesel::sql_query(sql).load(c).unwrap(),
        AnyConnection::Postgresql(c) => diesel::sql_query(sql).load(c).unwrap(),
    };
    rows.into_iter()
        .map(|r| (r.id, r.title, r.version))
        .collect()
}

/// A stable checksum of rows (FNV-1a over their text).
fn checksum(rows: &[(i64, String, i64)]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (id, title, version) in rows {
        for b in format!("{id}\u{1f}{title}\u{1f}{version}\u{1e}").bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

#[test]
fn a_backup_taken_under_write_load_is_consistent_and_restores() {
    let app = TestApp::spawn();
    let pg = app.db.is_postgres();
    if pg {
        // PostgreSQL is backed up with pg_dump (below, as docs/OPERATIONS.md says); the
        // command refuses it.
        let db = Db::connect(&app.db.url).unwrap();
        let dir = tempfile::tempdir().unwrap();
        assert!(innofolio::backup::backup(&db, &dir.path().join("x.db")).is_err());
    }
    let restored_pg = pg.then(|| RestoredPg::new(&app.db.url));
    let stop = AtomicBool::new(false);
    let acknowledged = Mutex::new(Vec::new());
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup.db");
    std::thread::scope(|s| {
        for w in 0..2 {
            let (app, stop, acknowledged) = (&app, &stop, &acknowledged);
            s.spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let r = app.post(
                        "/api/v1/ideas",
                        &json!({"title": format!("Idea {w}-{i} with tags"), "kind": "idea_problem",
                                "received_on": "2026-01-05", "tags": ["load", "backup"]}),
                    );
                    assert_eq!(r.status, 201, "{}", r.text);
                    acknowledged
                        .lock()
                        .unwrap()
                        .push(r.json()["id"].as_i64().unwrap());
                }
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(400));
        if let Some(target) = &restored_pg {
            target.dump_and_restore(&app.db.url, &dir.path().join("innofolio.dump"));
        } else {
            let db = Db::connect(&app.db.url).unwrap();
            innofolio::backup::backup(&db, &copy).expect("backup while writing");
            assert!(
                innofolio::backup::backup(&db, &copy).is_err(),
                "an existing file is not overwritten"
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        stop.store(true, Ordering::Relaxed);
    });
    let acknowledged: HashSet<i64> = acknowledged.into_inner().unwrap().into_iter().collect();

    let copy_url = match &restored_pg {
        Some(target) => target.url.clone(),
        None => format!("sqlite://{}", copy.display()),
    };
    let backup = Db::connect(&copy_url).unwrap();
    let mut b = backup.get().unwrap();
    let in_backup = ideas(&mut b);
    assert!(!in_backup.is_empty(), "writes happened before the backup");
    assert!(in_backup.len() < acknowledged.len(), "and after it");
    // Every idea in the copy is whole: its audit record, tags and change event came with it.
    let n = in_backup.len() as i64;
    assert_eq!(
        count(
            &mut b,
            "SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'idea' AND action = 'create'"
        ),
        n
    );
    assert_eq!(count(&mut b, "SELECT COUNT(*) AS n FROM idea_tags"), 2 * n);
    assert_eq!(
        count(
            &mut b,
            "SELECT COUNT(*) AS n FROM events WHERE event_type = 'idea.created'"
        ),
        n
    );
    // The copy is a prefix of the live data: same rows, same content.
    let source = Db::connect(&app.db.url).unwrap();
    let mut src = source.get().unwrap();
    let live: Vec<_> = ideas(&mut src)
        .into_iter()
        .filter(|(id, _, _)| in_backup.iter().any(|(b, _, _)| b == id))
        .collect();
    assert_eq!(checksum(&live), checksum(&in_backup));
    assert!(in_backup.iter().all(|(id, _, _)| acknowledged.contains(id)));

    // Restored: a server on the copy answers with the same data.
    drop(b);
    drop(backup);
    let restored = TestApp::spawn_on(&copy_url, &app.admin_key);
    let (id, title, _) = &in_backup[0];
    let r = restored.get(&format!("/api/v1/ideas/{id}"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["title"], title.as_str());
    assert_eq!(restored.total("/api/v1/ideas"), n);
    drop(restored);
    drop(restored_pg);
}

/// A database restored from `pg_dump`, dropped at the end of the test.
struct RestoredPg {
    admin: String,
    name: String,
    url: String,
}

impl RestoredPg {
    fn new(source_url: &str) -> RestoredPg {
        let (base, source) = source_url.rsplit_once('/').unwrap();
        let name = format!("{source}_restored");
        RestoredPg {
            admin: format!("{base}/postgres"),
            url: format!("{base}/{name}"),
            name,
        }
    }

    /// The PostgreSQL client programs of the newest installed version (Debian keeps them under
    /// /usr/lib/postgresql/N/bin), else from PATH.
    fn program(name: &str) -> std::path::PathBuf {
        let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        dirs.sort();
        dirs.iter()
            .rev()
            .map(|d| d.join("bin").join(name))
            .find(|p| p.exists())
            .unwrap_or_else(|| name.into())
    }

    /// `pg_dump --format=custom` of the live database (one consistent snapshot, taken while the
    /// writers go on), then `createdb` + `pg_restore` into a new database: the documented
    /// procedure of docs/OPERATIONS.md.
    fn dump_and_restore(&self, source_url: &str, file: &std::path::Path) {
        let run = |cmd: &mut std::process::Command| {
            let out = cmd.output().expect("run a PostgreSQL client program");
            assert!(
                out.status.success(),
                "{cmd:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(std::process::Command::new(Self::program("pg_dump"))
            .args(["--format=custom", "--no-owner", "--file"])
            .arg(file)
            .arg(source_url));
        run(std::process::Command::new(Self::program("psql")).args([
            &self.admin,
            "-qc",
            &format!("CREATE DATABASE {}", self.name),
        ]));
        run(std::process::Command::new(Self::program("pg_restore"))
            .args(["--no-owner", "--exit-on-error", "-d", &self.url])
            .arg(file));
    }
}

impl Drop for RestoredPg {
    fn drop(&mut self) {
        let _ = std::process::Command::new(Self::program("psql"))
            .args([
                &self.admin,
                "-qc",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}

#[test]
fn two_instances_on_one_database_lose_no_update_and_create_once() {
    let a = TestApp::spawn();
    let b = TestApp::spawn_on(&a.db.url, &a.admin_key);
    let idea = a.post(
        "/api/v1/ideas",
        &json!({"title": "Shared", "kind": "idea_problem", "received_on": "2026-01-05"}),
    );
    let id = idea.json()["id"].as_i64().unwrap();
    let tag = idea.header("etag").unwrap().to_string();
    let path = format!("/api/v1/ideas/{id}");

    // Conflicting patches with the same ETag through both instances: exactly one wins.
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8)
            .map(|i| {
                let (app, tag, path) = (if i % 2 == 0 { &a } else { &b }, &tag, &path);
                s.spawn(move || {
                    app.patch(path, tag, &json!({"title": format!("Title {i}")}))
                        .status
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 412),
        "{statuses:?}"
    );
    assert_eq!(a.get(&path).json()["version"], 2);

    // Retries with one Idempotency-Key through both instances: one record.
    let body =
        json!({"title": "Once", "kind": "idea_problem", "received_on": "2026-01-05"}).to_string();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8)
            .map(|i| {
                let (app, body) = (if i % 2 == 0 { &a } else { &b }, &body);
                s.spawn(move || {
                    app.send(
                        "POST",
                        "/api/v1/ideas",
                        Some(&app.admin_key),
                        &[("Idempotency-Key", "two-instances-1")],
                        Some(body),
                    )
                    .status
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    assert_eq!(a.total("/api/v1/ideas?q=Once"), 1);

    // Concurrent creates on both: the change feed stays gap-free.
    std::thread::scope(|s| {
        for app in [&a, &b] {
            s.spawn(move || {
                for i in 0..10 {
                    let r = app.post(
                        "/api/v1/ideas",
                        &json!({"title": format!("Feed {i}"), "kind": "idea_problem", "received_on": "2026-01-05"}),
                    );
                    assert_eq!(r.status, 201, "{}", r.text);
                }
            });
        }
    });
    let feed = b.get("/api/v1/events?limit=1000").json();
    let seqs: Vec<i64> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    assert_eq!(
        seqs.len(),
        1 + 1 + 1 + 20,
        "create, one update, one create, twenty creates"
    );
}

/// Single records may be answered from memory on SQLite (`read_cache`): the answer must still
/// follow every committed change — through this instance, through another instance on the same
/// database, and in tables other than the record's own — and never cross roles.
#[test]
fn repeated_reads_follow_every_change_and_never_cross_roles() {
    let app = TestApp::spawn();
    let created = app.post(
        "/api/v1/ideas",
        &json!({"title": "Smart catheter", "kind": "research_invention", "received_on": "2026-01-05"}),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let path = format!("/api/v1/ideas/{}", created.json()["id"]);
    for _ in 0..3 {
        assert_eq!(app.get(&path).json()["warnings"], json!([]));
    }
    // A disclosure is another table: the idea's version stays, its warnings change.
    let r = app.post(
        &format!("{path}/disclosures"),
        &json!({"kind": "talk", "disclosed_on": "2026-02-10", "venue": "Nordic Cardiology Days"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        app.get(&path).json()["warnings"][0]["code"],
        "public_disclosure_before_filing"
    );
    // A change through a second instance is seen by the first at once.
    let other = TestApp::spawn_on(&app.db.url, &app.admin_key);
    let etag = app.get(&path).header("etag").unwrap().to_string();
    let r = other.patch(&path, &etag, &json!({"title": "Smart catheter v2"}));
    assert_eq!(r.status, 200, "{}", r.text);
    let seen = app.get(&path);
    assert_eq!(seen.json()["title"], "Smart catheter v2");
    assert_ne!(seen.header("etag").unwrap(), etag);
    // Personal data: an admin's answer is never given to a management key.
    let person =
        app.create_person(&json!({"name": "Anna Hansen", "email": "anna@hospital.example"}));
    let person_path = format!("/api/v1/people/{}", person["id"]);
    for _ in 0..2 {
        assert_eq!(
            app.get(&person_path).json()["email"],
            "anna@hospital.example"
        );
    }
    let management = app.key(innofolio::domain::Role::Management);
    let as_management = app.get_as(&management, &person_path);
    assert_eq!(as_management.status, 200, "{}", as_management.text);
    assert!(
        !as_management.text.contains("anna@hospital.example"),
        "{}",
        as_management.text
    );
    // Each answer still carries its own request id.
    let a = app.get(&person_path);
    let b = app.get(&person_path);
    assert_ne!(a.header("x-request-id"), b.header("x-request-id"));
}
