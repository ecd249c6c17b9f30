//! The paths of the hosted pages, shared by the router and the pages' forms
//! (where the hosted flow's forms post; not part of the WorkOS API).

/// The hosted login page (GET) and its form (POST).
pub(crate) const LOGIN_PATH: &str = "/emulator/login";
/// The hosted sign-up page and its form.
pub(crate) const SIGN_UP_PATH: &str = "/emulator/sign-up";
/// The organization picker's form.
pub(crate) const ORGANIZATION_PATH: &str = "/emulator/organization";
/// The device page (CLI Auth's `verification_uri`): enter the user code (GET, POST).
pub(crate) const DEVICE_PATH: &str = "/emulator/device";
/// The device page's approve-or-deny form.
pub(crate) const DEVICE_CONFIRM_PATH: &str = "/emulator/device/confirm";
