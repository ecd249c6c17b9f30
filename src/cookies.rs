//! The session-cookie codec: reading the request's cookies, writing the
//! session (in one cookie or in numbered chunks), clearing it, and the
//! attributes every cookie of the crate carries ([`CookieSettings`]).
//!
//! The layer and the routes both read and write through here, directly on
//! the headers instead of through a cookie jar, so the crate works next to
//! (or without) a `CookieManagerLayer` of the app's own.

use std::borrow::Cow;
use std::time::Duration;

use cookie::{Cookie, SameSite as CookieSameSite};
use http::{HeaderMap, HeaderValue, header};

use crate::config::SameSite;

/// The attributes of the session cookie (and of the crate's other cookies,
/// which differ only in name, path and lifetime).
#[derive(Debug, Clone)]
pub(crate) struct CookieSettings {
    pub(crate) name: String,
    pub(crate) max_age: Duration,
    pub(crate) domain: Option<String>,
    pub(crate) same_site: SameSite,
    pub(crate) secure: bool,
}

/// Browsers cap a cookie header at about 4 KiB; longer `Cookie` request
/// headers than this are not parsed (they cannot hold a valid session).
pub(crate) const MAX_COOKIE_HEADER: usize = 64 * 1024;

/// Every cookie of the request, name and raw value (surrounding quotes
/// removed; [`decode`] undoes percent-escapes), in order.
///
/// Each `;`-separated pair is checked and split on its own: a pair that is
/// not UTF-8 (a page's script wrote `x=é` in Latin-1, a sibling subdomain
/// set something odd) or not `name=value` is skipped, never the whole
/// header. (The `cookie` crate's parser works on a whole `&str` header and
/// decodes every pair eagerly, while only the wanted ones need it.)
pub(crate) fn request_cookies(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter(|v| v.len() <= MAX_COOKIE_HEADER)
        .flat_map(|v| pairs(v.as_bytes()))
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            let name = name.trim();
            (!name.is_empty()).then(|| (name, trim_quotes(value.trim())))
        })
}

/// A cookie value with its percent-escapes undone; `None` when they are
/// broken or do not decode to UTF-8.
pub(crate) fn decode(value: &str) -> Option<Cow<'_, str>> {
    // `memchr` scans a session-sized value many bytes at a time.
    if memchr::memchr(b'%', value.as_bytes()).is_some() {
        percent_decode(value).map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(value))
    }
}

fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The `;`-separated pairs of one `Cookie` header that are UTF-8. A header
/// that is UTF-8 throughout (nearly all) is split as text, which is fast;
/// one that is not is split as bytes, and only its bad pairs are dropped.
fn pairs(header: &[u8]) -> impl Iterator<Item = &str> {
    let text = std::str::from_utf8(header).ok();
    let bytes = text.is_none().then_some(header);
    text.into_iter().flat_map(split_pairs).chain(
        bytes
            .into_iter()
            .flat_map(|b| b.split(|&c| c == b';'))
            .filter_map(|pair| std::str::from_utf8(pair).ok()),
    )
}

/// `text.split(';')`, with the `;`s found by `memchr` (the session's pair is
/// kilobytes long, and this runs on every request).
fn split_pairs(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr_iter(b';', text.as_bytes())
        .chain(std::iter::once(text.len()))
        .map(move |end| {
            // `;` is ASCII: both ends are character boundaries.
            let pair = &text[start..end];
            start = end + 1;
            pair
        })
}

/// A value without one pair of surrounding double quotes (RFC 6265 allows them).
fn trim_quotes(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// The value of the first cookie named `name`, percent-decoded if needed.
#[cfg(test)]
pub(crate) fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<Cow<'a, str>> {
    let (_, value) = request_cookies(headers).find(|(n, _)| *n == name)?;
    decode(value)
}

/// Attributes of one cookie to write.
pub(crate) struct CookieSpec<'a> {
    pub(crate) name: &'a str,
    pub(crate) value: &'a str,
    pub(crate) path: &'a str,
    pub(crate) max_age: Option<Duration>,
    pub(crate) same_site: SameSite,
}

