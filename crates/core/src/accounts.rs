//! Accounts: users with Argon2id password hashes, browser sessions and API
//! tokens. Session and token secrets are 256-bit random values given to
//! the client once; only their SHA-256 is stored.

use crate::{CoreError, Photodesk};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use photodesk_db::NewSession;
use photodesk_types::{ApiToken, Role, User};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::LazyLock;

/// How long a login lasts.
pub const SESSION_LIFETIME: Duration = Duration::days(14);
/// NIST SP 800-63B: at least 8 characters; long passphrases allowed.
const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=1024;
/// API tokens start with this, so a leaked one is recognisable in logs and scanners.
const TOKEN_PREFIX: &str = "pd_";

/// Login attempts allowed per window, per account and per client address,
/// across all instances (the counts are in the database).
const ATTEMPTS_PER_ACCOUNT: u64 = 5;
const ATTEMPTS_PER_ADDRESS: u64 = 20;
const ATTEMPT_WINDOW: Duration = Duration::minutes(1);

/// A successful login: the cookie value (secret) and the CSRF token.
#[derive(Debug, Clone)]
pub struct NewLogin {
    pub cookie: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// Who a request acts for, and (for browser sessions) its CSRF token.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user: User,
    pub csrf_token: String,
}

pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Argon2id with the crate's defaults (OWASP's minimum: 19 MiB, 2 passes).
fn hash_password(password: &str) -> Result<String, CoreError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| CoreError::Internal(format!("password hashing: {e}")))
}

/// A hash of nothing anyone knows, verified when the user does not exist so
/// that a wrong name takes as long as a wrong password.
static DECOY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password(&random_secret()).unwrap_or_default());

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

fn check_name(name: &str) -> Result<(), CoreError> {
    let valid = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(CoreError::Invalid(format!(
            "user name {name:?}: use 1–64 lower-case letters, digits, '.', '_' or '-'"
        )))
    }
}

fn check_password(password: &str) -> Result<(), CoreError> {
    let chars = password.chars().count();
    if PASSWORD_CHARS.contains(&chars) {
        Ok(())
    } else {
        Err(CoreError::Invalid(format!(
            "the password must have {} to {} characters (it has {chars})",
            PASSWORD_CHARS.start(),
            PASSWORD_CHARS.end()
        )))
    }
}

/// Hashing takes tens of milliseconds of CPU: off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, CoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| CoreError::Internal(format!("password work failed: {e}")))
}

