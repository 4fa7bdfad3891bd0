//! Import of the unit's legacy register (CSV or JSON): every row is checked first, and either
//! all rows are written in one transaction or none is. Errors name the line and the column.
//!
//! Columns (CSV header, case-insensitive; JSON object keys): `title`, `kind`, `received_on`
//! (required); `description`, `need`, `innovation_type`, `inventors`, `owner_institution`,
//! `employer`, `patent_status`, `commercial_status`, `outcome`, `stage`, `tags`. See
//! docs/DOMAIN.md for the accepted values.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::db::ideas as repo;
use crate::db::{organisations, people, AnyConnection};
use crate::domain::dates::rights_deadline;
use crate::domain::funnel::{IdeaKind, InnovationType, Outcome, Stage};
use crate::domain::shares::{parse_percent, HUNDRED_PERCENT};
use crate::error::{ApiError, FieldError};

/// Most rows one import may hold.
pub const MAX_ROWS: usize = 100_000;

const COLUMNS: [&str; 14] = [
    "title",
    "kind",
    "received_on",
    "description",
    "need",
    "innovation_type",
    "inventors",
    "owner_institution",
    "employer",
    "patent_status",
    "commercial_status",
    "outcome",
    "stage",
    "tags",
];

/// One row as read: its line number and its non-empty cells by column.
#[derive(Debug, Clone, Default)]
pub struct RawRow {
    pub line: u64,
    pub cells: HashMap<String, String>,
}

/// A checked row, ready to be written.
#[derive(Debug, Clone)]
pub struct LegacyRow {
    pub line: u64,
    pub title: String,
    pub kind: IdeaKind,
    pub received_on: NaiveDate,
    pub description: Option<String>,
    pub need: Option<String>,
    pub innovation_type: InnovationType,
    /// (name, share units)
    pub inventors: Vec<(String, i64)>,
    pub owner_institution: Option<String>,
    pub employer: Option<String>,
    pub outcome: Option<Outcome>,
    pub stage: Stage,
    pub tags: Vec<String>,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct ImportSummary {
    pub dry_run: bool,
    pub rows: usize,
    pub ideas_created: usize,
    pub people_created: usize,
    pub organisations_created: usize,
    /// Ids of the ideas created, in file order (empty in a dry run).
    pub idea_ids: Vec<i64>,
}

/// Reads CSV (UTF-8, optional BOM, header row; `,` or `;` separated).
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<RawRow>, ApiError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter = if first_line.iter().filter(|b| **b == b';').count()
        > first_line.iter().filter(|b| **b == b',').count()
    {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(false)
        .from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| {
            ApiError::Validation(vec![FieldError::at_line(1, "header", "csv", e.to_string())])
        })?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    check_headers(&headers)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            ApiError::Validation(vec![FieldError::at_line(line, "row", "csv", e.to_string())])
        })?;
        let line = record
            .position()
            .map(|p| p.line())
            .unwrap_or(rows.len() as u64 + 2);
        let cells = headers
            .iter()
            .zip(record.iter())
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(h, v)| (h.clone(), v.trim().to_string()))
            .collect();
        rows.push(RawRow { line, cells });
        if rows.len() > MAX_ROWS {
            return Err(ApiError::field(
                "file",
                "too_many_rows",
                format!("at most {MAX_ROWS} rows per import"),
            ));
        }
    }
    Ok(rows)
}

