//! API routes. Each module owns one resource family and registers its
//! handlers (with their OpenAPI annotations) in [`router`].

pub mod governance;
pub mod notify;
pub mod portfolio;
pub mod system;
pub mod vulns;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

/// Largest request body accepted (SBOMs of big images run to tens of MB).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "Palisade API", description = "Software supply-chain trust: inventories, findings, attestations, policy decisions."),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every route, with the OpenAPI document built from them.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(system::router())
        .merge(portfolio::router())
        .merge(vulns::router())
        .merge(governance::router())
        .merge(notify::router())
}

/// Checks an artifact digest is `sha256:<64 lower-case hex>`.
pub(crate) fn check_digest(digest: &str) -> crate::error::ApiResult<()> {
    match digest.strip_prefix("sha256:") {
        Some(hex)
            if hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) =>
        {
            Ok(())
        }
        _ => Err(crate::error::ApiError::invalid(format!(
            "digest: expected sha256:<64 lower-case hex>, got {digest:?}"
        ))),
    }
}

/// Whether a team-scoped caller may see an artifact: its team uploaded
/// evidence for it, or runs (or ran) it.
pub(crate) async fn artifact_visible(
    s: &AppState,
    caller: &crate::auth::Caller,
    digest: &str,
) -> crate::error::ApiResult<bool> {
    Ok(s.store.artifact_visible(&caller.scope(), digest).await?)
}

/// Waits for a job to finish (up to a minute) and returns its result.
pub(crate) async fn wait_for_job(
    s: &AppState,
    job: &str,
) -> crate::error::ApiResult<serde_json::Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        match s.store.job_status(job).await? {
            Some((state, result, _)) if state == "done" => {
                return Ok(result
                    .and_then(|r| serde_json::from_str(&r).ok())
                    .unwrap_or(serde_json::Value::Null));
            }
            Some((state, _, error)) if state == "failed" => {
                return Err(crate::error::ApiError::internal(format!(
                    "job {job} failed: {}",
                    error.unwrap_or_default()
                )));
            }
            None => return Err(crate::error::ApiError::not_found(format!("job {job}"))),
            _ => {}
        }
        if std::time::Instant::now() > deadline {
            return Ok(serde_json::json!({"pending": true}));
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
