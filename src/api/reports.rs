//! `/api/v1/reports/annual`: the report management opens — a printable HTML page with SVG
//! charts (plotters) and no external scripts or fonts, an XLSX workbook with one sheet per
//! section (rust_xlsxwriter), or CSV.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use plotters::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::contracts::{scorecard_of, Scorecard, TargetStatus};
use super::kpis::{funnel_of, values, FunnelReport, KpiUnit, KpiValue, POSITIONS};
use super::AppState;
use crate::auth::Caller;
use crate::db::kpis::{money_by_year, reached, Scope, STAGES};
use crate::db::AnyConnection;
use crate::error::ApiError;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(annual_report);
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Html,
    Xlsx,
    Csv,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnnualQuery {
    /// The calendar year reported on.
    #[param(minimum = 1900, maximum = 2999)]
    pub year: i32,
    /// `html` (default), `xlsx` or `csv`.
    #[param(inline)]
    pub format: Option<ReportFormat>,
}

/// Everything the annual report shows.
struct Annual {
    year: i32,
    kpis: Vec<KpiValue>,
    previous: Vec<KpiValue>,
    funnel: FunnelReport,
    reached: Vec<(String, i64)>,
    money: Vec<(i32, i64, i64)>,
    scorecard: Option<Scorecard>,
}

fn load(conn: &mut AnyConnection, year: i32) -> Result<Annual, ApiError> {
    let day = |y: i32, m: u32, d: u32| {
        NaiveDate::from_ymd_opt(y, m, d)
            .ok_or_else(|| ApiError::field("year", "range", "is not a year we can report on"))
    };
    let scope = |y: i32| -> Result<Scope, ApiError> {
        Ok(Scope {
            from: day(y, 1, 1)?,
            to: day(y, 12, 31)?,
            organisations: None,
            currency: "DKK".into(),
        })
    };
    let this = scope(year)?;
    let kpis = values(conn, &this, None)?;
    let previous = values(conn, &scope(year - 1)?, None)?;
    let funnel = funnel_of(conn, &this)?;
    let got = reached(conn, &this)?;
    let reached = STAGES
        .iter()
        .map(|s| (s.to_string(), got.get(*s).copied().unwrap_or(0)))
        .collect();
    let money = money_by_year(conn, "DKK", year - 9, year)?;
    // The unit-wide contract covering the year, agreed or closed before draft, latest first.
    let contracts = crate::db::contracts::list(conn, None)?;
    let pick = contracts
        .into_iter()
        .filter(|c| {
            c.organisation_id.is_none() && c.period_start <= this.to && c.period_end >= this.from
        })
        .min_by_key(|c| (c.status == "draft", std::cmp::Reverse(c.period_start)));
    let scorecard = match pick {
        Some(row) => {
            let contract = super::contracts::contract_of(conn, row)?;
            Some(scorecard_of(conn, &contract, super::ideas::today())?)
        }
        None => None,
    };
    Ok(Annual {
        year,
        kpis,
        previous,
        funnel,
        reached,
        money,
        scorecard,
    })
}

/// The annual report for a calendar year.
#[utoipa::path(
    tag = "reports",
    params(AnnualQuery),
    responses((status = 200, description = "The report as HTML (default), an XLSX workbook or CSV", content(
        (String = "text/html"),
        (String = "text/csv"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )))
)]
#[get("/reports/annual")]
pub async fn annual_report(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<AnnualQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    if !(1900..=2999).contains(&q.year) {
        return Err(ApiError::field("year", "range", "must be 1900 to 2999"));
    }
    let year = q.year;
    let report = state.db.read(move |conn| load(conn, year)).await?;
    let name = format!("innofolio-annual-report-{year}");
    Ok(match q.format.unwrap_or(ReportFormat::Html) {
        ReportFormat::Html => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
            ))
            .body(html(&report)?),
        ReportFormat::Xlsx => HttpResponse::Ok()
            .insert_header((
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.xlsx\""),
            ))
            .body(xlsx(&report)?),
        ReportFormat::Csv => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ))
            .body(csv_of(&report)?),
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A value as a person reads it: thousands separated, money in kroner.
fn show(v: &KpiValue) -> String {
    match (v.value, v.unit) {
        (None, _) => "–".into(),
        (Some(x), KpiUnit::Money) => format!(
            "{} {}",
            group((x / 100.0).round() as i64),
            v.currency.as_deref().unwrap_or("")
        ),
        (Some(x), KpiUnit::Percent) => format!("{x:.1} %"),
        (Some(x), KpiUnit::Days) => format!("{x:.0} days"),
        (Some(x), KpiUnit::Fte) => format!("{x:.2} FTE"),
        (Some(x), KpiUnit::Count) => group(x.round() as i64),
    }
}

