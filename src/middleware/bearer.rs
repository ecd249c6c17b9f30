//! Reading a Bearer credential from the `Authorization` header (RFC 6750
//! §2.1): the pure policy of what counts as one.
//!
//! A header is ours when its scheme is `Bearer` (any case) followed by a
//! space or by nothing. Then its token must be one `token68` (RFC 9110
//! §11.2: letters, digits, `-._~+/`, then `=` padding), or the request is
//! malformed (`invalid_request`). Another scheme (`Basic …`) is not ours:
//! the layer ignores it and reads the session cookie. Header bytes that are
//! not ASCII are looked at as bytes, never decoded, so nothing panics.

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// What the `Authorization` header says, as far as Bearer tokens go.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Credential<'a> {
    /// No Bearer credential: no header, or another scheme.
    None,
    /// A well-formed token.
    Token(&'a str),
    /// A Bearer credential that is not one token68, or more than one.
    Malformed,
}

/// The request's Bearer credential.
pub(crate) fn credential(headers: &HeaderMap) -> Credential<'_> {
    let mut found = Credential::None;
    for value in headers.get_all(AUTHORIZATION) {
        let bytes = value.as_bytes();
        let Some(rest) = strip_scheme(bytes) else {
            continue;
        };
        if found != Credential::None {
            // RFC 6750 §3.1: more than one credential is invalid_request.
            return Credential::Malformed;
        }
        found = match token68(rest) {
            Some(token) => Credential::Token(token),
            None => Credential::Malformed,
        };
    }
    found
}

/// The request's Bearer credential as raw bytes, not checked to be a
/// token68: `Ok(None)` without one, `Err` with more than one. Only for a
/// lookup among tokens that verified: a verified token is a token68, so a
/// hit is what [`credential`] would have found, and anything else misses.
pub(crate) fn raw_token(headers: &HeaderMap) -> Result<Option<&[u8]>, ()> {
    let mut found = None;
    for value in headers.get_all(AUTHORIZATION) {
        if let Some(rest) = strip_scheme(value.as_bytes()) {
            if found.is_some() {
                return Err(());
            }
            found = Some(rest);
        }
    }
    Ok(found)
}

/// What follows `Bearer` and its spaces, when the header's scheme is `Bearer`.
fn strip_scheme(bytes: &[u8]) -> Option<&[u8]> {
    const SCHEME: &[u8] = b"bearer";
    let bytes = trim(bytes);
    if bytes.len() < SCHEME.len() || !bytes[..SCHEME.len()].eq_ignore_ascii_case(SCHEME) {
        return None;
    }
    let rest = &bytes[SCHEME.len()..];
    match rest.first() {
        None => Some(rest),
        Some(b' ') => Some(trim(rest)),
        // `Bearerx`, `Bearer\t…`: another scheme.
        Some(_) => None,
    }
}

