//! Configuration errors and environment helpers shared by the whole crate.
//!
//! Every mistake names the variable (or builder setting) at fault, so an app
//! fails at startup with a message that says what to fix.

use std::env;

/// A configuration mistake, found at startup.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required variable is not set (or is empty).
    #[error("{var} is not set; it is required")]
    Missing {
        /// The environment variable or builder setting.
        var: &'static str,
    },
    /// A variable is set to something unusable.
    #[error("{var} is invalid: {reason}")]
    Invalid {
        /// The environment variable or builder setting.
        var: &'static str,
        /// What is wrong with it (never the value itself, which may be secret).
        reason: String,
    },
}

impl ConfigError {
    /// The variable this error names.
    pub fn var(&self) -> &'static str {
        match self {
            ConfigError::Missing { var } | ConfigError::Invalid { var, .. } => var,
        }
    }

    pub(crate) fn invalid(var: &'static str, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            var,
            reason: reason.into(),
        }
    }
}

/// Reads an environment variable; unset and empty are both `None`.
pub(crate) fn optional_var(var: &'static str) -> Result<Option<String>, ConfigError> {
    match env::var(var) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(env::VarError::NotPresent) => Ok(None),
        Err(env::VarError::NotUnicode(_)) => Err(ConfigError::invalid(var, "not valid UTF-8")),
    }
}

/// Reads a required environment variable.
pub(crate) fn required_var(var: &'static str) -> Result<String, ConfigError> {
    optional_var(var)?.ok_or(ConfigError::Missing { var })
}

/// Parses a boolean the way the WorkOS SDKs read `WORKOS_API_HTTPS`.
pub(crate) fn parse_bool(var: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::invalid(var, "expected true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bools_parse_both_ways_and_name_the_variable_on_error() {
        assert!(parse_bool("X", "TRUE").unwrap());
        assert!(!parse_bool("X", "false").unwrap());
        let err = parse_bool("WORKOS_API_HTTPS", "maybe").unwrap_err();
        assert_eq!(err.var(), "WORKOS_API_HTTPS");
        assert!(err.to_string().contains("WORKOS_API_HTTPS"));
    }
}

/// The `SameSite` attribute of the session cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SameSite {
    /// Sent on top-level navigations from other sites (the default; needed
    /// for the redirect back from AuthKit).
    #[default]
    Lax,
    /// Never sent from other sites.
    Strict,
    /// Always sent (requires `Secure`).
    None,
}

impl SameSite {
    pub(crate) fn parse(var: &'static str, value: &str) -> Result<Self, ConfigError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "lax" => Ok(SameSite::Lax),
            "strict" => Ok(SameSite::Strict),
            "none" => Ok(SameSite::None),
            _ => Err(ConfigError::invalid(var, "expected lax, strict or none")),
        }
    }
}
