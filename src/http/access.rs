//! Tokens and the audit log on the native API: `POST/GET /api/v1/tokens`,
//! `DELETE /api/v1/tokens/{id}` and `GET /api/v1/audit` (all admin, see the route
//! table). A token's text appears in one answer only: the one that creates it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::domain::{AuditAction, Caller, Role, Scope, Scopes, TokenName};
use crate::registry::TokenRequest;
use crate::store::{AuditQuery, AuditRecord, TokenRecord};

/// The largest page of the audit log.
const MAX_AUDIT_PAGE: i64 = 1000;
/// The page size when `limit` is not given.
const DEFAULT_AUDIT_PAGE: i64 = 100;

/// `POST /tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// Its name.
    pub name: String,
    /// `reader`, `producer` or `admin`.
    pub role: String,
    /// Contract name globs (default `*`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// When it stops working (RFC 3339).
    pub expires_at: Option<DateTime<Utc>>,
    /// How long it works (`90d`, `12h`), instead of `expires_at`.
    pub expires_in: Option<String>,
}

/// A token as listed (never its secret, nor its hash).
#[derive(Debug, Serialize)]
pub struct TokenView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Its scopes.
    pub scopes: Scopes,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used (to within about a minute).
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<&TokenRecord> for TokenView {
    fn from(t: &TokenRecord) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name.to_string(),
            role: t.role,
            scopes: t.scopes.clone(),
            created_by: t.created_by.clone(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
            last_used_at: t.last_used_at,
        }
    }
}

/// The answer to a creation: the token, shown this once.
#[derive(Debug, Serialize)]
pub struct CreatedTokenResponse {
    /// The token as its bearer sends it. Not shown again.
    pub token: String,
    /// The rest.
    #[serde(flatten)]
    pub view: TokenView,
}

/// `GET /tokens`.
#[derive(Debug, Serialize)]
pub struct TokenList {
    /// Every token, revoked ones included, oldest first.
    pub tokens: Vec<TokenView>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-token-request",
        message,
    )
}

/// Reads a token request (shared by the API and, through the same parsing, the CLI).
fn token_request(body: CreateTokenRequest) -> Result<TokenRequest, ApiError> {
    let name = TokenName::parse(&body.name).map_err(|e| invalid(e.to_string()))?;
    let role: Role = body
        .role
        .parse()
        .map_err(|e: crate::domain::UnknownName| invalid(e.to_string()))?;
    let scopes = body
        .scopes
        .iter()
        .map(|s| Scope::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(e.to_string()))?;
    let expires_at = match (body.expires_at, body.expires_in.as_deref()) {
        (Some(_), Some(_)) => return Err(invalid("give expires_at or expires_in, not both")),
        (Some(at), None) => Some(at),
        (None, Some(within)) => Some(expiry(within).map_err(invalid)?),
        (None, None) => None,
    };
    Ok(TokenRequest {
        name,
        role,
        scopes: Scopes::new(scopes),
        expires_at,
    })
}

/// The time `within` (`90d`, `12h`, `30m`) from now.
pub fn expiry(within: &str) -> Result<DateTime<Utc>, String> {
    let duration = humantime::parse_duration(within.trim())
        .map_err(|e| format!("expiry {within:?} is not a duration like 90d or 12h: {e}"))?;
    if duration.is_zero() {
        return Err("the expiry must be longer than zero".to_owned());
    }
    chrono::Duration::from_std(duration)
        .ok()
        .and_then(|d| Utc::now().checked_add_signed(d))
        .ok_or_else(|| format!("expiry {within:?} is too far in the future"))
}

/// `POST /tokens`: create a token (its text is in this answer only).
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateTokenRequest>,
) -> Result<Response, ApiError> {
    let request = token_request(body)?;
    let created = state.registry.create_token(request, &caller).await?;
    state.gate.token_created();
    let body = CreatedTokenResponse {
        token: created.text,
        view: (&created.record).into(),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /tokens`: every token, without secrets.
pub async fn list_tokens(State(state): State<AppState>) -> Result<Json<TokenList>, ApiError> {
    let tokens = state.registry.tokens().await?;
    Ok(Json(TokenList {
        tokens: tokens.iter().map(TokenView::from).collect(),
    }))
}

/// `DELETE /tokens/{id}`: revoke a token (by id, or by the name of an unrevoked one).
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TokenView>, ApiError> {
    let revoked = state.registry.revoke_token(&id, &caller).await?;
    state.gate.forget(&revoked.id);
    Ok(Json((&revoked).into()))
}

/// `GET /audit` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only this contract.
    pub contract: Option<String>,
    /// Only this principal: token name or id, `anonymous`, `local:<user>`.
    pub principal: Option<String>,
    /// Only this action, e.g. `version.register`.
    pub action: Option<String>,
    /// Only rows at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Only rows before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of the audit log.
#[derive(Debug, Serialize)]
pub struct AuditPage {
    /// The rows, newest first.
    pub entries: Vec<AuditRecord>,
    /// The cursor of the next (older) page, when there is one.
    pub next_cursor: Option<String>,
}

fn bad_query(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", message)
}

/// `GET /audit`: the audit log, newest first, in pages.
pub async fn audit_log(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = params.limit.unwrap_or(DEFAULT_AUDIT_PAGE);
    if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
        return Err(bad_query(format!(
            "limit must be between 1 and {MAX_AUDIT_PAGE}"
        )));
    }
    let action = params
        .action
        .as_deref()
        .map(str::parse::<AuditAction>)
        .transpose()
        .map_err(|e| bad_query(e.to_string()))?;
    let before = params
        .cursor
        .as_deref()
        .map(|c| {
            c.trim()
                .parse::<i64>()
                .ok()
                .filter(|c| *c > 0)
                .ok_or_else(|| bad_query(format!("cursor {c:?} is not a cursor this API gave")))
        })
        .transpose()?;
    let query = AuditQuery {
        contract: params.contract,
        principal: params.principal,
        action,
        since: params.since,
        until: params.until,
        before,
        limit: limit + 1,
    };
    let mut entries = state.registry.audit_log(&query).await?;
    let more = entries.len() as i64 > limit;
    entries.truncate(limit as usize);
    let next_cursor = if more {
        entries.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(Json(AuditPage {
        entries,
        next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: serde_json::Value) -> CreateTokenRequest {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_token_request_is_read_with_its_defaults_and_refused_with_a_reason() {
        let r = token_request(body(serde_json::json!({"name": "ci", "role": "Producer"}))).unwrap();
        assert_eq!(r.role, Role::Producer);
        assert_eq!(r.scopes, Scopes::all());
        assert!(r.expires_at.is_none());
        let r = token_request(body(
            serde_json::json!({"name": "ci", "role": "reader", "scopes": ["orders.*"], "expires_in": "30d"}),
        ))
        .unwrap();
        assert!(!r.scopes.is_unrestricted());
        let in_30_days = Utc::now() + chrono::Duration::days(30);
        assert!((r.expires_at.unwrap() - in_30_days).num_seconds().abs() < 60);
        for (bad, says) in [
            (serde_json::json!({"name": "ci", "role": "owner"}), "role"),
            (serde_json::json!({"name": "a b", "role": "admin"}), "name"),
            (
                serde_json::json!({"name": "ci", "role": "admin", "scopes": [""]}),
                "scope",
            ),
            (
                serde_json::json!({"name": "ci", "role": "admin", "expires_in": "soon"}),
                "duration",
            ),
        ] {
            let e = token_request(body(bad)).unwrap_err();
            assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(e.message.contains(says), "{}", e.message);
        }
    }
}
