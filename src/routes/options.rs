//! The options the login and sign-up routes pass on to AuthKit's
//! authorization URL, read from their query and validated: a value that is
//! not what WorkOS takes is refused with a 400 page, never passed on.
//!
//! | parameter | rule |
//! |---|---|
//! | `return_to` | a same-origin path, else the after-login path (never an error) |
//! | `organization_id` | `org_` and 1–64 letters or digits |
//! | `connection_id` | `conn_` and 1–64 letters or digits; not with `provider` |
//! | `provider` | a provider WorkOS knows, spelled as WorkOS does (`authkit`, `GoogleOAuth`, …) |
//! | `login_hint` | at most 320 bytes |
//! | `domain_hint` | a domain name: letters, digits, `-`, `.`; at most 253 bytes |
//! | `screen_hint` | `sign-in` or `sign-up` (`/signup` always opens sign-up) |
//! | `prompt` | space-separated `login`, `consent`, `none`, `select_account` |
//! | `max_age` | seconds: a non-negative integer below 2³² |
//! | `invitation_token` | 1–128 letters, digits, `-`, `_` |
//! | `state` | the app's opaque value, at most 512 bytes; kept sealed, returned to the sign-in hook |
//!
//! No value may hold a control character, and none may be given twice. An
//! empty value counts as absent (an empty form field); other parameters are
//! ignored.

use crate::client::{Provider, ScreenHint};

/// The app's `state`: at most this many bytes (it rides in the flow cookie).
pub(crate) const MAX_APP_STATE: usize = 512;
const MAX_LOGIN_HINT: usize = 320;
const MAX_DOMAIN: usize = 253;
const MAX_ID: usize = 64;
const MAX_INVITATION_TOKEN: usize = 128;
const PROMPTS: [&str; 4] = ["login", "consent", "none", "select_account"];

/// The validated options of one login or sign-up request.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct SignInOptions {
    pub(crate) return_to: Option<String>,
    pub(crate) organization_id: Option<String>,
    pub(crate) connection_id: Option<String>,
    pub(crate) provider: Option<Provider>,
    pub(crate) login_hint: Option<String>,
    pub(crate) domain_hint: Option<String>,
    pub(crate) screen_hint: Option<ScreenHint>,
    pub(crate) prompt: Option<String>,
    pub(crate) max_age: Option<u64>,
    pub(crate) invitation_token: Option<String>,
    pub(crate) app_state: Option<String>,
}

