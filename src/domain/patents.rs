//! Patent filings and the deadline rules computed from them. Rules are data (stored in
//! `deadline_rules`, seeded with the default set in `default_rules`); this module only applies
//! them: no date is typed in by hand, none is stored — the docket is recomputed from the filings.

use chrono::{NaiveDate, TimeDelta};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dates::{add_months, end_of_month};

super::text_enum! {
    /// What a filing is.
    FilingKind {
        Priority = "priority",
        Provisional = "provisional",
        Pct = "pct",
        Regional = "regional",
        National = "national",
        NationalPhase = "national_phase",
        Validation = "validation",
        Divisional = "divisional",
        Continuation = "continuation",
    }
}

super::text_enum! {
    /// Where a filing stands.
    FilingStatus {
        Draft = "draft",
        Filed = "filed",
        Published = "published",
        Granted = "granted",
        Refused = "refused",
        Withdrawn = "withdrawn",
        Lapsed = "lapsed",
        Expired = "expired",
    }
}

impl FilingStatus {
    /// A filing that no longer lives has no deadlines.
    pub fn is_dead(self) -> bool {
        matches!(
            self,
            FilingStatus::Refused
                | FilingStatus::Withdrawn
                | FilingStatus::Lapsed
                | FilingStatus::Expired
        )
    }
}

super::text_enum! {
    /// The date a rule counts from.
    Trigger {
        EarliestPriority = "earliest_priority",
        Filing = "filing",
        Publication = "publication",
        Grant = "grant",
    }
}

super::text_enum! {
    /// Unit of a rule's offset.
    OffsetUnit {
        Days = "days",
        Months = "months",
        Years = "years",
    }
}

/// A deadline rule, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Rule {
    pub key: String,
    pub name: String,
    pub trigger: Trigger,
    pub offset: i32,
    pub unit: OffsetUnit,
    /// Move the due date to the last day of its month.
    pub end_of_month: bool,
    /// Filing kinds the rule applies to (empty: all).
    pub kinds: Vec<FilingKind>,
    /// Jurisdictions the rule applies to (empty: all).
    pub jurisdictions: Vec<String>,
    /// 0: once. n > 0: n yearly occurrences, the first at the offset.
    pub recur_years: u32,
    /// Number of the first occurrence in labels (renewal "year 3").
    pub first_year: u32,
    /// Met when a related filing (a child of this filing, or one claiming its date as priority)
    /// of one of these kinds exists and lives…
    pub satisfied_by_kinds: Vec<FilingKind>,
    /// …in one of these jurisdictions (empty: any).
    pub satisfied_by_jurisdictions: Vec<String>,
    /// Met when this filing has this date (publication, grant).
    pub satisfied_by_event: Option<Trigger>,
    /// No occurrences after the filing's grant date (e.g. EP renewal fees are paid to the EPO
    /// until grant).
    pub stops_at_grant: bool,
    /// Where the rule comes from.
    pub legal_source: String,
}

/// The facts of one filing that rules look at.
#[derive(Debug, Clone, PartialEq)]
pub struct Filing {
    pub id: i64,
    pub kind: FilingKind,
    pub jurisdiction: String,
    pub status: FilingStatus,
    pub parent_id: Option<i64>,
    pub filing_date: Option<NaiveDate>,
    pub priority_dates: Vec<NaiveDate>,
    pub publication_date: Option<NaiveDate>,
    pub grant_date: Option<NaiveDate>,
}

impl Filing {
    /// The earliest priority date claimed, or the filing date when none is claimed.
    pub fn earliest_priority(&self) -> Option<NaiveDate> {
        self.priority_dates
            .iter()
            .copied()
            .chain(self.filing_date)
            .min()
    }

    fn trigger_date(&self, t: Trigger) -> Option<NaiveDate> {
        match t {
            Trigger::EarliestPriority => self.earliest_priority(),
            Trigger::Filing => self.filing_date,
            Trigger::Publication => self.publication_date,
            Trigger::Grant => self.grant_date,
        }
    }

    /// Whether `other` descends from this filing: its parent, or it claims this filing's date.
    fn is_related(&self, other: &Filing) -> bool {
        other.id != self.id
            && (other.parent_id == Some(self.id)
                || self
                    .filing_date
                    .is_some_and(|d| other.priority_dates.contains(&d)))
    }
}

/// One computed deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct Deadline {
    pub filing_id: i64,
    pub rule_key: String,
    /// The rule's name, with the year for recurring rules.
    pub label: String,
    pub due_on: NaiveDate,
    /// Met by the filings themselves (a national phase entered, a publication recorded).
    pub satisfied: bool,
}

