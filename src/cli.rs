//! The command line: `serve` (default), `migrate`, `openapi`, `create-api-key`.

use std::net::TcpListener;

use clap::{Parser, Subcommand};

use crate::db::{api_keys, Db};
use crate::domain::Role;

#[derive(Debug, Parser)]
#[command(
    name = "innofolio",
    version,
    about = "Innovation-portfolio tracker (REST service)"
)]
pub struct Cli {
    /// Database: sqlite://PATH (created if missing) or postgres://USER:PASS@HOST:PORT/DB
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://innofolio.db",
        global = true
    )]
    pub database_url: String,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations and serve the API (the default).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "INNOFOLIO_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Import records from a file (see docs/DOMAIN.md for the columns).
    Import {
        #[command(subcommand)]
        what: ImportKind,
    },
    /// Copy the SQLite database to PATH while the service runs (consistent, checked).
    Backup { path: std::path::PathBuf },
    /// Fill an empty database with a realistic synthetic portfolio (deterministic per seed).
    DemoData {
        /// Number of ideas; everything else scales with it (100000 = a national portfolio
        /// with about 1,000,000 income and statement lines).
        #[arg(long, default_value_t = 2000)]
        scale: u64,
        #[arg(long, default_value_t = 20261123)]
        seed: u64,
    },
    /// Create an API key; the key is printed alone on the last line of stdout.
    CreateApiKey {
        /// admin, staff, management or integration
        #[arg(long)]
        role: String,
        /// Who or what uses the key (shown in the audit log).
        #[arg(long)]
        name: String,
        /// Days until the key expires (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportKind {
    /// Ideas from the legacy register: a CSV file (header row) or a .json array of rows.
    Ideas {
        file: std::path::PathBuf,
        /// Check every row and report, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("error: {message}");
            1
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let command = cli.command.unwrap_or(Command::Serve {
        bind: std::env::var("INNOFOLIO_BIND").unwrap_or_else(|_| "127.0.0.1:8080".to_string()),
    });
    match command {
        Command::Openapi => {
            let spec = serde_json::to_string_pretty(&crate::app::openapi_json())
                .map_err(|e| e.to_string())?;
            println!("{spec}");
            Ok(())
        }
        Command::Migrate => {
            let db = Db::connect(&cli.database_url)?;
            let applied = db.migrate()?;
            if applied.is_empty() {
                println!("database is up to date");
            }
            for m in applied {
                println!("applied {m}");
            }
            Ok(())
        }
        Command::CreateApiKey {
            role,
            name,
            expires_in_days,
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                format!("unknown role '{role}': use admin, staff, management or integration")
            })?;
            let name = name.trim().to_string();
            if name.is_empty() || name.chars().count() > 200 || name.contains('\0') {
                return Err("--name must be 1 to 200 characters".into());
            }
            let db = Db::connect(&cli.database_url)?;
            db.migrate()?;
            let expires_at =
                expires_in_days.map(|d| crate::db::now() + chrono::TimeDelta::days(i64::from(d)));
            let (row, key) = db
                .write_blocking(|conn| crate::auth::create_key(conn, &name, role, expires_at))
                .map_err(|e| e.to_string())?;
            println!(
                "created API key {} '{}' with role {}",
                row.id,
                row.name,
                role.as_str()
            );
            println!("store it now: it is shown only once");
            println!("{key}");
            Ok(())
        }
        Command::Backup { path } => {
            let db = Db::connect(&cli.database_url)?;
            let started = std::time::Instant::now();
            crate::backup::backup(&db, &path)?;
            println!(
                "backup written to {} and checked ({:.1} s)",
                path.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::DemoData { scale, seed } => {
            let db = Db::connect(&cli.database_url)?;
            db.migrate()?;
            let started = std::time::Instant::now();
            let summary = crate::demo::generate(&db, scale, seed, chrono::Utc::now().date_naive())?;
            for (table, n) in &summary.counts {
                println!("{table:>24}: {n}");
            }
            println!(
                "demo portfolio of {scale} ideas written in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Import {
            what: ImportKind::Ideas { file, dry_run },
        } => {
            let bytes =
                std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let json = file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"));
            let db = Db::connect(&cli.database_url)?;
            db.migrate()?;
            let caller = crate::auth::Caller {
                key_id: 0,
                name: "command line import".into(),
                role: Role::Admin,
                request_id: None,
            };
            let started = std::time::Instant::now();
            match crate::import::import(&db, &caller, &bytes, json, dry_run) {
                Ok(s) => {
                    println!(
                        "{} {} rows: {} ideas, {} new people, {} new organisations ({:.1} s)",
                        if s.dry_run { "checked" } else { "imported" },
                        s.rows,
                        if s.dry_run { s.rows } else { s.ideas_created },
                        s.people_created,
                        s.organisations_created,
                        started.elapsed().as_secs_f64()
                    );
                    Ok(())
                }
                Err(crate::error::ApiError::Validation(errors)) => {
                    for e in &errors {
                        match e.line {
                            Some(line) => {
                                eprintln!("line {line}, column {}: {}", e.field, e.message)
                            }
                            None => eprintln!("{}: {}", e.field, e.message),
                        }
                    }
                    Err(format!("{} error(s); nothing was imported", errors.len()))
                }
                Err(e) => Err(e.to_string()),
            }
        }
        Command::Serve { bind } => serve(&cli.database_url, &bind),
    }
}

fn serve(database_url: &str, bind: &str) -> Result<(), String> {
    crate::telemetry::init_tracing();
    let db = Db::connect(database_url)?;
    let applied = db.migrate()?;
    for m in &applied {
        tracing::info!(migration = %m, "applied migration");
    }
    let keys = {
        let mut conn = db.get().map_err(|e| e.to_string())?;
        api_keys::count(&mut conn).map_err(|e| e.to_string())?
    };
    if keys == 0 {
        tracing::warn!(
            "no API keys exist yet, so every /api/ call is refused; create the first admin key with: \
             innofolio create-api-key --role admin --name admin"
        );
    }
    let listener = TcpListener::bind(bind).map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    tracing::info!(
        address = %bind,
        backend = db.backend().name(),
        "Innofolio is serving; API docs at http://{bind}/docs/"
    );
    let workers = std::env::var("INNOFOLIO_WORKERS")
        .ok()
        .and_then(|w| w.parse::<usize>().ok());
    actix_web::rt::System::new().block_on(async move {
        crate::app::run(listener, db, workers)
            .map_err(|e| e.to_string())?
            .await
            .map_err(|e| e.to_string())
    })
}
