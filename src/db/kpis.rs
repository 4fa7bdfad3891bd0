//! KPI aggregates, computed in SQL (one indexed range scan per group of indicators, never a
//! load of every row). Every value comes with the counts it was computed from.
//!
//! The SQL is portable between SQLite and PostgreSQL but for the difference of two dates; dates,
//! currency codes and ids are inlined as literals after they were parsed (a `NaiveDate`, a
//! checked `^[A-Z]{3}$` code, `i64`s), so no text from a client reaches the SQL.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::AnyConnection;

/// What the KPIs are computed over.
#[derive(Debug, Clone)]
pub struct Scope {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Only ideas from these organisations (and what hangs off those ideas).
    pub organisations: Option<Vec<i64>>,
    /// Money KPIs count amounts in this currency.
    pub currency: String,
}

/// A computed figure: `value` with the counts behind it.
#[derive(Debug, Clone, PartialEq)]
pub enum Figure {
    Count(i64),
    /// `numerator / denominator`, in percent.
    Share {
        numerator: i64,
        denominator: i64,
    },
    /// A median of `count` values (days).
    Median {
        median: Option<f64>,
        count: i64,
    },
    /// A sum in minor units of `count` records.
    Money {
        minor: i64,
        count: i64,
    },
    /// Full-time equivalents in hundredths, of `count` records.
    Fte {
        centi: i64,
        count: i64,
    },
}

#[derive(QueryableByName)]
struct Row3 {
    #[diesel(sql_type = Text)]
    k: String,
    #[diesel(sql_type = BigInt)]
    a: i64,
    #[diesel(sql_type = BigInt)]
    b: i64,
}

#[derive(QueryableByName)]
struct Num {
    #[diesel(sql_type = Nullable<BigInt>)]
    v: Option<i64>,
}

fn rows(conn: &mut AnyConnection, sql: &str) -> QueryResult<Vec<Row3>> {
    let started = std::time::Instant::now();
    let out = match conn {
        AnyConnection::Sqlite(c) => diesel::sql_query(sql).load(c),
        AnyConnection::Postgresql(c) => diesel::sql_query(sql).load(c),
    };
    tracing::debug!(
        ms = started.elapsed().as_secs_f64() * 1000.0,
        sql,
        "kpi query"
    );
    out
}

fn nums(conn: &mut AnyConnection, sql: &str) -> QueryResult<Vec<Option<i64>>> {
    let started = std::time::Instant::now();
    let out: Vec<Num> = match conn {
        AnyConnection::Sqlite(c) => diesel::sql_query(sql).load(c)?,
        AnyConnection::Postgresql(c) => diesel::sql_query(sql).load(c)?,
    };
    tracing::debug!(
        ms = started.elapsed().as_secs_f64() * 1000.0,
        sql,
        "kpi query"
    );
    Ok(out.into_iter().map(|n| n.v).collect())
}

/// One row `(a, b)` of a query that selects `'' AS k, … AS a, … AS b`.
fn pair(conn: &mut AnyConnection, sql: &str) -> QueryResult<(i64, i64)> {
    Ok(rows(conn, sql)?
        .into_iter()
        .next()
        .map(|r| (r.a, r.b))
        .unwrap_or((0, 0)))
}

fn lit(d: NaiveDate) -> String {
    format!("'{}'", d.format("%Y-%m-%d"))
}

/// `SUM(x)` as BIGINT, 0 when there are no rows (PostgreSQL sums BIGINT as NUMERIC).
fn sum(x: &str) -> String {
    format!("COALESCE(CAST(SUM({x}) AS BIGINT), 0)")
}

/// Whole days from `b` to `a`.
fn days(conn: &AnyConnection, a: &str, b: &str) -> String {
    match conn {
        AnyConnection::Sqlite(_) => format!("CAST(julianday({a}) - julianday({b}) AS BIGINT)"),
        AnyConnection::Postgresql(_) => format!("CAST(({a} - {b}) AS BIGINT)"),
    }
}

