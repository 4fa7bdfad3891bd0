//! Request extractors and helpers shared by every resource: the JSON body, pagination,
//! `If-Match`, and merge-patch fields.

use actix_web::web::{Bytes, BytesMut};
use actix_web::{dev::Payload, http::header, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, FieldError};

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A JSON request body: checked for content type, size, syntax, NUL characters and the shape of
/// `T`, with errors that name the offending field. Whole-number floats (`1.0`) are accepted
/// where integers are expected, as JSON Schema allows.
pub struct ApiJson<T> {
    pub value: T,
    /// The body as received, for idempotency fingerprints.
    pub raw: Bytes,
}

impl<T> ApiJson<T> {
    pub fn into_inner(self) -> T {
        self.value
    }
}

fn is_json_content_type(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json_content_type(req);
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !json {
                return Err(ApiError::UnsupportedMediaType(
                    "send the body as JSON with 'Content-Type: application/json'".into(),
                ));
            }
            if declared_len.is_some_and(|n| n > MAX_BODY_BYTES) {
                return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES));
            }
            let raw = read_body(&mut payload, MAX_BODY_BYTES).await?;
            let value = parse_json(&raw)?;
            Ok(ApiJson { value, raw })
        })
    }
}

/// Reads a request body of at most `limit` bytes (413 beyond).
pub async fn read_body<S>(payload: &mut S, limit: usize) -> Result<Bytes, ApiError>
where
    S: futures_util::Stream<Item = Result<Bytes, actix_web::error::PayloadError>> + Unpin,
{
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("cannot read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses a body into `T`: 400 for malformed JSON, 422 naming the field for the wrong shape.
pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::BadRequest(
            "the request body is empty; send a JSON object".into(),
        ));
    }
    let mut value: serde_json::Value = serde_json::from_slice(raw)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::field(
            "body",
            "type",
            "the body must be a JSON object",
        ));
    }
    let mut errors = Vec::new();
    normalise(&mut value, "", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        let message = e.inner().to_string();
        let (field, code) = if let Some(name) = missing_field_name(&message) {
            (join(&field, &name), "required")
        } else if message.starts_with("unknown field") {
            (field, "unknown_field")
        } else {
            (field, "invalid")
        };
        ApiError::Validation(vec![FieldError::new(
            if field.is_empty() {
                "body".to_string()
            } else {
                field
            },
            code,
            message,
        )])
    })
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn missing_field_name(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_string())
}

/// Rejects NUL characters anywhere (PostgreSQL cannot store them, so neither backend accepts
/// them) and turns whole-number floats into integers.
fn normalise(value: &mut serde_json::Value, path: &str, errors: &mut Vec<FieldError>) {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains('\0') => {
            errors.push(FieldError::new(
                if path.is_empty() { "body" } else { path },
                "nul_character",
                "must not contain NUL (U+0000) characters",
            ));
        }
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 {
                    *value = Value::from(f as i64);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                normalise(item, &format!("{path}[{i}]"), errors);
            }
        }
        Value::Object(map) => {
            let bad_keys: Vec<String> = map.keys().filter(|k| k.contains('\0')).cloned().collect();
            for k in bad_keys {
                errors.push(FieldError::new(
                    join(path, &k.replace('\0', "\\u0000")),
                    "nul_character",
                    "field names must not contain NUL characters",
                ));
            }
            for (k, v) in map.iter_mut() {
                normalise(v, &join(path, k), errors);
            }
        }
        _ => {}
    }
}

/// For merge-patch fields: absent → `None`, `null` → `Some(None)`, a value → `Some(Some(v))`.
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// Applies a merge-patch field to an optional value.
pub fn patch_optional<T>(current: &mut Option<T>, patch: Option<Option<T>>) {
    if let Some(v) = patch {
        *current = v;
    }
}

/// Applies a merge-patch field to a required value: `null` is a 422.
pub fn patch_required<T>(
    current: &mut T,
    patch: Option<Option<T>>,
    field: &str,
    errors: &mut Vec<FieldError>,
) {
    match patch {
        Some(Some(v)) => *current = v,
        Some(None) => errors.push(FieldError::new(
            field,
            "required",
            "is required and cannot be null",
        )),
        None => {}
    }
}

/// A page of a collection.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Number of items matching the filters, over all pages.
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

impl<T> Page<T> {
    /// One page of a list already filtered and ordered in memory.
    pub fn of(all: Vec<T>, limit: i64, offset: i64) -> Page<T> {
        let total = all.len() as i64;
        let items = all
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect();
        Page {
            items,
            total,
            limit,
            offset,
        }
    }

