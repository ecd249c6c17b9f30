//! [`Finish`]: what the layer does to the app's response on its way out —
//! a 403 or 503 of the crate's as a page for a browser navigation, the
//! rotated or cleared session cookie, `Cache-Control` and `Vary`.

use std::sync::Arc;

use axum::response::Response;
use http::{HeaderName, HeaderValue, header};

use crate::cookies;
use crate::rejection::PageJudge;
use crate::shared::Shared;
use crate::state::CredentialSource;

/// What one request's authentication leaves for its response.
pub(crate) struct Finish {
    pub(crate) shared: Arc<Shared>,
    pub(crate) pages: PageJudge,
    pub(crate) set_cookie: Vec<HeaderValue>,
    pub(crate) signed_in: bool,
    pub(crate) source: Option<CredentialSource>,
}

impl Finish {
    /// `response` as the client gets it.
    pub(crate) fn apply(self, response: Response) -> Response {
        let hooks = &self.shared.hooks;
        let mut response =
            self.pages
                .answer(response, hooks.error_page.as_ref(), hooks.page.as_ref());
        let name = &self.shared.settings.cookie.name;
        let headers = response.headers_mut();
        // A route that set the session cookie itself (login, logout,
        // organization switch) knows better than the layer.
        if !self.set_cookie.is_empty() && !cookies::response_sets_session(headers, name) {
            for value in self.set_cookie {
                headers.append(header::SET_COOKIE, value);
            }
        }
        if self.signed_in || headers.contains_key(header::SET_COOKIE) {
            // Personalised responses and cookie changes must not be cached
            // by shared caches.
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            // The answer depends on the credential it was judged by.
            let (by, name) = match self.source {
                Some(CredentialSource::Bearer) => (header::AUTHORIZATION, "Authorization"),
                _ => (header::COOKIE, "Cookie"),
            };
            if !varies(headers, &by) {
                headers.append(header::VARY, HeaderValue::from_static(name));
            }
        }
        response
    }
}

/// Whether the response already says it varies by `name` (or by everything).
fn varies(headers: &http::HeaderMap, name: &HeaderName) -> bool {
    headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case(name.as_str()) || v.trim() == "*")
}