impl Photodesk {
    pub async fn add_user(
        &self,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<User, CoreError> {
        check_name(name)?;
        check_password(password)?;
        let password = password.to_owned();
        let hash = blocking(move || hash_password(&password)).await??;
        self.db
            .create_user(name, role, &hash)
            .await?
            .ok_or_else(|| CoreError::Conflict(format!("a user named {name:?} exists already")))
    }

    pub async fn users(&self) -> Result<Vec<User>, CoreError> {
        Ok(self.db.list_users().await?)
    }

    /// Sets a new password; the user's open sessions end.
    pub async fn set_password(&self, name: &str, password: &str) -> Result<(), CoreError> {
        check_password(password)?;
        let password = password.to_owned();
        let hash = blocking(move || hash_password(&password)).await??;
        if self.db.set_password_hash(name, &hash).await? {
            Ok(())
        } else {
            Err(CoreError::NotFound(format!("no user named {name:?}")))
        }
    }

    /// Disables (or re-enables) a user; disabling ends their sessions and
    /// stops their API tokens.
    pub async fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<(), CoreError> {
        if self.db.set_disabled(name, disabled).await? {
            Ok(())
        } else {
            Err(CoreError::NotFound(format!("no user named {name:?}")))
        }
    }

    /// Counts a login attempt for the account and the client address; false
    /// once either has had too many in the current minute. Account names are
    /// compared case-insensitively, so case games do not buy attempts.
    pub async fn login_allowed(&self, name: &str, address: IpAddr) -> Result<bool, CoreError> {
        let now = Utc::now();
        let account = secret_hash(&format!("account:{}", name.to_lowercase()));
        let client = secret_hash(&format!("address:{address}"));
        let by_account = self.db.count_attempt(&account, now, ATTEMPT_WINDOW).await?;
        let by_address = self.db.count_attempt(&client, now, ATTEMPT_WINDOW).await?;
        Ok(by_account <= ATTEMPTS_PER_ACCOUNT && by_address <= ATTEMPTS_PER_ADDRESS)
    }

    /// Checks the password and opens a session. Wrong name, wrong password
    /// and disabled user all get the same answer, in the same time.
    pub async fn log_in(&self, name: &str, password: &str) -> Result<NewLogin, CoreError> {
        let record = self.db.user_credentials(name).await?;
        let hash = record
            .as_ref()
            .map_or_else(|| DECOY_HASH.clone(), |(_, hash)| hash.clone());
        let password = password.to_owned();
        let matches = blocking(move || password_matches(&password, &hash)).await?;
        let user = match record {
            Some((user, _)) if matches && !user.disabled => user,
            _ => {
                return Err(CoreError::Unauthorized(
                    "wrong user name or password".into(),
                ))
            }
        };
        let cookie = random_secret();
        let login = NewLogin {
            csrf_token: random_secret(),
            expires_at: Utc::now() + SESSION_LIFETIME,
            user,
            cookie,
        };
        self.db
            .create_session(NewSession {
                token_hash: secret_hash(&login.cookie),
                user_id: login.user.id,
                csrf_token: login.csrf_token.clone(),
                expires_at: login.expires_at,
            })
            .await?;
        Ok(login)
    }

    /// The user of a live session cookie, if any.
    pub async fn session_user(&self, cookie: &str) -> Result<Option<SessionUser>, CoreError> {
        Ok(self
            .db
            .session(&secret_hash(cookie), Utc::now())
            .await?
            .map(|(user, csrf_token)| SessionUser { user, csrf_token }))
    }

    pub async fn log_out(&self, cookie: &str) -> Result<(), CoreError> {
        Ok(self.db.delete_session(&secret_hash(cookie)).await?)
    }

    /// Creates a token for `user`; the secret is returned once, here.
    pub async fn create_api_token(
        &self,
        user: &str,
        name: &str,
    ) -> Result<(ApiToken, String), CoreError> {
        if name.trim().is_empty() || name.len() > 200 {
            return Err(CoreError::Invalid(
                "a token needs a name of 1–200 characters".into(),
            ));
        }
        let secret = format!("{TOKEN_PREFIX}{}", random_secret());
        let token = self
            .db
            .create_api_token(user, name, &secret_hash(&secret))
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("no user named {user:?}")))?;
        Ok((token, secret))
    }

    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>, CoreError> {
        Ok(self.db.list_api_tokens().await?)
    }

    pub async fn revoke_api_token(&self, id: i64) -> Result<(), CoreError> {
        if self.db.revoke_api_token(id).await? {
            Ok(())
        } else {
            Err(CoreError::NotFound(format!("no active token {id}")))
        }
    }

    /// The user a bearer token acts for, if it is valid.
    pub async fn token_user(&self, secret: &str) -> Result<Option<User>, CoreError> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        Ok(self.db.api_token_user(&secret_hash(secret)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_argon2id_with_a_salt() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert_ne!(hash, hash_password("correct horse battery").unwrap());
        assert!(password_matches("correct horse battery", &hash));
        assert!(!password_matches("correct horse battery!", &hash));
        assert!(!password_matches("anything", "not a hash"));
    }

    #[test]
    fn names_and_passwords_are_checked() {
        for good in ["anna", "a.b-c_9"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Anna", "a b", "ä", "<script>", &"a".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(check_password("1234567").is_err());
        assert!(check_password("12345678").is_ok());
        assert!(check_password(&"x".repeat(1025)).is_err());
    }
}
