//! Extractors that enforce Beep's input limits and answer bad input with the error
//! table's shapes instead of axum's plain-text rejections.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use beep_core::Error;
use beep_types::ErrorCode;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// A JSON body: at most `limits.json_body_bytes`, UTF-8, nested at most
/// `limits.json_depth` deep, and deserialized with field-level errors.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

/// Whether `bytes` nests arrays/objects deeper than `max`; strings are skipped so
/// brackets inside them do not count. Linear time, no recursion.
pub fn too_deep(bytes: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Turn a serde error at `path` into a field error (missing field → BASE_TYPE_REQUIRED).
fn field_error(path: &str, err: &serde_json::Error) -> Error {
    let msg = err.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    let prefix = if path == "." {
        String::new()
    } else {
        format!("{path}.")
    };
    if let Some(name) = msg
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next())
    {
        return Error::field(
            format!("{prefix}{name}"),
            "BASE_TYPE_REQUIRED",
            "This field is required",
        );
    }
    if let Some(name) = msg
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
    {
        return Error::field(
            format!("{prefix}{name}"),
            "UNKNOWN_FIELD",
            "This field is not allowed",
        );
    }
    let key = if path == "." {
        "_body".to_string()
    } else {
        path.to_string()
    };
    Error::field(key, "BASE_TYPE_INVALID", msg)
}

/// Parse a JSON body already read into memory, with every check of [`Json`].
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], max_depth: usize) -> Result<T, Error> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(Error::new(ErrorCode::InvalidJson).and_field(
            "_body",
            "INVALID_UTF8",
            "Body is not valid UTF-8",
        ));
    }
    if too_deep(bytes, max_depth) {
        return Err(Error::new(ErrorCode::InvalidJson).and_field(
            "_body",
            "JSON_TOO_DEEP",
            format!("Nesting deeper than {max_depth} levels"),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => match de.end() {
            Ok(()) => Ok(v),
            Err(_) => Err(Error::new(ErrorCode::InvalidJson)),
        },
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_data() {
                Err(field_error(&path, &inner))
            } else {
                Err(Error::new(ErrorCode::InvalidJson))
            }
        }
    }
}

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limit = state.config.json_body_bytes;
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
            if !ct.starts_with("application/json") {
                return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
            }
        }
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(ApiError::new(ErrorCode::PayloadTooLarge));
        }
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| ApiError::new(ErrorCode::PayloadTooLarge))?;
        Ok(Json(parse_json(&bytes, state.config.json_depth)?))
    }
}

/// Path parameters; a value that does not parse (an overflowing or negative
/// snowflake, say) is a 400 Invalid Form Body naming the parameter.
#[derive(Debug, Clone, Copy)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                use axum::extract::path::ErrorKind;
                let err = match e.kind() {
                    ErrorKind::ParseErrorAtKey { key, value, .. } => Error::field(
                        key.clone(),
                        "NUMBER_TYPE_COERCE",
                        format!("Value \"{value}\" is not snowflake."),
                    ),
                    ErrorKind::ParseError { value, .. } => Error::field(
                        "id",
                        "NUMBER_TYPE_COERCE",
                        format!("Value \"{value}\" is not snowflake."),
                    ),
                    other => Error::field("id", "NUMBER_TYPE_COERCE", other.to_string()),
                };
                Err(ApiError(err))
            }
            Err(other) => Err(ApiError(Error::internal(other))),
        }
    }
}

/// Query parameters with field errors instead of plain-text rejections.
#[derive(Debug, Clone, Copy)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|e: QueryRejection| {
                ApiError(Error::field("query", "BASE_TYPE_INVALID", e.body_text()))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        id: beep_types::UserId,
    }

    #[test]
    fn depth_scan_ignores_brackets_in_strings() {
        assert!(!too_deep(br#"{"a":"[[[[[[[[[["}"#, 2));
        assert!(too_deep(b"[[[1]]]", 2));
        assert!(!too_deep(b"[[1]]", 2));
        assert!(!too_deep(br#"{"a":"\"[[[["}"#, 1));
    }

    #[test]
    fn missing_and_bad_fields_are_named() {
        let e = parse_json::<Body>(br#"{"id":"1"}"#, 8).expect_err("missing");
        assert!(e.fields.contains_key("name"), "{e:?}");
        let e = parse_json::<Body>(br#"{"name":"x","id":18446744073709551616}"#, 8)
            .expect_err("overflow");
        assert_eq!(e.code, ErrorCode::InvalidFormBody);
        assert!(e.fields.contains_key("id"), "{e:?}");
        let e = parse_json::<Body>(br#"{"name":"x","id":9007199254740993}"#, 8)
            .expect_err("beyond 2^53");
        assert!(e.fields.contains_key("id"), "{e:?}");
        let e = parse_json::<Body>(b"{\"name\":\"\xff\"}", 8).expect_err("utf8");
        assert_eq!(e.code, ErrorCode::InvalidJson);
        let e = parse_json::<Body>(br#"{"name":"x","id":"1"} trailing"#, 8).expect_err("trailing");
        assert_eq!(e.code, ErrorCode::InvalidJson);
    }
}
