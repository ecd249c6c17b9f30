//! The hosted pages: plain HTML forms that work without JavaScript. Every
//! value that came from a request is escaped.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::paths::{DEVICE_CONFIRM_PATH, DEVICE_PATH, LOGIN_PATH, ORGANIZATION_PATH, SIGN_UP_PATH};

/// Escapes text for HTML text and (double- or single-)quoted attributes:
/// `& < > " '`.
pub(crate) fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_quoted_attribute(s)
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f5f5f7;margin:0}\
main{max-width:380px;margin:10vh auto;background:#fff;padding:2rem;border-radius:12px;\
box-shadow:0 1px 4px #0002}h1{font-size:1.4rem;margin:.2rem 0 1.2rem}\
.badge{font-size:.75rem;text-transform:uppercase;letter-spacing:.08em;color:#6363f1;margin:0}\
label{display:block;margin:.8rem 0 .3rem;font-weight:600}\
input{width:100%;box-sizing:border-box;padding:.55rem;border:1px solid #ccc;border-radius:6px}\
button{margin-top:1.2rem;width:100%;padding:.65rem;border:0;border-radius:6px;\
background:#6363f1;color:#fff;font-weight:600;cursor:pointer}\
.error{background:#fdecea;color:#a1260d;padding:.6rem;border-radius:6px}\
.orgs button{background:#fff;color:#222;border:1px solid #ccc;text-align:left}\
.code{font-size:1.6rem;letter-spacing:.15em;text-align:center}\
button.deny{background:#fff;color:#a1260d;border:1px solid #a1260d}";

/// A complete page with the hardening headers (no framing, no caching, no scripts).
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title} · WorkOS emulator</title><style>{STYLE}</style></head>\
         <body><main><p class=\"badge\">WorkOS emulator</p><h1>{title}</h1>{body}</main></body></html>",
        title = escape(title),
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn error_box(error: Option<&str>) -> String {
    error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default()
}

fn hidden(authorization_id: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"authorization_id\" value=\"{}\">",
        escape(authorization_id)
    )
}

fn field(name: &str, label: &str, kind: &str, value: &str, extra: &str) -> String {
    format!(
        "<label for=\"{name}\">{label}</label>\
         <input id=\"{name}\" name=\"{name}\" type=\"{kind}\" value=\"{}\" {extra}>",
        escape(value)
    )
}

/// The sign-in form: `email` and `password`, posted to the emulator.
pub(crate) fn login(
    status: StatusCode,
    authorization_id: &str,
    email: &str,
    error: Option<&str>,
) -> Response {
    let body = format!(
        "{error}<form method=\"post\" action=\"{LOGIN_PATH}\">{hidden}{email}{password}\
         <button type=\"submit\">Sign in</button></form>\
         <p>No account? <a href=\"{SIGN_UP_PATH}?authorization_id={id}\">Sign up</a></p>",
        error = error_box(error),
        hidden = hidden(authorization_id),
        email = field(
            "email",
            "Email",
            "email",
            email,
            "autocomplete=\"username\" required"
        ),
        password = field(
            "password",
            "Password",
            "password",
            "",
            "autocomplete=\"current-password\" required"
        ),
        id = escape(&url_component(authorization_id)),
    );
    page(status, "Sign in", &body)
}

/// The sign-up form: `email`, `password`, `first_name`, `last_name`.
pub(crate) fn sign_up(
    status: StatusCode,
    authorization_id: &str,
    email: &str,
    error: Option<&str>,
) -> Response {
    let body = format!(
        "{error}<form method=\"post\" action=\"{SIGN_UP_PATH}\">{hidden}{first}{last}{email}{password}\
         <button type=\"submit\">Create account</button></form>\
         <p>Have an account? <a href=\"{LOGIN_PATH}?authorization_id={id}\">Sign in</a></p>",
        error = error_box(error),
        hidden = hidden(authorization_id),
        first = field(
            "first_name",
            "First name",
            "text",
            "",
            "autocomplete=\"given-name\""
        ),
        last = field(
            "last_name",
            "Last name",
            "text",
            "",
            "autocomplete=\"family-name\""
        ),
        email = field(
            "email",
            "Email",
            "email",
            email,
            "autocomplete=\"username\" required"
        ),
        password = field(
            "password",
            "Password",
            "password",
            "",
            "autocomplete=\"new-password\" minlength=\"8\" required"
        ),
        id = escape(&url_component(authorization_id)),
    );
    page(status, "Create your account", &body)
}

/// The organization picker: one submit button per organization.
pub(crate) fn organization_picker(
    status: StatusCode,
    authorization_id: &str,
    organizations: &[(String, String)],
    error: Option<&str>,
) -> Response {
    let buttons: String = organizations
        .iter()
        .map(|(id, name)| {
            format!(
                "<button type=\"submit\" name=\"organization_id\" value=\"{}\">{}</button>",
                escape(id),
                escape(name)
            )
        })
        .collect();
    let body = format!(
        "{error}<form class=\"orgs\" method=\"post\" action=\"{ORGANIZATION_PATH}\">{hidden}{buttons}</form>",
        error = error_box(error),
        hidden = hidden(authorization_id),
    );
    page(status, "Choose an organization", &body)
}

/// The device page (CLI Auth's `verification_uri`): the user code the
/// terminal shows, prefilled from `verification_uri_complete`.
pub(crate) fn device_code(status: StatusCode, user_code: &str, error: Option<&str>) -> Response {
    let body = format!(
        "{error}<p>Enter the code your command-line application shows.</p>\
         <form method=\"post\" action=\"{DEVICE_PATH}\">{code}\
         <button type=\"submit\">Continue</button></form>",
        error = error_box(error),
        code = field(
            "user_code",
            "Code",
            "text",
            user_code,
            "autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" required"
        ),
    );
    page(status, "Sign in to a device", &body)
}

/// After signing in on the device page: approve or deny the device, with
/// the code shown again so the user can check it is the terminal's
/// (RFC 8628 §5.4: a code typed from a phishing message must not pass
/// unseen).
pub(crate) fn device_confirm(
    status: StatusCode,
    authorization_id: &str,
    user_code: &str,
    email: &str,
    organization: Option<&str>,
) -> Response {
    let organization = organization
        .map(|o| format!(" in <strong>{}</strong>", escape(o)))
        .unwrap_or_default();
    let body = format!(
        "<p>Sign in as <strong>{email}</strong>{organization} on the device showing the code</p>\
         <p class=\"code\"><strong>{code}</strong></p>\
         <p>Only approve if you started this sign-in and the code matches.</p>\
         <form method=\"post\" action=\"{DEVICE_CONFIRM_PATH}\">{hidden}\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\" class=\"deny\">Deny</button></form>",
        email = escape(email),
        code = escape(user_code),
        hidden = hidden(authorization_id),
    );
    page(status, "Approve this device?", &body)
}

/// An error the browser cannot be sent back from (bad client or redirect URI).
pub(crate) fn error(status: StatusCode, title: &str, message: &str) -> Response {
    page(status, title, &format!("<p>{}</p>", escape(message)))
}

fn url_component(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_text_and_attributes() {
        assert_eq!(
            escape(r#"<script>alert("x" + 'y') & co</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; + &#x27;y&#x27;) &amp; co&lt;/script&gt;"
        );
    }
}
