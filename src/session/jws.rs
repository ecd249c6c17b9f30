//! An access token taken apart: a compact JWS (`header.payload.signature`,
//! each base64url without padding) whose header is read for `alg` and `kid`
//! only. Pure functions; the signature itself is checked by the JWKS's parsed
//! key ([`super::jwks`]), the claims parsed once after it.

use std::borrow::Cow;
use std::fmt;

use base64_simd::URL_SAFE_NO_PAD as SIMD_URL_SAFE_NO_PAD;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

/// The largest RS256 signature: a 8192-bit key's (the largest the
/// verification accepts).
const MAX_SIGNATURE_BYTES: usize = 1024;

/// The three parts of a compact JWS, borrowed from the token.
pub(crate) struct Compact<'a> {
    /// `header.payload`: what the signature covers.
    pub(crate) signing_input: &'a str,
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl<'a> Compact<'a> {
    /// Exactly three parts separated by dots, or `None`.
    pub(crate) fn split(token: &'a str) -> Option<Self> {
        // memchr's searches (SIMD) over a token of a kilobyte or so; `.` is
        // ASCII, so every split is on character boundaries.
        let last = memchr::memrchr(b'.', token.as_bytes())?;
        let (signing_input, signature) = (&token[..last], &token[last + 1..]);
        let dot = memchr::memrchr(b'.', signing_input.as_bytes())?;
        let (header, payload) = (&signing_input[..dot], &signing_input[dot + 1..]);
        // A dot in the header is no base64url: refused by its decoding too,
        // but said here where the shape is.
        if memchr::memchr(b'.', header.as_bytes()).is_some() {
            return None;
        }
        Some(Compact {
            signing_input,
            header,
            payload,
            signature,
        })
    }

    /// The decoded header's bytes (parse them with [`Header::parse`]).
    pub(crate) fn header_bytes(&self) -> Option<Vec<u8>> {
        SIMD_URL_SAFE_NO_PAD.decode_to_vec(self.header).ok()
    }

    /// The decoded payload's bytes: the claims' JSON.
    pub(crate) fn payload_bytes(&self) -> Option<Vec<u8>> {
        SIMD_URL_SAFE_NO_PAD.decode_to_vec(self.payload).ok()
    }

    /// The decoded signature, in a buffer on the stack.
    pub(crate) fn signature(&self) -> Option<Signature> {
        let mut bytes = [0u8; MAX_SIGNATURE_BYTES];
        // Its length first: `decode` wants room for all of it.
        let len = SIMD_URL_SAFE_NO_PAD
            .decoded_length(self.signature.as_bytes())
            .ok()
            .filter(|&len| len <= MAX_SIGNATURE_BYTES)?;
        SIMD_URL_SAFE_NO_PAD
            .decode(
                self.signature.as_bytes(),
                base64_simd::Out::from_slice(&mut bytes[..len]),
            )
            .ok()?;
        Some(Signature { bytes, len })
    }
}

/// A decoded signature.
pub(crate) struct Signature {
    bytes: [u8; MAX_SIGNATURE_BYTES],
    len: usize,
}

impl Signature {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// What the verification reads of a JOSE header: `alg` (required, a
/// string) and `kid` (a string or absent). Other members are skipped
/// unparsed (they are covered by the signature and used by nothing here); a
/// repeated `alg` or `kid`, or a header that is not a JSON object, is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Header<'a> {
    pub(crate) alg: Cow<'a, str>,
    pub(crate) kid: Option<Cow<'a, str>>,
}

impl<'a> Header<'a> {
    pub(crate) fn parse(json: &'a [u8]) -> Option<Self> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let header = (&mut de).deserialize_map(HeaderVisitor).ok()?;
        de.end().ok()?;
        Some(header)
    }

    /// Whether the header names RS256 (exactly; `alg` is case-sensitive).
    pub(crate) fn is_rs256(&self) -> bool {
        self.alg == "RS256"
    }
}

struct HeaderVisitor;

impl<'de> Visitor<'de> for HeaderVisitor {
    type Value = Header<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JOSE header object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut alg: Option<Cow<'de, str>> = None;
        let mut kid: Option<Option<Cow<'de, str>>> = None;
        while let Some(name) = map.next_key_seed(BorrowedStr)? {
            match &*name {
                "alg" if alg.is_some() => return Err(de::Error::duplicate_field("alg")),
                "alg" => alg = Some(map.next_value_seed(BorrowedStr)?),
                "kid" if kid.is_some() => return Err(de::Error::duplicate_field("kid")),
                "kid" => kid = Some(map.next_value_seed(OptionalBorrowedStr)?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Header {
            alg: alg.ok_or_else(|| de::Error::missing_field("alg"))?,
            kid: kid.flatten(),
        })
    }
}

/// A string, borrowed from the input when it has no escapes.
struct BorrowedStr;

impl<'de> de::DeserializeSeed<'de> for BorrowedStr {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(StrVisitor)
    }
}

/// `null` or a string, borrowed when it has no escapes.
struct OptionalBorrowedStr;

impl<'de> de::DeserializeSeed<'de> for OptionalBorrowedStr {
    type Value = Option<Cow<'de, str>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(OptionVisitor)
    }
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

struct OptionVisitor;

