//! Local users and server-side sessions of the portal.
//!
//! A user has a role and an optional team, like an API token
//! ([`crate::tokens`]); the same [`Role`] decides what they may do and the
//! team what they may see. The store never sees a password: the portal
//! hashes it (argon2id) and hands over the PHC string.
//!
//! A session is a random secret in a browser cookie; only the secret's
//! SHA-256 is stored. A session belongs to a user (password sign-in) or to
//! an API token (token sign-in); either way it ends when the user is
//! disabled or the token revoked, because every look-up joins the owner.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::tokens::{Role, hash_secret};
use crate::{Store, StoreError, new_id, now_ms};

/// A local user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Id.
    pub id: String,
    /// Unique sign-in name.
    pub username: String,
    /// Name shown in the portal.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// The team it is scoped to; `None` for organisation-wide users.
    pub team_id: Option<String>,
    /// Creation time, ms.
    pub created_at: i64,
}

/// Who owns a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionOwner {
    /// A local user, by id.
    User(String),
    /// An API token, by id.
    Token(String),
}

/// A live session with its owner's identity, as every request reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The SHA-256 of the session secret (the row's key).
    pub id_hash: String,
    /// The user, for password sign-ins.
    pub user_id: Option<String>,
    /// The token, for token sign-ins.
    pub token_id: Option<String>,
    /// The username or the token's name.
    pub name: String,
    /// Name shown.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Team scope.
    pub team_id: Option<String>,
    /// The team's name.
    pub team_name: Option<String>,
    /// The synchronizer token every form of this session carries.
    pub csrf_token: String,
    /// Expiry, ms.
    pub expires_at: i64,
}

fn parse_role(role: &str) -> Result<Role, StoreError> {
    Role::parse(role).ok_or_else(|| StoreError::Conflict(format!("unknown role {role:?}")))
}

fn user_from(r: &AnyRow) -> Result<User, StoreError> {
    let role: String = r.try_get("role")?;
    Ok(User {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        role: parse_role(&role)?,
        team_id: r.try_get("team_id")?,
        created_at: r.try_get("created_at")?,
    })
}

const USER_COLUMNS: &str = "id, username, display_name, role, team_id, created_at";

/// Checks a username: 1 to 64 characters of letters, digits, `.`, `_`, `-`
/// and `@`.
pub fn valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

impl Store {
    /// Creates a user with a password hash (a PHC string). Fails with
    /// [`StoreError::Conflict`] when the username is taken.
    pub async fn create_user(
        &self,
        username: &str,
        display_name: &str,
        role: Role,
        team_id: Option<&str>,
        password_hash: &str,
    ) -> Result<User, StoreError> {
        if !valid_username(username) {
            return Err(StoreError::Invalid(format!(
                "username {username:?}: use 1 to 64 letters, digits, '.', '_', '-' or '@'"
            )));
        }
        let n = sqlx::query(
            "INSERT INTO users (id, username, display_name, password_hash, role, team_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (username) DO NOTHING",
        )
        .bind(new_id())
        .bind(username)
        .bind(display_name)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(team_id)
        .bind(now_ms())
        .execute(self.pool())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "user {username:?} exists already"
            )));
        }
        self.user_by_name(username)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {username:?}")))
    }

    /// Creates a user unless one of that name exists (demo seeding);
    /// returns the stored user either way.
    pub async fn ensure_user(
        &self,
        username: &str,
        display_name: &str,
        role: Role,
        team_id: Option<&str>,
        password_hash: &str,
    ) -> Result<User, StoreError> {
        match self
            .create_user(username, display_name, role, team_id, password_hash)
            .await
        {
            Err(StoreError::Conflict(_)) => self
                .user_by_name(username)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("user {username:?}"))),
            other => other,
        }
    }

    /// A user by name (disabled ones included).
    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        )))
        .bind(username)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(user_from).transpose()
    }

    /// An enabled user and their password hash, for signing in.
    pub async fn user_credentials(
        &self,
        username: &str,
    ) -> Result<Option<(User, String)>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1 AND disabled_at IS NULL"
        )))
        .bind(username)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(r) => Ok(Some((user_from(&r)?, r.try_get("password_hash")?))),
            None => Ok(None),
        }
    }

    /// Replaces a user's password hash and ends their sessions.
    pub async fn set_user_password(
        &self,
        user_id: &str,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(user_id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound(format!("user {user_id}")));
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Disables a user and ends their sessions.
    pub async fn disable_user(&self, user_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let n =
            sqlx::query("UPDATE users SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL")
                .bind(user_id)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Stores a new session for `secret` (the cookie value, random, chosen by
    /// the caller) that lives `ttl_ms`.
    pub async fn create_session(
        &self,
        secret: &str,
        owner: &SessionOwner,
        csrf_token: &str,
        ttl_ms: i64,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let (user_id, token_id) = match owner {
            SessionOwner::User(u) => (Some(u.as_str()), None),
            SessionOwner::Token(t) => (None, Some(t.as_str())),
        };
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, token_id, csrf_token, created_at, expires_at, last_seen)
             VALUES ($1, $2, $3, $4, $5, $6, $5)",
        )
        .bind(hash_secret(secret))
        .bind(user_id)
        .bind(token_id)
        .bind(csrf_token)
        .bind(now)
        .bind(now.saturating_add(ttl_ms))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The live session of `secret`, unless unknown, expired, or its user
    /// disabled or token revoked.
    pub async fn session(&self, secret: &str) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(
            "SELECT s.id_hash, s.user_id, s.token_id, s.csrf_token, s.expires_at,
                COALESCE(u.username, k.name) AS name,
                COALESCE(u.display_name, k.name) AS display_name,
                COALESCE(u.role, k.role) AS role,
                COALESCE(u.team_id, k.team_id) AS team_id,
                t.name AS team_name
             FROM sessions s
             LEFT JOIN users u ON u.id = s.user_id AND u.disabled_at IS NULL
             LEFT JOIN api_tokens k ON k.id = s.token_id AND k.revoked_at IS NULL
             LEFT JOIN teams t ON t.id = COALESCE(u.team_id, k.team_id)
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND (u.id IS NOT NULL OR k.id IS NOT NULL)",
        )
        .bind(hash_secret(secret))
        .bind(now_ms())
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let role: String = r.try_get("role")?;
        let display_name: String = r.try_get("display_name")?;
        let name: String = r.try_get("name")?;
        Ok(Some(Session {
            id_hash: r.try_get("id_hash")?,
            user_id: r.try_get("user_id")?,
            token_id: r.try_get("token_id")?,
            display_name: if display_name.is_empty() {
                name.clone()
            } else {
                display_name
            },
            name,
            role: parse_role(&role)?,
            team_id: r.try_get("team_id")?,
            team_name: r.try_get("team_name")?,
            csrf_token: r.try_get("csrf_token")?,
            expires_at: r.try_get("expires_at")?,
        }))
    }

    /// Ends the session of `secret` (sign-out). Returns whether one existed.
    pub async fn delete_session(&self, secret: &str) -> Result<bool, StoreError> {
        let n = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(hash_secret(secret))
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Removes sessions expired by `now`; returns how many.
    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(self.pool())
            .await?
            .rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::valid_username;

    #[test]
    fn usernames() {
        assert!(valid_username("alice"));
        assert!(valid_username("sam.security@example"));
        assert!(!valid_username(""));
        assert!(!valid_username("a b"));
        assert!(!valid_username("<script>"));
        assert!(!valid_username(&"x".repeat(65)));
    }
}
