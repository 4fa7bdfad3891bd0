//! `innofolio demo-data --scale N [--seed S]`: a realistic synthetic portfolio in an empty
//! database, deterministic for a seed, so a new user sees real-looking reports at once and
//! benchmarks have data.
//!
//! `N` is the number of ideas. With it: N/20 inventors, N/10 patent families with their
//! filings and costs, N/10 agreements, about 5·N income lines and 5·N royalty statements
//! (1,000,000 lines at N = 100,000), N/20 funding applications, N/50 collaboration requests,
//! impacts for implemented ideas, distributions for part of the income, and a result contract
//! per recent year. Ideas spread over the last twelve years and move through the funnel with
//! dated events, so the history-based KPIs have something to count.
//!
//! Rows are written with multi-row `INSERT`s in one transaction (all or nothing). Bulk data
//! makes no change-feed events.

use chrono::{Datelike, Days, NaiveDate};
use diesel::connection::SimpleConnection;

use crate::db::{AnyConnection, Db};
use crate::domain::dates::rights_deadline;

/// SplitMix64: small, fast and deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Rows of one table, flushed as multi-row INSERTs.
struct Batch<'a> {
    conn: &'a mut AnyConnection,
    table: &'static str,
    columns: &'static str,
    rows: Vec<String>,
    written: u64,
}

impl<'a> Batch<'a> {
    fn new(conn: &'a mut AnyConnection, table: &'static str, columns: &'static str) -> Self {
        Batch {
            conn,
            table,
            columns,
            rows: Vec::new(),
            written: 0,
        }
    }

    fn push(&mut self, row: String) -> Result<(), String> {
        self.rows.push(row);
        if self.rows.len() >= 500 {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), String> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {}",
            self.table,
            self.columns,
            self.rows.join(",")
        );
        self.conn
            .batch_execute(&sql)
            .map_err(|e| format!("inserting into {}: {e}", self.table))?;
        self.written += self.rows.len() as u64;
        self.rows.clear();
        Ok(())
    }

    fn finish(mut self) -> Result<u64, String> {
        self.flush()?;
        Ok(self.written)
    }
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn d(date: NaiveDate) -> String {
    format!("'{}'", date.format("%Y-%m-%d"))
}

fn ts(date: NaiveDate) -> String {
    format!("'{} 09:00:00'", date.format("%Y-%m-%d"))
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map(f).unwrap_or_else(|| "NULL".into())
}

const STAGES: [&str; 5] = [
    "pre_screening",
    "evaluation",
    "validation",
    "development",
    "commercialisation",
];

const WORDS: [&str; 24] = [
    "infusion",
    "wound",
    "catheter",
    "sensor",
    "triage",
    "sepsis",
    "ward",
    "dialysis",
    "stent",
    "monitoring",
    "pressure",
    "night",
    "fall",
    "alarm",
    "dressing",
    "ultrasound",
    "patch",
    "discharge",
    "medication",
    "hygiene",
    "oxygen",
    "scheduling",
    "pain",
    "rehabilitation",
];

const THINGS: [&str; 12] = [
    "device",
    "app",
    "workflow",
    "clip",
    "algorithm",
    "tool",
    "kit",
    "dashboard",
    "method",
    "bandage",
    "holder",
    "system",
];

