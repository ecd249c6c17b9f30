//! Iron `Fe26.2` seals, byte-compatible with `iron-webcrypto` and
//! `iron-session`.
//!
//! This is the format of the `wos-session` cookie written by
//! `@workos-inc/authkit-nextjs` and of `sealData` in `@workos-inc/node`: a
//! value sealed by either Node SDK unseals here with the same password, and
//! the reverse.
//!
//! ```text
//! Fe26.2*<id>*<encSalt>*<iv>*<ciphertext>*<expMs>*<macSalt>*<mac>~2
//! ```
//!
//! * both keys are PBKDF2-HMAC-SHA1 (1 iteration, 32 bytes) of the password,
//!   each with its own random salt: 32 random bytes written as 64 lowercase hex
//!   characters, and the *characters* (not the decoded bytes) are the salt;
//! * the data is JSON, encrypted with AES-256-CBC (PKCS#7 padding, random IV);
//! * `expMs` is empty (no expiry) or a Unix time in milliseconds;
//! * the MAC is HMAC-SHA256 over the first six fields joined by `*`;
//! * binary fields are base64url without padding;
//! * `~2` is `iron-session`'s cookie format version.
//!
//! ## Rotating the password with zero logouts
//!
//! 1. Add the new password with a higher id next to the old one
//!    (`Passwords::new([("1", old), ("2", new)])`, or
//!    `AuthKitBuilder::with_additional_cookie_password("2", new)`) and deploy.
//!    New seals use id 2; existing cookies still unseal with id 1.
//! 2. Wait until every active session has been re-sealed: the layer re-seals
//!    a cookie whenever it refreshes its access token (every few minutes of
//!    use), so a day covers all but idle sessions.
//! 3. Remove the old password and deploy. Cookies still naming id 1 are now
//!    "invalid" (their users sign in again), never an error page.
//!
//! Note that `@workos-inc/node` reads only password id `1`: where a Node
//! service shares the cookie, rotate there too before relying on id 2.
//!
//! ```
//! use std::time::Duration;
//! use authkit_axum::seal::{Passwords, SealOptions, UnsealOptions, seal, unseal};
//!
//! let passwords = Passwords::single("at-least-32-characters-of-cookie-password")?;
//! let sealed = seal(
//!     &serde_json::json!({ "hello": "world" }),
//!     &passwords,
//!     SealOptions::default().with_ttl(Duration::from_secs(3600)),
//! )?;
//! assert!(sealed.starts_with("Fe26.2*1*") && sealed.ends_with("~2"));
//!
//! let back: serde_json::Value = unseal(&sealed, &passwords, UnsealOptions::default())?;
//! assert_eq!(back["hello"], "world");
//! # Ok::<(), authkit_axum::seal::SealError>(())
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aes::Aes256;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::Secret;

/// The seal prefix: iron's format, version 2.
pub const PREFIX: &str = "Fe26.2";

/// The cookie format version `iron-session` appends to its seals (`~2`).
pub const VERSION_SUFFIX: &str = "~2";

/// The shortest password accepted, in characters as JavaScript counts them
/// (UTF-16 code units), like iron's `minPasswordlength`.
pub const MIN_PASSWORD_LEN: usize = 32;

/// The longest seal [`unseal`] looks at, and the longest [`seal`] produces.
/// A cookie cannot hold more than about 4 KiB anyway.
pub const MAX_SEALED_LEN: usize = 64 * 1024;

/// Clock skew tolerated when checking a seal's expiration, like iron's
/// default `timestampSkewSec` of 60.
pub const TIMESTAMP_SKEW: Duration = Duration::from_secs(60);

const SALT_BYTES: usize = 32;
const SALT_HEX_LEN: usize = SALT_BYTES * 2;
const IV_BYTES: usize = 16;
const KEY_BYTES: usize = 32;
const MAC_BYTES: usize = 32;

type Aes256CbcEnc = cbc::Encryptor<Aes256>;
type Aes256CbcDec = cbc::Decryptor<Aes256>;
type HmacSha256 = Hmac<Sha256>;

