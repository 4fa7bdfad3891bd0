//! Public endpoints: liveness, readiness and metrics. No API key needed.

use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::AppState;
use crate::error::ApiError;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health).service(ready).service(metrics);
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` or `ready`.
    pub status: String,
    /// The database backend, on `/ready`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    pub version: String,
}

/// Liveness: the process answers.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, description = "Alive", body = Health)))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
        database: None,
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(
    tag = "operations",
    security(()),
    responses((status = 200, description = "Ready", body = Health))
)]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.db.ping().await {
        Ok(HttpResponse::Ok().json(Health {
            status: "ready".into(),
            database: Some(state.db.backend().name().into()),
            version: env!("CARGO_PKG_VERSION").into(),
        }))
    } else {
        Err(ApiError::Unavailable("readiness check failed".into()))
    }
}

/// Prometheus metrics: requests by route and status, latency histogram.
#[utoipa::path(
    tag = "operations",
    security(()),
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"))
)]
#[get("/metrics")]
pub async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::telemetry::render_metrics())
}
