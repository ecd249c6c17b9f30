//! Cross-site checks for the state-changing routes (logout, organization
//! switch).

use http::HeaderMap;

use crate::settings::Settings;

/// Refuses cross-site state-changing requests (logout, organization switch):
/// `Sec-Fetch-Site: cross-site`, or an `Origin` that is neither the request's
/// own host nor the redirect URI's origin.
pub(crate) fn is_cross_site(settings: &Settings, headers: &HeaderMap) -> bool {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site") == Some("cross-site") {
        return true;
    }
    let Some(origin) = header("origin") else {
        return false;
    };
    let Ok(origin) = url::Url::parse(origin) else {
        return true; // `Origin: null` and garbage.
    };
    let redirect = &settings.redirect_uri;
    let same_as_redirect = origin.scheme() == redirect.scheme()
        && origin.host_str() == redirect.host_str()
        && origin.port_or_known_default() == redirect.port_or_known_default();
    let host = header("host");
    // The Host header carries no scheme: the app's scheme is the redirect URI's.
    let same_as_host = origin.scheme() == redirect.scheme()
        && host.is_some_and(|h| {
            let authority = match origin.port() {
                Some(port) => format!("{}:{port}", origin.host_str().unwrap_or_default()),
                None => origin.host_str().unwrap_or_default().to_owned(),
            };
            h.eq_ignore_ascii_case(&authority)
        });
    !(same_as_redirect || same_as_host)
}
