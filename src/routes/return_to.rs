//! Where a user may be sent after login: same-origin paths only.
//!
//! Anything that a browser could read as another origin — `//evil.com`,
//! `/\evil.com`, `https://evil.com`, encoded forms of those, control
//! characters that browsers strip — is replaced by the fallback.

const MAX_LEN: usize = 2048;

/// `candidate` when it is a safe same-origin path (with query/fragment),
/// else `fallback`.
pub(crate) fn sanitize<'a>(candidate: Option<&'a str>, fallback: &'a str) -> &'a str {
    match candidate {
        Some(c) if is_safe(c) => c,
        _ => fallback,
    }
}

/// Whether `path` is a same-origin path that no browser reads as a host.
pub(crate) fn is_safe(path: &str) -> bool {
    // The raw value: no whitespace at all (browsers strip tabs and newlines
    // inside URLs, which can turn `/\t/evil.com` into `//evil.com`).
    if path.len() > MAX_LEN || !is_plain_path(path) || path.chars().any(char::is_whitespace) {
        return false;
    }
    // Decode repeatedly: a path that decodes into something unsafe is unsafe
    // wherever it may be decoded again (proxies, frameworks, the app).
    let mut current = path.to_owned();
    for _ in 0..3 {
        let decoded: String = percent_decode_lossy(&current);
        if !is_plain_path(&decoded) {
            return false;
        }
        if decoded == current {
            break;
        }
        current = decoded;
    }
    // Finally let a URL parser resolve it against a dummy origin: it must
    // stay on that origin, and dot segments must not leave a `//` path.
    match url::Url::parse("http://authkit.invalid/").and_then(|base| base.join(path)) {
        Ok(url) => {
            url.host_str() == Some("authkit.invalid")
                && url.username().is_empty()
                && !url.path().starts_with("//")
        }
        Err(_) => false,
    }
}

/// Starts with one `/` (not `//` or `/\`), has no backslash and no control
/// character.
fn is_plain_path(p: &str) -> bool {
    let bytes = p.as_bytes();
    bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && !p.contains('\\')
        && !p.chars().any(char::is_control)
}

fn percent_decode_lossy(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_paths_pass() {
        for ok in [
            "/",
            "/account",
            "/a/b?x=1&y=%20z#frag",
            "/search?q=//not-a-host",
            "/%E2%9C%93",
        ] {
            assert!(is_safe(ok), "{ok}");
        }
    }

    #[test]
    fn open_redirect_attempts_fall_back() {
        let attacks = [
            "//evil.com",
            "///evil.com",
            "/\\evil.com",
            "\\\\evil.com",
            "/\\/evil.com",
            "https://evil.com",
            "http:evil.com",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<script>",
            "evil.com",
            "%2f%2fevil.com",
            "/%2f%2fevil.com",
            "/%2F%2Fevil.com",
            "/%5cevil.com",
            "/%255c%255cevil.com",
            "/%252f%252fevil.com",
            "/\t/evil.com",
            "/\n/evil.com",
            "/\r\n/evil.com",
            "/%09/evil.com",
            "/%0a/evil.com",
            "/%0d%0a/evil.com",
            "//user@evil.com",
            "/@evil.com/..//evil.com",
            "//evil.com@good.com",
            "//ｅｖｉｌ.com",
            "//evil%E3%80%82com",
            " //evil.com",
            "/ /evil.com",
            "",
            "/\u{0}/evil.com",
            "/..//evil.com",
        ];
        for a in attacks {
            assert_eq!(sanitize(Some(a), "/home"), "/home", "{a:?} passed");
        }
        assert_eq!(sanitize(None, "/home"), "/home");
        assert_eq!(sanitize(Some(&"/a".repeat(2000)), "/home"), "/home");
    }
}
