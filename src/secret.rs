//! A string that never shows itself in `Debug`, logs or serialized answers.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serializer};
use subtle::ConstantTimeEq;

/// A secret string: an API key, a password, an access or refresh token, a
/// pending authentication token.
///
/// Its `Debug` prints `Secret([redacted])`, it has no `Display`, and equality
/// is constant-time. Read it with [`Secret::expose`] where the value is really
/// needed (an HTTP header, a request body).
///
/// It deserializes from a string, but does not implement `Serialize`: a type
/// holding one says per field what serializing writes, with
/// [`Secret::serialize_exposed`] where the wire needs the value (a request
/// body, a sealed cookie) or [`Secret::serialize_redacted`] where it does not
/// (an object an app may answer as JSON).
///
/// ```
/// use authkit_axum::Secret;
/// let key = Secret::from("sk_test_123");
/// assert_eq!(format!("{key:?}"), "Secret([redacted])");
/// assert_eq!(key.expose(), "sk_test_123");
///
/// #[derive(serde::Serialize)]
/// struct Body {
///     #[serde(serialize_with = "Secret::serialize_exposed")]
///     token: Secret,
///     #[serde(serialize_with = "Secret::serialize_redacted")]
///     shown: Option<Secret>,
/// }
/// let body = Body { token: "tok".into(), shown: Some("hidden".into()) };
/// assert_eq!(
///     serde_json::to_string(&body).unwrap(),
///     r#"{"token":"tok","shown":"[redacted]"}"#
/// );
/// ```
///
/// A type that holds one and derives `Serialize` without saying which does
/// not compile:
///
/// ```compile_fail
/// #[derive(serde::Serialize)]
/// struct Leaky {
///     token: authkit_axum::Secret,
/// }
/// ```
///
/// Cloning one counts a reference; the text is not copied (a request's
/// Bearer token is handed to its extractors so).
#[derive(Clone, Default)]
pub struct Secret(Arc<str>);

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Straight from the input's text into the `Arc`: one copy, not a
        // `String` first.
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Secret, E> {
                Ok(Secret(text.into()))
            }
            // As `String` does: formats and serde's own buffering (flatten,
            // untagged) may hand a string over as its UTF-8 bytes.
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Secret, E> {
                std::str::from_utf8(bytes)
                    .map(|text| Secret(text.into()))
                    .map_err(|_| {
                        E::invalid_value(serde::de::Unexpected::Bytes(b"[redacted]"), &self)
                    })
            }
        }
        deserializer.deserialize_str(Text)
    }
}

/// What [`Secret::serialize_redacted`] writes in place of a secret.
pub(crate) const REDACTED: &str = "[redacted]";

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into().into())
    }

    /// The value itself. Call this only where the secret must leave the process.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value's length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Serializes a `Secret` (or an `Option<Secret>`) as its value, for
    /// `#[serde(serialize_with = "Secret::serialize_exposed")]` on a field
    /// the wire needs: a request body, a sealed session. `None` is `null`.
    pub fn serialize_exposed<T, S>(field: &T, serializer: S) -> Result<S::Ok, S::Error>
    where
        T: SecretField + ?Sized,
        S: Serializer,
    {
        match field.secret() {
            Some(secret) => serializer.serialize_str(secret.expose()),
            None => serializer.serialize_none(),
        }
    }

    /// Serializes a `Secret` (or an `Option<Secret>`) as `"[redacted]"`, for
    /// `#[serde(serialize_with = "Secret::serialize_redacted")]` on a field
    /// of a type an app may answer as JSON. `None` is `null`.
    pub fn serialize_redacted<T, S>(field: &T, serializer: S) -> Result<S::Ok, S::Error>
    where
        T: SecretField + ?Sized,
        S: Serializer,
    {
        match field.secret() {
            Some(_) => serializer.serialize_str(REDACTED),
            None => serializer.serialize_none(),
        }
    }
}

/// A field [`Secret::serialize_exposed`] and [`Secret::serialize_redacted`]
/// accept: a [`Secret`] or an `Option<Secret>`. Sealed.
pub trait SecretField: sealed::Sealed {
    /// The secret, if there is one.
    fn secret(&self) -> Option<&Secret>;
}

impl SecretField for Secret {
    fn secret(&self) -> Option<&Secret> {
        Some(self)
    }
}

impl SecretField for Option<Secret> {
    fn secret(&self) -> Option<&Secret> {
        self.as_ref()
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Secret {}
    impl Sealed for Option<super::Secret> {}
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Secret {}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value.into())
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.into())
    }
}

impl From<&String> for Secret {
    fn from(value: &String) -> Self {
        Self(value.as_str().into())
    }
}

/// A serde_json error without its message, which can quote the data.
pub(crate) fn redacted_json_error(error: &serde_json::Error) -> String {
    let category = match error.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "data does not match the expected type",
        serde_json::error::Category::Eof => "unexpected end of input",
    };
    format!(
        "{category} at line {} column {}",
        error.line(),
        error.column()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::from("hunter2-super-secret");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{:?}", Some(&s)).contains("hunter2"));
    }

    #[test]
    fn deserializes_from_a_plain_string() {
        let s: Secret = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(s.expose(), "abc");
        // Escaped (serde_json's scratch buffer), owned (a `Value`), borrowed
        // through serde's buffering (an untagged enum), as bytes.
        let s: Secret = serde_json::from_str("\"a\\u0062c\"").unwrap();
        assert_eq!(s.expose(), "abc");
        let s: Secret = serde_json::from_value(serde_json::json!("abc")).unwrap();
        assert_eq!(s.expose(), "abc");
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Either {
            Secret(Secret),
        }
        let Either::Secret(s) = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(s.expose(), "abc");
        use serde::de::IntoDeserializer;
        let bytes: serde::de::value::BytesDeserializer<'_, serde::de::value::Error> =
            b"abc".as_slice().into_deserializer();
        assert_eq!(Secret::deserialize(bytes).unwrap().expose(), "abc");
        let not_text: serde::de::value::BytesDeserializer<'_, serde::de::value::Error> =
            [0xff_u8].as_slice().into_deserializer();
        assert!(Secret::deserialize(not_text).is_err());
        assert!(serde_json::from_str::<Secret>("12").is_err());
    }

    #[derive(serde::Serialize)]
    struct Fields {
        #[serde(serialize_with = "Secret::serialize_exposed")]
        exposed: Secret,
        #[serde(serialize_with = "Secret::serialize_exposed")]
        exposed_none: Option<Secret>,
        #[serde(serialize_with = "Secret::serialize_redacted")]
        redacted: Secret,
        #[serde(serialize_with = "Secret::serialize_redacted")]
        redacted_some: Option<Secret>,
    }

    #[test]
    fn serializing_writes_the_value_only_where_a_field_opts_in() {
        let fields = Fields {
            exposed: "wire-value".into(),
            exposed_none: None,
            redacted: "hunter2".into(),
            redacted_some: Some("hunter3".into()),
        };
        assert_eq!(
            serde_json::to_string(&fields).unwrap(),
            r#"{"exposed":"wire-value","exposed_none":null,"redacted":"[redacted]","redacted_some":"[redacted]"}"#
        );
    }

    #[test]
    fn equality_compares_values() {
        assert_eq!(Secret::from("a"), Secret::from("a"));
        assert_ne!(Secret::from("a"), Secret::from("ab"));
    }
}