    /// The same page with every item converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            limit: self.limit,
            offset: self.offset,
        }
    }

    /// The same page with every item converted by a fallible function.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        let items = self
            .items
            .into_iter()
            .map(f)
            .collect::<Result<Vec<U>, E>>()?;
        Ok(Page {
            items,
            total: self.total,
            limit: self.limit,
            offset: self.offset,
        })
    }
}

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// Checks `limit` (1–500, default 50) and `offset` (≥ 0, default 0).
pub fn paging(limit: Option<i64>, offset: Option<i64>) -> Result<(i64, i64), ApiError> {
    let mut errors = Vec::new();
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        errors.push(FieldError::new(
            "limit",
            "range",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let offset = offset.unwrap_or(0);
    if offset < 0 {
        errors.push(FieldError::new("offset", "range", "must be 0 or more"));
    }
    if errors.is_empty() {
        Ok((limit, offset))
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The `If-Match` header, required on updates and deletes (428 without it).
pub fn if_match(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req.headers().get(header::IF_MATCH).ok_or_else(|| {
        ApiError::PreconditionRequired(
            "send 'If-Match' with the ETag you read, so that no other change is overwritten".into(),
        )
    })?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::BadRequest("the If-Match header is not readable".into()))?
        .trim();
    if value.is_empty() {
        return Err(ApiError::BadRequest(
            "If-Match must name an ETag, e.g. If-Match: \"3\"".into(),
        ));
    }
    Ok(value.to_string())
}

/// 412 unless `If-Match` names the current version.
pub fn check_version(if_match: &str, version: i64) -> Result<(), ApiError> {
    if crate::domain::if_match_allows(if_match, version) {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed(format!(
            "the resource has changed (current ETag {}); read it again and reapply your change",
            crate::domain::etag(version)
        )))
    }
}

/// Trims a text filter and treats an empty one as absent.
pub fn text_filter(value: Option<String>) -> Option<String> {
    value
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// 422 for a NUL character in a query parameter, or one longer than `max` characters.
pub fn check_query_text(name: &str, value: &Option<String>, max: usize) -> Result<(), ApiError> {
    match value {
        Some(v) if v.contains('\0') => Err(ApiError::Validation(vec![FieldError::new(
            name,
            "nul_character",
            "must not contain NUL characters",
        )])),
        Some(v) if v.chars().count() > max => Err(ApiError::Validation(vec![FieldError::new(
            name,
            "length",
            format!("must be at most {max} characters"),
        )])),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        #[allow(dead_code)]
        name: String,
        count: Option<i64>,
    }

    #[test]
    fn malformed_json_is_a_400_and_wrong_shape_a_422_naming_the_field() {
        assert!(matches!(
            parse_json::<Sample>(b"{"),
            Err(ApiError::BadRequest(_))
        ));
        match parse_json::<Sample>(br#"{"count": 1}"#) {
            Err(ApiError::Validation(e)) => assert_eq!(e[0].field, "name"),
            other => panic!("unexpected {other:?}"),
        }
        match parse_json::<Sample>(br#"{"name": "x", "count": "a"}"#) {
            Err(ApiError::Validation(e)) => assert_eq!(e[0].field, "count"),
            other => panic!("unexpected {other:?}"),
        }
        match parse_json::<Sample>(br#"{"name": "x\u0000"}"#) {
            Err(ApiError::Validation(e)) => assert_eq!(e[0].code, "nul_character"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn whole_number_floats_are_integers() {
        let s: Sample = parse_json(br#"{"name": "x", "count": 3.0}"#).unwrap();
        assert_eq!(s.count, Some(3));
    }

    #[test]
    fn paging_bounds() {
        assert_eq!(paging(None, None).unwrap(), (50, 0));
        assert!(paging(Some(0), None).is_err());
        assert!(paging(Some(501), None).is_err());
        assert!(paging(Some(10), Some(-1)).is_err());
    }
}

/// The `Idempotency-Key` header of creates, for the OpenAPI document.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// Makes retries safe: the same key and body return the first response and create nothing.
    /// Any value works (a UUID is typical); an empty one is ignored.
    #[param(rename = "Idempotency-Key")]
    pub idempotency_key: Option<String>,
}

/// The `If-Match` header of updates and deletes, for the OpenAPI document.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchHeader {
    /// The ETag last read; the change is refused with 412 if the resource changed since.
    #[param(rename = "If-Match", min_length = 1)]
    pub if_match: String,
}

/// A decimal sent as a JSON string (`"33.33"`) or number (`33.33`) and kept exact: a number is
/// read back as the shortest decimal that denotes it, which is what the client wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DecimalText(pub String);

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(serde_json::Number),
        }
        match Raw::deserialize(de) {
            Ok(Raw::Text(s)) => Ok(DecimalText(s)),
            Ok(Raw::Number(n)) => Ok(DecimalText(n.to_string())),
            Err(_) => Err(serde::de::Error::custom(
                "expected a decimal number or a decimal string",
            )),
        }
    }
}

/// Schema of a decimal accepted as a string matching `pattern` or as a number in `0..=max`.
fn decimal_schema(
    pattern: &str,
    max: u32,
    description: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .minimum(Some(0))
                .maximum(Some(max)),
        )
        .description(Some(description))
        .into()
}

/// A percentage 0–100 with up to four decimals.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PercentInput(pub DecimalText);

/// Pattern of a percentage sent as a string.
pub const PERCENT_PATTERN: &str = r"^(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)$";

impl utoipa::PartialSchema for PercentInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        decimal_schema(
            PERCENT_PATTERN,
            100,
            "Percent, 0–100 with at most 4 decimals, as a string (\"33.3333\") or a number",
        )
    }
}

impl ToSchema for PercentInput {}

/// Full-time equivalents, 0–9999 with up to two decimals.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FteInput(pub DecimalText);

impl utoipa::PartialSchema for FteInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        decimal_schema(
            r"^[0-9]{1,4}(\.[0-9]{1,2})?$",
            9999,
            "Full-time equivalents with at most 2 decimals, as a string (\"1.5\") or a number",
        )
    }
}

impl ToSchema for FteInput {}
