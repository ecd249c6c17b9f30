//! The crate's few HTML pages (callback errors, refusals), everything escaped,
//! behind a strict CSP: a leaf that the routes and the rejections render with.

use std::sync::LazyLock;

use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The pages' only style, inline: the `Content-Security-Policy` allows it
/// by its hash and nothing else.
const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}\
                     h1{font-size:1.4rem}p{line-height:1.5}a{color:#4434d4}";

/// `default-src 'none'`: no script, frame, form, image or fetch; the one
/// inline style by hash; never framed (clickjacking).
static CONTENT_SECURITY_POLICY: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    ))
    .expect("a CSP of ASCII text")
});

/// The same policy without `form-action`, for the sign-out page's one form
/// only: browsers apply `form-action` to every redirect that follows the
/// post too (ours to WorkOS's logout, WorkOS's to the after-logout URL), so
/// `'self'` would stop the sign-out at its first redirect. The form is the
/// page's own, fixed markup; there is no script to add another.
static SIGN_OUT_CONTENT_SECURITY_POLICY: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; \
         frame-ancestors 'none'"
    ))
    .expect("a CSP of ASCII text")
});

/// The headers every page of the crate carries: a strict CSP, no framing,
/// no MIME sniffing, no referrer (the callback's URL holds the code), no caching.
fn harden(headers: &mut HeaderMap) {
    harden_with(headers, &CONTENT_SECURITY_POLICY);
}

fn harden_with(headers: &mut HeaderMap, csp: &HeaderValue) {
    headers.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// An error page: a title, an explanation, and a link to try again.
pub(crate) fn error_page(
    status: StatusCode,
    title: &str,
    detail: &str,
    retry_href: &str,
) -> Response {
    page(status, title, detail, retry_href, "Try signing in again")
}

/// A page: a title, an explanation, and one link (`href`, labelled `label`).
pub(crate) fn page(
    status: StatusCode,
    title: &str,
    detail: &str,
    href: &str,
    label: &str,
) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><h1>{title}</h1><p>{detail}</p><p><a href=\"{href}\">{label}</a></p></body></html>",
        title = escape(title),
        detail = escape(detail),
        href = escape(href),
        label = escape(label),
    );
    let mut response = (status, Html(body)).into_response();
    harden(response.headers_mut());
    response
}

/// `path` as a link back to this site, or `/` when a browser could read it
/// as another host (`//evil.example/…`, `/\evil.example`): a request's own
/// target may be either.
pub(crate) fn same_origin_href(path: &str) -> &str {
    let bytes = path.as_bytes();
    if bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && !path.contains('\\')
    {
        path
    } else {
        "/"
    }
}

/// The answer to a `GET` of the logout route: 405 with `Allow: POST`, and a
/// page whose button posts the sign-out to `action` (same origin), carrying
/// `return_to` along when given.
pub(crate) fn sign_out_page(action: &str, return_to: Option<&str>) -> Response {
    let hidden = return_to.map_or_else(String::new, |r| {
        format!(
            "<input type=\"hidden\" name=\"return_to\" value=\"{}\">",
            escape(r)
        )
    });
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sign out</title><style>{STYLE}</style></head>\
         <body><h1>Sign out</h1><p>Signing out takes a click here: it is a POST, so that no link \
         or image on another site can sign you out.</p>\
         <form method=\"post\" action=\"{action}\">{hidden}<button type=\"submit\">Sign out</button></form>\
         </body></html>",
        action = escape(action),
    );
    let mut response = (StatusCode::METHOD_NOT_ALLOWED, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
    harden_with(headers, &SIGN_OUT_CONTENT_SECURITY_POLICY);
    // With `no-referrer`, a browser sends the form's POST with `Origin:
    // null`; `same-origin` keeps the real origin for the cross-site check
    // (and sends no referrer anywhere else).
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// The policy of the organization picker: the default one, but its forms
/// may post to this origin (the post redirects to a same-origin path only).
static PICKER_CONTENT_SECURITY_POLICY: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    ))
    .expect("a CSP of ASCII text")
});