/// Why a login request's options were refused. The message names the
/// parameter and its rule, never the value.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum OptionError {
    #[error("the parameter {0} is given more than once")]
    Repeated(&'static str),
    #[error("the parameter {name} is not valid: {rule}")]
    Invalid {
        name: &'static str,
        rule: &'static str,
    },
    #[error("provider and connection_id cannot be given together")]
    ProviderAndConnection,
    #[error("sign-up opens AuthKit's sign-up form: {0} cannot be given to it")]
    NotForSignUp(&'static str),
}

fn invalid(name: &'static str, rule: &'static str) -> OptionError {
    OptionError::Invalid { name, rule }
}

/// Reads the options of `/login` (`sign_up` false) or `/signup` from a raw
/// query string.
pub(crate) fn parse(query: Option<&str>, sign_up: bool) -> Result<SignInOptions, OptionError> {
    let mut o = SignInOptions::default();
    let pairs = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes());
    for (key, value) in pairs {
        if value.is_empty() {
            continue;
        }
        macro_rules! set {
            ($field:ident, $name:literal, $value:expr) => {{
                if o.$field.is_some() {
                    return Err(OptionError::Repeated($name));
                }
                o.$field = Some($value);
            }};
        }
        let text = |name: &'static str, max: usize| -> Result<String, OptionError> {
            if value.len() > max {
                return Err(invalid(name, "too long"));
            }
            if value.chars().any(char::is_control) {
                return Err(invalid(name, "control characters are not allowed"));
            }
            Ok(value.clone().into_owned())
        };
        match key.as_ref() {
            // Not checked here: an unsafe return_to falls back to the
            // after-login path, as it always has.
            "return_to" => set!(return_to, "return_to", value.clone().into_owned()),
            "organization_id" => set!(
                organization_id,
                "organization_id",
                id("organization_id", "org_", &value)?
            ),
            "connection_id" => set!(
                connection_id,
                "connection_id",
                id("connection_id", "conn_", &value)?
            ),
            "provider" => set!(
                provider,
                "provider",
                Provider::parse(&value).ok_or(invalid(
                    "provider",
                    "not a provider WorkOS knows (authkit, GoogleOAuth, GitHubOAuth, MicrosoftOAuth, AppleOAuth, …)",
                ))?
            ),
            "login_hint" => set!(login_hint, "login_hint", text("login_hint", MAX_LOGIN_HINT)?),
            "domain_hint" => set!(domain_hint, "domain_hint", domain(&value)?),
            "screen_hint" => set!(
                screen_hint,
                "screen_hint",
                match value.as_ref() {
                    "sign-up" => ScreenHint::SignUp,
                    "sign-in" => ScreenHint::SignIn,
                    _ => return Err(invalid("screen_hint", "expected sign-in or sign-up")),
                }
            ),
            "prompt" => set!(prompt, "prompt", prompt(&value)?),
            "max_age" => set!(max_age, "max_age", max_age(&value)?),
            "invitation_token" => set!(
                invitation_token,
                "invitation_token",
                token("invitation_token", &value)?
            ),
            "state" => set!(app_state, "state", text("state", MAX_APP_STATE)?),
            _ => {}
        }
    }
    if o.provider.is_some() && o.connection_id.is_some() {
        return Err(OptionError::ProviderAndConnection);
    }
    if sign_up {
        if o.screen_hint == Some(ScreenHint::SignIn) {
            return Err(OptionError::NotForSignUp("screen_hint=sign-in"));
        }
        if o.connection_id.is_some() {
            return Err(OptionError::NotForSignUp("connection_id"));
        }
        if o.provider.as_ref().is_some_and(|p| *p != Provider::AuthKit) {
            return Err(OptionError::NotForSignUp("an OAuth provider"));
        }
        o.screen_hint = Some(ScreenHint::SignUp);
    } else if o.screen_hint.is_some()
        && (o.connection_id.is_some()
            || o.provider.as_ref().is_some_and(|p| *p != Provider::AuthKit))
    {
        return Err(invalid(
            "screen_hint",
            "only AuthKit's own page has screens",
        ));
    }
    // AuthKit's page, unless an SSO connection is named.
    if o.provider.is_none() && o.connection_id.is_none() {
        o.provider = Some(Provider::AuthKit);
    }
    Ok(o)
}

/// A WorkOS id: `prefix` and up to 64 letters or digits.
fn id(name: &'static str, prefix: &str, value: &str) -> Result<String, OptionError> {
    let ok = value.strip_prefix(prefix).is_some_and(|rest| {
        !rest.is_empty() && rest.len() <= MAX_ID && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    if ok {
        Ok(value.to_owned())
    } else if prefix == "org_" {
        Err(invalid(name, "expected a WorkOS organization id (org_…)"))
    } else {
        Err(invalid(name, "expected a WorkOS connection id (conn_…)"))
    }
}

fn domain(value: &str) -> Result<String, OptionError> {
    let ok = value.len() <= MAX_DOMAIN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !value.starts_with('.')
        && !value.ends_with('.')
        && !value.contains("..");
    if ok {
        Ok(value.to_owned())
    } else {
        Err(invalid(
            "domain_hint",
            "expected a domain name such as example.com",
        ))
    }
}

fn prompt(value: &str) -> Result<String, OptionError> {
    let ok = value.len() <= 64 && value.split(' ').all(|p| PROMPTS.contains(&p));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(invalid(
            "prompt",
            "expected login, consent, none or select_account (space-separated)",
        ))
    }
}

fn max_age(value: &str) -> Result<u64, OptionError> {
    let rule = "expected a number of seconds (0 or more)";
    if value.is_empty() || value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("max_age", rule));
    }
    value
        .parse::<u64>()
        .ok()
        .filter(|&n| n <= u64::from(u32::MAX))
        .ok_or(invalid("max_age", rule))
}