impl<'de> Visitor<'de> for OptionVisitor {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(StrVisitor).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    #[test]
    fn each_part_decodes_as_base64_decoded_it() {
        let old = |text: &str, limit: usize| {
            let mut out = vec![0u8; limit];
            let len = URL_SAFE_NO_PAD.decode_slice(text, &mut out).ok()?;
            out.truncate(len);
            Some(out)
        };
        // Every string of up to 4 characters over edge cases, and signatures
        // around the longest one.
        let mut parts = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = parts
                .iter()
                .flat_map(|p| "Ag_-+/=. ".chars().map(move |c| format!("{p}{c}")))
                .collect();
            parts.extend(longer);
        }
        for n in [
            MAX_SIGNATURE_BYTES - 1,
            MAX_SIGNATURE_BYTES,
            MAX_SIGNATURE_BYTES + 1,
        ] {
            let text = URL_SAFE_NO_PAD.encode(vec![0xe7; n]);
            parts.push(format!("{text}A"));
            parts.push(text);
        }
        let mut decoded = 0;
        for part in &parts {
            let dots = part.matches('.').count();
            let token = format!("{part}.{part}.{part}");
            let Some(jws) = Compact::split(&token).filter(|_| dots == 0) else {
                continue;
            };
            let expected = old(part, 4 * part.len());
            decoded += usize::from(expected.is_some());
            assert_eq!(jws.header_bytes(), expected, "{part:?}");
            assert_eq!(jws.payload_bytes(), expected, "{part:?}");
            assert_eq!(
                jws.signature().map(|s| s.as_bytes().to_vec()),
                old(part, MAX_SIGNATURE_BYTES),
                "{part:?}"
            );
        }
        assert!(decoded > 100, "{decoded} decoded");
    }

    fn header(json: &str) -> Option<Header<'_>> {
        Header::parse(json.as_bytes())
    }

    #[test]
    fn a_token_has_exactly_three_parts() {
        let parts = Compact::split("aGVhZA.cGF5bG9hZA.c2ln").unwrap();
        assert_eq!(parts.signing_input, "aGVhZA.cGF5bG9hZA");
        assert_eq!(parts.header_bytes().unwrap(), b"head");
        assert_eq!(parts.payload_bytes().unwrap(), b"payload");
        assert_eq!(parts.signature().unwrap().as_bytes(), b"sig");
        for token in ["", ".", "a.b", "a.b.c.d", "abc"] {
            assert!(Compact::split(token).is_none(), "{token:?}");
        }
    }

    #[test]
    fn parts_that_are_not_unpadded_base64url_do_not_decode() {
        let parts = Compact::split("aGVhZA==.cGF+bG9hZA.c2ln/").unwrap();
        assert!(parts.header_bytes().is_none());
        assert!(parts.payload_bytes().is_none());
        assert!(parts.signature().is_none());
    }

    #[test]
    fn a_signature_longer_than_an_8192_bit_keys_is_refused() {
        let long = URL_SAFE_NO_PAD.encode([7u8; MAX_SIGNATURE_BYTES + 1]);
        let token = format!("e30.e30.{long}");
        assert!(Compact::split(&token).unwrap().signature().is_none());
        let longest = URL_SAFE_NO_PAD.encode([7u8; MAX_SIGNATURE_BYTES]);
        let token = format!("e30.e30.{longest}");
        let signature = Compact::split(&token).unwrap().signature().unwrap();
        assert_eq!(signature.as_bytes().len(), MAX_SIGNATURE_BYTES);
    }

    #[test]
    fn the_header_yields_alg_and_kid_and_skips_the_rest() {
        let h =
            header(r#"{"typ":"JWT","alg":"RS256","kid":"sso_oidc_key_1","x5c":["AA"]}"#).unwrap();
        assert!(h.is_rs256());
        assert_eq!(h.kid.as_deref(), Some("sso_oidc_key_1"));
        assert!(matches!(h.kid, Some(Cow::Borrowed(_))));
        let escaped = header(r#"{"alg":"RS\u0032\u00356","kid":null}"#).unwrap();
        assert!(escaped.is_rs256());
        assert_eq!(escaped.kid, None);
        assert_eq!(header(r#"{"alg":"RS256"}"#).unwrap().kid, None);
    }

    #[test]
    fn only_rs256_exactly_is_rs256() {
        for alg in ["rs256", "none", "HS256", "PS256", "RS256 ", "RS384"] {
            let json = format!(r#"{{"alg":"{alg}","kid":"k"}}"#);
            assert!(!header(&json).unwrap().is_rs256(), "{alg}");
        }
    }

    #[test]
    fn malformed_headers_are_refused() {
        for json in [
            r#"{"kid":"k"}"#,
            r#"{"alg":null,"kid":"k"}"#,
            r#"{"alg":256,"kid":"k"}"#,
            r#"{"alg":"RS256","kid":1}"#,
            r#"{"alg":"RS256","alg":"RS256","kid":"k"}"#,
            r#"{"alg":"RS256","kid":"k","kid":"k"}"#,
            r#"[{"alg":"RS256","kid":"k"}]"#,
            r#"["RS256","k"]"#,
            r#"{"alg":"RS256","kid":"k"} x"#,
            r#"{"alg":"RS256","kid":"k""#,
            "null",
            "",
        ] {
            assert!(header(json).is_none(), "{json}");
        }
    }
}
