//! The crate's few HTML pages (callback errors, refusals, the sign-out
//! button, the organization picker, 403/503): one small template — a
//! `<main>`, one `<h1>`, the message, the action — everything escaped,
//! behind a strict CSP, or the app's own through [`PageContext`] and
//! [`with_page_renderer`](crate::AuthKitBuilder::with_page_renderer): a leaf
//! that the routes and the rejections render with.

use std::sync::{Arc, LazyLock};

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
static CONTENT_SECURITY_POLICY: LazyLock<HeaderValue> =
    LazyLock::new(|| content_security_policy(Some("'none'")));

/// The pages' policy, with `form_action` as its `form-action` source (none
/// when `None`).
fn content_security_policy(form_action: Option<&str>) -> HeaderValue {
    let hash = STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    let form_action = form_action.map_or(String::new(), |f| format!("form-action {f}; "));
    HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; \
         {form_action}frame-ancestors 'none'"
    ))
    .expect("a CSP of ASCII text")
}

/// The same policy without `form-action`, for the sign-out page's one form
/// only: browsers apply `form-action` to every redirect that follows the
/// post too (ours to WorkOS's logout, WorkOS's to the after-logout URL), so
/// `'self'` would stop the sign-out at its first redirect. The form is the
/// page's own, fixed markup; there is no script to add another.
static SIGN_OUT_CONTENT_SECURITY_POLICY: LazyLock<HeaderValue> =
    LazyLock::new(|| content_security_policy(None));

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

/// Which of the crate's pages a [`PageContext`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PageKind {
    /// A failed sign-in: the callback's error, or a refused organization
    /// choice (400, 403 or 503; the action is a link to sign in again).
    CallbackError,
    /// The login or sign-up route refused its options (`return_to`,
    /// `state`, …) or could not start the sign-in.
    SignInRefused,
    /// The `405` answer to a `GET` of the logout route: its action is the
    /// form that posts the sign-out (with a hidden `return_to` when given).
    SignOut,
    /// A cross-site sign-out, refused (403).
    SignOutRefused,
    /// The callback's organization picker (200): one form action per
    /// organization, each posting a hidden `organization_id`.
    OrganizationPicker,
    /// A refused or failed organization switch (403 or 503).
    SwitchRefused,
    /// A [`Forbidden`](crate::Forbidden) answer to a browser navigation (403).
    Forbidden,
    /// WorkOS unavailable, to a browser navigation (503; the session is kept).
    Unavailable,
}

/// The one thing a page lets its reader do next: follow a link, or post a
/// same-origin form.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PageAction {
    /// A link: `<a href="{href}">{label}</a>`.
    #[non_exhaustive]
    Link {
        /// Where it goes (this site's path, or the app's URL).
        href: String,
        /// Its text.
        label: String,
    },
    /// A form posted to `action`, with a submit button labelled `label`
    /// and the hidden `fields` (name, value) it must carry.
    #[non_exhaustive]
    Form {
        /// The path it posts to (same origin).
        action: String,
        /// The button's text.
        label: String,
        /// Its hidden fields, as (name, value).
        fields: Vec<(String, String)>,
    },
}

impl PageAction {
    fn link(href: &str, label: &str) -> Self {
        PageAction::Link {
            href: href.to_owned(),
            label: label.to_owned(),
        }
    }

    /// The text of the link or of the button.
    pub fn label(&self) -> &str {
        match self {
            PageAction::Link { label, .. } | PageAction::Form { label, .. } => label,
        }
    }
}

/// What one of the crate's pages says, as the hook of
/// [`with_page_renderer`](crate::AuthKitBuilder::with_page_renderer)
/// receives it: which page, its status, title, message (plain text, never a
/// secret) and actions (one, except the organization picker's one a choice).
#[derive(Debug, Clone)]
pub struct PageContext {
    kind: PageKind,
    status: StatusCode,
    title: String,
    message: String,
    actions: Vec<PageAction>,
}

impl PageContext {
    fn new(kind: PageKind, status: StatusCode, title: &str, message: &str) -> Self {
        PageContext {
            kind,
            status,
            title: title.to_owned(),
            message: message.to_owned(),
            actions: Vec::new(),
        }
    }

    fn with_action(mut self, action: PageAction) -> Self {
        self.actions.push(action);
        self
    }

    /// Which page this is.
    pub fn kind(&self) -> PageKind {
        self.kind
    }

    /// The status the page is answered with (yours keeps whatever you set).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The page's title, also its one heading.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// What happened, as a sentence of plain text (escape it in HTML).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What the reader can do next: one action, or for the organization
    /// picker one form per organization.
    pub fn actions(&self) -> &[PageAction] {
        &self.actions
    }