/// `date` moved by `amount` units (months and years clamp to the month's end).
pub fn shift(date: NaiveDate, amount: i32, unit: OffsetUnit) -> NaiveDate {
    match unit {
        OffsetUnit::Days => date + TimeDelta::days(i64::from(amount)),
        OffsetUnit::Months => shift_months(date, amount),
        OffsetUnit::Years => shift_months(date, amount.saturating_mul(12)),
    }
}

fn shift_months(date: NaiveDate, months: i32) -> NaiveDate {
    if months >= 0 {
        add_months(date, months as u32)
    } else {
        date.checked_sub_months(chrono::Months::new(months.unsigned_abs()))
            .unwrap_or(NaiveDate::MIN)
    }
}

fn applies(rule: &Rule, f: &Filing) -> bool {
    (rule.kinds.is_empty() || rule.kinds.contains(&f.kind))
        && (rule.jurisdictions.is_empty()
            || rule.jurisdictions.iter().any(|j| j == &f.jurisdiction))
}

fn satisfied(rule: &Rule, f: &Filing, family: &[Filing]) -> bool {
    if let Some(event) = rule.satisfied_by_event {
        if f.trigger_date(event).is_some() {
            return true;
        }
    }
    !rule.satisfied_by_kinds.is_empty()
        && family.iter().any(|o| {
            f.is_related(o)
                && !o.status.is_dead()
                && rule.satisfied_by_kinds.contains(&o.kind)
                && (rule.satisfied_by_jurisdictions.is_empty()
                    || rule
                        .satisfied_by_jurisdictions
                        .iter()
                        .any(|j| j == &o.jurisdiction))
        })
}

