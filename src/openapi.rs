//! The OpenAPI 3.1 document, generated from the handlers' annotations. After the routes are
//! collected, [`finish`] adds what every operation shares: the API-key security requirement and
//! the problem+json responses it can give.

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use utoipa::OpenApi as _;

use crate::error::{FieldError, Problem};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Innofolio",
        description = "Innovation-portfolio tracker for hospital innovation units and technology-transfer offices: \
ideas and inventions, screening, rights decisions, patents, deals, royalties, funding and KPIs.\n\n\
Authenticate with `Authorization: Bearer KEY`. Errors are RFC 9457 `application/problem+json`. \
Updates and deletes need `If-Match` with the ETag last read; creates accept `Idempotency-Key`.",
        license(name = "MIT")
    ),
    components(schemas(Problem, FieldError, crate::api::ideas::ChecklistStage)),
    tags(
        (name = "organisations", description = "Departments, hospitals and external partners"),
        (name = "people", description = "Inventors, idea holders and staff (contact data is personal data)"),
        (name = "ideas", description = "Ideas and inventions: intake, funnel, inventors, owners, checklists, rights decisions, history"),
        (name = "patents", description = "Patent families, filings, deadline rules, the docket and patent costs"),
        (name = "deals", description = "Agreements, income, distribution policies and exact distributions to inventors"),
        (name = "funding", description = "Funding applications and payments, industry collaboration requests"),
        (name = "integration", description = "Upserts by external reference for grant systems and intake forms, the change feed, webhooks"),
        (name = "kpis", description = "KPIs computed from the data, the funnel report, result contracts and scorecards"),
        (name = "reports", description = "The annual report for management: HTML with charts, XLSX, CSV"),
        (name = "exports", description = "CSV files of the lists, for spreadsheets"),
        (name = "audit", description = "Who changed what, when (admin)"),
        (name = "api-keys", description = "Key management (admin)"),
        (name = "operations", description = "Health, readiness and metrics (public)")
    )
)]
pub struct ApiDoc;

/// Paths that need no API key.
pub const PUBLIC_PATHS: [&str; 3] = ["/health", "/ready", "/metrics"];

const SECURITY_SCHEME: &str = "api_key";

/// (component name, status, description) of the shared problem responses.
const PROBLEMS: [(&str, &str, &str); 13] = [
    (
        "BadRequest",
        "400",
        "Malformed request: bad JSON, path or query parameter",
    ),
    (
        "Unauthorized",
        "401",
        "No API key, or a key that is unknown, revoked or expired",
    ),
    ("Forbidden", "403", "The key's role may not do this"),
    (
        "NotFound",
        "404",
        "No such resource (also for an id that is not a whole number)",
    ),
    (
        "Conflict",
        "409",
        "The change conflicts with the current state (e.g. still referenced)",
    ),
    (
        "PreconditionFailed",
        "412",
        "If-Match does not match the current ETag: someone else changed it",
    ),
    ("PayloadTooLarge", "413", "The body exceeds the size limit"),
    ("UnsupportedMediaType", "415", "The body is not JSON"),
    (
        "ValidationError",
        "422",
        "Invalid fields; `errors` lists each field",
    ),
    ("PreconditionRequired", "428", "If-Match is required"),
    (
        "TooManyRequests",
        "429",
        "Too many failed authentications from this client",
    ),
    (
        "InternalError",
        "500",
        "Unexpected error; the cause is logged, not sent",
    ),
    ("Unavailable", "503", "The database is not reachable"),
];