impl Scope {
    fn between(&self, col: &str) -> String {
        format!("{col} BETWEEN {} AND {}", lit(self.from), lit(self.to))
    }

    /// `AND <idea id column> IN (ideas of the organisations)`, or nothing.
    fn ideas(&self, idea_col: &str) -> String {
        match &self.organisations {
            None => String::new(),
            Some(orgs) => {
                let list = if orgs.is_empty() {
                    "NULL".to_string()
                } else {
                    orgs.iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                };
                format!(
                    " AND {idea_col} IN (SELECT id FROM ideas WHERE source_organisation_id IN ({list}))"
                )
            }
        }
    }

    fn currency(&self) -> String {
        // Checked by the caller to be three capital letters.
        format!("'{}'", self.currency)
    }
}

/// The median of a one-column query's values, in SQL (`ORDER BY … LIMIT/OFFSET`).
fn median(conn: &mut AnyConnection, values_sql: &str) -> QueryResult<Figure> {
    let n = nums(conn, &format!("SELECT COUNT(*) AS v FROM ({values_sql}) m"))?
        .first()
        .copied()
        .flatten()
        .unwrap_or(0);
    if n == 0 {
        return Ok(Figure::Median {
            median: None,
            count: 0,
        });
    }
    let take = if n % 2 == 0 { 2 } else { 1 };
    let mid = nums(
        conn,
        &format!(
            "SELECT v FROM ({values_sql}) m ORDER BY v LIMIT {take} OFFSET {}",
            (n - 1) / 2
        ),
    )?;
    let vals: Vec<f64> = mid.into_iter().flatten().map(|v| v as f64).collect();
    let median = (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64);
    Ok(Figure::Median { median, count: n })
}

/// The funnel's stages in order.
pub const STAGES: [&str; 5] = [
    "pre_screening",
    "evaluation",
    "validation",
    "development",
    "commercialisation",
];