    /// The page as the crate renders it (template, CSP, headers): for a
    /// hook that only wraps or changes the built-in page.
    ///
    /// ```
    /// use authkit_axum::AuthKit;
    ///
    /// let builder = AuthKit::builder().with_page_renderer(|page| {
    ///     let mut response = page.render();
    ///     response.headers_mut().insert("x-page", "authkit".parse().unwrap());
    ///     Some(response)
    /// });
    /// # let _ = builder;
    /// ```
    pub fn render(&self) -> Response {
        let actions: Vec<String> = self.actions.iter().map(render_action).collect();
        let actions = match actions.as_slice() {
            [one] => one.clone(),
            many => format!(
                "<ul>{}</ul>",
                many.iter()
                    .map(|a| format!("<li>{a}</li>"))
                    .collect::<String>()
            ),
        };
        let body = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title}</title><style>{STYLE}</style></head>\
             <body><main><h1>{title}</h1><p>{message}</p>{actions}</main></body></html>",
            title = escape(&self.title),
            message = escape(&self.message),
        );
        let mut response = (self.status, Html(body)).into_response();
        let headers = response.headers_mut();
        match self.kind {
            PageKind::SignOut => {
                harden_with(headers, &SIGN_OUT_CONTENT_SECURITY_POLICY);
                // With `no-referrer`, a browser sends the form's POST with `Origin:
                // null`; `same-origin` keeps the real origin for the cross-site check
                // (and sends no referrer anywhere else).
                headers.insert(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                );
            }
            PageKind::OrganizationPicker => {
                harden_with(headers, &PICKER_CONTENT_SECURITY_POLICY);
                // The post must carry the page's real `Origin` for the cross-site check.
                headers.insert(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                );
            }
            _ => harden(headers),
        }
        finish(self.kind, response)
    }
}

fn render_action(action: &PageAction) -> String {
    match action {
        PageAction::Link { href, label } => {
            format!("<p><a href=\"{}\">{}</a></p>", escape(href), escape(label))
        }
        PageAction::Form {
            action,
            label,
            fields,
        } => {
            let hidden: String = fields
                .iter()
                .map(|(name, value)| {
                    format!(
                        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                        escape(name),
                        escape(value)
                    )
                })
                .collect();
            format!(
                "<form method=\"post\" action=\"{}\">{hidden}<button type=\"submit\">{}</button></form>",
                escape(action),
                escape(label)
            )
        }
    }
}

