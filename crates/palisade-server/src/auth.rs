//! Authentication and authorisation.
//!
//! Every API call carries `Authorization: Bearer <token>`. The token's role
//! decides what it may do, and its team decides what it may see: a team-scoped
//! token gets [`Scope::Team`], which the store applies inside its queries, so
//! another team's rows are never read, let alone returned.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use palisade_store::model::Scope;
use palisade_store::tokens::{Principal, Role};

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller(pub Principal);

impl Caller {
    /// What the caller may see.
    pub fn scope(&self) -> Scope {
        match (&self.0.role, &self.0.team_id) {
            (Role::Admin | Role::Security, None) => Scope::All,
            (_, Some(team)) => Scope::Team(team.clone()),
            // A team-less developer, CI or webhook token sees everything it is
            // allowed to act on: these are organisation-wide automation tokens.
            (_, None) => Scope::All,
        }
    }

    /// Fails unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "role {} may not do this (needs one of: {})",
                self.0.role.as_str(),
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }

    /// The actor name recorded in the audit log.
    pub fn actor(&self) -> String {
        format!("token:{}", self.0.name)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::unauthorized("missing Authorization: Bearer <token> header")
            })?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::unauthorized("Authorization header is not ASCII"))?;
        let secret = value
            .strip_prefix("Bearer ")
            .ok_or_else(|| ApiError::unauthorized("Authorization header must be `Bearer <token>`"))?
            .trim();
        match state.store.authenticate(secret).await? {
            Some(p) => Ok(Caller(p)),
            None => Err(ApiError::unauthorized("unknown or revoked token")),
        }
    }
}
