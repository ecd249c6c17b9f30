//! A string that never shows itself in `Debug` or logs.

use std::fmt;

use subtle::ConstantTimeEq;

/// A secret string the emulator holds or hands out: its API key, users'
/// passwords, emailed codes and tokens.
///
/// Its `Debug` prints `Secret([redacted])`, it has no `Display`, and equality
/// is constant-time. Read it with [`Secret::expose`].
///
/// ```
/// use authkit_emulator::Secret;
/// let code = Secret::from("123456");
/// assert_eq!(format!("{code:?}"), "Secret([redacted])");
/// assert_eq!(code.expose(), "123456");
/// ```
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
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
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_equality_compares_values() {
        let s = Secret::from("hunter2-super-secret");
        assert!(!format!("{:?}", Some(&s)).contains("hunter2"));
        assert_eq!(s, Secret::from("hunter2-super-secret"));
        assert_ne!(s, Secret::from("hunter2"));
    }
}