/// Reads JSON: an array of objects (or `{"rows": [...]}`) whose values are strings, numbers or
/// null. Row `n` (from 1) is reported as line `n`.
pub fn parse_json(bytes: &[u8]) -> Result<Vec<RawRow>, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(mut map) => match map.remove("rows") {
            Some(serde_json::Value::Array(items)) => items,
            _ => {
                return Err(ApiError::field(
                    "rows",
                    "required",
                    "send an array of rows, or an object with \"rows\"",
                ))
            }
        },
        _ => return Err(ApiError::field("body", "type", "send an array of rows")),
    };
    if items.len() > MAX_ROWS {
        return Err(ApiError::field(
            "rows",
            "too_many_rows",
            format!("at most {MAX_ROWS} rows per import"),
        ));
    }
    let mut rows = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let line = i as u64 + 1;
        let serde_json::Value::Object(map) = item else {
            errors.push(FieldError::at_line(
                line,
                "row",
                "type",
                "each row must be an object",
            ));
            continue;
        };
        let mut cells = HashMap::new();
        for (k, v) in map {
            let key = k.trim().to_lowercase();
            if !COLUMNS.contains(&key.as_str()) {
                errors.push(FieldError::at_line(
                    line,
                    key,
                    "unknown_column",
                    format!("unknown column; use {}", COLUMNS.join(", ")),
                ));
                continue;
            }
            let text = match v {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Array(a) if ["inventors", "tags"].contains(&key.as_str()) => {
                    match a
                        .iter()
                        .map(|x| x.as_str().map(str::to_string))
                        .collect::<Option<Vec<_>>>()
                    {
                        Some(items) => items.join(";"),
                        None => {
                            errors.push(FieldError::at_line(
                                line,
                                key,
                                "type",
                                "must be a list of texts",
                            ));
                            continue;
                        }
                    }
                }
                _ => {
                    errors.push(FieldError::at_line(
                        line,
                        key,
                        "type",
                        "must be text or a number",
                    ));
                    continue;
                }
            };
            if !text.trim().is_empty() {
                cells.insert(key, text.trim().to_string());
            }
        }
        rows.push(RawRow { line, cells });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn check_headers(headers: &[String]) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    for h in headers {
        if !COLUMNS.contains(&h.as_str()) {
            errors.push(FieldError::at_line(
                1,
                h.clone(),
                "unknown_column",
                format!("unknown column; use {}", COLUMNS.join(", ")),
            ));
        }
    }
    for required in ["title", "kind", "received_on"] {
        if !headers.iter().any(|h| h == required) {
            errors.push(FieldError::at_line(
                1,
                required,
                "missing_column",
                "this column is required",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Dates as `YYYY-MM-DD`, or the Danish `DD-MM-YYYY` / `DD.MM.YYYY` / `DD/MM/YYYY`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d-%m-%Y"))
        .or_else(|_| NaiveDate::parse_from_str(text, "%d.%m.%Y"))
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .ok()
}

fn parse_kind(text: &str) -> Option<IdeaKind> {
    let t = text.trim().to_lowercase().replace([' ', '-', '/'], "_");
    IdeaKind::parse(&t).or(match t.as_str() {
        "idea" | "problem" | "idea_or_problem" | "ide" => Some(IdeaKind::IdeaProblem),
        "clinical" | "clinical_invention_" | "klinisk" | "klinisk_opfindelse" => {
            Some(IdeaKind::ClinicalInvention)
        }
        "research"
        | "research_based_invention"
        | "research_based"
        | "forskning"
        | "forskningsbaseret_opfindelse" => Some(IdeaKind::ResearchInvention),
        _ => None,
    })
}

fn parse_outcome(text: &str) -> Option<Outcome> {
    let t = text.trim().to_lowercase().replace([' ', '-', '/'], "_");
    Outcome::parse(&t).or(match t.as_str() {
        "rejected" | "closed_rejected" | "afvist" | "lukket" => Some(Outcome::Closed),
        "passed_on_internally" | "internal" => Some(Outcome::PassedOnInternal),
        "passed_on_externally" | "external" => Some(Outcome::PassedOnExternal),
        "licence" | "license" | "licensed" | "sale" | "sold" | "assignment" | "spin_out"
        | "spinout" => Some(Outcome::Commercialised),
        "returned" | "released" => Some(Outcome::RightsReturned),
        _ => None,
    })
}

/// `Name: 50; Other Name: 50`, or names alone (`Anna; Bo; Cai`) for equal shares; the first
/// inventors take the remainder of an uneven split so the shares sum to exactly 100.
pub fn parse_inventors(text: &str) -> Result<Vec<(String, i64)>, String> {
    let parts: Vec<&str> = text
        .split(['\n', ';', '|'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    let with_share: Vec<Option<(String, i64)>> = parts
        .iter()
        .map(|p| {
            let (name, share) = p.rsplit_once(':')?;
            let units = parse_percent(share.trim().trim_end_matches('%'))?;
            Some((name.trim().to_string(), units))
        })
        .collect();
    let out: Vec<(String, i64)> = if with_share.iter().all(Option::is_some) {
        with_share.into_iter().flatten().collect()
    } else if with_share.iter().all(Option::is_none) {
        let n = parts.len() as i64;
        let base = HUNDRED_PERCENT / n;
        let mut rest = HUNDRED_PERCENT - base * n;
        parts
            .iter()
            .map(|name| {
                let extra = if rest > 0 { 1 } else { 0 };
                rest -= extra;
                (name.to_string(), base + extra)
            })
            .collect()
    } else {
        return Err("give every inventor a share (Name: 50) or none of them".into());
    };
    if out
        .iter()
        .any(|(name, _)| name.is_empty() || name.chars().count() > 200)
    {
        return Err("each inventor needs a name of 1 to 200 characters".into());
    }
    let sum: i64 = out.iter().map(|(_, u)| u).sum();
    if sum != HUNDRED_PERCENT {
        return Err(format!(
            "shares sum to {}, not 100",
            crate::domain::shares::format_percent(sum)
        ));
    }
    Ok(out)
}

/// Checks every row; all errors are returned together, each with its line and column.
pub fn check_rows(raw: Vec<RawRow>, today: NaiveDate) -> Result<Vec<LegacyRow>, ApiError> {
    let mut errors = Vec::new();
    let mut rows = Vec::with_capacity(raw.len());
    if raw.is_empty() {
        return Err(ApiError::field("file", "empty", "the file holds no rows"));
    }
    for r in raw {
        let line = r.line;
        let mut err = |col: &str, code: &str, msg: String| {
            errors.push(FieldError::at_line(line, col, code, msg))
        };
        let get = |k: &str| r.cells.get(k).cloned();
        for (k, v) in &r.cells {
            if v.contains('\0') {
                err(k, "nul_character", "must not contain NUL characters".into());
            }
        }
        let title = get("title").unwrap_or_default();
        if title.is_empty() || title.chars().count() > 300 {
            err("title", "length", "must be 1 to 300 characters".into());
        }
        let kind = match get("kind") {
            Some(k) => parse_kind(&k).or_else(|| {
                err(
                    "kind",
                    "invalid",
                    format!("'{k}' is not idea_problem, clinical_invention or research_invention"),
                );
                None
            }),
            None => {
                err("kind", "required", "is required".into());
                None
            }
        };
        let received_on = match get("received_on") {
            Some(d) => match parse_date(&d) {
                Some(date) if date <= today && chrono::Datelike::year(&date) >= 1900 => Some(date),
                Some(_) => {
                    err(
                        "received_on",
                        "range",
                        "must be between 1900-01-01 and today".into(),
                    );
                    None
                }
                None => {
                    err(
                        "received_on",
                        "date",
                        format!("'{d}' is not a date (YYYY-MM-DD or DD-MM-YYYY)"),
                    );
                    None
                }
            },
            None => {
                err("received_on", "required", "is required".into());
                None
            }
        };
        let innovation_type = match get("innovation_type") {
            Some(t) => InnovationType::parse(&t.to_lowercase()).unwrap_or_else(|| {
                err(
                    "innovation_type",
                    "invalid",
                    format!("'{t}' is not product or service"),
                );
                InnovationType::Product
            }),
            None => InnovationType::Product,
        };
        let inventors = match get("inventors") {
            Some(t) => parse_inventors(&t).unwrap_or_else(|m| {
                err("inventors", "invalid", m);
                Vec::new()
            }),
            None => Vec::new(),
        };
        let outcome = match get("outcome") {
            Some(o) if ["active", "open", "aktiv"].contains(&o.to_lowercase().as_str()) => None,
            Some(o) => parse_outcome(&o).or_else(|| {
                err(
                    "outcome",
                    "invalid",
                    format!(
                        "'{o}' is not an outcome ({})",
                        Outcome::ALL.map(|o| o.as_str()).join(", ")
                    ),
                );
                None
            }),
            None => None,
        };
        let stage = match get("stage") {
            Some(s) => {
                Stage::parse(&s.to_lowercase().replace([' ', '-'], "_")).unwrap_or_else(|| {
                    err("stage", "invalid", format!("'{s}' is not a stage"));
                    Stage::PreScreening
                })
            }
            None if outcome == Some(Outcome::Commercialised) => Stage::Commercialisation,
            None => Stage::PreScreening,
        };
        for col in ["description", "need"] {
            if get(col).is_some_and(|v| v.chars().count() > 20000) {
                err(col, "length", "must be at most 20000 characters".into());
            }
        }
        for col in [
            "owner_institution",
            "employer",
            "patent_status",
            "commercial_status",
        ] {
            if get(col).is_some_and(|v| v.chars().count() > 200) {
                err(col, "length", "must be at most 200 characters".into());
            }
        }
        let mut tags: Vec<String> = get("tags")
            .map(|t| {
                t.split([';', '|'])
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(p) = get("patent_status") {
            tags.push(format!("legacy patent: {p}"));
        }
        if let Some(c) = get("commercial_status") {
            tags.push(format!("legacy commercial: {c}"));
        }
        if tags.iter().any(|t| t.chars().count() > 50) || tags.len() > 20 {
            err(
                "tags",
                "length",
                "at most 20 tags of at most 50 characters (legacy statuses included)".into(),
            );
        }
        if let (Some(kind), Some(received_on)) = (kind, received_on) {
            rows.push(LegacyRow {
                line,
                title,
                kind,
                received_on,
                description: get("description"),
                need: get("need"),
                innovation_type,
                inventors,
                owner_institution: get("owner_institution"),
                employer: get("employer"),
                outcome,
                stage,
                tags,
            });
        }
        if errors.len() > 1000 {
            break;
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(ApiError::Validation(errors))
    }
}

struct Names {
    by_name: HashMap<String, i64>,
    created: usize,
}

impl Names {
    fn key(name: &str) -> String {
        name.trim().to_lowercase()
    }
}

/// Writes checked rows (in the caller's transaction). People and organisations are matched by
/// name (case-insensitive) and created when missing.
pub fn write_rows(
    conn: &mut AnyConnection,
    caller: &Caller,
    rows: &[LegacyRow],
    dry_run: bool,
) -> Result<ImportSummary, ApiError> {
    let mut persons = Names {
        by_name: HashMap::new(),
        created: 0,
    };
    for (id, name) in people::all_names(conn)? {
        persons.by_name.entry(Names::key(&name)).or_insert(id);
    }
    let mut orgs = Names {
        by_name: HashMap::new(),
        created: 0,
    };
    for (id, name) in organisations::all_names(conn)? {
        orgs.by_name.entry(Names::key(&name)).or_insert(id);
    }
    let mut ids = Vec::with_capacity(rows.len());
    let (mut tags, mut new_inventors, mut owners, mut events) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let now = crate::db::now();
    for row in rows {
        let mut org_id =
            |conn: &mut AnyConnection, name: &str, kind: &str| -> Result<i64, ApiError> {
                if let Some(id) = orgs.by_name.get(&Names::key(name)) {
                    return Ok(*id);
                }
                orgs.created += 1;
                let id = if dry_run {
                    -(orgs.created as i64)
                } else {
                    organisations::insert(
                        conn,
                        &organisations::OrganisationData {
                            name: name.trim().to_string(),
                            kind: kind.to_string(),
                            parent_id: None,
                            country: None,
                            notes: Some("created by the legacy import".into()),
                        },
                        now,
                    )?
                    .id
                };
                orgs.by_name.insert(Names::key(name), id);
                Ok(id)
            };
        let employer = match &row.employer {
            Some(e) => Some(org_id(conn, e, "department")?),
            None => None,
        };
        let owner = match &row.owner_institution {
            Some(o) => Some(org_id(conn, o, "other")?),
            None => None,
        };
        let mut inventors = Vec::with_capacity(row.inventors.len());
        for (name, share) in &row.inventors {
            let id = match persons.by_name.get(&Names::key(name)) {
                Some(id) => *id,
                None => {
                    persons.created += 1;
                    let id = if dry_run {
                        -(persons.created as i64)
                    } else {
                        people::insert(
                            conn,
                            &people::PersonData {
                                name: name.trim().to_string(),
                                email: None,
                                phone: None,
                                profession: None,
                                organisation_id: employer,
                            },
                            now,
                        )?
                        .id
                    };
                    persons.by_name.insert(Names::key(name), id);
                    id
                }
            };
            if inventors.iter().any(|(p, _)| *p == id) {
                return Err(ApiError::Validation(vec![FieldError::at_line(
                    row.line,
                    "inventors",
                    "duplicate",
                    format!("{name} appears more than once"),
                )]));
            }
            inventors.push((id, *share));
        }
        if dry_run {
            continue;
        }
        let data = repo::IdeaData {
            title: row.title.clone(),
            description: row.description.clone(),
            need: row.need.clone(),
            kind: row.kind.as_str().to_string(),
            innovation_type: row.innovation_type.as_str().to_string(),
            received_on: row.received_on,
            source_organisation_id: employer,
            project_manager_id: None,
            confidential: false,
            stage: row.stage.as_str().to_string(),
            outcome: row.outcome.map(|o| o.as_str().to_string()),
            recipient_organisation_id: None,
            rights_decision: None,
            rights_decided_on: None,
            rights_deadline: row
                .kind
                .is_invention()
                .then(|| rights_deadline(row.received_on)),
            expected_results: None,
            expected_savings_minor: None,
            expected_savings_currency: None,
            expected_fte_centi: None,
        };
        let id = repo::insert(conn, &data, now)?.id;
        let mut seen_tags = std::collections::HashSet::new();
        for tag in &row.tags {
            if seen_tags.insert(tag.clone()) {
                tags.push(repo::NewTag {
                    idea_id: id,
                    tag: tag.clone(),
                });
            }
        }
        for (pos, (person_id, share_units)) in inventors.iter().enumerate() {
            new_inventors.push(repo::NewInventor {
                idea_id: id,
                person_id: *person_id,
                share_units: *share_units,
                position: pos as i32,
            });
        }
        if let Some(owner) = owner {
            owners.push(repo::NewOwner {
                idea_id: id,
                organisation_id: owner,
                share_units: HUNDRED_PERCENT,
                agreement_ref: None,
                position: 0,
            });
        }
        events.push(repo::NewEvent {
            idea_id: id,
            at: now,
            occurred_on: row.received_on,
            actor: caller.name.clone(),
            event: "imported".into(),
            to_stage: Some(row.stage.as_str().into()),
            to_outcome: row.outcome.map(|o| o.as_str().into()),
            comment: Some(format!("legacy register, line {}", row.line)),
            ..Default::default()
        });
        ids.push(id);
    }
    repo::insert_tags(conn, &tags)?;
    repo::insert_inventors(conn, &new_inventors)?;
    repo::insert_owners(conn, &owners)?;
    repo::insert_events(conn, &events)?;
    Ok(ImportSummary {
        dry_run,
        rows: rows.len(),
        ideas_created: ids.len(),
        people_created: persons.created,
        organisations_created: orgs.created,
        idea_ids: ids,
    })
}

/// Parses, checks and (unless `dry_run`) writes a file in one transaction, with one audit record.
pub fn import(
    db: &crate::db::Db,
    caller: &Caller,
    bytes: &[u8],
    json: bool,
    dry_run: bool,
) -> Result<ImportSummary, ApiError> {
    let raw = if json {
        parse_json(bytes)?
    } else {
        parse_csv(bytes)?
    };
    let rows = check_rows(raw, chrono::Utc::now().date_naive())?;
    db.write_blocking(|conn| {
        let summary = write_rows(conn, caller, &rows, dry_run)?;
        if !dry_run {
            for id in &summary.idea_ids {
                crate::api::events::emit(
                    caller,
                    "idea.created",
                    "idea",
                    *id,
                    serde_json::json!({ "source": "import" }),
                );
            }
            crate::api::audit(
                conn,
                caller,
                "import",
                "idea_import",
                summary.idea_ids.first().copied().unwrap_or(0),
                None::<&()>,
                Some(&summary),
            )?;
        }
        Ok(summary)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inventors_with_and_without_shares() {
        assert_eq!(
            parse_inventors("Anna: 60; Bo: 40").unwrap(),
            vec![("Anna".into(), 600_000), ("Bo".into(), 400_000)]
        );
        let equal = parse_inventors("Anna; Bo; Cai").unwrap();
        assert_eq!(equal.iter().map(|(_, u)| u).sum::<i64>(), HUNDRED_PERCENT);
        assert_eq!(equal[0].1, 333_334);
        assert!(parse_inventors("Anna: 60; Bo: 30").is_err());
        assert!(parse_inventors("Anna: 60; Bo").is_err());
    }

    #[test]
    fn legacy_words_and_danish_dates() {
        assert_eq!(parse_kind("Research"), Some(IdeaKind::ResearchInvention));
        assert_eq!(parse_outcome("licence"), Some(Outcome::Commercialised));
        assert_eq!(
            parse_date("31-12-2019"),
            NaiveDate::from_ymd_opt(2019, 12, 31)
        );
        assert_eq!(
            parse_date("2019-12-31"),
            NaiveDate::from_ymd_opt(2019, 12, 31)
        );
        assert_eq!(parse_date("2019-13-01"), None);
    }

    #[test]
    fn every_bad_row_is_reported_by_line_and_column() {
        let csv = b"title,kind,received_on\nGood,idea_problem,2020-01-01\n,idea_problem,2020-01-01\nBad date,clinical_invention,2020-02-30\n";
        let raw = parse_csv(csv).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        match check_rows(raw, today) {
            Err(ApiError::Validation(errors)) => {
                let at: Vec<(Option<u64>, &str)> =
                    errors.iter().map(|e| (e.line, e.field.as_str())).collect();
                assert_eq!(at, vec![(Some(3), "title"), (Some(4), "received_on")]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