/// The callback's organization picker: one button per organization, each
/// a same-origin form posting its id to `action`. Names come from WorkOS
/// and are escaped like everything else.
pub(crate) fn organization_picker(
    action: &str,
    email: Option<&str>,
    organizations: &[(&str, &str)],
) -> Response {
    let who = email.map_or_else(String::new, |e| {
        format!(" as <strong>{}</strong>", escape(e))
    });
    let forms: String = organizations
        .iter()
        .map(|(id, name)| {
            format!(
                "<li><form method=\"post\" action=\"{action}\">\
                 <input type=\"hidden\" name=\"organization_id\" value=\"{id}\">\
                 <button type=\"submit\">{name}</button></form></li>",
                action = escape(action),
                id = escape(id),
                name = escape(if name.is_empty() { id } else { name }),
            )
        })
        .collect();
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Choose an organization</title><style>{STYLE}</style></head>\
         <body><h1>Choose an organization</h1><p>You are signing in{who}. Which organization?</p>\
         <ul>{forms}</ul></body></html>"
    );
    let mut response = (StatusCode::OK, Html(body)).into_response();
    let headers = response.headers_mut();
    harden_with(headers, &PICKER_CONTENT_SECURITY_POLICY);
    // The post must carry the page's real `Origin` for the cross-site check.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_back_never_points_at_another_host() {
        assert_eq!(same_origin_href("/a/b?c=d"), "/a/b?c=d");
        for foreign in [
            "//evil.example/x",
            "/\\evil.example",
            "/a\\b",
            "http://x",
            "",
        ] {
            assert_eq!(same_origin_href(foreign), "/", "{foreign}");
        }
    }

    #[tokio::test]
    async fn the_organization_picker_escapes_names_and_posts_only_to_its_own_origin() {
        let page = organization_picker(
            "/auth/organization-selection",
            Some("a<b>@example.com"),
            &[("org_1", "<script>x</script>"), ("org_2\"><i>", "")],
        );
        let h = page.headers();
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("form-action 'self'"), "{csp}");
        assert!(csp.starts_with("default-src 'none'"), "{csp}");
        assert_eq!(h[header::REFERRER_POLICY], "same-origin");
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        let body = axum::body::to_bytes(page.into_body(), usize::MAX)
            .await
            .unwrap();
        let html = String::from_utf8(body.to_vec()).unwrap();
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"), "{html}");
        assert!(html.contains("a&lt;b&gt;@example.com"), "{html}");
        assert!(
            !html.contains("<script>") && !html.contains("<i>"),
            "{html}"
        );
        assert!(
            html.contains("action=\"/auth/organization-selection\""),
            "{html}"
        );
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert(\"x\" & 'y')</script>"),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }

    #[test]
    fn error_pages_forbid_scripts_framing_sniffing_and_referrers() {
        let page = error_page(StatusCode::BAD_REQUEST, "t", "d", "/auth/login");
        let h = page.headers();
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.starts_with("default-src 'none'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        // The hash allows exactly the page's style.
        let hash = STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
        assert!(csp.contains(&format!("style-src 'sha256-{hash}'")), "{csp}");
    }

    #[test]
    fn only_the_sign_out_page_may_post_a_form_and_keeps_its_origin_for_the_post() {
        let page = sign_out_page("/auth/logout", Some("/\"><script>"));
        assert_eq!(page.status(), StatusCode::METHOD_NOT_ALLOWED);
        let h = page.headers();
        assert_eq!(h[header::ALLOW], "POST");
        // Its form must post with its real Origin: no-referrer would make it `null`.
        assert_eq!(h[header::REFERRER_POLICY], "same-origin");
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        // No form-action: browsers would apply it to the redirects after the
        // post (to WorkOS's logout and back) and stop the sign-out.
        assert!(!csp.contains("form-action"), "{csp}");
        assert!(csp.starts_with("default-src 'none'"), "{csp}");
        let error = error_page(StatusCode::BAD_REQUEST, "t", "d", "/");
        let csp = error.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("form-action 'none'"), "{csp}");
    }
}