fn group(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{a0}');
        }
        out.push(c);
    }
    if n < 0 {
        format!("−{out}")
    } else {
        out
    }
}

fn chart_err<E: std::fmt::Display>(e: E) -> ApiError {
    ApiError::Internal(format!("chart: {e}"))
}

/// Horizontal bars: how many of the year's ideas reached each stage.
fn funnel_svg(reached: &[(String, i64)]) -> Result<String, ApiError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let max = reached.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
        let n = reached.len() as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Ideas received this year that reached each stage",
                ("sans-serif", 16),
            )
            .margin(10)
            .x_label_area_size(25)
            .y_label_area_size(10)
            .build_cartesian_2d(0f64..max * 1.1, 0f64..n)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()
            .map_err(chart_err)?;
        chart
            .draw_series(reached.iter().enumerate().map(|(i, (_, v))| {
                let top = n - i as f64 - 0.1;
                Rectangle::new(
                    [(0.0, top - 0.8), (*v as f64, top)],
                    RGBColor(31, 119, 180).filled(),
                )
            }))
            .map_err(chart_err)?;
        chart
            .draw_series(reached.iter().enumerate().map(|(i, (stage, v))| {
                let top = n - i as f64 - 0.1;
                Text::new(
                    format!("{}: {v}", stage.replace('_', " ")),
                    (*v as f64 + max * 0.01, top - 0.3),
                    ("sans-serif", 13).into_font(),
                )
            }))
            .map_err(chart_err)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

/// Grouped bars per year: income and patent costs (kroner).
fn money_svg(money: &[(i32, i64, i64)]) -> Result<String, ApiError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 300)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let first = money.first().map_or(0, |m| m.0) as f64;
        let last = money.last().map_or(0, |m| m.0) as f64;
        let max = money
            .iter()
            .map(|(_, a, b)| (*a).max(*b))
            .max()
            .unwrap_or(0)
            .max(100) as f64
            / 100.0;
        let mut chart = ChartBuilder::on(&root)
            .caption("Income and patent costs by year (DKK)", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(25)
            .y_label_area_size(80)
            .build_cartesian_2d(first - 0.6..last + 0.6, 0f64..max * 1.1)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(money.len())
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| group(y.round() as i64))
            .draw()
            .map_err(chart_err)?;
        let blue = RGBColor(31, 119, 180);
        let orange = RGBColor(255, 127, 14);
        chart
            .draw_series(money.iter().map(|(y, income, _)| {
                let x = *y as f64;
                Rectangle::new([(x - 0.4, 0.0), (x, *income as f64 / 100.0)], blue.filled())
            }))
            .map_err(chart_err)?
            .label("Income")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], blue.filled()));
        chart
            .draw_series(money.iter().map(|(y, _, costs)| {
                let x = *y as f64;
                Rectangle::new(
                    [(x, 0.0), (x + 0.4, *costs as f64 / 100.0)],
                    orange.filled(),
                )
            }))
            .map_err(chart_err)?
            .label("Patent costs")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], orange.filled()));
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.9))
            .draw()
            .map_err(chart_err)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