pub(crate) fn set_cookie_header(config: &CookieSettings, spec: CookieSpec<'_>) -> HeaderValue {
    let mut cookie = Cookie::build((spec.name.to_owned(), spec.value.to_owned()))
        .path(spec.path.to_owned())
        .http_only(true)
        .secure(config.secure)
        .same_site(match spec.same_site {
            SameSite::Lax => CookieSameSite::Lax,
            SameSite::Strict => CookieSameSite::Strict,
            SameSite::None => CookieSameSite::None,
        });
    if let Some(domain) = &config.domain {
        cookie = cookie.domain(domain.clone());
    }
    if let Some(max_age) = spec.max_age {
        cookie = cookie.max_age(cookie::time::Duration::seconds(
            i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX),
        ));
    }
    let mut value = HeaderValue::from_str(&cookie.build().to_string())
        .expect("cookie names and sealed values are header-safe");
    // Sensitive: HTTP/2 and HTTP/3 never index it (HPACK/QPACK), and
    // tracing layers that honour the flag redact it.
    value.set_sensitive(true);
    value
}

/// The longest `Set-Cookie` value written: browsers keep cookies up to
/// 4096 bytes (name, value and attributes), and drop larger ones silently.
pub(crate) const MAX_SET_COOKIE: usize = 4096;

/// At most this many chunks are read back (64 KiB of session at most).
const MAX_CHUNKS: usize = 16;

fn chunk_name(name: &str, index: usize) -> String {
    format!("{name}.{index}")
}

/// Every value the request offers as the session, to be tried in turn:
/// each cookie named `name` (a browser sends a host-only cookie and a
/// `Domain=` one of the same name side by side, and a sibling subdomain can
/// add its own), then the chunks `name.0`, `name.1`, … joined back together.
/// Duplicates are dropped.
pub(crate) fn read_session<'a>(headers: &'a HeaderMap, name: &str) -> Vec<Cow<'a, str>> {
    let mut candidates: Vec<Cow<'a, str>> = Vec::new();
    let mut chunks: Vec<(usize, Cow<'a, str>)> = Vec::new();
    for (n, value) in request_cookies(headers) {
        if n == name {
            if let Some(value) = decode(value)
                && !value.is_empty()
                && !candidates.contains(&value)
            {
                candidates.push(value);
            }
        } else if let Some(index) = chunk_index(n, name)
            && index < MAX_CHUNKS
            && !chunks.iter().any(|(i, _)| *i == index)
            && let Some(value) = decode(value)
        {
            chunks.push((index, value));
        }
    }
    if !chunks.is_empty() {
        chunks.sort_by_key(|(i, _)| *i);
        let mut joined = String::new();
        for (expected, (index, part)) in chunks.iter().enumerate() {
            if *index != expected {
                break;
            }
            joined.push_str(part);
        }
        if !joined.is_empty() && !candidates.iter().any(|c| *c == joined) {
            candidates.push(Cow::Owned(joined));
        }
    }
    candidates
}

/// `i` when `cookie` is `name.i`, the name of the session's chunk `i`.
fn chunk_index(cookie: &str, name: &str) -> Option<usize> {
    let index = cookie.strip_prefix(name)?.strip_prefix('.')?;
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    index.parse().ok()
}

/// The session cookie's value as the request's raw bytes, when the request
/// carries it in its one plain shape: exactly one cookie named `name`, no
/// chunk of it, every cookie name ASCII. `None` for anything else, which
/// [`read_session`] then reads.
///
/// The value is neither percent-decoded nor checked for UTF-8: it is only
/// looked up among the cookies that authenticated before, which were
/// decoded and checked when they did. A value that is not one of them —
/// escaped, not UTF-8, quoted oddly — misses, and a miss takes the full
/// path: the lookup can only find what [`read_session`] would find.
pub(crate) fn single_session_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a [u8]> {
    let name = name.as_bytes();
    let mut found = None;
    for header in headers.get_all(header::COOKIE) {
        if header.len() > MAX_COOKIE_HEADER {
            continue;
        }
        let bytes = header.as_bytes();
        let mut start = 0;
        for end in memchr::memchr_iter(b';', bytes).chain(std::iter::once(bytes.len())) {
            let pair = &bytes[start..end];
            start = end + 1;
            let Some(eq) = memchr::memchr(b'=', pair) else {
                continue;
            };
            let n = pair[..eq].trim_ascii();
            if !n.is_ascii() {
                return None;
            }
            if n == name {
                if found.is_some() {
                    return None;
                }
                let value = pair[eq + 1..].trim_ascii();
                found = Some(
                    value
                        .strip_prefix(b"\"")
                        .and_then(|v| v.strip_suffix(b"\""))
                        .unwrap_or(value),
                );
            } else if n.len() > name.len() && n.starts_with(name) && n[name.len()] == b'.' {
                // Possibly a chunk: the full path decides.
                return None;
            }
        }
    }
    found.filter(|v| !v.is_empty())
}

