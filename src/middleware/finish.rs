//! [`Finish`]: what the layer does to the app's response on its way out —
//! a 403 or 503 of the crate's as a page for a browser navigation, the
//! rotated or cleared session cookie, `Cache-Control` and `Vary`.

use std::sync::Arc;

use axum::response::Response;
use http::header::{self, Entry};
use http::{HeaderName, HeaderValue};

use crate::cookies;
use crate::rejection::PageJudge;
use crate::shared::Shared;
use crate::state::CredentialSource;

/// What one request's authentication leaves for its response.
pub(crate) struct Finish {
    /// Only when the response may need it: a cookie to write, or the app's
    /// page hooks (one `Arc` less to count on most requests).
    pub(crate) shared: Option<Arc<Shared>>,
    pub(crate) pages: PageJudge,
    pub(crate) set_cookie: Vec<HeaderValue>,
    pub(crate) signed_in: bool,
    pub(crate) source: Option<CredentialSource>,
}

impl Finish {
    /// `response` as the client gets it.
    pub(crate) fn apply(self, response: Response) -> Response {
        let hooks = self.shared.as_ref().map(|shared| &shared.hooks);
        let mut response = self.pages.answer(
            response,
            hooks.and_then(|hooks| hooks.error_page.as_ref()),
            hooks.and_then(|hooks| hooks.page.as_ref()),
        );
        let headers = response.headers_mut();
        // A route that set the session cookie itself (login, logout,
        // organization switch) knows better than the layer.
        if let Some(shared) = &self.shared
            && !self.set_cookie.is_empty()
            && !cookies::response_sets_session(headers, &shared.settings.cookie.name)
        {
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
            // One lookup: the app's `Vary` is read and added to in place.
            match headers.entry(header::VARY) {
                Entry::Vacant(vary) => {
                    vary.insert(HeaderValue::from_static(name));
                }
                Entry::Occupied(mut vary) => {
                    if !varies(vary.iter(), &by) {
                        vary.append(HeaderValue::from_static(name));
                    }
                }
            }
        }
        response
    }
}

/// Whether `Vary` values already say the response varies by `name` (or by
/// everything).
fn varies<'a>(values: impl Iterator<Item = &'a HeaderValue>, name: &HeaderName) -> bool {
    values
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case(name.as_str()) || v.trim() == "*")
}