fn token(name: &'static str, value: &str) -> Result<String, OptionError> {
    let ok = value.len() <= MAX_INVITATION_TOKEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(invalid(
            name,
            "expected the invitation's token (letters and digits)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(q: &str) -> Result<SignInOptions, OptionError> {
        parse(Some(q), false)
    }

    #[test]
    fn every_option_is_read_and_authkit_is_the_default_provider() {
        let o = login(
            "return_to=%2Fa&organization_id=org_01HACME&login_hint=a%2Bb%40x.com&domain_hint=x.com\
             &screen_hint=sign-in&prompt=login%20consent&max_age=0&invitation_token=Z1uX3Rbw\
             &state=%7B%22cart%22%3A7%7D&utm_source=mail",
        )
        .unwrap();
        assert_eq!(
            o,
            SignInOptions {
                return_to: Some("/a".into()),
                organization_id: Some("org_01HACME".into()),
                connection_id: None,
                provider: Some(Provider::AuthKit),
                login_hint: Some("a+b@x.com".into()),
                domain_hint: Some("x.com".into()),
                screen_hint: Some(ScreenHint::SignIn),
                prompt: Some("login consent".into()),
                max_age: Some(0),
                invitation_token: Some("Z1uX3Rbw".into()),
                app_state: Some("{\"cart\":7}".into()),
            }
        );
        assert_eq!(login("").unwrap().provider, Some(Provider::AuthKit));
        // A connection alone: no provider is sent.
        let o = login("connection_id=conn_01H").unwrap();
        assert_eq!(
            (o.provider, o.connection_id.as_deref()),
            (None, Some("conn_01H"))
        );
        assert_eq!(
            login("provider=GitHubOAuth").unwrap().provider,
            Some(Provider::GitHub)
        );
        // An empty field is absent.
        assert_eq!(login("login_hint=&max_age=").unwrap().login_hint, None);
    }

    #[test]
    fn bad_values_are_refused_naming_the_parameter_never_the_value() {
        for (q, name) in [
            ("organization_id=acme", "organization_id"),
            ("organization_id=org_", "organization_id"),
            ("organization_id=org_a-b", "organization_id"),
            ("organization_id=org_%0a", "organization_id"),
            ("connection_id=org_1", "connection_id"),
            ("provider=google", "provider"),
            ("provider=Other", "provider"),
            ("screen_hint=register", "screen_hint"),
            ("prompt=always", "prompt"),
            ("prompt=login%0d%0aSet-Cookie", "prompt"),
            ("max_age=-1", "max_age"),
            ("max_age=1.5", "max_age"),
            ("max_age=99999999999", "max_age"),
            ("max_age=%2B1", "max_age"),
            ("invitation_token=a%20b", "invitation_token"),
            ("domain_hint=evil.com%2Fx", "domain_hint"),
            ("domain_hint=..", "domain_hint"),
            ("login_hint=a%00b", "login_hint"),
            ("state=a%0ab", "state"),
        ] {
            match login(q) {
                Err(OptionError::Invalid { name: n, .. }) => assert_eq!(n, name, "{q}"),
                other => panic!("{q}: {other:?}"),
            }
        }
        let long = format!("login_hint={}", "a".repeat(MAX_LOGIN_HINT + 1));
        assert!(login(&long).is_err());
        let long = format!("state={}", "s".repeat(MAX_APP_STATE + 1));
        assert!(login(&long).is_err());
        let ok = format!("state={}", "s".repeat(MAX_APP_STATE));
        assert!(login(&ok).is_ok());
        let e = login("login_hint=%3Cscript%3E&login_hint=b").unwrap_err();
        assert_eq!(e, OptionError::Repeated("login_hint"));
        assert!(!e.to_string().contains("script"));
        assert_eq!(
            login("provider=authkit&connection_id=conn_1").unwrap_err(),
            OptionError::ProviderAndConnection
        );
        assert!(login("provider=GoogleOAuth&screen_hint=sign-up").is_err());
    }

    #[test]
    fn sign_up_forces_its_screen_and_refuses_what_cannot_sign_up() {
        let o = parse(Some("login_hint=a%40b.c"), true).unwrap();
        assert_eq!(o.screen_hint, Some(ScreenHint::SignUp));
        assert_eq!(o.provider, Some(Provider::AuthKit));
        assert!(parse(Some("screen_hint=sign-up"), true).is_ok());
        for q in [
            "screen_hint=sign-in",
            "connection_id=conn_1",
            "provider=GoogleOAuth",
        ] {
            assert!(
                matches!(parse(Some(q), true), Err(OptionError::NotForSignUp(_))),
                "{q}"
            );
        }
    }
}
