//! Assembles the actix-web application: routes, middleware, error handling, API docs.

use std::net::TcpListener;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ResourceDef, Server, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{from_fn, ErrorHandlerResponse, ErrorHandlers, Next};
use actix_web::{
    web, App, Error, HttpMessage, HttpRequest, HttpResponse, HttpServer, ResponseError,
};
use utoipa::openapi::OpenApi;
use utoipa_actix_web::{scope, AppExt};
use utoipa_swagger_ui::SwaggerUi;

use crate::api::{self, AppState};
use crate::auth;
use crate::db::Db;
use crate::error::{ApiError, Problem, PROBLEM_JSON};
use crate::read_cache::ReadCache;
use crate::telemetry::{self, RequestId};

/// Every route of the application, for actix and for the OpenAPI document alike.
fn register(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.configure(api::health::configure)
        .service(scope("/api/v1").configure(api::configure));
}

/// The OpenAPI document the server serves at `/openapi.json`.
pub fn openapi() -> OpenApi {
    let (_, mut spec) = App::new()
        .into_utoipa_app()
        .openapi(crate::openapi::base())
        .configure(register)
        .split_for_parts();
    crate::openapi::finish(&mut spec);
    spec
}

/// The OpenAPI document as JSON, as served at `/openapi.json` and printed by `innofolio
/// openapi`. utoipa 5 writes the fields of a link object in snake case (`operation_id`); they
/// are renamed here to the specification's names (`operationId`).
pub fn openapi_json() -> serde_json::Value {
    let mut doc = serde_json::to_value(openapi()).unwrap_or_default();
    if let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for item in paths.values_mut().filter_map(|i| i.as_object_mut()) {
            for op in item.values_mut() {
                let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut())
                else {
                    continue;
                };
                for response in responses.values_mut() {
                    let Some(links) = response.get_mut("links").and_then(|l| l.as_object_mut())
                    else {
                        continue;
                    };
                    for link in links.values_mut().filter_map(|l| l.as_object_mut()) {
                        for (from, to) in [
                            ("operation_id", "operationId"),
                            ("operation_ref", "operationRef"),
                            ("request_body", "requestBody"),
                        ] {
                            if let Some(v) = link.remove(from) {
                                link.insert(to.to_string(), v);
                            }
                        }
                    }
                }
            }
        }
    }
    doc
}

/// Path templates and their methods, to tell 405 (known path, other method) from 404.
pub struct RouteTable(Vec<(ResourceDef, Vec<String>)>);

impl RouteTable {
    pub fn from_spec(spec: &OpenApi) -> RouteTable {
        let mut routes = Vec::new();
        for (path, item) in &spec.paths.paths {
            let mut methods = Vec::new();
            for (name, present) in [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ] {
                if present {
                    methods.push(name.to_string());
                }
            }
            routes.push((ResourceDef::new(path.as_str()), methods));
        }
        RouteTable(routes)
    }

    fn allowed(&self, path: &str) -> Option<Vec<String>> {
        self.0
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, m)| m.clone())
    }
}

/// Requests no route took: 405 with `Allow` for a known path, else 404.
async fn fallback(req: HttpRequest, routes: web::Data<RouteTable>) -> HttpResponse {
    let error = match routes.allowed(req.path()) {
        Some(allow) if !allow.iter().any(|m| m == req.method().as_str()) => {
            ApiError::MethodNotAllowed(allow)
        }
        _ => ApiError::NotFound(format!("no resource at {}", req.path())),
    };
    error.error_response()
}

