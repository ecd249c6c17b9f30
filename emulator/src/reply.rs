//! Answers in WorkOS's shapes: success bodies, the error shapes (API,
//! validation, OAuth, challenges), and a lenient JSON body extractor.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A handler's answer.
pub(crate) type Reply = Result<Response, Failure>;

/// 200 with a JSON body.
pub(crate) fn ok(body: Value) -> Reply {
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// 201 with a JSON body.
pub(crate) fn created(body: Value) -> Reply {
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// A success without a body (deletes, revokes, deprecated "send" calls).
pub(crate) fn empty(status: StatusCode) -> Reply {
    Ok(status.into_response())
}

/// Every way a request can fail, each rendered in the shape WorkOS uses.
#[derive(Debug)]
pub(crate) enum Failure {
    /// 404 `{"message", "code": "entity_not_found", "entity_id"}`.
    NotFound { entity: &'static str, id: String },
    /// 422 `{"code": "invalid_request_parameters", "message": "Validation failed", "errors"}`.
    Validation(Vec<(String, String)>),
    /// `{"code", "message"}` with a status.
    Coded {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    /// `{"message"}` with a status.
    Message { status: StatusCode, message: String },
    /// OAuth's `{"error", "error_description"}`.
    OAuth {
        status: StatusCode,
        error: &'static str,
        description: String,
    },
    /// 403 authentication challenge (the body is complete).
    Challenge(Value),
}

impl Failure {
    pub(crate) fn not_found(entity: &'static str, id: impl Into<String>) -> Self {
        Failure::NotFound {
            entity,
            id: id.into(),
        }
    }

    /// A 422 with one field error.
    pub(crate) fn invalid(code: impl Into<String>, message: impl Into<String>) -> Self {
        Failure::Validation(vec![(code.into(), message.into())])
    }

    pub(crate) fn coded(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Failure::Coded {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn message(status: StatusCode, message: impl Into<String>) -> Self {
        Failure::Message {
            status,
            message: message.into(),
        }
    }

    /// 401 `{"message": "Unauthorized"}`: a missing or wrong API key.
    pub(crate) fn unauthorized() -> Self {
        Self::message(StatusCode::UNAUTHORIZED, "Unauthorized")
    }

    /// 400 `invalid_grant`.
    pub(crate) fn invalid_grant(description: impl Into<String>) -> Self {
        Failure::OAuth {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_grant",
            description: description.into(),
        }
    }

    /// 400 `invalid_grant` for a code that is unknown, used or expired.
    pub(crate) fn bad_code(code: &str) -> Self {
        Self::invalid_grant(format!("The code '{code}' has expired or is invalid."))
    }

    /// 401 `invalid_client`.
    pub(crate) fn invalid_client(description: impl Into<String>) -> Self {
        Failure::OAuth {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: description.into(),
        }
    }

    /// 400 for a pending authentication token that is unknown or expired.
    pub(crate) fn bad_pending_token(token: &str) -> Self {
        Self::coded(
            StatusCode::BAD_REQUEST,
            "invalid_pending_authentication_token",
            format!("The pending_authentication_token '{token}' has expired or is invalid."),
        )
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Failure::NotFound { entity, id } => (
                StatusCode::NOT_FOUND,
                json!({
                    "message": format!("{entity} not found: '{id}'."),
                    "code": "entity_not_found",
                    "entity_id": id,
                }),
            ),
            Failure::Validation(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({
                    "code": "invalid_request_parameters",
                    "message": "Validation failed",
                    "errors": errors
                        .into_iter()
                        .map(|(code, message)| json!({"code": code, "message": message}))
                        .collect::<Vec<_>>(),
                }),
            ),
            Failure::Coded {
                status,
                code,
                message,
            } => (status, json!({"code": code, "message": message})),
            Failure::Message { status, message } => (status, json!({"message": message})),
            Failure::OAuth {
                status,
                error,
                description,
            } => (
                status,
                json!({"error": error, "error_description": description}),
            ),
            Failure::Challenge(body) => (StatusCode::FORBIDDEN, body),
        };
        (status, Json(body)).into_response()
    }
}

/// Collects the 422 errors of a request's required fields.
#[derive(Debug, Default)]
pub(crate) struct Validator {
    errors: Vec<(String, String)>,
}

impl Validator {
    /// The field's value, or `""` after recording `<field>_string_required`.
    pub(crate) fn required<'a>(&mut self, field: &str, value: Option<&'a str>) -> &'a str {
        match value.filter(|v| !v.trim().is_empty()) {
            Some(v) => v,
            None => {
                self.errors.push((
                    format!("{field}_string_required"),
                    format!("{} should be a non-empty string.", humanize(field)),
                ));
                ""
            }
        }
    }

    /// Records an error when `ok` is false.
    pub(crate) fn check(&mut self, ok: bool, code: &str, message: impl Into<String>) {
        if !ok {
            self.errors.push((code.to_owned(), message.into()));
        }
    }

    /// `Err(422)` when anything was recorded.
    pub(crate) fn finish(self) -> Result<(), Failure> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Failure::Validation(self.errors))
        }
    }
}

/// `password_reset_url` → `Password Reset Url`, `user_id` → `User ID`.
fn humanize(field: &str) -> String {
    field
        .split('_')
        .map(|word| match word {
            "id" => "ID".to_owned(),
            w => {
                let mut chars = w.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A JSON body; an empty body reads as `{}`, a malformed one answers 422.
/// A form (`application/x-www-form-urlencoded`, as WorkOS's docs post to
/// the authenticate and device endpoints with `curl -d`) reads as an object
/// of strings.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub(crate) T);

/// Whether a request's `Content-Type` is a URL-encoded form.
pub(crate) fn is_form(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        })
}

/// A form's fields as a JSON object of strings (the last of a repeated name wins).
pub(crate) fn form_object(bytes: &[u8]) -> Value {
    let map: serde_json::Map<String, Value> = url::form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    Value::Object(map)
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let form = is_form(req.headers());
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| Failure::invalid("body_unreadable", e.to_string()))?;
        if form {
            return serde_json::from_value(form_object(&bytes))
                .map(JsonBody)
                .map_err(|e| Failure::invalid("body_invalid", format!("Invalid form body: {e}")));
        }
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(bytes)
            .map(JsonBody)
            .map_err(|e| Failure::invalid("body_invalid", format!("Invalid JSON body: {e}")))
    }
}

/// For `Option<Option<T>>` fields: absent → `None`, `null` → `Some(None)`.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_read_like_workos_messages() {
        assert_eq!(humanize("user_id"), "User ID");
        assert_eq!(humanize("password_reset_url"), "Password Reset Url");
        assert_eq!(humanize("email"), "Email");
    }
}