/// Why a value could not be sealed or unsealed.
///
/// For a cookie, every unseal error means "no valid session": a client cannot
/// tell them apart, they only help the logs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// A password is shorter than [`MIN_PASSWORD_LEN`].
    #[error(
        "password {id:?} is too short: {len} characters, at least {MIN_PASSWORD_LEN} are required"
    )]
    PasswordTooShort {
        /// The password's id.
        id: String,
        /// Its length in UTF-16 code units (as JavaScript counts).
        len: usize,
    },
    /// A password id is not made of ASCII letters, digits and `_`.
    #[error("invalid password id {id:?}: only ASCII letters, digits and '_' are allowed")]
    InvalidPasswordId {
        /// The id as given.
        id: String,
    },
    /// The same password id was given twice.
    #[error("password id {id:?} is given more than once")]
    DuplicatePasswordId {
        /// The repeated id.
        id: String,
    },
    /// A password set must hold at least one password.
    #[error("no password given")]
    NoPasswords,
    /// The input is not an iron seal: wrong number of fields, wrong prefix,
    /// unknown version suffix, malformed expiration, or too large.
    #[error("not an iron seal: {0}")]
    BadFormat(&'static str),
    /// A field is not valid base64url (unpadded) or hex.
    #[error("invalid encoding: {0}")]
    BadEncoding(&'static str),
    /// The seal names a password id this set does not hold.
    #[error("the seal uses unknown password id {id:?}")]
    UnknownPasswordId {
        /// The id named in the seal (at most 64 characters of it).
        id: String,
    },
    /// The integrity check failed: wrong password or tampered seal.
    #[error("bad seal integrity (wrong password or tampered value)")]
    BadMac,
    /// The seal has expired.
    #[error("the seal has expired")]
    Expired,
    /// The MAC was valid but the data could not be decrypted (bad IV
    /// length, ciphertext length or padding).
    #[error("cannot decrypt the seal: {0}")]
    Decrypt(&'static str),
    /// The data could not be serialized, or the unsealed JSON does not fit
    /// the requested type. When unsealing, the message gives only the error
    /// category and position, never the (secret) data.
    #[error("JSON error: {0}")]
    Json(String),
    /// The system random number generator failed.
    #[error("random number generator failed: {0}")]
    Random(getrandom::Error),
}

impl SealError {
    /// Why a value would not unseal, as a short label for logs and metrics
    /// (never the value): `tampered` (the MAC does not match: another
    /// password or an altered seal), `expired_seal`, `unknown_password_id`,
    /// `malformed` (not an iron seal, bad encoding, undecryptable, not the
    /// expected JSON); `invalid_password` and `internal` for the errors of
    /// making a seal.
    ///
    /// ```
    /// use authkit_axum::seal::SealError;
    /// assert_eq!(SealError::BadMac.reason(), "tampered");
    /// assert_eq!(SealError::Expired.reason(), "expired_seal");
    /// ```
    pub fn reason(&self) -> &'static str {
        match self {
            SealError::BadMac => "tampered",
            SealError::Expired => "expired_seal",
            SealError::UnknownPasswordId { .. } => "unknown_password_id",
            SealError::BadFormat(_)
            | SealError::BadEncoding(_)
            | SealError::Decrypt(_)
            | SealError::Json(_) => "malformed",
            SealError::PasswordTooShort { .. }
            | SealError::InvalidPasswordId { .. }
            | SealError::DuplicatePasswordId { .. }
            | SealError::NoPasswords => "invalid_password",
            SealError::Random(_) => "internal",
        }
    }
}

/// One password: an id (named in the seals it makes) and a secret of at
/// least [`MIN_PASSWORD_LEN`] characters.
///
/// `Debug` never shows the secret.
#[derive(Clone)]
pub struct Password {
    id: String,
    secret: Secret,
    /// HMAC-SHA1 keyed with the secret (its two padded key blocks hashed
    /// once, here): the PRF of every key derivation, cloned ready.
    prf: Hmac<Sha1>,
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Password")
            .field("id", &self.id)
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

impl Password {
    /// Checks and wraps a password.
    ///
    /// The id must be empty (iron's unnamed password) or made of ASCII
    /// letters, digits and `_` (iron's `^\w+$`). The secret must be at least
    /// [`MIN_PASSWORD_LEN`] characters long.
    pub fn new(id: impl Into<String>, secret: impl Into<Secret>) -> Result<Self, SealError> {
        let id = id.into();
        let secret = secret.into();
        if !is_valid_id(&id) {
            return Err(SealError::InvalidPasswordId { id });
        }
        let len = secret.expose().encode_utf16().count();
        if len < MIN_PASSWORD_LEN {
            return Err(SealError::PasswordTooShort { id, len });
        }
        let prf = <Hmac<Sha1> as Mac>::new_from_slice(secret.expose().as_bytes())
            .expect("HMAC accepts any key length");
        Ok(Self { id, secret, prf })
    }

    /// The password's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Iron's key: PBKDF2-HMAC-SHA1 of the secret over the salt's hex
    /// text, one iteration, 32 bytes. With one iteration PBKDF2's block `i`
    /// is `HMAC(secret, salt ‖ i)` (`i` as a big-endian `u32` from 1; RFC
    /// 8018 §5.2, `U_1` alone), so this is RustCrypto's HMAC from the
    /// password's keyed state, the salt hashed once for both blocks (the
    /// `pbkdf2` crate keys the HMAC and hashes the salt again for each;
    /// a unit test compares the two).
    fn derive_key(&self, salt_hex: &str) -> [u8; KEY_BYTES] {
        const SHA1_BYTES: usize = 20;
        let mut salted = self.prf.clone();
        salted.update(salt_hex.as_bytes());
        let mut key = [0u8; KEY_BYTES];
        for (block, i) in key.chunks_mut(SHA1_BYTES).zip(1u32..) {
            let mut prf = salted.clone();
            prf.update(&i.to_be_bytes());
            block.copy_from_slice(&prf.finalize().into_bytes()[..block.len()]);
        }
        key
    }
}

/// The passwords of a deployment, for rotation: new seals use the newest
/// (highest id), and a seal unseals with whichever password it names.
///
/// Ids compare as numbers when both are all digits (`"10"` is newer than
/// `"9"`, as in `iron-session`, which picks the largest numeric key). Ids
/// with other characters rank above all numeric ids and compare as strings.
///
/// `Debug` shows the ids, never the secrets.
#[derive(Clone)]
pub struct Passwords {
    /// Never empty.
    entries: Vec<Password>,
    /// Index of the newest password in `entries`.
    current: usize,
}

impl Passwords {
    /// A single password with id `"1"`, as `iron-session` does with a string
    /// password (and so `@workos-inc/node` and `authkit-nextjs`).
    pub fn single(password: impl Into<Secret>) -> Result<Self, SealError> {
        Self::new([("1", password)])
    }

    /// A set of `(id, password)` pairs. Fails if it is empty, or on an
    /// invalid or repeated id, or a short password.
    pub fn new<I, S>(passwords: impl IntoIterator<Item = (I, S)>) -> Result<Self, SealError>
    where
        I: Into<String>,
        S: Into<Secret>,
    {
        let mut entries: Vec<Password> = Vec::new();
        for (id, secret) in passwords {
            let password = Password::new(id, secret)?;
            if entries.iter().any(|p| p.id == password.id) {
                return Err(SealError::DuplicatePasswordId { id: password.id });
            }
            entries.push(password);
        }
        if entries.is_empty() {
            return Err(SealError::NoPasswords);
        }
        let current = newest(&entries);
        Ok(Self { entries, current })
    }

    /// Adds a password. Fails on an invalid or already present id, or a
    /// short password.
    pub fn with(
        mut self,
        id: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Result<Self, SealError> {
        let password = Password::new(id, password)?;
        if self.get(&password.id).is_some() {
            return Err(SealError::DuplicatePasswordId { id: password.id });
        }
        self.entries.push(password);
        self.current = newest(&self.entries);
        Ok(self)
    }

    /// The password new seals use: the one with the highest id.
    pub fn current(&self) -> &Password {
        &self.entries[self.current]
    }

    /// The password with this id.
    pub fn get(&self, id: &str) -> Option<&Password> {
        self.entries.iter().find(|p| p.id == id)
    }

    /// The password a seal names. Iron's unnamed password (empty id) is
    /// looked up as `""`, then as `"default"`, like `iron-webcrypto` does.
    fn for_seal(&self, id: &str) -> Option<&Password> {
        match self.get(id) {
            None if id.is_empty() => self.get("default"),
            found => found,
        }
    }
}

impl fmt::Debug for Passwords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Passwords")
            .field(
                "ids",
                &self.entries.iter().map(|p| &p.id).collect::<Vec<_>>(),
            )
            .field("current", &self.current().id)
            .finish()
    }
}

fn newest(entries: &[Password]) -> usize {
    entries
        .iter()
        .enumerate()
        .max_by(|(_, a), (_, b)| compare_ids(&a.id, &b.id))
        .map_or(0, |(index, _)| index)
}

/// A total order on ids: all-digit ids by numeric value (then as strings, so
/// `"01"` and `"1"` differ), below every other id, which compare as strings.
fn compare_ids(a: &str, b: &str) -> Ordering {
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    match (numeric(a), numeric(b)) {
        (true, true) => {
            let (sa, sb) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            sa.len()
                .cmp(&sb.len())
                .then_with(|| sa.cmp(sb))
                .then_with(|| a.cmp(b))
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

fn is_valid_id(id: &str) -> bool {
    id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Options for [`seal`].
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct SealOptions {
    /// How long the seal is valid. `None` or zero (below one millisecond):
    /// no expiry, like `sealData(data, { ttl: 0 })` in the Node SDKs.
    pub ttl: Option<Duration>,
    /// The current time; `None` reads the system clock.
    pub now: Option<SystemTime>,
}

impl SealOptions {
    /// Sets the time to live.
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Sets the current time (for tests).
    #[must_use]
    pub fn with_now(mut self, now: SystemTime) -> Self {
        self.now = Some(now);
        self
    }
}

/// Options for [`unseal`].
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct UnsealOptions {
    /// The current time; `None` reads the system clock.
    pub now: Option<SystemTime>,
}

impl UnsealOptions {
    /// Sets the current time (for tests).
    #[must_use]
    pub fn with_now(mut self, now: SystemTime) -> Self {
        self.now = Some(now);
        self
    }
}

/// Seals `data` (as JSON) with the newest password, in `iron-session`'s
/// format (with the `~2` suffix).
pub fn seal<T: Serialize + ?Sized>(
    data: &T,
    passwords: &Passwords,
    options: SealOptions,
) -> Result<String, SealError> {
    let plaintext = serde_json::to_vec(data).map_err(|e| SealError::Json(e.to_string()))?;
    let password = passwords.current();

    let mut enc_salt = [0u8; SALT_BYTES];
    let mut mac_salt = [0u8; SALT_BYTES];
    let mut iv = [0u8; IV_BYTES];
    for buffer in [&mut enc_salt[..], &mut mac_salt[..], &mut iv[..]] {
        getrandom::fill(buffer).map_err(SealError::Random)?;
    }
    let enc_salt = hex_lower(&enc_salt);
    let mac_salt = hex_lower(&mac_salt);

    let enc_key = password.derive_key(&enc_salt);
    let ciphertext =
        Aes256CbcEnc::new(&enc_key.into(), &iv.into()).encrypt_padded_vec_mut::<Pkcs7>(&plaintext);

    let expiration = match options.ttl.map(|ttl| ttl.as_millis()) {
        Some(ttl_ms) if ttl_ms > 0 => {
            let now = unix_ms(options.now.unwrap_or_else(SystemTime::now));
            let exp = u64::try_from(ttl_ms)
                .unwrap_or(u64::MAX)
                .saturating_add(now);
            exp.to_string()
        }
        _ => String::new(),
    };

    let capacity = PREFIX.len()
        + password.id.len()
        + 2 * SALT_HEX_LEN
        + base64::encoded_len(IV_BYTES, false).unwrap_or(0)
        + base64::encoded_len(ciphertext.len(), false).unwrap_or(0)
        + expiration.len()
        + base64::encoded_len(MAC_BYTES, false).unwrap_or(0)
        + 7
        + VERSION_SUFFIX.len();
    if capacity > MAX_SEALED_LEN {
        return Err(SealError::BadFormat("the sealed value would be too large"));
    }
    let mut out = String::with_capacity(capacity);
    for part in [PREFIX, "*", &password.id, "*", &enc_salt, "*"] {
        out.push_str(part);
    }
    URL_SAFE_NO_PAD.encode_string(iv, &mut out);
    out.push('*');
    URL_SAFE_NO_PAD.encode_string(&ciphertext, &mut out);
    out.push('*');
    out.push_str(&expiration);

    let mac_key = password.derive_key(&mac_salt);
    let mac = hmac_sha256(&mac_key, out.as_bytes());
    out.push('*');
    out.push_str(&mac_salt);
    out.push('*');
    URL_SAFE_NO_PAD.encode_string(mac, &mut out);
    out.push_str(VERSION_SUFFIX);
    Ok(out)
}

/// Unseals a value sealed by [`seal`], `iron-session` or `iron-webcrypto`,
/// with or without the `~2` suffix, and parses its JSON as `T`.
///
/// Checks, in iron's order: the format, the expiration (with
/// [`TIMESTAMP_SKEW`]), the password id, the MAC (in constant time), then
/// decrypts. Never panics, whatever the input.
pub fn unseal<T: DeserializeOwned>(
    sealed: &str,
    passwords: &Passwords,
    options: UnsealOptions,
) -> Result<T, SealError> {
    let plaintext = unseal_bytes(sealed, passwords, options)?;
    serde_json::from_slice(&plaintext)
        .map_err(|e| SealError::Json(crate::secret::redacted_json_error(&e)))
}

/// [`unseal`] up to the decrypted JSON text.
fn unseal_bytes(
    sealed: &str,
    passwords: &Passwords,
    options: UnsealOptions,
) -> Result<Vec<u8>, SealError> {
    if sealed.len() > MAX_SEALED_LEN {
        return Err(SealError::BadFormat("too large"));
    }
    let parts = Parts::parse(sealed)?;

    if let Some(exp) = parts.expiration {
        let now = unix_ms(options.now.unwrap_or_else(SystemTime::now));
        let skew = TIMESTAMP_SKEW.as_millis() as i128;
        if i128::from(exp) <= i128::from(now) - skew {
            return Err(SealError::Expired);
        }
    }

    let password =
        passwords
            .for_seal(parts.password_id)
            .ok_or_else(|| SealError::UnknownPasswordId {
                id: parts.password_id.chars().take(64).collect(),
            })?;

    let mut mac = [0u8; 48];
    let mac_len = match URL_SAFE_NO_PAD.decode_slice(parts.mac, &mut mac) {
        Ok(len) => len,
        Err(base64::DecodeSliceError::OutputSliceTooSmall) => return Err(SealError::BadMac),
        Err(base64::DecodeSliceError::DecodeError(_)) => {
            return Err(SealError::BadEncoding("MAC is not unpadded base64url"));
        }
    };
    let mac_key = password.derive_key(parts.mac_salt);
    let expected = hmac_sha256(&mac_key, parts.mac_base.as_bytes());
    if !bool::from(expected.as_slice().ct_eq(&mac[..mac_len])) {
        return Err(SealError::BadMac);
    }

    let mut iv = [0u8; 24];
    let iv_len = URL_SAFE_NO_PAD
        .decode_slice(parts.iv, &mut iv)
        .map_err(|e| match e {
            base64::DecodeSliceError::OutputSliceTooSmall => SealError::Decrypt("IV is too long"),
            base64::DecodeSliceError::DecodeError(_) => {
                SealError::BadEncoding("IV is not unpadded base64url")
            }
        })?;
    let iv: [u8; IV_BYTES] = iv[..iv_len]
        .try_into()
        .map_err(|_| SealError::Decrypt("IV is not 16 bytes"))?;
    let mut buffer = decode_ciphertext(parts.ciphertext)?;

    let enc_key = password.derive_key(parts.enc_salt);
    let len = Aes256CbcDec::new(&enc_key.into(), &iv.into())
        .decrypt_padded_mut::<Pkcs7>(&mut buffer)
        .map_err(|_| SealError::Decrypt("bad ciphertext length or padding"))?
        .len();
    buffer.truncate(len);
    Ok(buffer)
}

/// The fields of a seal, borrowed from it.
struct Parts<'a> {
    password_id: &'a str,
    enc_salt: &'a str,
    iv: &'a str,
    ciphertext: &'a str,
    expiration: Option<u64>,
    mac_salt: &'a str,
    mac: &'a str,
    /// The first six fields with their separators: what the MAC covers.
    mac_base: &'a str,
}

impl<'a> Parts<'a> {
    fn parse(sealed: &'a str) -> Result<Self, SealError> {
        // memchr's searches (SIMD) over the 2 KB a session seal has, where
        // `split` looked for each separator a byte at a time.
        let body = match memchr::memchr(b'~', sealed.as_bytes()) {
            None => sealed,
            // `~` is ASCII: both sides are on character boundaries.
            Some(at) => {
                let (body, version) = (&sealed[..at], &sealed[at + 1..]);
                if version.is_empty() || !version.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(SealError::BadFormat("malformed version suffix"));
                }
                if version != &VERSION_SUFFIX[1..] {
                    return Err(SealError::BadFormat("unsupported version suffix"));
                }
                body
            }
        };

        let mut fields = [""; 8];
        let mut stars = memchr::memchr_iter(b'*', body.as_bytes());
        let mut start = 0;
        for (i, field) in fields.iter_mut().enumerate() {
            // Seven separators between eight fields; the last runs to the end.
            let end = if i < 7 {
                stars
                    .next()
                    .ok_or(SealError::BadFormat("wrong number of fields"))?
            } else {
                body.len()
            };
            // `*` is ASCII: every field is on character boundaries.
            *field = &body[start..end];
            start = end + 1;
        }
        if stars.next().is_some() {
            return Err(SealError::BadFormat("wrong number of fields"));
        }
        let [
            prefix,
            password_id,
            enc_salt,
            iv,
            ciphertext,
            expiration,
            mac_salt,
            mac,
        ] = fields;

        if prefix != PREFIX {
            return Err(SealError::BadFormat("wrong prefix"));
        }
        if !is_valid_id(password_id) {
            return Err(SealError::BadFormat("invalid password id"));
        }
        for salt in [enc_salt, mac_salt] {
            if salt.is_empty()
                || salt.len() % 2 != 0
                || !salt.bytes().all(|c| c.is_ascii_hexdigit())
            {
                return Err(SealError::BadEncoding("salt is not hex"));
            }
        }
        let expiration = if expiration.is_empty() {
            None
        } else if expiration.bytes().all(|c| c.is_ascii_digit()) {
            // Saturates: an absurdly distant expiration never expires, as
            // in JavaScript where it parses to a huge number or Infinity.
            Some(expiration.bytes().fold(0u64, |n, c| {
                n.saturating_mul(10).saturating_add(u64::from(c - b'0'))
            }))
        } else {
            return Err(SealError::BadFormat("invalid expiration"));
        };

        // Six fields and five separators, all ASCII-delimited in `body`.
        let mac_base_len = fields[..6].iter().map(|f| f.len()).sum::<usize>() + 5;
        let mac_base = body
            .get(..mac_base_len)
            .ok_or(SealError::BadFormat("wrong number of fields"))?;

        Ok(Self {
            password_id,
            enc_salt,
            iv,
            ciphertext,
            expiration,
            mac_salt,
            mac,
            mac_base,
        })
    }
}

/// The ciphertext's bytes: unpadded base64url, refused as `base64`'s
/// `URL_SAFE_NO_PAD` refuses (padding, a stray character, a length of 4n+1,
/// non-zero trailing bits; a unit test compares the two), decoded with SIMD.
fn decode_ciphertext(text: &str) -> Result<Vec<u8>, SealError> {
    base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(text)
        .map_err(|_| SealError::BadEncoding("ciphertext is not unpadded base64url"))
}

fn hmac_sha256(key: &[u8; KEY_BYTES], message: &[u8]) -> [u8; MAC_BYTES] {
    // HMAC takes keys of any length: this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Milliseconds since the Unix epoch; 0 before it, saturating far after.
fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::{Value, json};

    const PW1: &str = "this-is-a-test-cookie-password-of-40-chars";
    const PW2: &str = "rotated-password-number-two-at-least-32-chars!";

    fn passwords() -> Passwords {
        Passwords::single(PW1).unwrap()
    }

    fn at_ms(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    fn sample() -> Value {
        json!({ "accessToken": "at_123", "refreshToken": "rt_456", "n": 42, "ü": "日本語" })
    }

    fn sealed_sample() -> String {
        seal(&sample(), &passwords(), SealOptions::default()).unwrap()
    }

    fn unseal_value(sealed: &str, passwords: &Passwords) -> Result<Value, SealError> {
        unseal(sealed, passwords, UnsealOptions::default())
    }

    #[test]
    fn key_derivation_is_the_pbkdf2_crates_with_one_iteration() {
        let long = "a password longer than one SHA-1 block, which HMAC hashes first: ".repeat(2);
        for secret in [PW1, PW2, long.as_str()] {
            let password = Password::new("1", secret).unwrap();
            for salt_len in [0, 2, 54, 55, 56, 63, 64, 65, 120, 128, 200] {
                let salt: String = "0123456789abcdef".chars().cycle().take(salt_len).collect();
                let mut expected = [0u8; KEY_BYTES];
                pbkdf2::pbkdf2_hmac::<Sha1>(secret.as_bytes(), salt.as_bytes(), 1, &mut expected);
                assert_eq!(password.derive_key(&salt), expected, "salt of {salt_len}");
            }
        }
    }

    #[test]
    fn ciphertext_decoding_accepts_and_refuses_what_base64_does() {
        // Every string of up to 3 characters over an alphabet of edge cases,
        // then longer ones from a fixed pseudo-random walk.
        let alphabet = b"AQgw_-9+/=.~ \n\0";
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new()];
        for len in 1..=3 {
            let mut next = Vec::new();
            for prefix in inputs.iter().filter(|s| s.len() == len - 1) {
                for &c in alphabet {
                    let mut s = prefix.clone();
                    s.push(c);
                    next.push(s);
                }
            }
            inputs.extend(next);
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..4000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 80) as usize;
            let s: Vec<u8> = (0..len)
                .map(|i| {
                    let r = state.rotate_left(i as u32 * 7);
                    if r.is_multiple_of(50) {
                        alphabet[(r / 50 % alphabet.len() as u64) as usize]
                    } else {
                        URL_SAFE_CHARS[(r / 3 % 64) as usize]
                    }
                })
                .collect();
            inputs.push(s);
        }
        inputs.push(URL_SAFE_NO_PAD.encode(vec![0xa5; 1600]).into_bytes());
        let mut accepted = 0;
        for input in &inputs {
            let text = std::str::from_utf8(input).unwrap();
            let expected = URL_SAFE_NO_PAD.decode(text).ok();
            accepted += usize::from(expected.is_some());
            assert_eq!(decode_ciphertext(text).ok(), expected, "{text:?}");
        }
        // Both sides of the line were tried, many times.
        assert!(
            accepted > 500 && inputs.len() - accepted > 500,
            "{accepted}"
        );
    }

    const URL_SAFE_CHARS: &[u8; 64] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    #[test]
    fn round_trip() {
        let sealed = sealed_sample();
        assert!(sealed.starts_with("Fe26.2*1*"));
        assert!(sealed.ends_with("~2"));
        let body = sealed.strip_suffix("~2").unwrap();
        let fields: Vec<&str> = body.split('*').collect();
        assert_eq!(fields.len(), 8);
        assert_eq!(fields[2].len(), 64);
        assert_eq!(fields[6].len(), 64);
        assert!(
            fields[2]
                .bytes()
                .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
        );
        assert_eq!(fields[3].len(), 22);
        assert_eq!(fields[5], "");
        assert_eq!(fields[7].len(), 43);
        assert_ne!(fields[2], fields[6], "separate salts");
        assert_eq!(unseal_value(&sealed, &passwords()).unwrap(), sample());
        // Without the version suffix too.
        assert_eq!(unseal_value(body, &passwords()).unwrap(), sample());
    }

    #[test]
    fn round_trip_typed() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Session {
            user: String,
            count: u32,
        }
        let s = Session {
            user: "alice".into(),
            count: 7,
        };
        let sealed = seal(&s, &passwords(), SealOptions::default()).unwrap();
        let back: Session = unseal(&sealed, &passwords(), UnsealOptions::default()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn seals_are_randomized() {
        assert_ne!(sealed_sample(), sealed_sample());
    }

    #[test]
    fn json_type_mismatch_does_not_leak_data() {
        let sealed = seal(
            &json!({ "n": "secret-token" }),
            &passwords(),
            Default::default(),
        )
        .unwrap();
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Wanted {
            n: u32,
        }
        let err = unseal::<Wanted>(&sealed, &passwords(), Default::default()).unwrap_err();
        assert!(matches!(err, SealError::Json(_)), "{err:?}");
        assert!(!err.to_string().contains("secret-token"), "{err}");
    }

    #[test]
    fn ttl_expiry_with_skew_boundary() {
        let t0 = 1_700_000_000_000u64;
        let ttl = Duration::from_secs(3600);
        let sealed = seal(
            &sample(),
            &passwords(),
            SealOptions::default().with_ttl(ttl).with_now(at_ms(t0)),
        )
        .unwrap();
        let exp = t0 + 3_600_000;
        assert_eq!(
            sealed.split('*').nth(5).unwrap(),
            exp.to_string(),
            "expMs = now + ttl"
        );
        let at = |ms: u64| {
            unseal::<Value>(
                &sealed,
                &passwords(),
                UnsealOptions::default().with_now(at_ms(ms)),
            )
        };
        assert_eq!(at(t0).unwrap(), sample());
        assert_eq!(at(exp).unwrap(), sample());
        // Iron: expired when exp <= now - 60 s.
        assert_eq!(at(exp + 59_999).unwrap(), sample());
        assert!(matches!(at(exp + 60_000), Err(SealError::Expired)));
        assert!(matches!(at(exp + 86_400_000), Err(SealError::Expired)));
    }

    #[test]
    fn zero_ttl_means_no_expiry() {
        let sealed = seal(
            &sample(),
            &passwords(),
            SealOptions::default()
                .with_ttl(Duration::ZERO)
                .with_now(at_ms(1000)),
        )
        .unwrap();
        assert_eq!(sealed.split('*').nth(5).unwrap(), "");
        let far = UnsealOptions::default().with_now(at_ms(u64::MAX / 2));
        assert_eq!(
            unseal::<Value>(&sealed, &passwords(), far).unwrap(),
            sample()
        );
    }

    #[test]
    fn wrong_password_is_bad_mac() {
        let sealed = sealed_sample();
        let other = Passwords::single(PW2).unwrap();
        assert!(matches!(
            unseal_value(&sealed, &other),
            Err(SealError::BadMac)
        ));
    }

    #[test]
    fn unknown_password_id() {
        let sealed = sealed_sample();
        let other = Passwords::new([("2", PW1)]).unwrap();
        match unseal_value(&sealed, &other) {
            Err(SealError::UnknownPasswordId { id }) => assert_eq!(id, "1"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rotation_seals_with_highest_id_and_unseals_old() {
        let old = seal(&sample(), &passwords(), SealOptions::default()).unwrap();
        let rotated = passwords().with("2", PW2).unwrap();
        assert_eq!(rotated.current().id(), "2");
        let new = seal(&sample(), &rotated, SealOptions::default()).unwrap();
        assert!(new.starts_with("Fe26.2*2*"));
        assert_eq!(unseal_value(&old, &rotated).unwrap(), sample());
        assert_eq!(unseal_value(&new, &rotated).unwrap(), sample());
        assert!(matches!(
            unseal_value(&new, &passwords()),
            Err(SealError::UnknownPasswordId { .. })
        ));
    }

    #[test]
    fn newest_id_compares_numerically() {
        let set = Passwords::new([("9", PW1), ("10", PW2), ("2", PW1)]).unwrap();
        assert_eq!(set.current().id(), "10");
        let set = Passwords::new([("b", PW1), ("a", PW2), ("99", PW1)]).unwrap();
        assert_eq!(set.current().id(), "b");
        let set = Passwords::new([("010", PW1), ("9", PW2)]).unwrap();
        assert_eq!(set.current().id(), "010");
    }

    #[test]
    fn password_set_validation() {
        match Passwords::single("too-short") {
            Err(SealError::PasswordTooShort { id, len }) => {
                assert_eq!(id, "1");
                assert_eq!(len, 9);
            }
            other => panic!("{other:?}"),
        }
        // 31 characters: refused; 32: accepted.
        assert!(Passwords::single("a".repeat(31)).is_err());
        assert!(Passwords::single("a".repeat(32)).is_ok());
        assert!(matches!(
            Passwords::new(Vec::<(String, String)>::new()),
            Err(SealError::NoPasswords)
        ));
        assert!(matches!(
            Passwords::new([("1", PW1), ("1", PW2)]),
            Err(SealError::DuplicatePasswordId { .. })
        ));
        assert!(matches!(
            passwords().with("1", PW2),
            Err(SealError::DuplicatePasswordId { .. })
        ));
        assert!(matches!(
            Passwords::new([("a-b", PW1)]),
            Err(SealError::InvalidPasswordId { .. })
        ));
        assert!(matches!(
            Passwords::new([("a*b", PW1)]),
            Err(SealError::InvalidPasswordId { .. })
        ));
        let err = Passwords::single("short-secret").unwrap_err().to_string();
        assert!(
            err.contains("too short") && !err.contains("short-secret"),
            "{err}"
        );
    }

    #[test]
    fn unnamed_password() {
        let set = Passwords::new([("", PW1)]).unwrap();
        let sealed = seal(&sample(), &set, SealOptions::default()).unwrap();
        assert!(sealed.starts_with("Fe26.2**"));
        assert_eq!(unseal_value(&sealed, &set).unwrap(), sample());
        // Iron looks an unnamed password up as "default".
        let default = Passwords::new([("default", PW1)]).unwrap();
        assert_eq!(unseal_value(&sealed, &default).unwrap(), sample());
    }

    #[test]
    fn debug_is_redacted() {
        let set = passwords().with("2", PW2).unwrap();
        let debug = format!("{set:?} {:?} {:?}", set.current(), set.get("1"));
        assert!(!debug.contains(PW1) && !debug.contains(PW2), "{debug}");
        assert!(debug.contains("\"2\""), "{debug}");
    }

    fn replace_field(sealed: &str, index: usize, value: &str) -> String {
        let body = sealed.strip_suffix("~2").unwrap();
        let mut fields: Vec<&str> = body.split('*').collect();
        fields[index] = value;
        format!("{}~2", fields.join("*"))
    }

    #[test]
    fn malformed_inputs_are_typed_errors() {
        let pw = passwords();
        let good = sealed_sample();
        let check = |input: &str, want: fn(&SealError) -> bool| {
            let result = unseal_value(input, &pw);
            match result {
                Err(ref e) if want(e) => {}
                other => panic!("input {:?}: {other:?}", &input[..input.len().min(80)]),
            }
        };
        let bad_format = |e: &SealError| matches!(e, SealError::BadFormat(_));
        let bad_encoding = |e: &SealError| matches!(e, SealError::BadEncoding(_));

        check("", bad_format);
        check("~2", bad_format);
        check("Fe26.2", bad_format);
        check("*******", bad_format);
        check("not a seal at all", bad_format);
        // Wrong field counts.
        let body = good.strip_suffix("~2").unwrap();
        check(&format!("{body}*extra~2"), bad_format);
        let seven = body.rsplit_once('*').unwrap().0;
        check(&format!("{seven}~2"), bad_format);
        // Wrong prefix.
        check(&replace_field(&good, 0, "Fe26.1"), bad_format);
        check(&replace_field(&good, 0, "fe26.2"), bad_format);
        check(&replace_field(&good, 0, ""), bad_format);
        // Version suffix.
        check(&format!("{body}~1"), bad_format);
        check(&format!("{body}~3"), bad_format);
        check(&format!("{body}~02"), bad_format);
        check(&format!("{body}~"), bad_format);
        check(&format!("{body}~x"), bad_format);
        check(&format!("{body}~2~2"), bad_format);
        // Password id with characters iron never writes.
        check(&replace_field(&good, 1, "a-b"), bad_format);
        // Expiration.
        check(&replace_field(&good, 5, "12a"), bad_format);
        check(&replace_field(&good, 5, "-5"), bad_format);
        check(&replace_field(&good, 5, "+5"), bad_format);
        // Hex salts.
        let fields: Vec<&str> = body.split('*').collect();
        let bad_hex = format!("zz{}", &fields[2][2..]);
        check(&replace_field(&good, 2, &bad_hex), bad_encoding);
        check(&replace_field(&good, 6, &bad_hex), bad_encoding);
        check(&replace_field(&good, 2, ""), bad_encoding);
        check(&replace_field(&good, 6, "abc"), bad_encoding);
        // Base64url: padding and non-url-safe characters, in the MAC.
        check(
            &replace_field(&good, 7, &format!("{}=", fields[7])),
            bad_encoding,
        );
        let plus = format!("+{}", &fields[7][1..]);
        check(&replace_field(&good, 7, &plus), bad_encoding);
        let slash = format!("/{}", &fields[7][1..]);
        check(&replace_field(&good, 7, &slash), bad_encoding);
        // Too large: refused before anything else.
        let huge = format!("{}{}", good, "A".repeat(1 << 20));
        check(&huge, bad_format);
        check(&"*".repeat(1 << 20), bad_format);
    }

    #[test]
    fn covered_fields_with_bad_base64_fail_the_mac() {
        // The IV and ciphertext are covered by the MAC: any change to them
        // is BadMac, whether or not it is valid base64.
        let good = sealed_sample();
        let body = good.strip_suffix("~2").unwrap();
        let fields: Vec<&str> = body.split('*').collect();
        for (index, value) in [
            (3, format!("{}=", fields[3])),
            (3, format!("+{}", &fields[3][1..])),
            (4, format!("{}==", fields[4])),
            (4, format!("/{}", &fields[4][1..])),
        ] {
            let input = replace_field(&good, index, &value);
            assert!(
                matches!(unseal_value(&input, &passwords()), Err(SealError::BadMac)),
                "{index}"
            );
        }
    }

    /// Builds a correctly MAC'd seal around arbitrary IV and ciphertext
    /// fields, to reach the decryption checks.
    fn forge(pw: &Passwords, iv: &str, ciphertext: &str) -> String {
        let salt = "ab".repeat(32);
        let base = format!("Fe26.2*1*{salt}*{iv}*{ciphertext}*");
        let key = pw.current().derive_key(&salt);
        let mac = URL_SAFE_NO_PAD.encode(hmac_sha256(&key, base.as_bytes()));
        format!("{base}*{salt}*{mac}~2")
    }

    #[test]
    fn decryption_failures_after_a_valid_mac() {
        let pw = passwords();
        let iv16 = URL_SAFE_NO_PAD.encode([7u8; 16]);
        let ct16 = URL_SAFE_NO_PAD.encode([9u8; 16]);
        let ct15 = URL_SAFE_NO_PAD.encode([9u8; 15]);
        let cases = [
            (URL_SAFE_NO_PAD.encode([7u8; 15]), ct16.clone()),
            (URL_SAFE_NO_PAD.encode([7u8; 17]), ct16.clone()),
            (URL_SAFE_NO_PAD.encode([7u8; 64]), ct16.clone()),
            (String::new(), ct16.clone()),
            (iv16.clone(), ct15),
            (iv16.clone(), String::new()),
            // Random block: the padding is almost surely wrong.
            (iv16.clone(), ct16),
        ];
        for (iv, ct) in cases {
            let forged = forge(&pw, &iv, &ct);
            assert!(
                matches!(unseal_value(&forged, &pw), Err(SealError::Decrypt(_))),
                "{iv} {ct}: {:?}",
                unseal_value(&forged, &pw)
            );
        }
        let forged = forge(&pw, &format!("{iv16}="), "AAAA");
        assert!(matches!(
            unseal_value(&forged, &pw),
            Err(SealError::BadEncoding(_))
        ));
        let forged = forge(&pw, &iv16, "AA=A");
        assert!(matches!(
            unseal_value(&forged, &pw),
            Err(SealError::BadEncoding(_))
        ));
    }

    #[test]
    fn flipping_any_byte_never_unseals_to_the_original() {
        let pw = passwords();
        for ttl in [None, Some(Duration::from_secs(3600))] {
            let options = SealOptions {
                ttl,
                now: Some(at_ms(1_700_000_000_000)),
            };
            let good = seal(&sample(), &pw, options).unwrap();
            let unseal_options = UnsealOptions::default().with_now(at_ms(1_700_000_000_000));
            let bytes = good.as_bytes();
            for position in 0..bytes.len() {
                for replacement in [b'A', b'B', b'0', b'1', b'*', b'~', b'=', b'-', b'_'] {
                    if bytes[position] == replacement {
                        continue;
                    }
                    let mut tampered = bytes.to_vec();
                    tampered[position] = replacement;
                    let tampered = String::from_utf8(tampered).unwrap();
                    // Must not panic; must not yield the original data.
                    if let Ok(value) = unseal::<Value>(&tampered, &pw, unseal_options) {
                        panic!("tampered seal at {position} unsealed to {value}");
                    }
                }
            }
            // Truncations too.
            for end in 0..good.len() {
                let truncated = &good[..end];
                if truncated == good.strip_suffix("~2").unwrap() {
                    continue;
                }
                assert!(unseal::<Value>(truncated, &pw, unseal_options).is_err());
            }
        }
    }

    #[test]
    fn compare_ids_is_a_total_order() {
        let ids = ["", "0", "00", "1", "01", "9", "10", "1_", "a", "B", "_"];
        for a in ids {
            for b in ids {
                assert_eq!(compare_ids(a, b), compare_ids(b, a).reverse(), "{a} {b}");
                for c in ids {
                    if compare_ids(a, b).is_le() && compare_ids(b, c).is_le() {
                        assert!(compare_ids(a, c).is_le(), "{a} {b} {c}");
                    }
                }
            }
        }
    }
}