/// What was written, by table.
pub struct Summary {
    pub counts: Vec<(&'static str, u64)>,
}

/// Fills an empty database. Refuses when ideas already exist.
pub fn generate(db: &Db, scale: u64, seed: u64, today: NaiveDate) -> Result<Summary, String> {
    let scale = scale.max(10);
    let summary = db
        .write_blocking(|conn| {
            fill(conn, scale, seed, today).map_err(crate::error::ApiError::Internal)
        })
        .map_err(|e| e.to_string())?;
    // PostgreSQL answers aggregates from indexes alone only once VACUUM has marked the pages
    // all-visible (autovacuum would, later); it cannot run inside the transaction above.
    if db.backend() == crate::db::Backend::Postgres {
        let mut conn = db.get().map_err(|e| e.to_string())?;
        conn.batch_execute("VACUUM ANALYZE")
            .map_err(|e| e.to_string())?;
    }
    Ok(summary)
}

fn fill(conn: &mut AnyConnection, n: u64, seed: u64, today: NaiveDate) -> Result<Summary, String> {
    use diesel::prelude::*;
    let existing: i64 = crate::db::schema::ideas::table
        .count()
        .get_result(conn)
        .map_err(|e| e.to_string())?;
    if existing > 0 {
        return Err(format!(
            "the database already holds {existing} ideas; demo-data fills an empty database only"
        ));
    }
    let mut rng = Rng(seed);
    let mut counts = Vec::new();
    let start_year = today.year() - 11;
    let now = ts(today);
    let day = |y: i32, doy: u64| {
        NaiveDate::from_yo_opt(y, 1)
            .and_then(|s| s.checked_add_days(Days::new(doy)))
            .unwrap_or(today)
            .min(today)
    };

    // Organisations: a hospital with departments, companies, funders. Ids from 1.
    let departments = 20u64;
    let companies = (n / 500).max(20);
    let funders = 8u64;
    let dept_names = [
        "Cardiology",
        "Surgery",
        "Emergency",
        "Oncology",
        "Paediatrics",
        "Radiology",
        "Nephrology",
        "Neurology",
        "Orthopaedics",
        "Anaesthesiology",
        "Geriatrics",
        "Psychiatry",
        "Gynaecology",
        "Infectious diseases",
        "Endocrinology",
        "Urology",
        "Dermatology",
        "Ophthalmology",
        "Pharmacy",
        "Rehabilitation",
    ];
    let funder_names = [
        "Innovationsfonden",
        "Novo Nordisk Fonden",
        "EU Horizon Europe",
        "Region Hovedstadens Innovationspulje",
        "Lundbeckfonden",
        "Industriens Fond",
        "EUDP",
        "Internal proof-of-concept pool",
    ];
    let mut b = Batch::new(
        conn,
        "organisations",
        "id, name, kind, parent_id, country, notes, version, created_at, updated_at",
    );
    b.push(format!(
        "(1, 'University Hospital (demo)', 'hospital', NULL, 'DK', NULL, 1, {now}, {now})"
    ))?;
    for i in 0..departments {
        b.push(format!(
            "({}, {}, 'department', 1, 'DK', NULL, 1, {now}, {now})",
            2 + i,
            q(&format!(
                "Department of {}",
                dept_names[i as usize % dept_names.len()]
            ))
        ))?;
    }
    let company0 = 2 + departments;
    for i in 0..companies {
        b.push(format!(
            "({}, {}, 'company', NULL, 'DK', NULL, 1, {now}, {now})",
            company0 + i,
            q(&format!("MedTech {} ApS", i + 1))
        ))?;
    }
    let funder0 = company0 + companies;
    for i in 0..funders {
        b.push(format!(
            "({}, {}, 'funder', NULL, 'DK', NULL, 1, {now}, {now})",
            funder0 + i,
            q(funder_names[i as usize])
        ))?;
    }
    counts.push(("organisations", b.finish()?));

    // Inventors.
    let people = (n / 20).max(10);
    let mut b = Batch::new(
        conn,
        "people",
        "id, name, email, phone, profession, organisation_id, version, created_at, updated_at",
    );
    for i in 0..people {
        b.push(format!(
            "({}, {}, {}, NULL, 'physician', {}, 1, {now}, {now})",
            i + 1,
            q(&format!("Inventor {}", i + 1)),
            q(&format!("inventor{}@hospital.example", i + 1)),
            2 + rng.below(departments)
        ))?;
    }
    counts.push(("people", b.finish()?));

    // Ideas with their funnel history.
    struct Idea {
        id: u64,
        received: NaiveDate,
        invention: bool,
        outcome: Option<&'static str>,
        left: Option<NaiveDate>,
    }
    let mut ideas = Vec::with_capacity(n as usize);
    let mut ib = Vec::new();
    let mut events = Vec::new();
    let mut inventors = Vec::new();
    let mut event_id = 0u64;
    for id in 1..=n {
        let year = start_year + (rng.below(12) as i32);
        let received = day(year, rng.below(365));
        let kind = match rng.below(100) {
            0..=59 => "idea_problem",
            60..=84 => "clinical_invention",
            _ => "research_invention",
        };
        let invention = kind != "idea_problem";
        let age = (today - received).num_days().max(1) as u64;
        // How far it got and how it ended.
        let reach = match rng.below(100) {
            0..=44 => 0,
            45..=69 => 1,
            70..=84 => 2,
            85..=94 => 3,
            _ => 4,
        };
        let mut stage_at = received;
        let mut stage = 0usize;
        event_id += 1;
        events.push(format!("({event_id}, {id}, {}, {}, 'demo', 'created', NULL, NULL, 'pre_screening', NULL, NULL, NULL, NULL, NULL)", ts(received), d(received)));
        for (s, next_stage) in STAGES.iter().enumerate().take(reach + 1).skip(1) {
            let next = stage_at + Days::new(20 + rng.below(120));
            if next >= today {
                break;
            }
            event_id += 1;
            events.push(format!("({event_id}, {id}, {}, {}, 'demo', 'transition', {}, NULL, {}, NULL, NULL, NULL, NULL, NULL)", ts(next), d(next), q(STAGES[stage]), q(next_stage)));
            stage = s;
            stage_at = next;
        }
        let still_active = age < 200 || rng.chance(12);
        let (outcome, left) = if still_active {
            (None, None)
        } else {
            let o = match stage {
                0 => {
                    if rng.chance(80) {
                        "closed"
                    } else {
                        "passed_on_internal"
                    }
                }
                1 => *rng.pick(&[
                    "closed",
                    "closed",
                    "passed_on_internal",
                    "passed_on_external",
                    "implemented",
                ]),
                2 => *rng.pick(&[
                    "closed",
                    "implemented",
                    "passed_on_external",
                    if invention {
                        "rights_returned"
                    } else {
                        "closed"
                    },
                ]),
                3 => *rng.pick(&["implemented", "commercialised", "closed"]),
                _ => *rng.pick(&["commercialised", "commercialised", "implemented"]),
            };
            let on = (stage_at + Days::new(15 + rng.below(90))).min(today);
            event_id += 1;
            events.push(format!("({event_id}, {id}, {}, {}, 'demo', 'transition', {}, NULL, {}, {}, NULL, NULL, NULL, NULL)", ts(on), d(on), q(STAGES[stage]), q(STAGES[stage]), q(o)));
            (Some(o), Some(on))
        };
        let deadline = invention.then(|| rights_deadline(received));
        let decided = deadline.and_then(|dl| {
            let spread = if rng.chance(85) { 50 } else { 120 };
            let on = received + Days::new(10 + rng.below(spread));
            (on <= today && (on <= dl || rng.chance(70))).then_some(on)
        });
        let decision = decided.map(|_| if rng.chance(55) { "claim" } else { "release" });
        let title = format!(
            "{} {} {}",
            capital(rng.pick::<&str>(&WORDS)),
            rng.pick(&WORDS),
            rng.pick(&THINGS)
        );
        ib.push(format!(
            "({id}, {}, NULL, NULL, '{kind}', 'product', {}, {}, NULL, FALSE, '{}', {}, NULL, {}, {}, {}, NULL, NULL, NULL, NULL, 1, {}, {})",
            q(&title), d(received), 2 + rng.below(departments), STAGES[stage],
            opt(outcome, q), opt(decision, q), opt(decided, d), opt(deadline, d), ts(received), now
        ));
        if invention {
            let k = 1 + rng.below(3);
            for j in 0..k {
                inventors.push(format!(
                    "({id}, {}, {}, {j})",
                    1 + (id * 7 + j * 13) % people,
                    if j == 0 {
                        1_000_000 - (k - 1) * (1_000_000 / k)
                    } else {
                        1_000_000 / k
                    }
                ));
            }
        }
        ideas.push(Idea {
            id,
            received,
            invention,
            outcome,
            left,
        });
    }
    let mut b = Batch::new(conn, "ideas", "id, title, description, need, kind, innovation_type, received_on, source_organisation_id, project_manager_id, confidential, stage, outcome, recipient_organisation_id, rights_decision, rights_decided_on, rights_deadline, expected_results, expected_savings_minor, expected_savings_currency, expected_fte_centi, version, created_at, updated_at");
    for r in ib {
        b.push(r)?;
    }
    counts.push(("ideas", b.finish()?));
    let mut b = Batch::new(conn, "idea_events", "id, idea_id, at, occurred_on, actor, event, from_stage, from_outcome, to_stage, to_outcome, reason, comment, override_reason, recipient_organisation_id");
    for r in events {
        b.push(r)?;
    }
    counts.push(("idea_events", b.finish()?));
    let mut b = Batch::new(
        conn,
        "idea_inventors",
        "idea_id, person_id, share_units, position",
    );
    for r in inventors {
        b.push(r)?;
    }
    counts.push(("idea_inventors", b.finish()?));

    // Impacts of implemented ideas.
    let mut b = Batch::new(conn, "impacts", "idea_id, recorded_on, savings_minor, savings_currency, fte_centi, adverse_events_avoided, evidence, created_at");
    for i in ideas.iter().filter(|i| i.outcome == Some("implemented")) {
        if let Some(left) = i.left {
            let on = (left + Days::new(90 + rng.below(200))).min(today);
            b.push(format!(
                "({}, {}, {}, 'DKK', {}, NULL, 'Before/after measurement (demo)', {now})",
                i.id,
                d(on),
                5_000_000 + rng.below(200_000_000),
                10 + rng.below(150)
            ))?;
        }
    }
    counts.push(("impacts", b.finish()?));

    // Patent families for most claimed inventions, with filings and costs.
    let families: Vec<&Idea> = ideas
        .iter()
        .filter(|i| i.invention)
        .take((n / 10) as usize)
        .collect();
    let mut fb = Vec::new();
    let mut filings = Vec::new();
    let mut costs = Vec::new();
    let mut filing_id = 0u64;
    for (k, i) in families.iter().enumerate() {
        let fid = k as u64 + 1;
        fb.push(format!(
            "({fid}, {}, {}, NULL, 'active', NULL, NULL, 1, {now}, {now})",
            i.id,
            q(&format!("Family {fid}"))
        ));
        let priority = i.received + Days::new(60 + rng.below(120));
        if priority >= today {
            continue;
        }
        filing_id += 1;
        let pr = filing_id;
        filings.push(format!("({pr}, {fid}, 'priority', 'DK', NULL, {}, {}, '[]', NULL, NULL, NULL, NULL, 'filed', 1, {now}, {now})", q(&format!("PA {}", 2_000_000 + pr)), d(priority)));
        costs.push(format!(
            "({fid}, {pr}, {}, {}, 'DKK', 'filing', NULL, {now})",
            d(priority),
            2_500_000 + rng.below(2_000_000)
        ));
        let pct_on = priority + Days::new(360);
        if pct_on < today && rng.chance(70) {
            filing_id += 1;
            let pct = filing_id;
            filings.push(format!("({pct}, {fid}, 'pct', 'WO', {pr}, {}, {}, {}, NULL, NULL, NULL, NULL, 'published', 1, {now}, {now})", q(&format!("PCT/DK{}", 100_000 + pct)), d(pct_on), q(&format!("[\"{}\"]", priority))));
            costs.push(format!(
                "({fid}, {pct}, {}, {}, 'DKK', 'filing', NULL, {now})",
                d(pct_on),
                4_000_000 + rng.below(3_000_000)
            ));
            let np = priority + Days::new(905);
            if np < today && rng.chance(60) {
                for j in ["EP", "US"] {
                    filing_id += 1;
                    let granted = (np + Days::new(700 + rng.below(900))).min(today);
                    let is_granted = granted < today && rng.chance(50);
                    let kind = if j == "EP" {
                        "regional"
                    } else {
                        "national_phase"
                    };
                    filings.push(format!("({filing_id}, {fid}, '{kind}', '{j}', {pct}, {}, {}, {}, NULL, NULL, {}, {}, '{}', 1, {now}, {now})", q(&format!("{j}{}", 3_000_000 + filing_id)), d(np), q(&format!("[\"{}\"]", priority)), opt(is_granted.then(|| format!("{j}{}B1", 4_000_000 + filing_id)), |s| q(&s)), opt(is_granted.then_some(granted), d), if is_granted { "granted" } else { "filed" }));
                    costs.push(format!(
                        "({fid}, {filing_id}, {}, {}, 'DKK', 'prosecution', NULL, {now})",
                        d(np),
                        6_000_000 + rng.below(6_000_000)
                    ));
                }
            }
        }
    }
    let mut b = Batch::new(conn, "patent_families", "id, idea_id, title, internal_ref, status, responsible_id, agent_id, version, created_at, updated_at");
    for r in fb {
        b.push(r)?;
    }
    counts.push(("patent_families", b.finish()?));
    let mut b = Batch::new(conn, "patent_filings", "id, family_id, kind, jurisdiction, parent_id, application_number, filing_date, priority_dates, publication_number, publication_date, grant_number, grant_date, status, version, created_at, updated_at");
    for r in filings {
        b.push(r)?;
    }
    counts.push(("patent_filings", b.finish()?));
    let mut b = Batch::new(
        conn,
        "patent_costs",
        "family_id, filing_id, incurred_on, amount_minor, currency, category, note, created_at",
    );
    for r in costs {
        b.push(r)?;
    }
    counts.push(("patent_costs", b.finish()?));

    // Agreements: on commercialised ideas first, then others; income and statements per year.
    let kinds = [
        "licence_exclusive",
        "licence_non_exclusive",
        "option",
        "assignment",
        "collaboration",
        "spin_out",
        "right_of_use",
    ];
    let mut targets: Vec<&Idea> = ideas
        .iter()
        .filter(|i| i.outcome == Some("commercialised"))
        .collect();
    targets.extend(
        ideas
            .iter()
            .filter(|i| i.outcome != Some("commercialised") && i.left.is_none()),
    );
    let agreements = (n / 9).min(targets.len() as u64);
    let mut ab = Vec::new();
    let mut links = Vec::new();
    let mut income = Vec::new();
    let mut statements = Vec::new();
    let mut income_id = 0u64;
    let terms = r#"{"upfront_fee":null,"royalty_rate_bp":400,"tiers":[],"annual_minimum":null,"milestones":[],"sublicence_share_bp":null,"reduced_price":null,"reporting":"quarterly","payment_days":30}"#;
    for a in 0..agreements {
        let i = targets[a as usize];
        let aid = a + 1;
        let kind = if i.outcome == Some("commercialised") {
            *rng.pick(&[
                "licence_exclusive",
                "licence_non_exclusive",
                "assignment",
                "spin_out",
            ])
        } else {
            *rng.pick(&kinds)
        };
        let signed = i
            .left
            .unwrap_or_else(|| (i.received + Days::new(200 + rng.below(500))).min(today));
        let terminated = rng.chance(10) && signed.year() < today.year() - 2;
        let ended = terminated.then(|| (signed + Days::new(400 + rng.below(400))).min(today));
        ab.push(format!("({aid}, '{kind}', {}, {}, '{}', {}, {}, NULL, {}, {}, 'DK', NULL, {}, 1, {now}, {now})", q(&format!("Agreement {aid}")), company0 + rng.below(companies), if terminated { "terminated" } else { "active" }, d(signed), d(signed), opt(ended, d), opt(terminated.then_some("Licensee stopped sales (demo)"), q), q(terms)));
        links.push(format!("({aid}, {})", i.id));
        // Monthly royalties with a statement each (about ten lines per idea at scale).
        let last = ended.unwrap_or(today);
        let mut period_start =
            NaiveDate::from_ymd_opt(signed.year(), signed.month(), 1).unwrap_or(signed);
        let mut quarters = 0;
        while quarters < 144 {
            let Some(period_end) = period_start
                .checked_add_months(chrono::Months::new(1))
                .and_then(|x| x.pred_opt())
            else {
                break;
            };
            let received = period_end + Days::new(45);
            if received >= last {
                break;
            }
            let sales = 2_000_000 + rng.below(70_000_000);
            let royalty = sales * 4 / 300;
            income_id += 1;
            income.push(format!(
                "({income_id}, {aid}, {}, 'running_royalty', {}, {royalty}, 'DKK', NULL, {now})",
                i.id,
                d(received)
            ));
            statements.push(format!("({aid}, {}, {}, 'DKK', {sales}, {royalty}, 0, {royalty}, {royalty}, {royalty}, {}, {now})", d(period_start), d(period_end), d(received)));
            if rng.chance(8) {
                income_id += 1;
                income.push(format!("({income_id}, {aid}, {}, 'patent_cost_reimbursement', {}, {}, 'DKK', NULL, {now})", i.id, d(received), 1_000_000 + rng.below(5_000_000)));
            }
            period_start = period_end + Days::new(1);
            quarters += 1;
        }
        if kind != "collaboration" {
            income_id += 1;
            income.push(format!(
                "({income_id}, {aid}, {}, 'upfront', {}, {}, 'DKK', NULL, {now})",
                i.id,
                d(signed),
                10_000_000 + rng.below(200_000_000)
            ));
        }
    }
    let mut b = Batch::new(conn, "agreements", "id, kind, title, counterparty_id, status, signed_on, effective_on, expires_on, ended_on, end_reason, territory, field_of_use, terms, version, created_at, updated_at");
    for r in ab {
        b.push(r)?;
    }
    counts.push(("agreements", b.finish()?));
    let mut b = Batch::new(conn, "agreement_ideas", "agreement_id, idea_id");
    for r in links {
        b.push(r)?;
    }
    counts.push(("agreement_ideas", b.finish()?));
    let income_rows = income.len() as u64;
    let mut b = Batch::new(
        conn,
        "income",
        "id, agreement_id, idea_id, kind, received_on, amount_minor, currency, note, created_at",
    );
    for r in income {
        b.push(r)?;
    }
    counts.push(("income", b.finish()?));
    let mut b = Batch::new(conn, "royalty_statements", "agreement_id, period_start, period_end, currency, net_sales_minor, royalty_minor, true_up_minor, due_minor, invoiced_minor, received_minor, last_received_on, created_at");
    for r in statements {
        b.push(r)?;
    }
    counts.push(("royalty_statements", b.finish()?));

    // Distributions for every 20th income line: thirds to inventor, department, institution.
    let mut db_rows = Vec::new();
    let mut lines = Vec::new();
    let mut dist_id = 0u64;
    for inc in (1..=income_rows).step_by(20) {
        dist_id += 1;
        let amount = 3_000_000 + rng.below(30_000_000);
        let third = amount / 3;
        let on = day(start_year + rng.below(12) as i32, rng.below(365));
        db_rows.push(format!(
            "({dist_id}, {inc}, {inc}, 1, NULL, {amount}, 0, {amount}, 'DKK', 'demo', {})",
            ts(on)
        ));
        lines.push(format!(
            "({dist_id}, 'inventor', {}, NULL, {}, 'DKK', 'share of the inventors (demo)')",
            1 + rng.below(people),
            amount - 2 * third
        ));
        lines.push(format!(
            "({dist_id}, 'department', NULL, {}, {third}, 'DKK', 'department share (demo)')",
            2 + rng.below(departments)
        ));
        lines.push(format!(
            "({dist_id}, 'institution', NULL, 1, {third}, 'DKK', 'institution share (demo)')"
        ));
    }
    let mut b = Batch::new(conn, "distributions", "id, income_id, live_income_id, policy_id, reverses_id, gross_minor, costs_deducted_minor, distributable_minor, currency, actor, created_at");
    for r in db_rows {
        b.push(r)?;
    }
    counts.push(("distributions", b.finish()?));
    let mut b = Batch::new(conn, "payout_lines", "distribution_id, recipient_kind, person_id, organisation_id, amount_minor, currency, basis");
    for r in lines {
        b.push(r)?;
    }
    counts.push(("payout_lines", b.finish()?));

    // Funding applications and collaboration requests.
    let mut b = Batch::new(conn, "funding_applications", "id, title, funder_id, programme, programme_kind, idea_id, currency, amount_applied_minor, own_cofinancing_minor, grant_rate_bp, amount_awarded_minor, status, submitted_on, decided_on, withdrawn_on, project_start, project_end, funder_reference, notes, version, created_at, updated_at");
    let programmes = [
        ("Innobooster", "national_fund"),
        ("Proof of concept", "proof_of_concept"),
        ("Horizon Europe", "eu_programme"),
        ("Foundation grant", "private_foundation"),
        ("Regional innovation pool", "regional_fund"),
    ];
    for g in 1..=(n / 20).max(5) {
        let idea = &ideas[rng.below(n) as usize];
        let (programme, kind) = *rng.pick(&programmes);
        let submitted = (idea.received + Days::new(100 + rng.below(400))).min(today);
        let applied = 20_000_000 + rng.below(500_000_000);
        let decided = submitted + Days::new(60 + rng.below(120));
        let (status, decided_on, awarded) = if decided >= today {
            ("submitted", None, None)
        } else if rng.chance(40) {
            (
                "awarded",
                Some(decided),
                Some(applied * (60 + rng.below(40)) / 100),
            )
        } else {
            ("rejected", Some(decided), None)
        };
        b.push(format!("({g}, {}, {}, {}, '{kind}', {}, 'DKK', {applied}, {}, {}, {}, '{status}', {}, {}, NULL, NULL, NULL, {}, NULL, 1, {now}, {now})", q(&format!("Funding for idea {}", idea.id)), funder0 + rng.below(funders), q(programme), idea.id, applied / 3, if kind == "eu_programme" { 7000 } else { 10000 }, opt(awarded, |v: u64| v.to_string()), d(submitted), opt(decided_on, d), q(&format!("REF-{g}"))))?;
    }
    counts.push(("funding_applications", b.finish()?));
    let mut b = Batch::new(conn, "collaboration_requests", "id, company_id, department_id, received_on, topic, description, status, agreement_id, closed_on, notes, version, created_at, updated_at");
    for c in 1..=(n / 50).max(5) {
        let received = day(start_year + rng.below(12) as i32, rng.below(365));
        let closed = (received + Days::new(30 + rng.below(200))).min(today);
        let (status, agreement, closed_on) = match rng.below(100) {
            0..=29 if agreements > 0 => (
                "agreement_signed",
                Some(1 + rng.below(agreements)),
                Some(closed),
            ),
            30..=59 => ("declined", None, Some(closed)),
            60..=79 => ("in_dialogue", None, None),
            _ => ("new", None, None),
        };
        b.push(format!(
            "({c}, {}, {}, {}, {}, NULL, '{status}', {}, {}, NULL, 1, {now}, {now})",
            company0 + rng.below(companies),
            2 + rng.below(departments),
            d(received),
            q(&format!(
                "Development of a {} {}",
                rng.pick(&WORDS),
                rng.pick(&THINGS)
            )),
            opt(agreement, |a: u64| a.to_string()),
            opt(closed_on, d)
        ))?;
    }
    counts.push(("collaboration_requests", b.finish()?));

    // A result contract per recent year.
    let mut b = Batch::new(conn, "result_contracts", "id, title, period_start, period_end, status, organisation_id, notes, version, created_at, updated_at");
    let mut t: Vec<String> = Vec::new();
    for (k, year) in (today.year() - 2..=today.year()).enumerate() {
        let id = k as u64 + 1;
        let status = if year < today.year() {
            "closed"
        } else {
            "agreed"
        };
        b.push(format!(
            "({id}, {}, '{year}-01-01', '{year}-12-31', '{status}', NULL, NULL, 1, {now}, {now})",
            q(&format!("Result contract {year}"))
        ))?;
        let per_year = n as f64 / 12.0;
        for (pos, (key, target, dir, risk)) in [
            (
                "ideas_received",
                per_year.round(),
                "at_least",
                per_year * 0.9,
            ),
            (
                "inventions_received",
                (per_year * 0.4).round(),
                "at_least",
                per_year * 0.35,
            ),
            ("rights_decisions_on_time_share", 90.0, "at_least", 80.0),
            (
                "priority_applications",
                (n as f64 / 150.0).round(),
                "at_least",
                n as f64 / 180.0,
            ),
            (
                "agreements_signed_licence",
                (n as f64 / 400.0).round(),
                "at_least",
                n as f64 / 500.0,
            ),
            (
                "licence_income",
                (n as f64 * 1_500_000.0).round(),
                "at_least",
                n as f64 * 1_300_000.0,
            ),
            ("pre_screening_rejection_share", 30.0, "at_most", 35.0),
            (
                "funding_awarded",
                (n as f64 * 100_000.0).round(),
                "at_least",
                n as f64 * 80_000.0,
            ),
            (
                "collaboration_requests_converted",
                (n as f64 / 800.0).round(),
                "at_least",
                n as f64 / 1000.0,
            ),
            (
                "implemented_solutions",
                (n as f64 / 200.0).round(),
                "at_least",
                n as f64 / 250.0,
            ),
        ]
        .iter()
        .enumerate()
        {
            t.push(format!(
                "({id}, {pos}, '{key}', {target}, '{dir}', {risk:.1})"
            ));
        }
    }
    counts.push(("result_contracts", b.finish()?));
    let sql = format!(
        "INSERT INTO contract_targets (contract_id, position, kpi_key, target_value, direction, at_risk_threshold) VALUES {}",
        t.join(",")
    );
    conn.batch_execute(&sql)
        .map_err(|e| format!("inserting targets: {e}"))?;

    // PostgreSQL identity columns do not move past explicit ids by themselves.
    if let AnyConnection::Postgresql(_) = conn {
        for table in [
            "organisations",
            "people",
            "ideas",
            "idea_events",
            "patent_families",
            "patent_filings",
            "agreements",
            "income",
            "distributions",
            "funding_applications",
            "collaboration_requests",
            "result_contracts",
        ] {
            conn.batch_execute(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            ))
            .map_err(|e| format!("moving the id sequence of {table}: {e}"))?;
        }
        conn.batch_execute("ANALYZE").map_err(|e| e.to_string())?;
    } else {
        conn.batch_execute("ANALYZE").map_err(|e| e.to_string())?;
    }
    Ok(Summary { counts })
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