/// Every KPI for the scope, by key.
/// `wanted` limits the work to the groups of queries these KPI keys need (a scorecard asks for
/// its targets only); `None` computes every KPI.
pub fn compute(
    conn: &mut AnyConnection,
    s: &Scope,
    wanted: Option<&[String]>,
) -> QueryResult<BTreeMap<String, Figure>> {
    let want = |keys: &[&str]| {
        wanted.is_none_or(|w| {
            w.iter().any(|k| {
                keys.iter()
                    .any(|p| k == p || (p.ends_with('*') && k.starts_with(p.trim_end_matches('*'))))
            })
        })
    };
    let mut out = BTreeMap::new();
    let exit = "e.event = 'transition' AND e.from_outcome IS NULL \
                AND (e.to_outcome IS NOT NULL OR e.to_stage <> e.from_stage)";
    let families = |col: &str| match &s.organisations {
        None => String::new(),
        Some(_) => format!(
            " AND {col} IN (SELECT id FROM patent_families WHERE 1 = 1{})",
            s.ideas("idea_id")
        ),
    };
    let mut put = |k: &str, f: Figure| {
        out.insert(k.to_string(), f);
    };

    if want(&["ideas_received*", "inventions_received"]) {
        // Intake by kind.
        let received = rows(
            conn,
            &format!(
                "SELECT kind AS k, COUNT(*) AS a, CAST(0 AS BIGINT) AS b FROM ideas i WHERE {}{} GROUP BY kind",
                s.between("i.received_on"),
                s.ideas("i.id")
            ),
        )?;
        let by_kind = |k: &str| received.iter().find(|r| r.k == k).map_or(0, |r| r.a);
        let all: i64 = received.iter().map(|r| r.a).sum();
        put("ideas_received", Figure::Count(all));
        for kind in ["idea_problem", "clinical_invention", "research_invention"] {
            put(
                &format!("ideas_received_{kind}"),
                Figure::Count(by_kind(kind)),
            );
        }
        put(
            "inventions_received",
            Figure::Count(by_kind("clinical_invention") + by_kind("research_invention")),
        );
    }
    if want(&[
        "rights_decisions_on_time_share",
        "median_days_to_rights_decision",
    ]) {
        // Rights decisions: on time, and how long they took.
        let today = chrono::Utc::now().date_naive();
        let (due, on_time) = pair(
            conn,
            &format!(
                "SELECT '' AS k, COUNT(*) AS a, {} AS b FROM ideas i WHERE {}{} \
                 AND (i.rights_decided_on IS NOT NULL OR i.rights_deadline < {})",
                sum("CASE WHEN i.rights_decided_on IS NOT NULL AND i.rights_decided_on <= i.rights_deadline THEN 1 ELSE 0 END"),
                s.between("i.rights_deadline"),
                s.ideas("i.id"),
                lit(today)
            ),
        )?;
        put(
            "rights_decisions_on_time_share",
            Figure::Share {
                numerator: on_time,
                denominator: due,
            },
        );
        let d = days(conn, "i.rights_decided_on", "i.received_on");
        put(
            "median_days_to_rights_decision",
            median(
                conn,
                &format!(
                    "SELECT {d} AS v FROM ideas i WHERE {}{}",
                    s.between("i.rights_decided_on"),
                    s.ideas("i.id")
                ),
            )?,
        );
    }
    if want(&[
        "passed_on_*",
        "commercialised_solutions",
        "implemented_solutions",
        "ideas_closed",
        "rights_returned",
    ]) {
        // Outcomes reached in the period.
        let outcomes = rows(
            conn,
            &format!(
                "SELECT e.to_outcome AS k, COUNT(DISTINCT e.idea_id) AS a, CAST(0 AS BIGINT) AS b FROM idea_events e \
                 WHERE {} AND e.to_outcome IS NOT NULL \
                 AND (e.from_outcome IS NULL OR e.from_outcome <> e.to_outcome){} GROUP BY e.to_outcome",
                s.between("e.occurred_on"),
                s.ideas("e.idea_id")
            ),
        )?;
        let outcome = |k: &str| outcomes.iter().find(|r| r.k == k).map_or(0, |r| r.a);
        for (key, o) in [
            ("passed_on_internal", "passed_on_internal"),
            ("passed_on_external", "passed_on_external"),
            ("commercialised_solutions", "commercialised"),
            ("implemented_solutions", "implemented"),
            ("ideas_closed", "closed"),
            ("rights_returned", "rights_returned"),
        ] {
            put(key, Figure::Count(outcome(o)));
        }
    }
    if want(&["pre_screening_rejection_share", "conversion_from_*"]) {
        // Leaving each stage: where to, and after how long.
        let next_stage = STAGES
            .windows(2)
            .map(|w| format!("(e.from_stage = '{}' AND e.to_stage = '{}')", w[0], w[1]))
            .collect::<Vec<_>>()
            .join(" OR ");
        let exits = rows(
            conn,
            &format!(
                "SELECT e.from_stage AS k, COUNT(*) AS a, {} AS b FROM idea_events e \
                 WHERE {} AND {exit}{} GROUP BY e.from_stage",
                sum(&format!(
                    "CASE WHEN e.to_outcome IS NULL AND ({next_stage}) THEN 1 ELSE 0 END"
                )),
                s.between("e.occurred_on"),
                s.ideas("e.idea_id")
            ),
        )?;
        let (left_pre, closed_pre) = pair(
            conn,
            &format!(
                "SELECT '' AS k, COUNT(*) AS a, {} AS b FROM idea_events e \
                 WHERE {} AND {exit} AND e.from_stage = 'pre_screening'{}",
                sum("CASE WHEN e.to_outcome = 'closed' THEN 1 ELSE 0 END"),
                s.between("e.occurred_on"),
                s.ideas("e.idea_id")
            ),
        )?;
        put(
            "pre_screening_rejection_share",
            Figure::Share {
                numerator: closed_pre,
                denominator: left_pre,
            },
        );
        for stage in &STAGES[..4] {
            let (n, fwd) = exits
                .iter()
                .find(|r| r.k == *stage)
                .map_or((0, 0), |r| (r.a, r.b));
            put(
                &format!("conversion_from_{stage}"),
                Figure::Share {
                    numerator: fwd,
                    denominator: n,
                },
            );
        }
    }
    if want(&["median_days_in_*"]) {
        // Median days in each stage, over the exits in the period: one windowed query picks the
        // middle value(s) per stage.
        let entered = "(SELECT MAX(e2.occurred_on) FROM idea_events e2 WHERE e2.idea_id = e.idea_id \
             AND e2.id < e.id AND e2.to_stage = e.from_stage AND e2.to_outcome IS NULL \
             AND (e2.from_stage IS NULL OR e2.from_stage <> e.from_stage OR e2.from_outcome IS NOT NULL))";
        let d = days(conn, "left_on", "entered_on");
        let middles = rows(
            conn,
            &format!(
                "WITH x AS MATERIALIZED (SELECT e.from_stage AS s, e.occurred_on AS left_on, \
                   {entered} AS entered_on FROM idea_events e WHERE {} AND {exit}{}), \
                 z AS (SELECT s, {d} AS d FROM x WHERE entered_on IS NOT NULL) \
                 SELECT s AS k, d AS a, n AS b FROM (SELECT s, d, \
                   ROW_NUMBER() OVER (PARTITION BY s ORDER BY d) AS r, COUNT(*) OVER (PARTITION BY s) AS n \
                   FROM z) y WHERE r = (n + 1) / 2 OR r = (n + 2) / 2",
                s.between("e.occurred_on"),
                s.ideas("e.idea_id")
            ),
        )?;
        for stage in &STAGES[..4] {
            let vals: Vec<&Row3> = middles.iter().filter(|r| r.k == *stage).collect();
            let count = vals.first().map_or(0, |r| r.b);
            let median = (!vals.is_empty())
                .then(|| vals.iter().map(|r| r.a as f64).sum::<f64>() / vals.len() as f64);
            put(
                &format!("median_days_in_{stage}"),
                Figure::Median { median, count },
            );
        }
    }
    if want(&["active_portfolio"]) {
        // The active portfolio at the end of the period, from two index scans: ideas received
        // by then, minus those out of the portfolio then. Out then = out now, minus the moves
        // since (from no outcome to an outcome takes an idea out, the reverse brings it back).
        // Ideas received later count in both terms and cancel out: all their moves are later.
        let to = lit(s.to);
        let (received_by_end, out_now) = pair(
            conn,
            &format!(
                "SELECT '' AS k, {} AS a, {} AS b FROM ideas i WHERE 1 = 1{}",
                sum(&format!(
                    "CASE WHEN i.received_on <= {to} THEN 1 ELSE 0 END"
                )),
                sum("CASE WHEN i.outcome IS NOT NULL THEN 1 ELSE 0 END"),
                s.ideas("i.id")
            ),
        )?;
        let (went_out, came_back) = pair(
            conn,
            &format!(
                "SELECT '' AS k, {} AS a, {} AS b FROM idea_events e \
                 WHERE e.occurred_on > {to} \
                 AND ((e.from_outcome IS NULL AND e.to_outcome IS NOT NULL) \
                   OR (e.from_outcome IS NOT NULL AND e.to_outcome IS NULL AND e.to_stage IS NOT NULL)){}",
                sum("CASE WHEN e.to_outcome IS NOT NULL THEN 1 ELSE 0 END"),
                sum("CASE WHEN e.to_outcome IS NULL THEN 1 ELSE 0 END"),
                s.ideas("e.idea_id")
            ),
        )?;
        let out_then = out_now - went_out + came_back;
        put(
            "active_portfolio",
            Figure::Count((received_by_end - out_then).max(0)),
        );
    }
    if want(&[
        "priority_applications",
        "pct_applications",
        "national_phase_entries",
        "patents_granted",
    ]) {
        // Patents.
        let filings = rows(
            conn,
            &format!(
                "SELECT f.kind AS k, COUNT(*) AS a, {} AS b FROM patent_filings f WHERE {}{} GROUP BY f.kind",
                sum("CASE WHEN f.parent_id IS NOT NULL THEN 1 ELSE 0 END"),
                s.between("f.filing_date"),
                families("f.family_id")
            ),
        )?;
        let filed = |k: &str| filings.iter().find(|r| r.k == k).map_or(0, |r| r.a);
        put(
            "priority_applications",
            Figure::Count(filed("priority") + filed("provisional")),
        );
        put("pct_applications", Figure::Count(filed("pct")));
        put(
            "national_phase_entries",
            Figure::Count(
                filed("national_phase")
                    + filings
                        .iter()
                        .find(|r| r.k == "regional")
                        .map_or(0, |r| r.b),
            ),
        );
        let (granted, _) = pair(
            conn,
            &format!(
                "SELECT '' AS k, COUNT(*) AS a, CAST(0 AS BIGINT) AS b FROM patent_filings f WHERE {}{}",
                s.between("f.grant_date"),
                families("f.family_id")
            ),
        )?;
        put("patents_granted", Figure::Count(granted));
    }
    let (costs, cost_rows) = if want(&["patent_costs", "net_ip_result"]) {
        pair(
        conn,
        &format!(
            "SELECT '' AS k, {} AS a, COUNT(*) AS b FROM patent_costs c WHERE {} AND c.currency = {}{}",
            sum("c.amount_minor"),
            s.between("c.incurred_on"),
            s.currency(),
            families("c.family_id")
        ),
    )?
    } else {
        (0, 0)
    };
    put(
        "patent_costs",
        Figure::Money {
            minor: costs,
            count: cost_rows,
        },
    );

    if want(&["agreements_signed*"]) {
        // Agreements signed, by kind.
        let agreements_scope = match &s.organisations {
            None => String::new(),
            Some(_) => format!(
                " AND a.id IN (SELECT agreement_id FROM agreement_ideas WHERE 1 = 1{})",
                s.ideas("idea_id")
            ),
        };
        let signed = rows(
            conn,
            &format!(
                "SELECT a.kind AS k, COUNT(*) AS a, CAST(0 AS BIGINT) AS b FROM agreements a WHERE {}{} GROUP BY a.kind",
                s.between("a.signed_on"),
                agreements_scope
            ),
        )?;
        let signed_kind = |k: &str| signed.iter().find(|r| r.k == k).map_or(0, |r| r.a);
        put(
            "agreements_signed",
            Figure::Count(signed.iter().map(|r| r.a).sum()),
        );
        put(
            "agreements_signed_licence",
            Figure::Count(signed_kind("licence_exclusive") + signed_kind("licence_non_exclusive")),
        );
        for kind in ["option", "assignment", "spin_out", "collaboration"] {
            put(
                &format!("agreements_signed_{kind}"),
                Figure::Count(signed_kind(kind)),
            );
        }
    }
    if want(&["licence_income", "total_income", "net_ip_result"]) {
        // Income, in one pass: all of it, and the patent-cost reimbursements in it.
        let (all_income, all_n) = pair(
            conn,
            &format!(
                "SELECT '' AS k, {} AS a, COUNT(*) AS b FROM income x WHERE {} AND x.currency = {}{}",
                sum("x.amount_minor"),
                s.between("x.received_on"),
                s.currency(),
                s.ideas("x.idea_id")
            ),
        )?;
        let (reimbursed, reimbursed_n) = pair(
            conn,
            &format!(
                "SELECT '' AS k, {} AS a, COUNT(*) AS b FROM income x WHERE {} AND x.currency = {} \
                 AND x.kind = 'patent_cost_reimbursement'{}",
                sum("x.amount_minor"),
                s.between("x.received_on"),
                s.currency(),
                s.ideas("x.idea_id")
            ),
        )?;
        let (licence, licence_n) = (all_income - reimbursed, all_n - reimbursed_n);
        put(
            "licence_income",
            Figure::Money {
                minor: licence,
                count: licence_n,
            },
        );
        put(
            "total_income",
            Figure::Money {
                minor: licence + reimbursed,
                count: licence_n + reimbursed_n,
            },
        );
        put(
            "net_ip_result",
            Figure::Money {
                minor: licence + reimbursed - costs,
                count: licence_n + reimbursed_n + cost_rows,
            },
        );
    }
    if want(&["royalties_distributed"]) {
        let (distributed, lines) = pair(
            conn,
            &format!(
                "SELECT '' AS k, {} AS a, COUNT(*) AS b FROM payout_lines p \
                 JOIN distributions d ON d.id = p.distribution_id \
                 WHERE p.recipient_kind = 'inventor' AND p.currency = {} \
                 AND d.created_at >= {} AND d.created_at < {}{}",
                sum("p.amount_minor"),
                s.currency(),
                lit(s.from),
                lit(s.to.checked_add_days(Days::new(1)).unwrap_or(s.to)),
                match &s.organisations {
                    None => String::new(),
                    Some(_) => format!(
                        " AND d.income_id IN (SELECT id FROM income WHERE 1 = 1{})",
                        s.ideas("idea_id")
                    ),
                }
            ),
        )?;
        put(
            "royalties_distributed",
            Figure::Money {
                minor: distributed,
                count: lines,
            },
        );
    }
    if want(&["funding_*", "proof_of_concept_projects"]) {
        // External funding.
        let (applied, applied_n) = pair(
            conn,
            &format!(
                "SELECT '' AS k, {} AS a, COUNT(*) AS b FROM funding_applications g \
                 WHERE {} AND g.currency = {}{}",
                sum("g.amount_applied_minor"),
                s.between("g.submitted_on"),
                s.currency(),
                s.ideas("g.idea_id")
            ),
        )?;
        put(
            "funding_applied",
            Figure::Money {
                minor: applied,
                count: applied_n,
            },
        );
        let awarded = rows(
            conn,
            &format!(
                "SELECT g.programme_kind AS k, {} AS a, COUNT(*) AS b FROM funding_applications g \
                 WHERE {} AND g.status = 'awarded' AND g.currency = {}{} GROUP BY g.programme_kind",
                sum("g.amount_awarded_minor"),
                s.between("g.decided_on"),
                s.currency(),
                s.ideas("g.idea_id")
            ),
        )?;
        put(
            "funding_awarded",
            Figure::Money {
                minor: awarded.iter().map(|r| r.a).sum(),
                count: awarded.iter().map(|r| r.b).sum(),
            },
        );
        put(
            "proof_of_concept_projects",
            Figure::Count(
                awarded
                    .iter()
                    .find(|r| r.k == "proof_of_concept")
                    .map_or(0, |r| r.b),
            ),
        );
    }
    if want(&["collaboration_requests_*"]) {
        // Industry collaboration requests (by the matched department when scoped).
        let dept = match &s.organisations {
            None => String::new(),
            Some(orgs) => format!(
                " AND c.department_id IN ({})",
                if orgs.is_empty() {
                    "NULL".to_string()
                } else {
                    orgs.iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                }
            ),
        };
        let (requests, _) = pair(
            conn,
            &format!(
                "SELECT '' AS k, COUNT(*) AS a, CAST(0 AS BIGINT) AS b FROM collaboration_requests c WHERE {}{dept}",
                s.between("c.received_on")
            ),
        )?;
        put("collaboration_requests_received", Figure::Count(requests));
        let (converted, _) = pair(
            conn,
            &format!(
                "SELECT '' AS k, COUNT(*) AS a, CAST(0 AS BIGINT) AS b FROM collaboration_requests c \
                 WHERE {} AND c.status = 'agreement_signed'{dept}",
                s.between("c.closed_on")
            ),
        )?;
        put("collaboration_requests_converted", Figure::Count(converted));
    }
    if want(&["documented_*"]) {
        // Documented effects.
        let effects = rows(
            conn,
            &format!(
                "SELECT '' AS k, {} AS a, {} AS b FROM impacts m WHERE {}{}",
                sum(&format!(
                    "CASE WHEN m.savings_currency = {} THEN m.savings_minor ELSE 0 END",
                    s.currency()
                )),
                sum("COALESCE(m.fte_centi, 0)"),
                s.between("m.recorded_on"),
                s.ideas("m.idea_id")
            ),
        )?;
        let (savings, fte) = effects.first().map_or((0, 0), |r| (r.a, r.b));
        let (impacts_n, _) = pair(
            conn,
            &format!(
                "SELECT '' AS k, COUNT(*) AS a, CAST(0 AS BIGINT) AS b FROM impacts m WHERE {}{}",
                s.between("m.recorded_on"),
                s.ideas("m.idea_id")
            ),
        )?;
        put(
            "documented_yearly_savings",
            Figure::Money {
                minor: savings,
                count: impacts_n,
            },
        );
        put(
            "documented_fte",
            Figure::Fte {
                centi: fte,
                count: impacts_n,
            },
        );
    }
    Ok(out)
}

