//! Queries on agreements, income, distribution policies, distributions and payout lines.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{
    agreement_families, agreement_ideas, agreements, distribution_policies, distributions, income,
    obligations, payout_lines, people, royalty_statements,
};
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = agreements)]
pub struct AgreementRow {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub counterparty_id: i64,
    pub status: String,
    pub signed_on: Option<NaiveDate>,
    pub effective_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub territory: Option<String>,
    pub field_of_use: Option<String>,
    pub terms: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = agreements, treat_none_as_null = true)]
pub struct AgreementData {
    pub kind: String,
    pub title: String,
    pub counterparty_id: i64,
    pub status: String,
    pub signed_on: Option<NaiveDate>,
    pub effective_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub territory: Option<String>,
    pub field_of_use: Option<String>,
    pub terms: String,
}

impl From<&AgreementRow> for AgreementData {
    fn from(r: &AgreementRow) -> Self {
        AgreementData {
            kind: r.kind.clone(),
            title: r.title.clone(),
            counterparty_id: r.counterparty_id,
            status: r.status.clone(),
            signed_on: r.signed_on,
            effective_on: r.effective_on,
            expires_on: r.expires_on,
            ended_on: r.ended_on,
            end_reason: r.end_reason.clone(),
            territory: r.territory.clone(),
            field_of_use: r.field_of_use.clone(),
            terms: r.terms.clone(),
        }
    }
}

pub fn insert_agreement(
    conn: &mut AnyConnection,
    d: &AgreementData,
    at: NaiveDateTime,
) -> QueryResult<AgreementRow> {
    diesel::insert_into(agreements::table)
        .values((
            d,
            agreements::version.eq(1),
            agreements::created_at.eq(at),
            agreements::updated_at.eq(at),
        ))
        .returning(agreements::all_columns)
        .get_result(conn)
}

