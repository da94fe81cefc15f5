//! One ARI request as an operation sees it: its path parameters and its other parameters,
//! from the query string and from a JSON body alike (Asterisk merges the two, and the client
//! libraries send some parameters one way, some the other), checked against the
//! operation's declaration before the handler runs; and the errors operations answer with,
//! as Asterisk words them (`{"message": "..."}`).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::spec::{Operation, ParamType};

/// An error answer: a status and Asterisk's `{"message"}` body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct AriError {
    /// The status.
    pub status: StatusCode,
    /// The message.
    pub message: String,
}

impl AriError {
    /// An error of `status` saying `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> AriError {
        AriError {
            status,
            message: message.into(),
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> AriError {
        AriError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> AriError {
        AriError::new(StatusCode::NOT_FOUND, message)
    }

    /// 409.
    pub fn conflict(message: impl Into<String>) -> AriError {
        AriError::new(StatusCode::CONFLICT, message)
    }

    /// 422.
    pub fn unprocessable(message: impl Into<String>) -> AriError {
        AriError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
}

impl IntoResponse for AriError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(serde_json::json!({ "message": self.message })),
        )
            .into_response()
    }
}

/// The parameters of one request.
#[derive(Debug, Clone, Default)]
pub struct AriRequest {
    path: BTreeMap<String, String>,
    params: BTreeMap<String, Value>,
}

impl AriRequest {
    /// Gathers the parameters: `path` from the route, `query` pairs, and the fields of a JSON
    /// object `body` (a field named like the parameter, as `{"variables": {...}}`).
    pub fn gather(
        path: BTreeMap<String, String>,
        query: Vec<(String, String)>,
        body: &[u8],
    ) -> Result<AriRequest, AriError> {
        let mut params: BTreeMap<String, Value> = query
            .into_iter()
            .filter(|(name, _)| name != "api_key")
            .map(|(name, value)| (name, Value::String(value)))
            .collect();
        if !body.iter().all(u8::is_ascii_whitespace) {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(fields)) => params.extend(fields),
                Ok(_) => return Err(AriError::bad_request("Request body must be a JSON object")),
                Err(_) => {
                    return Err(AriError::bad_request(
                        "Failed to parse request body as JSON",
                    ))
                }
            }
        }
        Ok(AriRequest { path, params })
    }

    /// Checks the request against `operation`: required parameters present, listed values
    /// respected, nothing it does not declare... except what Asterisk also tolerates.
    pub fn check(&self, operation: &Operation) -> Result<(), AriError> {
        for param in operation.params {
            let value = match param.param_type {
                ParamType::Path => self.path.get(param.name).map(String::as_str),
                _ => self.params.get(param.name).and_then(Value::as_str),
            };
            let present = match param.param_type {
                ParamType::Path => value.is_some(),
                _ => self.params.contains_key(param.name),
            };
            if param.required && !present {
                return Err(AriError::bad_request(format!(
                    "Missing parameter {}",
                    param.name
                )));
            }
            if let (Some(value), false) = (value, param.values.is_empty()) {
                let all_listed = value.split(',').all(|v| param.values.contains(&v));
                if !all_listed {
                    return Err(AriError::bad_request(format!(
                        "Invalid value for {}: {value}",
                        param.name
                    )));
                }
            }
        }
        Ok(())
    }

    /// Path parameter `name` (the route guarantees it).
    pub fn path(&self, name: &str) -> &str {
        self.path.get(name).map_or("", String::as_str)
    }

    /// Parameter `name` as text, when given (numbers and booleans of a JSON body included).
    pub fn text(&self, name: &str) -> Option<String> {
        match self.params.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// Parameter `name`, which `check` made sure is there.
    pub fn required(&self, name: &str) -> Result<String, AriError> {
        self.text(name)
            .ok_or_else(|| AriError::bad_request(format!("Missing parameter {name}")))
    }

    /// Parameter `name` as a comma-separated list (a JSON array in a body).
    pub fn list(&self, name: &str) -> Vec<String> {
        match self.params.get(name) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Some(Value::String(s)) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Parameter `name` as a boolean (`true`/`false`, as clients write them); `default` when
    /// absent.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, AriError> {
        match self.params.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") || s == "1" => Ok(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") || s == "0" => Ok(false),
            Some(other) => Err(AriError::bad_request(format!(
                "Invalid value for {name}: {other}"
            ))),
        }
    }

    /// Parameter `name` as a whole number; `None` when absent.
    pub fn number(&self, name: &str) -> Result<Option<i64>, AriError> {
        match self.params.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| AriError::bad_request(format!("Invalid value for {name}: {n}"))),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| AriError::bad_request(format!("Invalid value for {name}: {s}"))),
            Some(other) => Err(AriError::bad_request(format!(
                "Invalid value for {name}: {other}"
            ))),
        }
    }

    /// Parameter `name` as a JSON object of strings (`variables`), unwrapping the
    /// `{"variables": {...}}` form; empty when absent.
    pub fn object(&self, name: &str) -> BTreeMap<String, String> {
        let mut value = self.params.get(name);
        if let Some(inner) = value.and_then(|v| v.get(name)) {
            value = Some(inner);
        }
        value
            .and_then(Value::as_object)
            .map(|fields| {
                fields
                    .iter()
                    .map(|(k, v)| {
                        let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                        (k.clone(), text)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_body_parameters_merge_and_lists_split() {
        let request = AriRequest::gather(
            BTreeMap::new(),
            vec![
                ("media".into(), "sound:a,sound:b".into()),
                ("api_key".into(), "u:p".into()),
            ],
            br#"{"variables": {"variables": {"X": "1"}}, "timeout": 5}"#,
        )
        .unwrap();
        assert_eq!(request.list("media"), ["sound:a", "sound:b"]);
        assert_eq!(request.text("api_key"), None);
        assert_eq!(request.number("timeout").unwrap(), Some(5));
        assert_eq!(request.object("variables").get("X").unwrap(), "1");
        assert!(AriRequest::gather(BTreeMap::new(), vec![], b"[1]").is_err());
        assert!(AriRequest::gather(BTreeMap::new(), vec![], b"{nope").is_err());
    }
}
