//! A minimal actix-web server: `GET /api/v1/ideas/1` answers a fixed JSON body of about the size
//! of a real idea. `bench/read.sh` runs wrk against it and against Innofolio in the same run;
//! the ratio of their requests per second is the figure.

use actix_web::{get, App, HttpResponse, HttpServer};

const BODY: &str = r#"{"id":1,"title":"Pressure-sensing wound dressing","description":"A dressing that measures pressure","need":null,"kind":"clinical_invention","innovation_type":"product","received_on":"2026-01-05","source_organisation_id":1,"project_manager_id":null,"tags":["wound","sensor"],"confidential":false,"stage":"pre_screening","outcome":null,"recipient_organisation_id":null,"rights":null,"expected_results":null,"expected_yearly_savings":null,"expected_fte":null,"warnings":[],"version":1,"created_at":"2026-11-23T10:00:00Z","updated_at":"2026-11-23T10:00:00Z"}"#;

#[get("/api/v1/ideas/{id}")]
async fn idea() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(BODY)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:18500".into());
    HttpServer::new(|| App::new().service(idea))
        .bind(bind)?
        .run()
        .await
}
