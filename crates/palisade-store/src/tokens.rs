//! API tokens. The secret is shown once, at creation; only its SHA-256 is
//! stored, so a leaked database does not leak usable tokens. Secrets carry a
//! `pal_` prefix so that secret scanners can recognise them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Store, StoreError, new_id, now_ms};

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, every team.
    Admin,
    /// Read everything, triage, approve exceptions.
    Security,
    /// Read and triage their own team's data, request exceptions.
    Developer,
    /// Upload SBOMs, attestations and scans; report deployments.
    Ci,
    /// The admission webhook.
    Webhook,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Security => "security",
            Role::Developer => "developer",
            Role::Ci => "ci",
            Role::Webhook => "webhook",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "admin" => Role::Admin,
            "security" => Role::Security,
            "developer" => Role::Developer,
            "ci" => Role::Ci,
            "webhook" => Role::Webhook,
            _ => return None,
        })
    }
}

/// A token's identity, as authentication yields it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// Token id.
    pub token_id: String,
    /// Token name (who or what holds it).
    pub name: String,
    /// Role.
    pub role: Role,
    /// The team it is scoped to; `None` for organisation-wide tokens.
    pub team_id: Option<String>,
}

/// SHA-256 of a secret, hex.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn new_secret() -> String {
    // Two ULIDs carry 160 random bits; the time bits add none, but cost
    // nothing.
    format!("pal_{}{}", ulid::Ulid::new(), ulid::Ulid::new()).to_ascii_lowercase()
}

impl Store {
    /// Creates a token; returns the principal and the secret (shown once).
    pub async fn create_token(
        &self,
        name: &str,
        role: Role,
        team_id: Option<&str>,
    ) -> Result<(Principal, String), StoreError> {
        let secret = new_secret();
        self.insert_token(name, role, team_id, &secret)
            .await
            .map(|p| (p, secret))
    }

    /// Stores a token whose secret the caller chose (the bootstrap admin token
    /// from the environment, demo tokens). Idempotent for the same secret.
    pub async fn insert_token(
        &self,
        name: &str,
        role: Role,
        team_id: Option<&str>,
        secret: &str,
    ) -> Result<Principal, StoreError> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO api_tokens (id, name, token_hash, role, team_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (token_hash) DO NOTHING",
        )
        .bind(&id)
        .bind(name)
        .bind(hash_secret(secret))
        .bind(role.as_str())
        .bind(team_id)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        self.authenticate(secret)
            .await?
            .ok_or_else(|| StoreError::Conflict("token exists but is revoked".to_owned()))
    }

    /// The principal of a secret, unless unknown or revoked.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Principal>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, role, team_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash_secret(secret))
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let role: String = r.try_get("role")?;
        Ok(Some(Principal {
            token_id: r.try_get("id")?,
            name: r.try_get("name")?,
            role: Role::parse(&role)
                .ok_or_else(|| StoreError::Conflict(format!("unknown role {role:?}")))?,
            team_id: r.try_get("team_id")?,
        }))
    }

    /// Revokes a token.
    pub async fn revoke_token(&self, token_id: &str) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(token_id)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }
}