/// Indices of the session's chunk cookies the request carries.
fn chunks_present(headers: &HeaderMap, name: &str) -> Vec<usize> {
    let mut found: Vec<usize> = request_cookies(headers)
        .filter_map(|(n, _)| chunk_index(n, name))
        .filter(|i| *i < 64)
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

/// `Set-Cookie` headers that store `value` as the session: one cookie when
/// it fits in [`MAX_SET_COOKIE`] bytes, else numbered chunks, each within the
/// limit. Cookies of the other layout (or stale chunks) the request carries
/// are deleted.
pub(crate) fn write_session(
    config: &CookieSettings,
    value: &str,
    request: &HeaderMap,
) -> Vec<HeaderValue> {
    let mut out = write_session_cookies(config, value, request);
    out.extend(clear_host_only(config, request));
    out
}

/// With a cookie domain, the host-only cookies of the session's name the
/// request may carry (left from before `WORKOS_COOKIE_DOMAIN` was set) are
/// stale: the crate never writes them. Left in place, the browser sends the
/// older one first and a later refresh would spend its used refresh token;
/// so every write deletes them (a host-only deletion never touches the
/// `Domain=` cookie, which is stored apart).
fn clear_host_only(config: &CookieSettings, request: &HeaderMap) -> Vec<HeaderValue> {
    if config.domain.is_none() {
        return Vec::new();
    }
    let name = &config.name;
    let carried = request_cookies(request).any(|(n, _)| n == name);
    let names: Vec<String> = carried
        .then(|| name.clone())
        .into_iter()
        .chain(chunk_names_present(request, name))
        .collect();
    clear_each(&host_only(config), &names)
}

fn write_session_cookies(
    config: &CookieSettings,
    value: &str,
    request: &HeaderMap,
) -> Vec<HeaderValue> {
    let name = &config.name;
    let whole = session_cookie(config, name, value);
    let present = chunks_present(request, name);
    if whole.len() <= MAX_SET_COOKIE {
        let mut out = vec![whole];
        out.extend(
            present
                .iter()
                .map(|&i| clear_cookie(config, &chunk_name(name, i), "/", config.same_site)),
        );
        return out;
    }
    // The attributes cost the same for every chunk: measure them once.
    let overhead = session_cookie(config, &chunk_name(name, 99), "").len();
    let room = MAX_SET_COOKIE.saturating_sub(overhead).max(1);
    // Seal characters are ASCII, so byte chunks are char boundaries.
    let parts: Vec<&str> = value
        .as_bytes()
        .chunks(room)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    let mut out: Vec<HeaderValue> = parts
        .iter()
        .enumerate()
        .map(|(i, part)| session_cookie(config, &chunk_name(name, i), part))
        .collect();
    if request_cookies(request).any(|(n, _)| n == name) {
        out.push(clear_cookie(config, name, "/", config.same_site));
    }
    out.extend(
        present
            .iter()
            .filter(|&&i| i >= parts.len())
            .map(|&i| clear_cookie(config, &chunk_name(name, i), "/", config.same_site)),
    );
    out
}

/// `Set-Cookie` headers that delete the session, chunks included. With a
/// cookie domain, both forms go: the `Domain=` cookie and a host-only one
/// of the same name (left from before the domain was set, or by a sibling
/// subdomain), which would otherwise be read first and fail forever.
pub(crate) fn clear_session(config: &CookieSettings, request: &HeaderMap) -> Vec<HeaderValue> {
    let name = &config.name;
    let names: Vec<String> = std::iter::once(name.clone())
        .chain(chunk_names_present(request, name))
        .collect();
    let mut out = clear_each(config, &names);
    if config.domain.is_some() {
        out.extend(clear_each(&host_only(config), &names));
    }
    out
}

/// The names of the session's chunk cookies the request carries.
fn chunk_names_present(request: &HeaderMap, name: &str) -> impl Iterator<Item = String> {
    chunks_present(request, name)
        .into_iter()
        .map(move |i| chunk_name(name, i))
}

/// The same attributes without a `Domain`: the host-only form of a cookie.
fn host_only(config: &CookieSettings) -> CookieSettings {
    CookieSettings {
        domain: None,
        ..config.clone()
    }
}

/// `Set-Cookie` headers that delete each of `names`.
fn clear_each(config: &CookieSettings, names: &[String]) -> Vec<HeaderValue> {
    names
        .iter()
        .map(|n| clear_cookie(config, n, "/", config.same_site))
        .collect()
}

fn session_cookie(config: &CookieSettings, name: &str, value: &str) -> HeaderValue {
    set_cookie_header(
        config,
        CookieSpec {
            name,
            value,
            path: "/",
            max_age: Some(config.max_age),
            same_site: config.same_site,
        },
    )
}

/// `Set-Cookie` that deletes a cookie.
pub(crate) fn clear_cookie(
    config: &CookieSettings,
    name: &str,
    path: &str,
    same_site: SameSite,
) -> HeaderValue {
    set_cookie_header(
        config,
        CookieSpec {
            name,
            value: "",
            path,
            max_age: Some(Duration::ZERO),
            same_site,
        },
    )
}

/// Whether a response already sets the session cookie `name` (or one of its
/// chunks): then the layer leaves it alone.
pub(crate) fn response_sets_session(headers: &HeaderMap, name: &str) -> bool {
    headers.get_all(header::SET_COOKIE).iter().any(|v| {
        v.to_str()
            .ok()
            .and_then(|s| s.split_once('='))
            .is_some_and(|(n, _)| {
                let n = n.trim();
                n == name
                    || n.strip_prefix(name)
                        .and_then(|rest| rest.strip_prefix('.'))
                        .is_some_and(|i| i.bytes().all(|b| b.is_ascii_digit()))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with(cookies: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, cookies.parse().unwrap());
        h
    }

    #[test]
    fn pairs_are_split_at_every_semicolon_as_str_split_does() {
        for text in [
            "",
            ";",
            "a=1",
            "a=1;",
            ";a=1",
            "a=1; b=2;; c=%3B",
            "é=ü; x=\"q\"",
        ] {
            assert_eq!(
                split_pairs(text).collect::<Vec<_>>(),
                text.split(';').collect::<Vec<_>>(),
                "{text:?}"
            );
        }
    }

    fn names(values: &[HeaderValue]) -> Vec<String> {
        values
            .iter()
            .map(|v| {
                let s = v.to_str().unwrap();
                let name = s.split('=').next().unwrap();
                if s.contains("Max-Age=0") {
                    format!("-{name}")
                } else {
                    name.to_owned()
                }
            })
            .collect()
    }

    #[test]
    fn large_sessions_are_chunked_under_the_browser_limit_and_read_back() {
        let config = config(true);
        let value: String = (0..10_000)
            .map(|i| (b'a' + (i % 26) as u8) as char)
            .collect();
        let written = write_session(&config, &value, &request_with("wos-session=old"));
        assert!(written.iter().all(|v| v.len() <= MAX_SET_COOKIE));
        assert_eq!(
            names(&written[..4]),
            [
                "wos-session.0",
                "wos-session.1",
                "wos-session.2",
                "-wos-session"
            ]
        );
        let jar: Vec<String> = written
            .iter()
            .filter(|v| !v.to_str().unwrap().contains("Max-Age=0"))
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
            .collect();
        let request = request_with(&jar.join("; "));
        assert_eq!(read_session(&request, "wos-session"), [value.as_str()]);
    }

    #[test]
    fn switching_layouts_deletes_the_other_layouts_cookies() {
        let config = config(false);
        let request = request_with("wos-session.0=a; wos-session.1=b; wos-session.2=c");
        assert_eq!(
            names(&write_session(&config, "small", &request)[..4]),
            [
                "wos-session",
                "-wos-session.0",
                "-wos-session.1",
                "-wos-session.2"
            ]
        );
        let big = "x".repeat(5000);
        assert_eq!(
            names(&write_session(&config, &big, &request)[..3]),
            ["wos-session.0", "wos-session.1", "-wos-session.2"]
        );
        let cleared = clear_session(&config, &request);
        assert_eq!(
            names(&cleared[..4]),
            [
                "-wos-session",
                "-wos-session.0",
                "-wos-session.1",
                "-wos-session.2"
            ]
        );
    }

    #[test]
    fn writing_with_a_cookie_domain_also_deletes_stale_host_only_cookies() {
        // A host-only session from before WORKOS_COOKIE_DOMAIN was set.
        let request = request_with("wos-session=stale; wos-session=current");
        let written = write_session(&config(true), "new", &request);
        let host_only: Vec<&str> = written
            .iter()
            .map(|v| v.to_str().unwrap())
            .filter(|s| !s.contains("Domain="))
            .collect();
        assert_eq!(host_only.len(), 1, "{written:?}");
        assert!(host_only[0].starts_with("wos-session=;") && host_only[0].contains("Max-Age=0"));
        assert!(
            written[0].to_str().unwrap().starts_with("wos-session=new;")
                && written[0].to_str().unwrap().contains("Domain=example.com")
        );
        // Without a domain nothing extra is written.
        let plain = CookieSettings {
            domain: None,
            ..config(true)
        };
        assert_eq!(write_session(&plain, "new", &request).len(), 1);
    }

    #[test]
    fn clearing_with_a_cookie_domain_deletes_both_the_domain_and_the_host_only_cookie() {
        let request = request_with("wos-session=stale; wos-session.0=a");
        let cleared = clear_session(&config(true), &request);
        let described: Vec<(String, bool)> = cleared
            .iter()
            .map(|v| {
                let s = v.to_str().unwrap();
                assert!(s.contains("Max-Age=0") && s.contains("Path=/"), "{s}");
                (
                    s.split('=').next().unwrap().to_owned(),
                    s.contains("Domain=example.com"),
                )
            })
            .collect();
        for name in ["wos-session", "wos-session.0"] {
            for domain in [true, false] {
                assert!(
                    described.contains(&(name.to_owned(), domain)),
                    "{name} (domain: {domain}) not cleared: {described:?}"
                );
            }
        }
        // Without a domain there is one form only.
        let host_only = CookieSettings {
            domain: None,
            ..config(true)
        };
        assert_eq!(
            names(&clear_session(&host_only, &request)),
            ["-wos-session", "-wos-session.0"]
        );
    }

    #[test]
    fn a_byte_above_0x7f_in_one_pair_skips_that_pair_not_the_whole_header() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_bytes(
                b"latin1=\xe9t\xe9; wos-session=Fe26.2*1*x; utf8=\xc3\xa9; \xff; flow=%7E",
            )
            .unwrap(),
        );
        assert_eq!(
            read_cookie(&h, "wos-session").as_deref(),
            Some("Fe26.2*1*x")
        );
        assert_eq!(read_cookie(&h, "utf8").as_deref(), Some("\u{e9}"));
        assert_eq!(read_cookie(&h, "flow").as_deref(), Some("~"));
        assert_eq!(read_cookie(&h, "latin1"), None);
        assert_eq!(read_session(&h, "wos-session"), ["Fe26.2*1*x"]);
    }

    #[test]
    fn every_cookie_of_the_session_name_is_a_candidate_then_the_joined_chunks() {
        let h = request_with(
            "wos-session=host-only; other=1; wos-session=\"domain\"; wos-session=host-only; \
             wos-session.1=b; wos-session.0=a; wos-session.x=no; wos-session.3=gap",
        );
        assert_eq!(
            read_session(&h, "wos-session"),
            ["host-only", "domain", "ab"]
        );
        assert!(read_session(&request_with("other=1"), "wos-session").is_empty());
        assert!(read_session(&request_with("wos-session="), "wos-session").is_empty());
    }

    /// Whether `value` could be a seal: only a seal's characters, the only
    /// values the cache of authenticated cookies holds.
    fn seal_like(value: &[u8]) -> bool {
        !value.is_empty()
            && value
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_*~.".contains(b))
    }

    #[test]
    fn the_plain_shape_read_finds_what_the_full_read_finds_or_steps_aside() {
        let big = format!("pad={}", "x".repeat(MAX_COOKIE_HEADER));
        let huge = format!("wos-session=v; {big}");
        // (header lines, the value the plain read must find, if any)
        let cases: &[(&[&[u8]], Option<&str>)] = &[
            (&[b"wos-session=Fe26.2*1*x~2"], Some("Fe26.2*1*x~2")),
            (&[b"a=1; wos-session=Fe26.2*1*x ; b=2"], Some("Fe26.2*1*x")),
            (&[b"  wos-session = \"Fe26.2*1*x\""], Some("Fe26.2*1*x")),
            (&[b"a=1", b"wos-session=Fe26.2*1*x"], Some("Fe26.2*1*x")),
            (
                &[b"latin1=\xe9t\xe9; wos-session=Fe26.2*1*x"],
                Some("Fe26.2*1*x"),
            ),
            (&[b"wos-sessionx=1; wos-session=v"], Some("v")),
            (&[b"; ;=; wos-session=v;"], Some("v")),
            (&[big.as_bytes(), b"wos-session=v"], Some("v")),
            // Stepped aside: the full read decides.
            (&[b"wos-session=Fe26.2*1*x; wos-session=Fe26.2*1*y"], None),
            (&[b"wos-session=v", b"wos-session=w"], None),
            (&[b"wos-session=Fe26.2*1*x; wos-session.0=a"], None),
            (&[b"wos-session.0=a; wos-session.1=b"], None),
            (&[b"\xe9=1; wos-session=Fe26.2*1*x"], None),
            (&[b"wos-session="], None),
            (&[b"other=1"], None),
            (&[huge.as_bytes()], None),
            // Found, but not as a seal: these can only miss the cache.
            (&[b"wos-session=Fe26.2%2A1%2Ax"], Some("Fe26.2%2A1%2Ax")),
            (&[b"wos-session=\xc2\xa0v\xc2\xa0"], Some("\u{a0}v\u{a0}")),
        ];
        for (lines, expected) in cases {
            let mut h = HeaderMap::new();
            for line in *lines {
                h.append(header::COOKIE, HeaderValue::from_bytes(line).unwrap());
            }
            let shown = || {
                String::from_utf8_lossy(&lines.concat())
                    .chars()
                    .take(80)
                    .collect::<String>()
            };
            let found = single_session_value(&h, "wos-session");
            assert_eq!(found, expected.map(str::as_bytes), "{}", shown());
            // What the cache can hold is a seal; for one, the full read
            // gives exactly it.
            if let Some(value) = found.filter(|v| seal_like(v)) {
                let full = read_session(&h, "wos-session");
                assert_eq!(full.len(), 1, "{}", shown());
                assert_eq!(full[0].as_bytes(), value, "{}", shown());
            }
        }
    }

    #[test]
    fn the_layer_recognises_a_response_that_sets_the_session_or_a_chunk() {
        let mut h = HeaderMap::new();
        h.append(
            header::SET_COOKIE,
            "wos-session.1=x; Path=/".parse().unwrap(),
        );
        assert!(response_sets_session(&h, "wos-session"));
        let mut h = HeaderMap::new();
        h.append(header::SET_COOKIE, "wos-session-other=x".parse().unwrap());
        h.append(header::SET_COOKIE, "wos-session.x=x".parse().unwrap());
        assert!(!response_sets_session(&h, "wos-session"));
    }

    fn config(secure: bool) -> CookieSettings {
        CookieSettings {
            name: "wos-session".into(),
            max_age: Duration::from_secs(60),
            domain: Some("example.com".into()),
            same_site: SameSite::Lax,
            secure,
        }
    }

    #[test]
    fn reads_the_named_cookie_among_others_and_decodes_percent_escapes() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            "a=1; wos-session=Fe26.2*1*x~2".parse().unwrap(),
        );
        h.append(header::COOKIE, "b=%7E".parse().unwrap());
        assert_eq!(
            read_cookie(&h, "wos-session").as_deref(),
            Some("Fe26.2*1*x~2")
        );
        assert_eq!(read_cookie(&h, "b").as_deref(), Some("~"));
        assert_eq!(read_cookie(&h, "missing"), None);
    }

    #[test]
    fn every_set_cookie_written_is_marked_sensitive() {
        let c = config(true);
        let headers = request_with("wos-session.0=a; wos-session.1=b");
        let big = "x".repeat(3 * MAX_SET_COOKIE);
        let written = [
            write_session(&c, "sealed", &HeaderMap::new()),
            write_session(&c, &big, &headers),
            clear_session(&c, &headers),
        ];
        for value in written.iter().flatten() {
            assert!(value.is_sensitive(), "{value:?}");
        }
    }

    #[test]
    fn session_cookie_carries_every_attribute() {
        let v = write_session(&config(true), "sealed", &HeaderMap::new()).remove(0);
        let s = v.to_str().unwrap();
        for part in [
            "wos-session=sealed",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Max-Age=60",
            "Domain=example.com",
        ] {
            assert!(s.contains(part), "{s} lacks {part}");
        }
        let cleared = clear_session(&config(false), &HeaderMap::new()).remove(0);
        let s = cleared.to_str().unwrap();
        assert!(s.contains("Max-Age=0") && !s.contains("Secure"), "{s}");
    }
}