/// One cell of the funnel report: ideas received of `kind` that now are at `stage`/`outcome`.
#[derive(Debug, Clone)]
pub struct FunnelCell {
    pub kind: String,
    pub stage: String,
    pub outcome: Option<String>,
    pub count: i64,
}

#[derive(QueryableByName)]
struct FunnelRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    stage: String,
    #[diesel(sql_type = Nullable<Text>)]
    outcome: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Ideas received in the scope's period, by kind and where they are now.
pub fn funnel(conn: &mut AnyConnection, s: &Scope) -> QueryResult<Vec<FunnelCell>> {
    let sql = format!(
        "SELECT i.kind AS kind, i.stage AS stage, i.outcome AS outcome, COUNT(*) AS n FROM ideas i \
         WHERE {}{} GROUP BY i.kind, i.stage, i.outcome",
        s.between("i.received_on"),
        s.ideas("i.id")
    );
    let out: Vec<FunnelRow> = match conn {
        AnyConnection::Sqlite(c) => diesel::sql_query(sql).load(c)?,
        AnyConnection::Postgresql(c) => diesel::sql_query(sql).load(c)?,
    };
    Ok(out
        .into_iter()
        .map(|r| FunnelCell {
            kind: r.kind,
            stage: r.stage,
            outcome: r.outcome,
            count: r.n,
        })
        .collect())
}

