//! Users, sessions and API tokens.

use crate::backend::{query, Pool, Row, Tx};
use crate::{DbError, NewSession};
use chrono::{DateTime, Utc};
use photodesk_types::{ApiToken, Role, User};
use std::str::FromStr;

const USER_COLUMNS: &str = "u.id, u.name, u.role, u.disabled, u.created_at";

fn user_from_row(row: &Row) -> Result<User, DbError> {
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: Role::from_str(row.try_get::<&str>("role")?).map_err(DbError::Corrupt)?,
        disabled: row.try_get("disabled")?,
        created_at: row.try_get("created_at")?,
    })
}

fn token_from_row(row: &Row) -> Result<ApiToken, DbError> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        user: row.try_get("user_name")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

pub async fn create_user(
    pool: &Pool,
    name: &str,
    role: Role,
    password_hash: &str,
) -> Result<Option<User>, DbError> {
    let row = query(
        "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO NOTHING
         RETURNING id, name, role, disabled, created_at",
    )
    .bind(name)
    .bind(role.as_str())
    .bind(password_hash)
    .bind(Utc::now())
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(user_from_row).transpose()
}

pub async fn list_users(pool: &Pool) -> Result<Vec<User>, DbError> {
    query(format!(
        "SELECT {USER_COLUMNS} FROM users u ORDER BY u.name"
    ))
    .fetch_all(pool)
    .await?
    .iter()
    .map(user_from_row)
    .collect()
}

pub async fn user_credentials(pool: &Pool, name: &str) -> Result<Option<(User, String)>, DbError> {
    let row = query(format!(
        "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.name = ?"
    ))
    .bind(name)
    .fetch_optional(pool)
    .await?;
    row.map(|row| Ok((user_from_row(&row)?, row.try_get("password_hash")?)))
        .transpose()
}

/// Logs the user out everywhere.
async fn end_sessions(tx: &mut Tx, name: &str) -> Result<(), DbError> {
    query("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?)")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

pub async fn set_password_hash(
    pool: &Pool,
    name: &str,
    password_hash: &str,
) -> Result<bool, DbError> {
    let mut tx = pool.begin().await?;
    let changed = query("UPDATE users SET password_hash = ? WHERE name = ?")
        .bind(password_hash)
        .bind(name)
        .execute(&mut tx)
        .await?
        == 1;
    // A new password ends every session opened with the old one.
    end_sessions(&mut tx, name).await?;
    tx.commit().await?;
    Ok(changed)
}

pub async fn set_disabled(pool: &Pool, name: &str, disabled: bool) -> Result<bool, DbError> {
    let mut tx = pool.begin().await?;
    let changed = query("UPDATE users SET disabled = ? WHERE name = ?")
        .bind(disabled)
        .bind(name)
        .execute(&mut tx)
        .await?
        == 1;
    if disabled {
        end_sessions(&mut tx, name).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

pub async fn create_session(pool: &Pool, session: NewSession) -> Result<(), DbError> {
    let now = Utc::now();
    // Expired sessions are swept whenever a new one starts.
    query("DELETE FROM sessions WHERE expires_at <= ?")
        .bind(now)
        .execute(pool)
        .await?;
    query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&session.token_hash)
    .bind(session.user_id)
    .bind(&session.csrf_token)
    .bind(now)
    .bind(session.expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn session(
    pool: &Pool,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(User, String)>, DbError> {
    let row = query(format!(
        "SELECT {USER_COLUMNS}, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = ? AND s.expires_at > ? AND NOT u.disabled"
    ))
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    row.map(|row| Ok((user_from_row(&row)?, row.try_get("csrf_token")?)))
        .transpose()
}

pub async fn delete_session(pool: &Pool, token_hash: &str) -> Result<(), DbError> {
    query("DELETE FROM sessions WHERE token_hash = ?")
        .bind(token_hash)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn create_api_token(
    pool: &Pool,
    user: &str,
    name: &str,
    token_hash: &str,
) -> Result<Option<ApiToken>, DbError> {
    let id: Option<i64> = query(
        "INSERT INTO api_tokens (name, user_id, token_hash, created_at)
         SELECT ?, id, ?, ? FROM users WHERE name = ? RETURNING id",
    )
    .bind(name)
    .bind(token_hash)
    .bind(Utc::now())
    .bind(user)
    .scalar_optional(pool)
    .await?;
    let Some(id) = id else { return Ok(None) };
    let row = query(
        "SELECT t.*, u.name AS user_name FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.id = ?",
    )
    .bind(id)
    .fetch_one(pool)
    .await?;
    token_from_row(&row).map(Some)
}

pub async fn list_api_tokens(pool: &Pool) -> Result<Vec<ApiToken>, DbError> {
    query(
        "SELECT t.*, u.name AS user_name FROM api_tokens t JOIN users u ON u.id = t.user_id
         ORDER BY t.id",
    )
    .fetch_all(pool)
    .await?
    .iter()
    .map(token_from_row)
    .collect()
}

pub async fn api_token_user(pool: &Pool, token_hash: &str) -> Result<Option<User>, DbError> {
    let row = query(format!(
        "SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = ? AND t.revoked_at IS NULL AND NOT u.disabled"
    ))
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(user_from_row).transpose()
}

pub async fn revoke_api_token(pool: &Pool, id: i64) -> Result<bool, DbError> {
    Ok(
        query("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(Utc::now())
            .bind(id)
            .execute(pool)
            .await?
            == 1,
    )
}

pub async fn count_attempt(
    pool: &Pool,
    key: &str,
    now: DateTime<Utc>,
    window: chrono::Duration,
) -> Result<u64, DbError> {
    let mut tx = pool.begin().await?;
    // Windows that have ended are forgotten, so the table stays small.
    query("DELETE FROM login_attempts WHERE window_start <= ?")
        .bind(now - window)
        .execute(&mut tx)
        .await?;
    let attempts = query(
        "INSERT INTO login_attempts (key, window_start, attempts) VALUES (?, ?, 1)
         ON CONFLICT (key) DO UPDATE SET attempts = login_attempts.attempts + 1
         RETURNING attempts",
    )
    .bind(key)
    .bind(now)
    .fetch_one(&mut tx)
    .await?
    .unsigned("attempts")?;
    tx.commit().await?;
    Ok(attempts)
}
