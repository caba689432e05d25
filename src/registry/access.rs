//! Tokens and the audit log: the use cases behind `/api/v1/tokens`, `/api/v1/audit`,
//! `accord token` and `accord audit`. Who may call them is decided before (the route's
//! rule, or the command line's direct access to the database).

use chrono::{DateTime, Utc};

use super::{Registry, RegistryError};
use crate::domain::{AuditAction, Caller, IssuedToken, Role, Scopes, TokenId, TokenName};
use crate::store::{AuditEntry, AuditQuery, AuditRecord, NewToken, StoreError, TokenRecord};

/// A token to create.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// Its name, unique among unrevoked tokens.
    pub name: TokenName,
    /// Its role.
    pub role: Role,
    /// Its scopes.
    pub scopes: Scopes,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A created token: its record and its text, which is shown once and never again.
#[derive(Debug)]
pub struct CreatedToken {
    /// What is stored (the secret only as a hash).
    pub record: TokenRecord,
    /// The token as its bearer sends it.
    pub text: String,
}

impl Registry {
    /// Creates a token, recording it in the audit log in the same transaction.
    pub async fn create_token(
        &self,
        request: TokenRequest,
        caller: &Caller,
    ) -> Result<CreatedToken, RegistryError> {
        if request.expires_at.is_some_and(|at| at <= Utc::now()) {
            return Err(RegistryError::InvalidToken(
                "the expiry is in the past".to_owned(),
            ));
        }
        let issued = IssuedToken::generate().map_err(|e| RegistryError::Internal(e.to_string()))?;
        let new = NewToken {
            id: issued.id.clone(),
            name: request.name.clone(),
            role: request.role,
            scopes: request.scopes.clone(),
            secret_hash: issued.hash(),
            created_by: caller.principal.identity.to_string(),
            expires_at: request.expires_at,
        };
        let audit = AuditEntry::new(caller, AuditAction::CreateToken).detail(serde_json::json!({
            "token_id": issued.id,
            "name": request.name,
            "role": request.role,
            "scopes": request.scopes,
            "expires_at": request.expires_at,
        }));
        let record = match self.store.create_token(&new, &audit).await {
            Ok(record) => record,
            Err(StoreError::Conflict(_)) => {
                return Err(RegistryError::TokenNameTaken(request.name.to_string()));
            }
            Err(e) => return Err(e.into()),
        };
        tracing::info!(token.id = %record.id, token.name = %record.name, role = %record.role, "token created");
        Ok(CreatedToken {
            text: issued.text(),
            record,
        })
    }

    /// Every token, revoked ones included, oldest first.
    pub async fn tokens(&self) -> Result<Vec<TokenRecord>, RegistryError> {
        Ok(self.store.tokens().await?)
    }

    /// Revokes the token with this id, or the unrevoked token with this name.
    /// Revoking a revoked token changes nothing.
    pub async fn revoke_token(
        &self,
        id_or_name: &str,
        caller: &Caller,
    ) -> Result<TokenRecord, RegistryError> {
        let not_found = || RegistryError::TokenNotFound(id_or_name.chars().take(100).collect());
        let id = match TokenId::parse(id_or_name.trim()) {
            Some(id) => id,
            None => self
                .store
                .tokens()
                .await?
                .into_iter()
                .find(|t| t.revoked_at.is_none() && t.name.as_str() == id_or_name.trim())
                .map(|t| t.id)
                .ok_or_else(not_found)?,
        };
        let Some(existing) = self.store.token(&id).await? else {
            return Err(not_found());
        };
        let audit = AuditEntry::new(caller, AuditAction::RevokeToken).detail(serde_json::json!({
            "token_id": existing.id,
            "name": existing.name,
        }));
        let revoked = self
            .store
            .revoke_token(&id, &audit)
            .await?
            .ok_or_else(not_found)?;
        tracing::info!(token.id = %revoked.id, token.name = %revoked.name, "token revoked");
        Ok(revoked)
    }

    /// Audit rows matching `query`, newest first.
    pub async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, RegistryError> {
        Ok(self.store.audit_log(query).await?)
    }
}