/// Every deadline of `f` due in `from..=to`, by the rules; dead filings have none.
pub fn deadlines(
    f: &Filing,
    family: &[Filing],
    rules: &[Rule],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<Deadline> {
    let mut out = Vec::new();
    if f.status.is_dead() {
        return out;
    }
    for rule in rules.iter().filter(|r| applies(r, f)) {
        let Some(start) = f.trigger_date(rule.trigger) else {
            continue;
        };
        let first = shift(start, rule.offset, rule.unit);
        let count = rule.recur_years.max(1);
        let met = satisfied(rule, f, family);
        for k in 0..count {
            let mut due = shift(first, (k as i32).saturating_mul(12), OffsetUnit::Months);
            if rule.end_of_month {
                due = end_of_month(due);
            }
            if rule.stops_at_grant && f.grant_date.is_some_and(|g| due > g) {
                break;
            }
            if due > to {
                break;
            }
            if due < from {
                continue;
            }
            let label = if rule.recur_years > 0 {
                format!("{} (year {})", rule.name, rule.first_year + k)
            } else {
                rule.name.clone()
            };
            out.push(Deadline {
                filing_id: f.id,
                rule_key: rule.key.clone(),
                label,
                due_on: due,
                satisfied: met,
            });
        }
    }
    out
}

fn rule(
    key: &str,
    name: &str,
    trigger: Trigger,
    offset: i32,
    unit: OffsetUnit,
    source: &str,
) -> Rule {
    Rule {
        key: key.into(),
        name: name.into(),
        trigger,
        offset,
        unit,
        end_of_month: false,
        kinds: Vec::new(),
        jurisdictions: Vec::new(),
        recur_years: 0,
        first_year: 1,
        satisfied_by_kinds: Vec::new(),
        satisfied_by_jurisdictions: Vec::new(),
        satisfied_by_event: None,
        stops_at_grant: false,
        legal_source: source.into(),
    }
}

/// The default rule set seeded into a new database (admins can change it).
pub fn default_rules() -> Vec<Rule> {
    use FilingKind::*;
    use OffsetUnit::*;
    let onward = vec![Pct, Regional, National, Continuation, Divisional];
    vec![
        Rule {
            kinds: vec![Priority, Provisional],
            satisfied_by_kinds: onward.clone(),
            ..rule(
                "priority_year",
                "Priority year: file PCT/foreign applications",
                Trigger::EarliestPriority,
                12,
                Months,
                "Paris Convention Art. 4C(1); PCT Art. 8 and Rule 2.4",
            )
        },
        Rule {
            kinds: vec![Priority, Provisional, Pct, Regional, National],
            satisfied_by_event: Some(Trigger::Publication),
            ..rule(
                "publication",
                "Publication of the application (expected)",
                Trigger::EarliestPriority,
                18,
                Months,
                "PCT Art. 21(2)(a); EPC Art. 93(1); Danish Patents Act § 22",
            )
        },
        Rule {
            kinds: vec![Pct],
            satisfied_by_kinds: vec![NationalPhase, Regional],
            ..rule(
                "national_phase_30",
                "PCT national phase entry (30 months)",
                Trigger::EarliestPriority,
                30,
                Months,
                "PCT Art. 22(1) and 39(1)(a)",
            )
        },
        Rule {
            kinds: vec![Pct],
            satisfied_by_kinds: vec![Regional, NationalPhase],
            satisfied_by_jurisdictions: vec!["EP".into()],
            ..rule(
                "ep_regional_phase_31",
                "PCT regional phase entry EP (31 months)",
                Trigger::EarliestPriority,
                31,
                Months,
                "EPC Rule 159(1); PCT Art. 22(3)",
            )
        },
        Rule {
            kinds: vec![Pct],
            satisfied_by_kinds: vec![NationalPhase, National],
            satisfied_by_jurisdictions: vec!["DK".into()],
            ..rule(
                "dk_national_phase_31",
                "PCT national phase entry DK (31 months)",
                Trigger::EarliestPriority,
                31,
                Months,
                "Danish Patents Act § 31; Patent Order (DK) on PCT entry; PCT Art. 22(3)",
            )
        },
        Rule {
            kinds: vec![Regional],
            jurisdictions: vec!["EP".into()],
            end_of_month: true,
            recur_years: 18,
            first_year: 3,
            stops_at_grant: true,
            ..rule(
                "ep_renewal",
                "EP renewal fee",
                Trigger::Filing,
                2,
                Years,
                "EPC Art. 86(1) and Rule 51(1): due on the last day of the month of the filing anniversary, from year 3",
            )
        },
        Rule {
            jurisdictions: vec!["DK".into()],
            kinds: vec![Priority, National, NationalPhase],
            end_of_month: true,
            recur_years: 18,
            first_year: 3,
            ..rule(
                "dk_annual_fee",
                "DK annual fee (years 1–2 fall due with year 3)",
                Trigger::Filing,
                2,
                Years,
                "Danish Patents Act § 40-41; Patent Order (DK) § 83: due at the end of the month of the anniversary",
            )
        },
        Rule {
            kinds: vec![Regional],
            jurisdictions: vec!["EP".into()],
            satisfied_by_kinds: vec![Validation],
            ..rule(
                "ep_validation",
                "EP validation in designated states",
                Trigger::Grant,
                3,
                Months,
                "EPC Art. 65; national validation laws (3 months from the mention of grant)",
            )
        },
        Rule {
            kinds: vec![Pct, Regional, National, NationalPhase, Validation, Divisional, Continuation, Priority],
            ..rule(
                "expiry",
                "Patent term ends (20 years from filing)",
                Trigger::Filing,
                20,
                Years,
                "TRIPS Art. 33; EPC Art. 63(1); Danish Patents Act § 40",
            )
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn filing(id: i64, kind: FilingKind, j: &str, filed: &str, priority: &[&str]) -> Filing {
        Filing {
            id,
            kind,
            jurisdiction: j.into(),
            status: FilingStatus::Filed,
            parent_id: None,
            filing_date: Some(d(filed)),
            priority_dates: priority.iter().map(|p| d(p)).collect(),
            publication_date: None,
            grant_date: None,
        }
    }

    fn due(ds: &[Deadline], key: &str) -> Vec<NaiveDate> {
        ds.iter()
            .filter(|x| x.rule_key == key)
            .map(|x| x.due_on)
            .collect()
    }

    const ALL_TIME: (&str, &str) = ("1900-01-01", "2100-12-31");

    #[test]
    fn stored_names_are_the_serde_names() {
        for k in FilingKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for s in FilingStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for t in Trigger::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        for u in OffsetUnit::ALL {
            assert_eq!(serde_json::to_value(u).unwrap(), u.as_str());
        }
    }

    #[test]
    fn priority_2024_03_15_gives_the_worked_dates() {
        let rules = default_rules();
        let prio = filing(1, FilingKind::Priority, "DK", "2024-03-15", &[]);
        let mut pct = filing(2, FilingKind::Pct, "WO", "2025-03-10", &["2024-03-15"]);
        pct.parent_id = Some(1);
        let family = vec![prio.clone(), pct.clone()];
        let (from, to) = (d(ALL_TIME.0), d(ALL_TIME.1));
        let p = deadlines(&prio, &family, &rules, from, to);
        assert_eq!(due(&p, "priority_year"), vec![d("2025-03-15")]);
        assert!(
            p.iter()
                .find(|x| x.rule_key == "priority_year")
                .unwrap()
                .satisfied,
            "the PCT was filed"
        );
        assert_eq!(due(&p, "publication"), vec![d("2025-09-15")]);
        let w = deadlines(&pct, &family, &rules, from, to);
        assert_eq!(due(&w, "national_phase_30"), vec![d("2026-09-15")]);
        assert_eq!(due(&w, "ep_regional_phase_31"), vec![d("2026-10-15")]);
        assert_eq!(due(&w, "dk_national_phase_31"), vec![d("2026-10-15")]);
    }

    #[test]
    fn ep_renewals_fall_at_the_end_of_the_anniversary_month_from_year_3() {
        let rules = default_rules();
        let ep = filing(1, FilingKind::Regional, "EP", "2016-11-15", &[]);
        let ds = deadlines(
            &ep,
            std::slice::from_ref(&ep),
            &rules,
            d(ALL_TIME.0),
            d(ALL_TIME.1),
        );
        let renewals = due(&ds, "ep_renewal");
        assert_eq!(renewals[0], d("2018-11-30"));
        assert_eq!(renewals[1], d("2019-11-30"));
        assert_eq!(renewals.len(), 18, "years 3 to 20");
        assert!(ds.iter().any(|x| x.label == "EP renewal fee (year 3)"));
        let mut granted = ep.clone();
        granted.grant_date = Some(d("2020-06-10"));
        let ds = deadlines(
            &granted,
            std::slice::from_ref(&granted),
            &rules,
            d(ALL_TIME.0),
            d(ALL_TIME.1),
        );
        assert_eq!(
            due(&ds, "ep_renewal"),
            vec![d("2018-11-30"), d("2019-11-30")],
            "paid to the EPO until grant"
        );
        assert_eq!(due(&ds, "ep_validation"), vec![d("2020-09-10")]);
    }

    #[test]
    fn month_ends_and_leap_years() {
        let rules = default_rules();
        let pct = filing(1, FilingKind::Pct, "WO", "2024-08-30", &["2023-08-31"]);
        let ds = deadlines(
            &pct,
            std::slice::from_ref(&pct),
            &rules,
            d(ALL_TIME.0),
            d(ALL_TIME.1),
        );
        assert_eq!(due(&ds, "national_phase_30"), vec![d("2026-02-28")]);
        assert_eq!(due(&ds, "ep_regional_phase_31"), vec![d("2026-03-31")]);
        let leap = filing(2, FilingKind::Pct, "WO", "2025-02-28", &["2024-02-29"]);
        let ds = deadlines(
            &leap,
            std::slice::from_ref(&leap),
            &rules,
            d(ALL_TIME.0),
            d(ALL_TIME.1),
        );
        assert_eq!(
            due(&ds, "priority_year"),
            Vec::<NaiveDate>::new(),
            "PCT is not a priority filing"
        );
        assert_eq!(due(&ds, "national_phase_30"), vec![d("2026-08-29")]);
        let dk = filing(3, FilingKind::Priority, "DK", "2024-02-29", &[]);
        let ds = deadlines(
            &dk,
            std::slice::from_ref(&dk),
            &rules,
            d(ALL_TIME.0),
            d(ALL_TIME.1),
        );
        assert_eq!(due(&ds, "dk_annual_fee")[0], d("2026-02-28"));
        assert_eq!(due(&ds, "priority_year"), vec![d("2025-02-28")]);
    }

    #[test]
    fn withdrawn_filings_lose_their_deadlines_and_a_national_phase_meets_its_deadline() {
        let rules = default_rules();
        let pct = filing(1, FilingKind::Pct, "WO", "2025-03-10", &["2024-03-15"]);
        let mut dead = pct.clone();
        dead.status = FilingStatus::Withdrawn;
        assert!(deadlines(&dead, &[], &rules, d(ALL_TIME.0), d(ALL_TIME.1)).is_empty());
        let mut us = filing(
            2,
            FilingKind::NationalPhase,
            "US",
            "2026-09-01",
            &["2024-03-15"],
        );
        us.parent_id = Some(1);
        let family = vec![pct.clone(), us.clone()];
        let ds = deadlines(&pct, &family, &rules, d(ALL_TIME.0), d(ALL_TIME.1));
        let met = |k: &str| ds.iter().find(|x| x.rule_key == k).unwrap().satisfied;
        assert!(met("national_phase_30"));
        assert!(
            !met("ep_regional_phase_31"),
            "a US entry does not meet the EP deadline"
        );
        us.status = FilingStatus::Withdrawn;
        let ds = deadlines(
            &pct,
            &[pct.clone(), us],
            &rules,
            d(ALL_TIME.0),
            d(ALL_TIME.1),
        );
        assert!(
            !ds.iter()
                .find(|x| x.rule_key == "national_phase_30")
                .unwrap()
                .satisfied
        );
    }

    #[test]
    fn the_window_limits_recurring_deadlines() {
        let rules = default_rules();
        let ep = filing(1, FilingKind::Regional, "EP", "2016-11-15", &[]);
        let ds = deadlines(&ep, &[], &rules, d("2026-01-01"), d("2026-12-31"));
        assert_eq!(due(&ds, "ep_renewal"), vec![d("2026-11-30")]);
    }
}