/// What every answer of a page carries, the app's too: its method rule
/// (`Allow: POST` on the 405) and no caching, unless it says otherwise.
fn finish(kind: PageKind, mut response: Response) -> Response {
    let headers = response.headers_mut();
    if kind == PageKind::SignOut && !headers.contains_key(header::ALLOW) {
        headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    // What the built-in page would send, unless the app's page says
    // otherwise: not cached, never framed (the sign-out form and the picker
    // would invite clickjacking), not sniffed, and no referrer (the
    // callback's URL holds the code) — but the origin for a page whose form
    // posts to the crate's cross-site check.
    let referrer = match kind {
        PageKind::SignOut | PageKind::OrganizationPicker => "same-origin",
        _ => "no-referrer",
    };
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, referrer),
    ] {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

/// The app's renderer of the crate's pages.
pub(crate) type PageHook = Arc<dyn Fn(&PageContext) -> Option<Response> + Send + Sync>;

/// `context` as the app renders it (`hook`), or as the crate does.
pub(crate) fn respond(hook: Option<&PageHook>, context: &PageContext) -> Response {
    match hook.and_then(|hook| hook(context)) {
        Some(response) => finish(context.kind, response),
        None => context.render(),
    }
}

/// An error page: a title, an explanation, and a link to try again.
pub(crate) fn error_page(
    hook: Option<&PageHook>,
    kind: PageKind,
    status: StatusCode,
    title: &str,
    detail: &str,
    retry_href: &str,
) -> Response {
    page(
        hook,
        kind,
        status,
        title,
        detail,
        retry_href,
        "Try signing in again",
    )
}

/// A page: a title, an explanation, and one link (`href`, labelled `label`).
pub(crate) fn page(
    hook: Option<&PageHook>,
    kind: PageKind,
    status: StatusCode,
    title: &str,
    detail: &str,
    href: &str,
    label: &str,
) -> Response {
    let context =
        PageContext::new(kind, status, title, detail).with_action(PageAction::link(href, label));
    respond(hook, &context)
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
pub(crate) fn sign_out_page(
    hook: Option<&PageHook>,
    action: &str,
    return_to: Option<&str>,
) -> Response {
    let context = PageContext::new(
        PageKind::SignOut,
        StatusCode::METHOD_NOT_ALLOWED,
        "Sign out",
        "Signing out takes a click here: it is a POST, so that no link \
         or image on another site can sign you out.",
    )
    .with_action(PageAction::Form {
        action: action.to_owned(),
        label: "Sign out".to_owned(),
        fields: return_to
            .map(|r| vec![("return_to".to_owned(), r.to_owned())])
            .unwrap_or_default(),
    });
    respond(hook, &context)
}

/// The policy of the organization picker: the default one, but its forms
/// may post to this origin (the post redirects to a same-origin path only).
static PICKER_CONTENT_SECURITY_POLICY: LazyLock<HeaderValue> =
    LazyLock::new(|| content_security_policy(Some("'self'")));

/// The callback's organization picker: one button per organization, each
/// a same-origin form posting its id to `action`. Names come from WorkOS
/// and are escaped like everything else.
pub(crate) fn organization_picker(
    hook: Option<&PageHook>,
    action: &str,
    email: Option<&str>,
    organizations: &[(&str, &str)],
) -> Response {
    let message = match email {
        Some(e) => format!("You are signing in as {e}. Which organization?"),
        None => "You are signing in. Which organization?".to_owned(),
    };
    let mut context = PageContext::new(
        PageKind::OrganizationPicker,
        StatusCode::OK,
        "Choose an organization",
        &message,
    );
    for (id, name) in organizations {
        context = context.with_action(PageAction::Form {
            action: action.to_owned(),
            label: (if name.is_empty() { id } else { name }).to_string(),
            fields: vec![("organization_id".to_owned(), (*id).to_owned())],
        });
    }
    respond(hook, &context)
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
            None,
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
        let page = error_page(
            None,
            PageKind::CallbackError,
            StatusCode::BAD_REQUEST,
            "t",
            "d",
            "/auth/login",
        );
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
        let page = sign_out_page(None, "/auth/logout", Some("/\"><script>"));
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
        let error = error_page(
            None,
            PageKind::CallbackError,
            StatusCode::BAD_REQUEST,
            "t",
            "d",
            "/",
        );
        let csp = error.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("form-action 'none'"), "{csp}");
    }

    async fn html(response: Response) -> String {
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(body.to_vec()).unwrap()
    }

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    /// Every page of the crate, with markup in everything it shows.
    fn every_page() -> Vec<(PageKind, Response)> {
        let evil = "<img src=x onerror=alert(1)>";
        let mut pages = vec![
            (
                PageKind::SignOut,
                sign_out_page(None, "/auth/logout", Some(evil)),
            ),
            (
                PageKind::OrganizationPicker,
                organization_picker(
                    None,
                    "/auth/organization-selection",
                    Some(evil),
                    &[(evil, evil)],
                ),
            ),
        ];
        for kind in [
            PageKind::CallbackError,
            PageKind::SignInRefused,
            PageKind::SignOutRefused,
            PageKind::SwitchRefused,
            PageKind::Forbidden,
            PageKind::Unavailable,
        ] {
            pages.push((
                kind,
                page(None, kind, StatusCode::FORBIDDEN, evil, evil, evil, evil),
            ));
        }
        pages
    }

    #[tokio::test]
    async fn every_page_is_one_main_with_one_heading_a_message_and_one_action_and_no_script() {
        for (kind, response) in every_page() {
            let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(csp.starts_with("default-src 'none'"), "{kind:?}: {csp}");
            let html = html(response).await;
            assert!(
                html.starts_with("<!doctype html><html lang=\"en\">"),
                "{kind:?}: {html}"
            );
            assert_eq!(count(&html, "<main>"), 1, "{kind:?}: {html}");
            assert_eq!(count(&html, "</main></body></html>"), 1, "{kind:?}: {html}");
            assert_eq!(count(&html, "<h1>"), 1, "{kind:?}: {html}");
            assert!(html.contains("</h1><p>"), "{kind:?}: {html}");
            let actions = count(&html, "<a href=") + count(&html, "<button type=\"submit\">");
            assert_eq!(actions, 1, "{kind:?}: {html}");
            assert!(!html.contains("<script"), "{kind:?}: {html}");
            // Whatever the page shows is escaped: no tag but the template's.
            assert!(!html.contains("<img"), "{kind:?}: {html}");
            assert!(
                html.contains("&lt;img src=x onerror=alert(1)&gt;"),
                "{kind:?}: {html}"
            );
        }
    }

    #[tokio::test]
    async fn a_renderer_replaces_a_page_and_none_keeps_the_built_in_one() {
        let hook: PageHook = Arc::new(|page: &PageContext| {
            (page.kind() == PageKind::SignOut).then(|| {
                let PageAction::Form { action, fields, .. } = &page.actions()[0] else {
                    panic!("the sign-out page's action is a form");
                };
                Html(format!("mine: {action} {fields:?}")).into_response()
            })
        });
        let mine = sign_out_page(Some(&hook), "/auth/logout", Some("/after"));
        // The method rule, no caching, no framing, no sniffing and the
        // form's origin stay on the app's page.
        assert_eq!(mine.headers()[header::ALLOW], "POST");
        assert_eq!(mine.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(mine.headers()[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(mine.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(mine.headers()[header::REFERRER_POLICY], "same-origin");
        assert_eq!(
            html(mine).await,
            "mine: /auth/logout [(\"return_to\", \"/after\")]"
        );
        let kept = error_page(
            Some(&hook),
            PageKind::CallbackError,
            StatusCode::BAD_REQUEST,
            "Sign-in failed",
            "d",
            "/auth/login",
        );
        assert_eq!(kept.status(), StatusCode::BAD_REQUEST);
        assert!(html(kept).await.contains("<h1>Sign-in failed</h1>"));
    }
}