/// Adds the security scheme, the shared problem responses, and on every non-public operation
/// the security requirement and the problem responses that operation can give.
pub fn finish(api: &mut OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        SECURITY_SCHEME.to_string(),
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "An API key made with `innofolio create-api-key` or POST /api/v1/api-keys",
                ))
                .build(),
        ),
    );
    for (name, _, description) in PROBLEMS {
        let response = ResponseBuilder::new()
            .description(description)
            .content(
                crate::error::PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build();
        components
            .responses
            .insert(name.to_string(), RefOr::T(response));
    }
    for (path, item) in api.paths.paths.iter_mut() {
        let public = PUBLIC_PATHS.contains(&path.as_str());
        let has_id = path.contains('{');
        for_each_operation(item, |method, op| {
            let mut add: Vec<&str> = vec!["500"];
            if public {
                op.security = None;
                if path == "/ready" {
                    add.push("503");
                }
            } else {
                op.security = Some(vec![SecurityRequirement::new(
                    SECURITY_SCHEME,
                    Vec::<String>::new(),
                )]);
                add.extend(["400", "401", "403", "429", "503"]);
                if has_id {
                    add.push("404");
                }
                if op.request_body.is_some() {
                    add.extend(["413", "415", "422"]);
                }
                if op.parameters.as_ref().is_some_and(|p| !p.is_empty()) && method == "get" {
                    add.push("422");
                }
                if method != "get" {
                    add.push("409");
                }
                if let Some(p) = op
                    .parameters
                    .iter()
                    .flatten()
                    .find(|p| p.name == "If-Match")
                {
                    add.push("412");
                    if matches!(p.required, utoipa::openapi::Required::True) {
                        add.push("428");
                    }
                }
            }
            for status in add {
                if let Some((name, _, _)) = PROBLEMS.iter().find(|(_, s, _)| *s == status) {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
                }
            }
        });
    }
    add_links(api);
}

/// The path parameters of a path template, in order (`/a/{id}/b/{x}` → `id`, `x`).
fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

/// OpenAPI links from every create (`POST C` answering 201 with an `id`) to the operations on
/// the record it made (`C/{x}` and below, with no other new path parameter): the record's id
/// from the response body, the collection's own path parameters from the request, and — where
/// the target needs `If-Match` and the 201 carries an `ETag` — that ETag. Clients and
/// schemathesis' stateful tests follow them (create → read → change → delete).
fn add_links(api: &mut OpenApi) {
    struct Target {
        path: String,
        operation_id: String,
        if_match: bool,
    }
    let mut targets = Vec::new();
    for (path, item) in api.paths.paths.iter_mut() {
        for_each_operation(item, |_, op| {
            if let Some(id) = &op.operation_id {
                targets.push(Target {
                    path: path.clone(),
                    operation_id: id.clone(),
                    if_match: op.parameters.iter().flatten().any(|p| p.name == "If-Match"),
                });
            }
        });
    }
    for (path, item) in api.paths.paths.iter_mut() {
        let Some(post) = item.post.as_mut() else {
            continue;
        };
        if path.ends_with('}') {
            continue;
        }
        let Some(RefOr::T(created)) = post.responses.responses.get_mut("201") else {
            continue;
        };
        let own = path_params(path);
        let has_etag = created.headers.contains_key("ETag");
        for t in &targets {
            let Some(rest) = t.path.strip_prefix(path.as_str()) else {
                continue;
            };
            let Some(first) = rest.strip_prefix("/{") else {
                continue;
            };
            let new_param = first.split('}').next().unwrap_or_default();
            let params = path_params(&t.path);
            if params.len() != own.len() + 1 || params[own.len()] != new_param {
                continue;
            }
            let mut link = utoipa::openapi::link::LinkBuilder::new()
                .operation_id(t.operation_id.clone())
                .parameter(format!("path.{new_param}"), "$response.body#/id");
            for p in &own {
                link = link.parameter(format!("path.{p}"), format!("$request.path.{p}"));
            }
            if t.if_match && has_etag {
                link = link.parameter("header.If-Match", "$response.header.ETag");
            }
            created
                .links
                .insert(t.operation_id.clone(), RefOr::T(link.build()));
        }
    }
}

fn for_each_operation(item: &mut PathItem, mut f: impl FnMut(&str, &mut Operation)) {
    for (method, op) in [
        ("get", &mut item.get),
        ("post", &mut item.post),
        ("put", &mut item.put),
        ("patch", &mut item.patch),
        ("delete", &mut item.delete),
    ] {
        if let Some(op) = op.as_mut() {
            f(method, op);
        }
    }
}

/// The base document, before routes are collected.
pub fn base() -> OpenApi {
    ApiDoc::openapi()
}