/// How many of the ideas received in the period ever reached each stage.
pub fn reached(conn: &mut AnyConnection, s: &Scope) -> QueryResult<BTreeMap<String, i64>> {
    let out = rows(
        conn,
        &format!(
            "SELECT e.to_stage AS k, COUNT(DISTINCT e.idea_id) AS a, CAST(0 AS BIGINT) AS b FROM idea_events e \
             JOIN ideas i ON i.id = e.idea_id WHERE {}{} AND e.to_stage IS NOT NULL GROUP BY e.to_stage",
            s.between("i.received_on"),
            s.ideas("i.id")
        ),
    )?;
    Ok(out.into_iter().map(|r| (r.k, r.a)).collect())
}

/// Income and patent costs per calendar year (minor units of `currency`), for charts.
pub fn money_by_year(
    conn: &mut AnyConnection,
    currency: &str,
    from_year: i32,
    to_year: i32,
) -> QueryResult<Vec<(i32, i64, i64)>> {
    let mut out = Vec::new();
    for year in from_year..=to_year {
        let (Some(from), Some(to)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        ) else {
            continue;
        };
        let s = Scope {
            from,
            to,
            organisations: None,
            currency: currency.to_string(),
        };
        let (income, _) = pair(
            conn,
            &format!(
                "SELECT '' AS k, {} AS a, CAST(0 AS BIGINT) AS b FROM income x WHERE {} AND x.currency = {}",
                sum("x.amount_minor"),
                s.between("x.received_on"),
                s.currency()
            ),
        )?;
        let (costs, _) = pair(
            conn,
            &format!(
                "SELECT '' AS k, {} AS a, CAST(0 AS BIGINT) AS b FROM patent_costs c WHERE {} AND c.currency = {}",
                sum("c.amount_minor"),
                s.between("c.incurred_on"),
                s.currency()
            ),
        )?;
        out.push((year, income, costs));
    }
    Ok(out)
}
