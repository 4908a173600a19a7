//! Rendering of domain errors as HTTP responses in Discord's shape:
//! `{"code": 50035, "message": "Invalid Form Body", "errors": {...}}`.
//!
//! The internal cause never reaches the client: it travels in a response extension
//! to the access-log middleware, which logs it with the request id.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use beep_core::Error;
use beep_types::{ErrorCode, FieldError};
use serde_json::{Map, Value, json};

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub Error);

/// Result of a handler.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl ApiError {
    /// An error with just a code.
    #[track_caller]
    pub fn new(code: ErrorCode) -> Self {
        ApiError(Error::new(code))
    }
}

/// What the access log records about a failed request.
#[derive(Debug, Clone)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub cause: Option<String>,
    pub location: String,
}

/// Nest `a.b.0` paths into Discord's `{"a": {"b": {"0": {"_errors": [...]}}}}`.
pub fn nest_field_errors(fields: &BTreeMap<String, Vec<FieldError>>) -> Value {
    let mut root = Map::new();
    for (path, errs) in fields {
        let parts: Vec<&str> = path.split('.').filter(|p| !p.is_empty()).collect();
        insert_errors(&mut root, &parts, errs);
    }
    Value::Object(root)
}

fn insert_errors(node: &mut Map<String, Value>, parts: &[&str], errs: &[FieldError]) {
    match parts.split_first() {
        None => {
            let list = node
                .entry("_errors")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = list {
                list.extend(
                    errs.iter()
                        .map(|e| json!({"code": e.code, "message": e.message})),
                );
            }
        }
        Some((head, rest)) => {
            let child = node
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(child) = child {
                insert_errors(child, rest, errs);
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status =
            StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // Every 429 (the rate limiter's, slow mode's 20016) carries `retry_after`.
        let body = if e.code.status() == 429 {
            let retry = e.retry_after.unwrap_or(1.0);
            json!({"message": e.code.message(), "retry_after": retry, "global": false, "code": e.code.code()})
        } else if e.fields.is_empty() {
            json!({"code": e.code.code(), "message": e.code.message()})
        } else {
            json!({"code": e.code.code(), "message": e.code.message(), "errors": nest_field_errors(&e.fields)})
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if let Some(retry) = e.retry_after
            && let Ok(v) = HeaderValue::from_str(&format!("{}", retry.ceil() as u64))
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if let Some(d) = &e.rate_limit {
            crate::ratelimit::set_headers(resp.headers_mut(), d);
        }
        resp.extensions_mut().insert(ErrorDetail {
            code: e.code,
            cause: e.cause,
            location: e.location.to_string(),
        });
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nests_paths_like_discord() {
        let mut f = BTreeMap::new();
        f.insert(
            "username".to_string(),
            vec![FieldError {
                code: "X".into(),
                message: "m".into(),
            }],
        );
        f.insert(
            "a.0.b".to_string(),
            vec![FieldError {
                code: "Y".into(),
                message: "n".into(),
            }],
        );
        let v = nest_field_errors(&f);
        assert_eq!(v["username"]["_errors"][0]["code"], "X");
        assert_eq!(v["a"]["0"]["b"]["_errors"][0]["message"], "n");
    }
}
