//! Configuration errors and environment helpers shared by the whole crate.
//!
//! Every mistake names the variable (or builder setting) at fault, so an app
//! fails at startup with a message that says what to fix.

use std::env;

/// A setting: the builder method that sets it and, where there is one, the
/// environment variable it is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Setting {
    pub(crate) method: &'static str,
    pub(crate) var: Option<&'static str>,
}

macro_rules! settings {
    ($($name:ident = $method:literal $(, $var:literal)?;)*) => {
        $(pub(crate) const $name: Setting = Setting { method: $method, var: settings!(@var $($var)?) };)*
    };
    (@var) => { None };
    (@var $var:literal) => { Some($var) };
}

settings! {
    API_KEY = "with_api_key", "WORKOS_API_KEY";
    CLIENT_ID = "with_client_id", "WORKOS_CLIENT_ID";
    BASE_URL = "with_base_url";
    API_BASE_URL = "with_api_base_url";
    API_HOSTNAME = "with_api_base_url", "WORKOS_API_HOSTNAME";
    API_PORT = "with_api_base_url", "WORKOS_API_PORT";
    API_HTTPS = "with_api_base_url", "WORKOS_API_HTTPS";
    HTTP_CLIENT = "with_http_client";
    COOKIE_PASSWORD = "with_cookie_password", "WORKOS_COOKIE_PASSWORD";
    REDIRECT_URI = "with_redirect_uri", "WORKOS_REDIRECT_URI";
    COOKIE_NAME = "with_cookie_name", "WORKOS_COOKIE_NAME";
    COOKIE_MAX_AGE = "with_cookie_max_age", "WORKOS_COOKIE_MAX_AGE";
    COOKIE_DOMAIN = "with_cookie_domain", "WORKOS_COOKIE_DOMAIN";
    COOKIE_SAMESITE = "with_same_site", "WORKOS_COOKIE_SAMESITE";
    COOKIE_SECURE = "with_secure_cookies", "WORKOS_COOKIE_SECURE";
    BASE_PATH = "with_base_path";
    AFTER_LOGIN = "with_after_login";
    AFTER_LOGOUT = "with_after_logout";
    SESSION_COOKIES = "with_session_cookies";
    TOKEN_ISSUER = "with_token_issuers", "WORKOS_ISSUER";
    // Webhooks.
    WEBHOOK_SECRET = "WebhookVerifier::new", "WORKOS_WEBHOOK_SECRET";
}

/// How an error names a setting: `WORKOS_REDIRECT_URI (`with_redirect_uri`)`,
/// or `` `with_after_login` `` for one without a variable.
fn name(setting: &'static str, var: &Option<&'static str>) -> String {
    match var {
        Some(var) => format!("{var} (`{setting}`)"),
        None => format!("`{setting}`"),
    }
}

/// A configuration mistake, found at startup.
///
/// It names the setting at fault, as the builder method that sets it and,
/// where there is one, the environment variable it is read from; never the
/// value, which may be a secret.
///
/// ```
/// use authkit_axum::AuthKit;
///
/// let err = AuthKit::builder()
///     .with_api_key("sk_test_123")
///     .with_client_id("client_123")
///     .with_cookie_password("too short")
///     .with_redirect_uri("http://localhost:3000/auth/callback")
///     .build()
///     .unwrap_err();
/// assert_eq!(err.var(), Some("WORKOS_COOKIE_PASSWORD"));
/// assert_eq!(err.setting(), "with_cookie_password");
/// assert_eq!(
///     err.to_string(),
///     "WORKOS_COOKIE_PASSWORD (`with_cookie_password`) is invalid: \
///      must be at least 32 characters long (it is 9)"
/// );
/// ```
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required setting is not set (or is empty).
    #[error("{} is not set; it is required", name(setting, var))]
    #[non_exhaustive]
    Missing {
        /// The builder method that sets it (`with_api_key`).
        setting: &'static str,
        /// Its environment variable, if it has one (`WORKOS_API_KEY`).
        var: Option<&'static str>,
    },
    /// A setting is set to something unusable.
    #[error("{} is invalid: {reason}", name(setting, var))]
    #[non_exhaustive]
    Invalid {
        /// The builder method that sets it (`with_redirect_uri`).
        setting: &'static str,
        /// Its environment variable, if it has one (`WORKOS_REDIRECT_URI`).
        var: Option<&'static str>,
        /// What is wrong with it (never the value itself, which may be secret).
        reason: String,
    },
}

impl ConfigError {
    /// The environment variable of the setting at fault, if it has one
    /// (`WORKOS_REDIRECT_URI`; none for, e.g., `with_after_login`).
    pub fn var(&self) -> Option<&'static str> {
        match self {
            ConfigError::Missing { var, .. } | ConfigError::Invalid { var, .. } => *var,
        }
    }

    /// The builder method of the setting at fault (`with_redirect_uri`).
    pub fn setting(&self) -> &'static str {
        match self {
            ConfigError::Missing { setting, .. } | ConfigError::Invalid { setting, .. } => setting,
        }
    }

    /// The same mistake, reported under `to` when it is about `from`: a
    /// setting the façade passes on to the client under another name.
    pub(crate) fn renamed(self, from: Setting, to: Setting) -> Self {
        match self {
            ConfigError::Missing { setting, .. } if setting == from.method => Self::missing(to),
            ConfigError::Invalid {
                setting, reason, ..
            } if setting == from.method => Self::invalid(to, reason),
            other => other,
        }
    }

    pub(crate) fn missing(setting: Setting) -> Self {
        ConfigError::Missing {
            setting: setting.method,
            var: setting.var,
        }
    }

    pub(crate) fn invalid(setting: Setting, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            setting: setting.method,
            var: setting.var,
            reason: reason.into(),
        }
    }
}