pub fn find_agreement(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<AgreementRow>> {
    agreements::table
        .find(id)
        .select(AgreementRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn update_agreement(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    d: &AgreementData,
    at: NaiveDateTime,
) -> QueryResult<Option<AgreementRow>> {
    diesel::update(
        agreements::table
            .filter(agreements::id.eq(id))
            .filter(agreements::version.eq(version)),
    )
    .set((
        d,
        agreements::version.eq(version + 1),
        agreements::updated_at.eq(at),
    ))
    .returning(agreements::all_columns)
    .get_result(conn)
    .optional()
}

pub fn list_agreements(
    conn: &mut AnyConnection,
    status: Option<String>,
    idea: Option<i64>,
) -> QueryResult<Vec<AgreementRow>> {
    let mut q = agreements::table.into_boxed();
    if let Some(s) = status {
        q = q.filter(agreements::status.eq(s));
    }
    if let Some(i) = idea {
        q = q.filter(
            agreements::id.eq_any(
                agreement_ideas::table
                    .filter(agreement_ideas::idea_id.eq(i))
                    .select(agreement_ideas::agreement_id),
            ),
        );
    }
    q.order(agreements::id)
        .select(AgreementRow::as_select())
        .load(conn)
}

pub fn set_ideas(conn: &mut AnyConnection, agreement: i64, ideas: &[i64]) -> QueryResult<()> {
    diesel::delete(agreement_ideas::table.filter(agreement_ideas::agreement_id.eq(agreement)))
        .execute(conn)?;
    for i in ideas {
        diesel::insert_into(agreement_ideas::table)
            .values((
                agreement_ideas::agreement_id.eq(agreement),
                agreement_ideas::idea_id.eq(i),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn ideas_of(conn: &mut AnyConnection, agreement: i64) -> QueryResult<Vec<i64>> {
    agreement_ideas::table
        .filter(agreement_ideas::agreement_id.eq(agreement))
        .order(agreement_ideas::idea_id)
        .select(agreement_ideas::idea_id)
        .load(conn)
}

/// Active agreements covering an idea, other than `except`.
pub fn active_agreements_on(conn: &mut AnyConnection, idea: i64, except: i64) -> QueryResult<i64> {
    agreements::table
        .inner_join(agreement_ideas::table)
        .filter(agreement_ideas::idea_id.eq(idea))
        .filter(agreements::status.eq("active"))
        .filter(agreements::id.ne(except))
        .count()
        .get_result(conn)
}

// ---- income ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = income)]
pub struct IncomeRow {
    pub id: i64,
    pub agreement_id: Option<i64>,
    pub idea_id: i64,
    pub kind: String,
    pub received_on: NaiveDate,
    pub amount_minor: i64,
    pub currency: String,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = income)]
pub struct NewIncome {
    pub agreement_id: Option<i64>,
    pub idea_id: i64,
    pub kind: String,
    pub received_on: NaiveDate,
    pub amount_minor: i64,
    pub currency: String,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn insert_income(conn: &mut AnyConnection, i: &NewIncome) -> QueryResult<IncomeRow> {
    diesel::insert_into(income::table)
        .values(i)
        .returning(income::all_columns)
        .get_result(conn)
}

pub fn find_income(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<IncomeRow>> {
    income::table
        .find(id)
        .select(IncomeRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn list_income(
    conn: &mut AnyConnection,
    idea: Option<i64>,
    agreement: Option<i64>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> QueryResult<Vec<IncomeRow>> {
    let mut q = income::table.into_boxed();
    if let Some(i) = idea {
        q = q.filter(income::idea_id.eq(i));
    }
    if let Some(a) = agreement {
        q = q.filter(income::agreement_id.eq(a));
    }
    if let Some(d) = from {
        q = q.filter(income::received_on.ge(d));
    }
    if let Some(d) = to {
        q = q.filter(income::received_on.le(d));
    }
    q.order((income::received_on, income::id))
        .select(IncomeRow::as_select())
        .load(conn)
}

// ---- policies ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = distribution_policies)]
pub struct PolicyRow {
    pub id: i64,
    pub name: String,
    pub basis: String,
    pub inventors_weight: i64,
    pub department_weight: i64,
    pub institution_weight: i64,
    pub institution_id: Option<i64>,
    pub is_default: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = distribution_policies)]
pub struct NewPolicy {
    pub name: String,
    pub basis: String,
    pub inventors_weight: i64,
    pub department_weight: i64,
    pub institution_weight: i64,
    pub institution_id: Option<i64>,
    pub is_default: bool,
    pub created_at: NaiveDateTime,
}

pub fn insert_policy(conn: &mut AnyConnection, p: &NewPolicy) -> QueryResult<PolicyRow> {
    if p.is_default {
        diesel::update(distribution_policies::table)
            .set(distribution_policies::is_default.eq(false))
            .execute(conn)?;
    }
    diesel::insert_into(distribution_policies::table)
        .values(p)
        .returning(distribution_policies::all_columns)
        .get_result(conn)
}

pub fn policies(conn: &mut AnyConnection) -> QueryResult<Vec<PolicyRow>> {
    distribution_policies::table
        .order(distribution_policies::id)
        .select(PolicyRow::as_select())
        .load(conn)
}

pub fn find_policy(conn: &mut AnyConnection, id: Option<i64>) -> QueryResult<Option<PolicyRow>> {
    match id {
        Some(id) => distribution_policies::table
            .find(id)
            .select(PolicyRow::as_select())
            .get_result(conn)
            .optional(),
        None => distribution_policies::table
            .filter(distribution_policies::is_default.eq(true))
            .order(distribution_policies::id.desc())
            .select(PolicyRow::as_select())
            .first(conn)
            .optional(),
    }
}

/// The default policy (one third each, of gross income) when a database has none.
pub fn seed_policy(conn: &mut AnyConnection, at: NaiveDateTime) -> QueryResult<()> {
    let n: i64 = distribution_policies::table.count().get_result(conn)?;
    if n == 0 {
        insert_policy(
            conn,
            &NewPolicy {
                name: "One third each to inventors, department and institution (gross)".into(),
                basis: "gross".into(),
                inventors_weight: 1,
                department_weight: 1,
                institution_weight: 1,
                institution_id: None,
                is_default: true,
                created_at: at,
            },
        )?;
    }
    Ok(())
}

// ---- distributions ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = distributions)]
pub struct DistributionRow {
    pub id: i64,
    pub income_id: i64,
    pub live_income_id: Option<i64>,
    pub policy_id: i64,
    pub reverses_id: Option<i64>,
    pub gross_minor: i64,
    pub costs_deducted_minor: i64,
    pub distributable_minor: i64,
    pub currency: String,
    pub actor: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = distributions)]
pub struct NewDistribution {
    pub income_id: i64,
    pub live_income_id: Option<i64>,
    pub policy_id: i64,
    pub reverses_id: Option<i64>,
    pub gross_minor: i64,
    pub costs_deducted_minor: i64,
    pub distributable_minor: i64,
    pub currency: String,
    pub actor: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_distribution(
    conn: &mut AnyConnection,
    d: &NewDistribution,
) -> QueryResult<DistributionRow> {
    diesel::insert_into(distributions::table)
        .values(d)
        .returning(distributions::all_columns)
        .get_result(conn)
}

pub fn find_distribution(
    conn: &mut AnyConnection,
    id: i64,
) -> QueryResult<Option<DistributionRow>> {
    distributions::table
        .find(id)
        .select(DistributionRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn live_distribution(
    conn: &mut AnyConnection,
    income_id: i64,
) -> QueryResult<Option<DistributionRow>> {
    distributions::table
        .filter(distributions::live_income_id.eq(income_id))
        .select(DistributionRow::as_select())
        .get_result(conn)
        .optional()
}

/// Marks a distribution as reversed (its payout lines stay as they are).
pub fn retire(conn: &mut AnyConnection, id: i64) -> QueryResult<usize> {
    diesel::update(distributions::table.find(id))
        .set(distributions::live_income_id.eq(None::<i64>))
        .execute(conn)
}

/// Costs already deducted by live distributions of an idea's income, in a currency.
pub fn costs_deducted(conn: &mut AnyConnection, idea: i64, currency: &str) -> QueryResult<i64> {
    let rows: Vec<i64> = distributions::table
        .inner_join(income::table)
        .filter(income::idea_id.eq(idea))
        .filter(distributions::live_income_id.is_not_null())
        .filter(distributions::currency.eq(currency))
        .select(distributions::costs_deducted_minor)
        .load(conn)?;
    Ok(rows.iter().sum())
}

pub fn list_distributions(
    conn: &mut AnyConnection,
    income_id: Option<i64>,
) -> QueryResult<Vec<DistributionRow>> {
    let mut q = distributions::table.into_boxed();
    if let Some(i) = income_id {
        q = q.filter(distributions::income_id.eq(i));
    }
    q.order(distributions::id)
        .select(DistributionRow::as_select())
        .load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = payout_lines)]
pub struct LineRow {
    pub id: i64,
    pub distribution_id: i64,
    pub recipient_kind: String,
    pub person_id: Option<i64>,
    pub organisation_id: Option<i64>,
    pub amount_minor: i64,
    pub currency: String,
    pub basis: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = payout_lines)]
pub struct NewLine {
    pub distribution_id: i64,
    pub recipient_kind: String,
    pub person_id: Option<i64>,
    pub organisation_id: Option<i64>,
    pub amount_minor: i64,
    pub currency: String,
    pub basis: String,
}

pub fn insert_lines(conn: &mut AnyConnection, lines: &[NewLine]) -> QueryResult<()> {
    for l in lines {
        diesel::insert_into(payout_lines::table)
            .values(l)
            .execute(conn)?;
    }
    Ok(())
}

pub fn lines_of(conn: &mut AnyConnection, distribution: i64) -> QueryResult<Vec<LineRow>> {
    payout_lines::table
        .filter(payout_lines::distribution_id.eq(distribution))
        .order(payout_lines::id)
        .select(LineRow::as_select())
        .load(conn)
}

/// Every payout line with its distribution's date, for reports.
pub fn all_lines(
    conn: &mut AnyConnection,
) -> QueryResult<Vec<(LineRow, NaiveDateTime, Option<String>)>> {
    payout_lines::table
        .inner_join(distributions::table)
        .left_join(people::table)
        .order(payout_lines::id)
        .select((
            LineRow::as_select(),
            distributions::created_at,
            people::name.nullable(),
        ))
        .load(conn)
}

// ---- royalty statements ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = royalty_statements)]
pub struct StatementRow {
    pub id: i64,
    pub agreement_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub currency: String,
    pub net_sales_minor: i64,
    pub royalty_minor: i64,
    pub true_up_minor: i64,
    pub due_minor: i64,
    pub invoiced_minor: Option<i64>,
    pub received_minor: i64,
    pub last_received_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = royalty_statements)]
pub struct NewStatement {
    pub agreement_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub currency: String,
    pub net_sales_minor: i64,
    pub royalty_minor: i64,
    pub true_up_minor: i64,
    pub due_minor: i64,
    pub invoiced_minor: Option<i64>,
    pub received_minor: i64,
    pub created_at: NaiveDateTime,
}

pub fn insert_statement(conn: &mut AnyConnection, s: &NewStatement) -> QueryResult<StatementRow> {
    diesel::insert_into(royalty_statements::table)
        .values(s)
        .returning(royalty_statements::all_columns)
        .get_result(conn)
}

pub fn statements_of(conn: &mut AnyConnection, agreement: i64) -> QueryResult<Vec<StatementRow>> {
    royalty_statements::table
        .filter(royalty_statements::agreement_id.eq(agreement))
        .order(royalty_statements::period_start)
        .select(StatementRow::as_select())
        .load(conn)
}

pub fn find_statement(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<StatementRow>> {
    royalty_statements::table
        .find(id)
        .select(StatementRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn add_payment(
    conn: &mut AnyConnection,
    id: i64,
    amount: i64,
    on: NaiveDate,
) -> QueryResult<usize> {
    diesel::update(royalty_statements::table.find(id))
        .set((
            royalty_statements::received_minor.eq(royalty_statements::received_minor + amount),
            royalty_statements::last_received_on.eq(Some(on)),
        ))
        .execute(conn)
}

// ---- obligations ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = obligations)]
pub struct ObligationRow {
    pub id: i64,
    pub agreement_id: i64,
    pub description: String,
    pub due_on: NaiveDate,
    pub met_on: Option<NaiveDate>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert_obligation(
    conn: &mut AnyConnection,
    agreement: i64,
    description: &str,
    due_on: NaiveDate,
    met_on: Option<NaiveDate>,
    at: NaiveDateTime,
) -> QueryResult<ObligationRow> {
    diesel::insert_into(obligations::table)
        .values((
            obligations::agreement_id.eq(agreement),
            obligations::description.eq(description),
            obligations::due_on.eq(due_on),
            obligations::met_on.eq(met_on),
            obligations::version.eq(1),
            obligations::created_at.eq(at),
            obligations::updated_at.eq(at),
        ))
        .returning(obligations::all_columns)
        .get_result(conn)
}

pub fn find_obligation(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<ObligationRow>> {
    obligations::table
        .find(id)
        .select(ObligationRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn set_obligation_met(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    met_on: Option<NaiveDate>,
    at: NaiveDateTime,
) -> QueryResult<Option<ObligationRow>> {
    diesel::update(
        obligations::table
            .filter(obligations::id.eq(id))
            .filter(obligations::version.eq(version)),
    )
    .set((
        obligations::met_on.eq(met_on),
        obligations::version.eq(version + 1),
        obligations::updated_at.eq(at),
    ))
    .returning(obligations::all_columns)
    .get_result(conn)
    .optional()
}

/// Obligations of one agreement, or all (optionally only those not met), by due date.
pub fn obligations_list(
    conn: &mut AnyConnection,
    agreement: Option<i64>,
    open_only: bool,
) -> QueryResult<Vec<ObligationRow>> {
    let mut q = obligations::table.into_boxed();
    if let Some(a) = agreement {
        q = q.filter(obligations::agreement_id.eq(a));
    }
    if open_only {
        q = q.filter(obligations::met_on.is_null());
    }
    q.order((obligations::due_on, obligations::id))
        .select(ObligationRow::as_select())
        .load(conn)
}

pub fn set_families(conn: &mut AnyConnection, agreement: i64, families: &[i64]) -> QueryResult<()> {
    diesel::delete(
        agreement_families::table.filter(agreement_families::agreement_id.eq(agreement)),
    )
    .execute(conn)?;
    for f in families {
        diesel::insert_into(agreement_families::table)
            .values((
                agreement_families::agreement_id.eq(agreement),
                agreement_families::family_id.eq(f),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn families_of(conn: &mut AnyConnection, agreement: i64) -> QueryResult<Vec<i64>> {
    agreement_families::table
        .filter(agreement_families::agreement_id.eq(agreement))
        .order(agreement_families::family_id)
        .select(agreement_families::family_id)
        .load(conn)
}