fn status_colour(s: TargetStatus) -> (&'static str, &'static str) {
    match s {
        TargetStatus::Met => ("#1a7f37", "met"),
        TargetStatus::OnTrack => ("#2f6fb0", "on track"),
        TargetStatus::AtRisk => ("#b35900", "at risk"),
        TargetStatus::Missed => ("#c62828", "missed"),
    }
}

fn html(r: &Annual) -> Result<String, ApiError> {
    let mut h = String::new();
    let year = r.year;
    h.push_str(&format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Innofolio annual report {year}</title>\
<style>body{{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:2em auto;max-width:60em;color:#222}}\
h1{{margin-bottom:0}}h2{{border-bottom:2px solid #2f6fb0;padding-bottom:.2em;margin-top:2em}}\
table{{border-collapse:collapse;width:100%;font-size:.9em}}th,td{{border:1px solid #ccc;padding:.3em .5em;text-align:right}}\
th:first-child,td:first-child{{text-align:left}}thead th{{background:#eef3f8}}tr.total td{{font-weight:bold;background:#f6f6f6}}\
.status{{color:#fff;border-radius:.3em;padding:.1em .5em;font-weight:bold;white-space:nowrap}}.chart{{margin:1em 0}}#funnel-table{{font-size:.72em}}\
@media print{{body{{margin:0;max-width:none}}h2{{break-after:avoid}}table,.chart{{break-inside:avoid}}}}</style></head><body>\
<h1>Innovation unit — annual report {year}</h1><p>Computed by Innofolio from the portfolio data on {} for 1 January – 31 December {year}. \
Money in DKK. Definitions: <code>GET /api/v1/kpis</code>.</p>",
        super::ideas::today()
    ));

    // Scorecard first: it is what management reads.
    h.push_str("<h2 id=\"scorecard\">Result contract scorecard</h2>");
    match &r.scorecard {
        None => h.push_str(&format!("<p>No result contract covers {year}.</p>")),
        Some(card) => {
            h.push_str(&format!(
                "<p>{} ({} – {}), as of {}.</p><table id=\"scorecard-table\"><thead><tr><th>Indicator</th><th>Target</th><th>Actual</th><th>Attainment</th><th>Status</th><th>Previous period</th></tr></thead><tbody>",
                escape(&card.title), card.period_start, card.period_end, card.as_of
            ));
            for l in &card.lines {
                let (colour, label) = status_colour(l.status);
                let target = KpiValue {
                    value: Some(l.target),
                    ..l.actual.clone()
                };
                let dir = match l.direction {
                    super::contracts::Direction::AtLeast => "≥",
                    super::contracts::Direction::AtMost => "≤",
                };
                h.push_str(&format!(
                    "<tr><td>{}</td><td>{dir} {}</td><td>{}</td><td>{}</td><td><span class=\"status status-{}\" style=\"background:{colour}\">{label}</span></td><td>{}</td></tr>",
                    escape(&l.name),
                    show(&target),
                    show(&l.actual),
                    l.attainment_percent.map_or("–".into(), |a| format!("{a:.1} %")),
                    l.status.as_str(),
                    show(&l.previous)
                ));
            }
            h.push_str("</tbody></table>");
        }
    }

    h.push_str("<h2 id=\"funnel\">Funnel</h2><div class=\"chart\" id=\"funnel-chart\">");
    h.push_str(&funnel_svg(&r.reached)?);
    h.push_str("</div><table id=\"funnel-table\"><thead><tr><th>Ideas received, by kind</th>");
    for c in POSITIONS {
        h.push_str(&format!("<th>{}</th>", c.replace('_', " ")));
    }
    h.push_str("</tr></thead><tbody>");
    for row in &r.funnel.rows {
        h.push_str(&format!(
            "<tr{}><td>{}</td>",
            if row.kind == "total" {
                " class=\"total\""
            } else {
                ""
            },
            row.kind.replace('_', " ")
        ));
        for c in POSITIONS {
            h.push_str(&format!(
                "<td>{}</td>",
                row.counts.get(c).copied().unwrap_or(0)
            ));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table><p>Conversion between stages (ideas received this year that reached the stage): ");
    let conv: Vec<String> = r
        .funnel
        .conversion
        .iter()
        .map(|c| {
            format!(
                "{} → {}: {}",
                c.from_stage.replace('_', " "),
                c.to_stage.replace('_', " "),
                c.percent.map_or("–".into(), |p| format!("{p:.1} %"))
            )
        })
        .collect();
    h.push_str(&escape(&conv.join("; ")));
    h.push_str(".</p>");

    h.push_str(
        "<h2 id=\"money\">Income and patent costs</h2><div class=\"chart\" id=\"money-chart\">",
    );
    h.push_str(&money_svg(&r.money)?);
    h.push_str("</div><table><thead><tr><th>Year</th><th>Income</th><th>Patent costs</th><th>Net</th></tr></thead><tbody>");
    for (y, income, costs) in &r.money {
        h.push_str(&format!(
            "<tr><td>{y}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            group(income / 100),
            group(costs / 100),
            group((income - costs) / 100)
        ));
    }
    h.push_str("</tbody></table>");

    h.push_str(&format!("<h2 id=\"kpis\">Key figures</h2><table id=\"kpi-table\"><thead><tr><th>Indicator</th><th>{year}</th><th>{}</th></tr></thead><tbody>", year - 1));
    for v in &r.kpis {
        let prev = r.previous.iter().find(|p| p.key == v.key);
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&v.name),
            show(v),
            prev.map_or("–".into(), show)
        ));
    }
    h.push_str("</tbody></table></body></html>");
    Ok(h)
}

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> ApiError {
    ApiError::Internal(format!("xlsx: {e}"))
}

fn xlsx(r: &Annual) -> Result<Vec<u8>, ApiError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let num = |v: &KpiValue| -> Option<f64> {
        v.value.map(|x| {
            if v.unit == KpiUnit::Money {
                x / 100.0
            } else {
                x
            }
        })
    };

    let ws = wb.add_worksheet().set_name("KPIs").map_err(xlsx_err)?;
    for (c, title) in [
        "Key",
        "Indicator",
        "Unit",
        &r.year.to_string(),
        &(r.year - 1).to_string(),
        "Currency",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(0, c as u16, *title, &bold)
            .map_err(xlsx_err)?;
    }
    for (i, v) in r.kpis.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &v.key).map_err(xlsx_err)?;
        ws.write_string(row, 1, &v.name).map_err(xlsx_err)?;
        ws.write_string(row, 2, v.unit.as_str()).map_err(xlsx_err)?;
        if let Some(x) = num(v) {
            ws.write_number(row, 3, x).map_err(xlsx_err)?;
        }
        if let Some(x) = r.previous.iter().find(|p| p.key == v.key).and_then(num) {
            ws.write_number(row, 4, x).map_err(xlsx_err)?;
        }
        if let Some(c) = &v.currency {
            ws.write_string(row, 5, c).map_err(xlsx_err)?;
        }
    }
    ws.set_column_width(1, 45).map_err(xlsx_err)?;

    let ws = wb.add_worksheet().set_name("Funnel").map_err(xlsx_err)?;
    ws.write_string_with_format(0, 0, "Kind", &bold)
        .map_err(xlsx_err)?;
    for (c, p) in POSITIONS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16 + 1, *p, &bold)
            .map_err(xlsx_err)?;
    }
    for (i, row) in r.funnel.rows.iter().enumerate() {
        let y = i as u32 + 1;
        ws.write_string(y, 0, &row.kind).map_err(xlsx_err)?;
        for (c, p) in POSITIONS.iter().enumerate() {
            ws.write_number(
                y,
                c as u16 + 1,
                row.counts.get(*p).copied().unwrap_or(0) as f64,
            )
            .map_err(xlsx_err)?;
        }
    }

    let ws = wb
        .add_worksheet()
        .set_name("Income and costs")
        .map_err(xlsx_err)?;
    for (c, t) in ["Year", "Income DKK", "Patent costs DKK", "Net DKK"]
        .iter()
        .enumerate()
    {
        ws.write_string_with_format(0, c as u16, *t, &bold)
            .map_err(xlsx_err)?;
    }
    for (i, (y, income, costs)) in r.money.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_number(row, 0, f64::from(*y)).map_err(xlsx_err)?;
        ws.write_number(row, 1, *income as f64 / 100.0)
            .map_err(xlsx_err)?;
        ws.write_number(row, 2, *costs as f64 / 100.0)
            .map_err(xlsx_err)?;
        ws.write_number(row, 3, (*income - *costs) as f64 / 100.0)
            .map_err(xlsx_err)?;
    }

    let ws = wb.add_worksheet().set_name("Scorecard").map_err(xlsx_err)?;
    for (c, t) in [
        "Key",
        "Indicator",
        "Direction",
        "Target",
        "Actual",
        "Attainment %",
        "Status",
        "Previous",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(0, c as u16, *t, &bold)
            .map_err(xlsx_err)?;
    }
    if let Some(card) = &r.scorecard {
        for (i, l) in card.lines.iter().enumerate() {
            let row = i as u32 + 1;
            let money = if l.unit == KpiUnit::Money { 100.0 } else { 1.0 };
            ws.write_string(row, 0, &l.kpi_key).map_err(xlsx_err)?;
            ws.write_string(row, 1, &l.name).map_err(xlsx_err)?;
            ws.write_string(row, 2, l.direction.as_str())
                .map_err(xlsx_err)?;
            ws.write_number(row, 3, l.target / money)
                .map_err(xlsx_err)?;
            if let Some(x) = num(&l.actual) {
                ws.write_number(row, 4, x).map_err(xlsx_err)?;
            }
            if let Some(a) = l.attainment_percent {
                ws.write_number(row, 5, a).map_err(xlsx_err)?;
            }
            ws.write_string(row, 6, l.status.as_str())
                .map_err(xlsx_err)?;
            if let Some(x) = num(&l.previous) {
                ws.write_number(row, 7, x).map_err(xlsx_err)?;
            }
        }
    } else {
        ws.write_string(1, 0, format!("No result contract covers {}", r.year))
            .map_err(xlsx_err)?;
    }
    wb.save_to_buffer().map_err(xlsx_err)
}

/// Long format: `section,item,measure,value` — one fact per row.
fn csv_of(r: &Annual) -> Result<Vec<u8>, ApiError> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        let mut put = |a: &str, b: &str, c: &str, d: String| {
            w.write_record([a, b, c, d.as_str()])
                .map_err(ApiError::internal)
        };
        put("section", "item", "measure", "value".into())?;
        let fmt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        for v in &r.kpis {
            put("kpis", &v.key, &r.year.to_string(), fmt(v.value))?;
            if let Some(p) = r.previous.iter().find(|p| p.key == v.key) {
                put("kpis", &v.key, &(r.year - 1).to_string(), fmt(p.value))?;
            }
        }
        for row in &r.funnel.rows {
            for p in POSITIONS {
                put(
                    "funnel",
                    &row.kind,
                    p,
                    row.counts.get(p).copied().unwrap_or(0).to_string(),
                )?;
            }
        }
        for (y, income, costs) in &r.money {
            put(
                "income_and_costs",
                &y.to_string(),
                "income_minor",
                income.to_string(),
            )?;
            put(
                "income_and_costs",
                &y.to_string(),
                "patent_costs_minor",
                costs.to_string(),
            )?;
        }
        if let Some(card) = &r.scorecard {
            for l in &card.lines {
                put("scorecard", &l.kpi_key, "target", l.target.to_string())?;
                put("scorecard", &l.kpi_key, "actual", fmt(l.actual.value))?;
                put(
                    "scorecard",
                    &l.kpi_key,
                    "status",
                    l.status.as_str().to_string(),
                )?;
            }
        }
        w.flush().map_err(ApiError::internal)?;
    }
    Ok(out)
}