fn trim(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

/// Whether `b` may be in a token68's body: a letter, a digit or one of `-._~+/`.
fn token68_body(b: u8) -> bool {
    // Comparisons joined by `|`, not `||` nor a `match`: no branch, so the
    // compiler checks a vector of bytes at a time.
    let digit = b.wrapping_sub(b'0') < 10;
    let letter = (b | 0x20).wrapping_sub(b'a') < 26;
    digit
        | letter
        | (b == b'-')
        | (b == b'.')
        | (b == b'_')
        | (b == b'~')
        | (b == b'+')
        | (b == b'/')
}

/// `bytes` as a token68 (a body, then `=` padding), if it is one.
fn token68(bytes: &[u8]) -> Option<&str> {
    let padding = bytes.iter().rev().take_while(|&&b| b == b'=').count();
    let body = &bytes[..bytes.len() - padding];
    // An OR of every byte's verdict, without an early exit, so the compiler
    // checks a vector of bytes an instruction: a token is a kilobyte, read
    // on every request.
    let refused = body
        .iter()
        .fold(0_u8, |refused, &b| refused | u8::from(!token68_body(b)));
    if body.is_empty() || refused != 0 {
        return None;
    }
    // Only ASCII got here.
    std::str::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn a_token68_is_a_body_of_its_68_characters_then_only_padding() {
        let body: Vec<u8> = (0..=255u8)
            .filter(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(b))
            .collect();
        assert_eq!(body.len(), 68);
        assert!(token68(&body).is_some());
        assert!(token68(&[&body[..], b"=="].concat()).is_some());
        for b in (0..=255u8).filter(|b| !body.contains(b)) {
            // Anywhere in a long token, a byte outside the set refuses it.
            for at in [0, 31, 32, 700] {
                let mut token = vec![b'a'; 900];
                token[at] = b;
                assert!(token68(&token).is_none(), "{b:#04x} at {at}");
            }
        }
        assert!(token68(b"a=b").is_none());
        assert!(token68(b"=").is_none());
        assert!(token68(b"").is_none());
    }

    fn with(values: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(AUTHORIZATION, HeaderValue::from_bytes(v).unwrap());
        }
        h
    }

    #[test]
    fn a_bearer_scheme_in_any_case_yields_its_token() {
        for value in [
            &b"Bearer abc.def-ghi_jkl"[..],
            b"bearer abc.def-ghi_jkl",
            b"BEARER   abc.def-ghi_jkl",
            b"Bearer abc.def-ghi_jkl  ",
        ] {
            assert_eq!(
                credential(&with(&[value])),
                Credential::Token("abc.def-ghi_jkl"),
                "{value:?}"
            );
        }
        assert_eq!(
            credential(&with(&[b"Bearer dG9rZW4+/~=="])),
            Credential::Token("dG9rZW4+/~==")
        );
    }

    #[test]
    fn an_empty_spaced_or_non_ascii_bearer_token_is_malformed() {
        for value in [
            &b"Bearer"[..],
            b"Bearer ",
            b"Bearer a b",
            b"Bearer a,b",
            b"Bearer ==",
            b"Bearer a=b",
            b"Bearer \"quoted\"",
            b"Bearer tok\xe9n",
            b"Bearer \xff\xfe",
        ] {
            assert_eq!(
                credential(&with(&[value])),
                Credential::Malformed,
                "{value:?}"
            );
        }
    }

    #[test]
    fn other_schemes_and_no_header_are_not_bearer_credentials() {
        assert_eq!(credential(&HeaderMap::new()), Credential::None);
        for value in [
            &b"Basic dXNlcjpwYXNz"[..],
            b"Bearerx abc",
            b"Token abc",
            b"\xff\xfe",
            b"",
        ] {
            assert_eq!(credential(&with(&[value])), Credential::None, "{value:?}");
        }
    }

    #[test]
    fn the_raw_token_is_what_credential_finds_for_a_well_formed_one() {
        for values in [
            &[&b"Bearer abc.def-ghi_jkl"[..]][..],
            &[b"bearer   abc.def  "],
            &[b"Basic x", b"Bearer b"],
            &[b"Basic x"],
            &[],
        ] {
            let h = with(values);
            let expected = match credential(&h) {
                Credential::Token(token) => Some(token.as_bytes()),
                _ => None,
            };
            assert_eq!(raw_token(&h), Ok(expected), "{values:?}");
        }
        // Malformed ones are returned raw, to miss the cache; two are refused.
        assert_eq!(raw_token(&with(&[b"Bearer a b"])), Ok(Some(&b"a b"[..])));
        assert_eq!(raw_token(&with(&[b"Bearer a", b"Bearer b"])), Err(()));
    }

    #[test]
    fn two_bearer_credentials_are_malformed_but_another_scheme_beside_one_is_ignored() {
        assert_eq!(
            credential(&with(&[b"Bearer a", b"Bearer b"])),
            Credential::Malformed
        );
        assert_eq!(
            credential(&with(&[b"Basic x", b"Bearer b"])),
            Credential::Token("b")
        );
    }
}