/// Every configuration mistake found at startup, at least one: what
/// [`AuthKitBuilder::build`](crate::AuthKitBuilder::build) and the
/// `from_env` constructors return, so one restart shows all there is to fix.
///
/// `Display` writes one mistake a line, each naming its setting (and its
/// environment variable) and never its value; [`var`](Self::var) and
/// [`setting`](Self::setting) are the first mistake's, and
/// [`iter`](Self::iter) walks them all.
///
/// ```
/// use authkit_axum::AuthKit;
///
/// let errors = AuthKit::builder()
///     .with_client_id("client_123")
///     .with_cookie_password("too short")
///     .with_redirect_uri("localhost:3000/auth/callback")
///     .build()
///     .unwrap_err();
/// let vars: Vec<_> = errors.iter().filter_map(|e| e.var()).collect();
/// assert_eq!(
///     vars,
///     ["WORKOS_API_KEY", "WORKOS_COOKIE_PASSWORD", "WORKOS_REDIRECT_URI"]
/// );
/// assert_eq!(errors.to_string().lines().count(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors {
    // Never empty.
    errors: Vec<ConfigError>,
}

impl ConfigErrors {
    /// The mistakes, or `None` when there is none (for collecting).
    pub(crate) fn from_vec(errors: Vec<ConfigError>) -> Option<Self> {
        (!errors.is_empty()).then_some(ConfigErrors { errors })
    }

    /// `Ok(value)` when `errors` is empty, else every mistake.
    pub(crate) fn or_ok<T>(errors: Vec<ConfigError>, value: T) -> Result<T, Self> {
        match Self::from_vec(errors) {
            None => Ok(value),
            Some(errors) => Err(errors),
        }
    }

    /// The mistakes, in the order the settings are checked.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.errors.iter()
    }

    /// How many mistakes there are (at least one).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// The first mistake.
    pub fn first(&self) -> &ConfigError {
        &self.errors[0]
    }

    /// The environment variable of the first mistake's setting, if it has
    /// one (see [`ConfigError::var`]).
    pub fn var(&self) -> Option<&'static str> {
        self.first().var()
    }

    /// The builder method of the first mistake's setting (see
    /// [`ConfigError::setting`]).
    pub fn setting(&self) -> &'static str {
        self.first().setting()
    }

    /// Adds `other`'s mistakes that are not already listed.
    pub(crate) fn merge(
        errors: &mut Vec<ConfigError>,
        other: impl IntoIterator<Item = ConfigError>,
    ) {
        for error in other {
            if !errors.contains(&error) {
                errors.push(error);
            }
        }
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> Self {
        ConfigErrors {
            errors: vec![error],
        }
    }
}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Runs `read`, keeping its value or adding its mistake to `errors`.
pub(crate) fn collect<T>(errors: &mut Vec<ConfigError>, read: Result<T, ConfigError>) -> Option<T> {
    read.map_err(|e| errors.push(e)).ok()
}

/// Reads a setting's environment variable; unset and empty are both `None`.
pub(crate) fn optional_var(setting: Setting) -> Result<Option<String>, ConfigError> {
    let Some(var) = setting.var else {
        return Ok(None);
    };
    match env::var(var) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(env::VarError::NotPresent) => Ok(None),
        Err(env::VarError::NotUnicode(_)) => Err(ConfigError::invalid(setting, "not valid UTF-8")),
    }
}

/// Reads a required setting's environment variable.
pub(crate) fn required_var(setting: Setting) -> Result<String, ConfigError> {
    optional_var(setting)?.ok_or(ConfigError::missing(setting))
}

/// The entries of a comma-separated list (`WORKOS_REDIRECT_URI` may hold
/// several URIs): each trimmed, empty ones (a trailing comma) dropped.
pub(crate) fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|v| !v.is_empty())
}

/// Parses a boolean the way the WorkOS SDKs read `WORKOS_API_HTTPS`.
pub(crate) fn parse_bool(setting: Setting, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::invalid(setting, "expected true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bools_parse_both_ways_and_name_the_variable_on_error() {
        assert!(parse_bool(API_HTTPS, "TRUE").unwrap());
        assert!(!parse_bool(API_HTTPS, "false").unwrap());
        let err = parse_bool(API_HTTPS, "maybe").unwrap_err();
        assert_eq!(err.var(), Some("WORKOS_API_HTTPS"));
        assert_eq!(err.setting(), "with_api_base_url");
        assert!(err.to_string().contains("WORKOS_API_HTTPS"));
    }

    #[test]
    fn lists_are_split_on_commas_trimmed_and_without_empty_entries() {
        let list: Vec<_> = split_list(" https://a.example/cb ,https://b.example/cb,\r\n").collect();
        assert_eq!(list, ["https://a.example/cb", "https://b.example/cb"]);
        assert_eq!(split_list(" , ").count(), 0);
    }

    #[test]
    fn a_setting_without_a_variable_is_named_by_its_builder_method() {
        let err = ConfigError::invalid(AFTER_LOGIN, "expected a path");
        assert_eq!(err.var(), None);
        assert_eq!(
            err.to_string(),
            "`with_after_login` is invalid: expected a path"
        );
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
    pub(crate) fn parse(setting: Setting, value: &str) -> Result<Self, ConfigError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "lax" => Ok(SameSite::Lax),
            "strict" => Ok(SameSite::Strict),
            "none" => Ok(SameSite::None),
            _ => Err(ConfigError::invalid(
                setting,
                "expected lax, strict or none",
            )),
        }
    }
}