/// Authenticates every `/api/` request before its body is read; the [`auth::Caller`] goes into
/// the request for handlers to take.
async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<BoxBody, impl MessageBody>>, Error> {
    if !req.path().starts_with("/api/") {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_right_body);
    }
    let limiter = req
        .app_data::<web::Data<auth::FailedAuthLimiter>>()
        .cloned();
    let addr = req.peer_addr().map(|a| a.ip());
    if let (Some(limiter), Some(addr)) = (&limiter, addr) {
        if let Some(wait) = limiter.blocked(addr) {
            let e = ApiError::TooManyRequests(format!(
                "too many failed authentications from this address; retry in {wait} s"
            ));
            let mut res = e.error_response();
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(wait));
            return Ok(req.into_response(res).map_into_left_body());
        }
    }
    let failed = |e: ApiError| {
        if let (Some(limiter), Some(addr), ApiError::Unauthorized(_)) = (&limiter, addr, &e) {
            limiter.failed(addr);
        }
        e
    };
    let token = match auth::bearer_token(req.request()) {
        Ok(t) => t.to_string(),
        // A missing or malformed header guesses no key: only failed lookups count.
        Err(e) => return Ok(req.into_response(e.error_response()).map_into_left_body()),
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        let e = ApiError::internal("application state missing");
        return Ok(req.into_response(e.error_response()).map_into_left_body());
    };
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    let known = state.keys.get(&token, request_id.clone());
    let found = match known {
        Some(result) => result,
        None => {
            let keys = state.keys.clone();
            state
                .db
                .read(move |c| keys.authenticate(c, &token, request_id))
                .await
        }
    };
    match found {
        Ok(caller) => {
            if !auth::allowed(req.method(), req.path(), caller.role) {
                let e = ApiError::Forbidden(format!(
                    "the role '{}' may not {} {}",
                    caller.role.as_str(),
                    req.method(),
                    req.path()
                ));
                return Ok(req.into_response(e.error_response()).map_into_left_body());
            }
            let cached = match &state.reads {
                Some(cache)
                    if req.method() == actix_web::http::Method::GET
                        && req.query_string().is_empty()
                        && ReadCache::cacheable(req.path()) =>
                {
                    cache.data_version().map(|v| {
                        (
                            cache.clone(),
                            ReadCache::key(req.path(), caller.role, crate::api::ideas::today()),
                            v,
                        )
                    })
                }
                _ => None,
            };
            req.extensions_mut().insert(caller);
            let Some((cache, key, version)) = cached else {
                return next
                    .call(req)
                    .await
                    .map(ServiceResponse::map_into_right_body);
            };
            if let Some(hit) = cache.get(&key, version) {
                return Ok(req.into_response(hit).map_into_left_body());
            }
            let res = next.call(req).await?;
            cache
                .keep(key, version, res)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        Err(e) => {
            let e = failed(e);
            Ok(req.into_response(e.error_response()).map_into_left_body())
        }
    }
}

/// Turns any error response that is not problem+json yet (actix's own plain-text errors) into one.
fn ensure_problem<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let allow = res.headers().get(header::ALLOW).cloned();
    let problem = Problem {
        type_: format!(
            "urn:innofolio:problem:{}",
            status
                .canonical_reason()
                .unwrap_or("error")
                .to_lowercase()
                .replace(' ', "-")
        ),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail: if status.is_server_error() {
            Some("an unexpected error occurred; it has been logged".into())
        } else {
            None
        },
        errors: None,
        allowed: None,
    };
    let (req, _) = res.into_parts();
    let mut builder = HttpResponse::build(status);
    builder.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
    if let Some(allow) = allow {
        builder.insert_header((header::ALLOW, allow));
    }
    let response = builder.body(serde_json::to_string(&problem).unwrap_or_default());
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body(),
    ))
}

/// Starts the HTTP server on `listener` with `workers` threads (default: one per core).
pub fn run(listener: TcpListener, db: Db, workers: Option<usize>) -> std::io::Result<Server> {
    let spec = openapi();
    let document = openapi_json();
    let routes = web::Data::new(RouteTable::from_spec(&spec));
    if std::env::var("INNOFOLIO_WEBHOOK_DELIVERY").as_deref() != Ok("off") {
        // Runs on this runtime and stops with it.
        actix_web::rt::spawn(crate::delivery::run(
            db.clone(),
            crate::delivery::Settings::from_env(),
        ));
    }
    let reads = db
        .sqlite_path()
        .and_then(crate::read_cache::ReadCache::for_sqlite)
        .map(std::sync::Arc::new);
    let state = web::Data::new(AppState {
        db,
        keys: std::sync::Arc::new(auth::KeyCache::from_env()),
        reads,
    });
    let limiter = web::Data::new(auth::FailedAuthLimiter::from_env());
    let mut server = HttpServer::new(move || {
        let (app, _) = App::new()
            .into_utoipa_app()
            .openapi(crate::openapi::base())
            .configure(register)
            .split_for_parts();
        app.app_data(state.clone())
            .app_data(limiter.clone())
            .app_data(routes.clone())
            .app_data(web::PathConfig::default().error_handler(|_, req| {
                // `/organisations/abc` names no resource: that is a 404, like any unknown id.
                ApiError::NotFound(format!(
                    "no resource at {}: the id must be a whole number",
                    req.path()
                ))
                .into()
            }))
            .app_data(web::QueryConfig::default().error_handler(|err, _| {
                ApiError::BadRequest(format!("invalid query parameter: {err}")).into()
            }))
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .external_urls_from_iter_unchecked([("/openapi.json", document.clone())]),
            )
            .service(web::redirect("/docs", "/docs/"))
            .default_service(web::to(fallback))
            .wrap(from_fn(authenticate))
            .wrap(ErrorHandlers::new().default_handler(ensure_problem))
            .wrap(from_fn(telemetry::observe))
    })
    .listen(listener)?;
    if let Some(n) = workers.filter(|n| *n > 0) {
        server = server.workers(n);
    }
    Ok(server.run())
}
