//! The native API under `/api/v1` (described in `openapi.yaml`): handlers and their
//! request and response bodies.
//!
//! Handlers parse and validate input into domain types, call one registry use case
//! and shape the answer; the rules live in the registry.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use semver::Version;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::AppState;
use super::caching::{IMMUTABLE, IfNoneMatch, SHORT, cached, etag, version_header};
use super::consumers::{FetchedBy, after_fetch};
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody, refusal_details};
use crate::compat::{Change, Report};
use crate::domain::Protection;
use crate::domain::{
    Action, Bump, Caller, ContractName, Mode, Policy, VersionSelector, stored_text,
};
use crate::registry::{ConsumersSection, ContractConfig, Outcome, Registered, Submission};
use crate::store::{
    ContractRecord, Listing, MetadataPatch, Readiness, SchemaRecord, VersionRecord,
};

/// The version a `…/schema` answer is, so a client that asked for a range knows.
const ACCORD_VERSION: HeaderName = HeaderName::from_static("accord-version");

/// The largest page of `GET /contracts`.
const MAX_PAGE: i64 = 1000;
/// The page size when `limit` is not given.
const DEFAULT_PAGE: i64 = 100;

fn contract_name(s: &str) -> Result<ContractName, ApiError> {
    ContractName::parse(s).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-contract-name",
            e.to_string(),
        )
    })
}

/// A name on a route that only reads or changes an existing contract: contracts
/// created through the Confluent API may have any subject name, and the native API
/// must be able to read them. Creation keeps the strict rule ([`contract_name`]).
pub(super) fn existing_name(s: &str) -> Result<ContractName, ApiError> {
    ContractName::confluent(s).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-contract-name",
            e.to_string(),
        )
    })
}

pub(super) fn selector(s: &str) -> Result<VersionSelector, ApiError> {
    VersionSelector::parse(s).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-version-selector",
            e.to_string(),
        )
    })
}

fn exact_version(s: &str) -> Result<Version, ApiError> {
    Version::parse(s.trim()).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-version",
            format!("{s:?} is not an exact semantic version: {e}"),
        )
    })
}

fn mode(s: &str) -> Result<Mode, ApiError> {
    s.parse().map_err(|e: crate::domain::UnknownName| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-config",
            e.to_string(),
        )
    })
}

fn policy(s: &str) -> Result<Policy, ApiError> {
    s.parse().map_err(|e: crate::domain::UnknownName| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-config",
            e.to_string(),
        )
    })
}

// ---------------------------------------------------------------- bodies

/// `POST /contracts/{name}/versions` and `/compatibility`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// The JSON Schema, kept as submitted (key order matters to readers of the stored text).
    pub schema: Box<RawValue>,
    /// A declared semantic version.
    pub version: Option<String>,
    /// Whether an undeclared breaking change may take the next major version.
    #[serde(default)]
    pub allow_breaking: bool,
    /// Contract owner to set.
    #[serde(default, deserialize_with = "stored_text")]
    pub owner: Option<String>,
    /// Contract description to set.
    #[serde(default, deserialize_with = "stored_text")]
    pub description: Option<String>,
    /// Contract tags to set.
    #[serde(default, deserialize_with = "stored_text")]
    pub tags: Option<Vec<String>>,
    /// A mode to check under and, when a version is created, to set as the contract's
    /// override in the same transaction (a refused registration writes neither).
    pub mode: Option<String>,
    /// A policy to check under and set likewise.
    pub policy: Option<String>,
    /// Other registered contracts this schema's `$ref`s point at: each `name` is the
    /// URI a `$ref` uses (without fragment), resolved to `contract` at `version` (an
    /// exact version, `latest`, or a range, pinned to the version it names now).
    #[serde(default)]
    pub references: Vec<ReferenceRequest>,
}

/// One entry of [`RegisterRequest::references`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceRequest {
    /// The URI the referring schema's `$ref` uses.
    #[serde(deserialize_with = "stored_text")]
    pub name: String,
    /// The contract referred to.
    pub contract: String,
    /// Which of its versions: exact, `latest` or a range.
    pub version: String,
}

/// A submission with its references pinned to registered versions.
async fn submission(
    state: &AppState,
    mut request: RegisterRequest,
) -> Result<Submission, ApiError> {
    let wanted = std::mem::take(&mut request.references);
    let mut submission = request.into_submission()?;
    for r in wanted {
        let contract = contract_name(&r.contract)?;
        let version = state
            .registry
            .find_version(&contract, &selector(&r.version)?)
            .await?;
        submission.references.push(crate::store::SchemaReference {
            name: r.name,
            subject: contract,
            version: version.seq,
        });
    }
    Ok(submission)
}

impl RegisterRequest {
    fn into_submission(self) -> Result<Submission, ApiError> {
        let version = self
            .version
            .as_deref()
            .map(|v| {
                Version::parse(v.trim()).map_err(|e| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid-version",
                        format!("version {v:?} is not a semantic version: {e}"),
                    )
                })
            })
            .transpose()?;
        Ok(Submission {
            schema: self.schema.get().to_owned(),
            version,
            allow_breaking: self.allow_breaking,
            metadata: MetadataPatch {
                owner: self.owner,
                description: self.description,
                tags: self.tags,
            },
            mode: self.mode.as_deref().map(mode).transpose()?,
            policy: self.policy.as_deref().map(policy).transpose()?,
            references: Vec::new(),
            import: None,
        })
    }
}

/// A version without its schema document.
#[derive(Debug, Serialize)]
pub struct VersionSummary {
    /// The contract.
    pub name: String,
    /// The semantic version.
    pub version: String,
    /// Registration order, from 1.
    pub seq: i64,
    /// The global schema id.
    pub schema_id: i64,
    /// sha256 of the canonical form.
    pub fingerprint: String,
    /// When it was committed.
    pub created_at: DateTime<Utc>,
    /// Whether it is soft-deleted.
    pub deleted: bool,
}

impl From<&VersionRecord> for VersionSummary {
    fn from(v: &VersionRecord) -> Self {
        Self {
            name: v.contract.to_string(),
            version: v.version.to_string(),
            seq: v.seq,
            schema_id: v.schema_id,
            fingerprint: v.fingerprint.clone(),
            created_at: v.created_at,
            deleted: v.deleted,
        }
    }
}

/// A version with its schema document.
#[derive(Debug, Serialize)]
pub struct VersionResponse {
    /// Everything but the schema.
    #[serde(flatten)]
    pub summary: VersionSummary,
    /// The schema as first submitted.
    pub schema: Box<RawValue>,
    /// The documents its `$ref`s load from other contracts, by URI (absent when none).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub documents: BTreeMap<String, Value>,
}

/// The answer to a registration.
#[derive(Debug, Serialize)]
pub struct RegistrationResponse {
    /// The version created or found.
    #[serde(flatten)]
    pub summary: VersionSummary,
    /// The bump the change required (`none` for an identical schema).
    pub required_bump: Bump,
    /// The engine's changes against the previous version (at most 100, see the
    /// report's caps).
    pub changes: Vec<Change>,
    /// How many changes there are, listed or not.
    pub changes_total: usize,
    /// Whether some changes are not listed.
    pub truncated: bool,
    /// What the version does to the consumers deployed against the contract.
    #[serde(flatten)]
    pub consumers: ConsumersSection,
}

/// The answer to a dry run.
#[derive(Debug, Serialize)]
pub struct CompatibilityResponse {
    /// The contract.
    pub name: String,
    /// Whether the engine found the schema compatible under the contract's mode.
    pub compatible: bool,
    /// What a registration would do: `create`, `existing` or `refused`.
    pub outcome: &'static str,
    /// The version that would be assigned (`create`) or that already holds the schema
    /// (`existing`).
    pub version: Option<String>,
    /// The bump the change requires.
    pub required_bump: Bump,
    /// The engine's report.
    pub report: Report,
    /// Why a registration would be refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
    /// What the schema does to the consumers deployed against the contract.
    #[serde(flatten)]
    pub consumers: ConsumersSection,
}

/// A contract's metadata.
#[derive(Debug, Serialize)]
pub struct ContractMetadata {
    /// The name.
    pub name: String,
    /// The owner.
    pub owner: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// The tags.
    pub tags: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its metadata or configuration last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&ContractRecord> for ContractMetadata {
    fn from(c: &ContractRecord) -> Self {
        Self {
            name: c.name.to_string(),
            owner: c.owner.clone(),
            description: c.description.clone(),
            tags: c.tags.clone(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A contract in a listing.
#[derive(Debug, Serialize)]
pub struct ContractListItem {
    /// Metadata.
    #[serde(flatten)]
    pub metadata: ContractMetadata,
    /// How many versions are live.
    pub live_versions: i64,
    /// Whether the contract is soft-deleted: it has versions and all are soft-deleted
    /// (listed only with `deleted=true`).
    pub deleted: bool,
}

/// One page of contracts.
#[derive(Debug, Serialize)]
pub struct ContractList {
    /// The contracts, by name.
    pub contracts: Vec<ContractListItem>,
    /// The `offset` of the next page, when there is one.
    pub next_offset: Option<i64>,
}

/// A contract's effective configuration.
#[derive(Debug, Serialize)]
pub struct ConfigResponse {
    /// The mode in force.
    pub mode: Mode,
    /// The policy in force.
    pub policy: Policy,
    /// The contract's own mode, when it overrides the global one.
    pub mode_override: Option<Mode>,
    /// The contract's own policy, when it overrides the global one.
    pub policy_override: Option<Policy>,
    /// What a registration that breaks deployed consumers does (contracts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_protection: Option<Protection>,
}

impl From<ContractConfig> for ConfigResponse {
    fn from(c: ContractConfig) -> Self {
        Self {
            mode: c.mode,
            policy: c.policy,
            mode_override: c.mode_override,
            policy_override: c.policy_override,
            consumer_protection: None,
        }
    }
}

impl ConfigResponse {
    fn protected(mut self, protection: Protection) -> Self {
        self.consumer_protection = Some(protection);
        self
    }
}

/// A contract with its configuration and versions.
#[derive(Debug, Serialize)]
pub struct ContractResponse {
    /// Metadata.
    #[serde(flatten)]
    pub metadata: ContractMetadata,
    /// The configuration in force.
    pub config: ConfigResponse,
    /// The highest live version.
    pub latest_version: Option<String>,
    /// Whether the contract is soft-deleted (it has versions and all are soft-deleted).
    pub deleted: bool,
    /// Every remaining version, soft-deleted ones included, in seq order.
    pub versions: Vec<VersionSummary>,
}

/// Versions of a contract.
#[derive(Debug, Serialize)]
pub struct VersionList {
    /// The contract.
    pub name: String,
    /// The versions, in seq order.
    pub versions: Vec<VersionSummary>,
}

/// The engine's report between two versions.
#[derive(Debug, Serialize)]
pub struct DiffResponse {
    /// The contract.
    pub name: String,
    /// The old version.
    pub from: String,
    /// The new version.
    pub to: String,
    /// The report, old → new.
    pub report: Report,
    /// What `to` does to the consumers deployed against the contract.
    #[serde(flatten)]
    pub consumers: ConsumersSection,
}

/// The global configuration.
#[derive(Debug, Serialize)]
pub struct GlobalConfigResponse {
    /// The default mode.
    pub mode: Mode,
    /// The default policy.
    pub policy: Policy,
}

/// `PUT /config` and `PUT /contracts/{name}/config`: absent fields are kept.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigRequest {
    /// A mode name (case-insensitive), e.g. `BACKWARD_TRANSITIVE`.
    pub mode: Option<String>,
    /// A policy name, `strict` or `lenient`.
    pub policy: Option<String>,
    /// `off`, `warn` or `block` (per contract only).
    pub consumer_protection: Option<String>,
}

/// `PATCH /contracts/{name}`: absent fields are kept.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchContractRequest {
    /// New owner.
    #[serde(default, deserialize_with = "stored_text")]
    pub owner: Option<String>,
    /// New description.
    #[serde(default, deserialize_with = "stored_text")]
    pub description: Option<String>,
    /// New tags.
    #[serde(default, deserialize_with = "stored_text")]
    pub tags: Option<Vec<String>>,
}

/// `GET /contracts` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only names starting with this.
    pub prefix: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<i64>,
    /// How many to skip.
    pub offset: Option<i64>,
    /// Include soft-deleted contracts.
    #[serde(default)]
    pub deleted: bool,
}

/// `GET /contracts/{name}/versions` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionsQuery {
    /// Include soft-deleted versions.
    #[serde(default)]
    pub deleted: bool,
}

/// `DELETE /contracts/{name}/versions/{version}` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// Remove a soft-deleted version for good.
    #[serde(default)]
    pub permanent: bool,
}

/// `DELETE /contracts/{name}/versions/{version}` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteVersionQuery {
    /// Remove a soft-deleted version for good.
    #[serde(default)]
    pub permanent: bool,
    /// With `permanent`: even though deployed consumers resolve to it (admin; audited).
    #[serde(default)]
    pub force: bool,
}

/// `GET /contracts/{name}/diff` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    /// The old version (any selector).
    pub from: String,
    /// The new version (any selector).
    pub to: String,
}

fn version_json(
    version: &VersionRecord,
    schema: &SchemaRecord,
    documents: BTreeMap<String, Value>,
) -> Result<String, ApiError> {
    let schema = RawValue::from_string(schema.original.clone()).map_err(|e| {
        tracing::error!(schema.id = version.schema_id, error = %e, "stored schema is not JSON");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the cause is in the server log",
        )
    })?;
    let body = VersionResponse {
        summary: version.into(),
        schema,
        documents,
    };
    serde_json::to_string(&body).map_err(|e| {
        tracing::error!(error = %e, "serialising a version");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the cause is in the server log",
        )
    })
}

// ---------------------------------------------------------------- handlers

/// `GET /healthz`: the process is up.
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// How long `/readyz` waits for the database before answering that it is not ready:
/// under the second a load balancer's probe usually allows.
pub const READY_DEADLINE: std::time::Duration = std::time::Duration::from_millis(800);

/// `GET /readyz`: the database answers, within [`READY_DEADLINE`], and holds the
/// tables this binary expects (its applied migrations are the compiled-in ones). When
/// not, 503 `not-ready` whose `details.reason` names what is wrong.
pub async fn ready(State(state): State<AppState>) -> Response {
    let probe = tokio::time::timeout(READY_DEADLINE, state.registry.store().readiness()).await;
    let (reason, message, details) = match probe {
        Ok(Ok(readiness)) => match &readiness {
            Readiness::Ready => return Json(json!({ "status": "ready" })).into_response(),
            Readiness::NoSchema => ("schema-missing", readiness.to_string(), json!({})),
            Readiness::Migrations {
                missing,
                unknown,
                failed,
            } => {
                let reason = if !failed.is_empty() {
                    "migration-failed"
                } else if !unknown.is_empty() {
                    "database-newer"
                } else {
                    "database-older"
                };
                let details = json!({ "missing": missing, "unknown": unknown, "failed": failed });
                (reason, readiness.to_string(), details)
            }
        },
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            (
                "database-unavailable",
                "the database does not answer".to_owned(),
                json!({}),
            )
        }
        Err(_) => (
            "database-timeout",
            format!(
                "the database did not answer within {} ms",
                READY_DEADLINE.as_millis()
            ),
            json!({}),
        ),
    };
    let mut details = details;
    details["reason"] = json!(reason);
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not-ready", message)
        .with_details(details)
        .retry_after(super::RETRY_AFTER_SECS)
        .into_response()
}

/// `POST /contracts/{name}/versions`: register a version.
pub async fn create_version(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<Response, ApiError> {
    let name = contract_name(&name)?;
    let submission = submission(&state, request).await?;
    let (status, version, required_bump, changes, changes_total, consumers) =
        match state.registry.register(&name, submission, &caller).await? {
            Registered::Created {
                version,
                report,
                consumers,
            } => (
                StatusCode::CREATED,
                version,
                report.required_bump,
                report.changes,
                report.changes_total,
                consumers,
            ),
            Registered::Existing(version) => (
                StatusCode::OK,
                version,
                Bump::None,
                Vec::new(),
                0,
                ConsumersSection::default(),
            ),
        };
    let body = RegistrationResponse {
        summary: (&version).into(),
        required_bump,
        truncated: changes_total > changes.len(),
        changes,
        changes_total,
        consumers,
    };
    Ok((status, Json(body)).into_response())
}

/// `POST /contracts/{name}/compatibility`: what a registration would do.
pub async fn check_compatibility(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<Json<CompatibilityResponse>, ApiError> {
    let name = contract_name(&name)?;
    let dry = state
        .registry
        .check(&name, submission(&state, request).await?)
        .await?;
    let blocking = dry.consumers.blocking();
    let (outcome, version, error) = match &dry.outcome {
        Outcome::Create(_) if !blocking.is_empty() => {
            let e = super::consumers::consumer_error(crate::registry::ConsumerError::Blocked {
                contract: name.to_string(),
                consumers: blocking,
            });
            ("refused", None, Some(e.body()))
        }
        Outcome::Create(v) => ("create", Some(v.to_string()), None),
        Outcome::Existing(v) => ("existing", Some(v.version.to_string()), None),
        Outcome::Refused(r) => (
            "refused",
            None,
            Some(ErrorBody {
                code: r.code(),
                message: r.to_string(),
                details: Some(refusal_details(r)),
            }),
        ),
    };
    Ok(Json(CompatibilityResponse {
        name: name.to_string(),
        compatible: dry.report.compatible,
        outcome,
        version,
        required_bump: dry.report.required_bump,
        report: dry.report,
        error,
        consumers: dry.consumers,
    }))
}

/// `GET /contracts`: one page of contracts (those in the caller's scopes).
pub async fn list_contracts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ContractList>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    let offset = query.offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            "offset must not be negative",
        ));
    }
    let prefix = query.prefix.unwrap_or_default();
    let listing = if query.deleted {
        Listing::WithDeleted
    } else {
        Listing::Live
    };
    let mut page = if caller.principal.scopes.is_unrestricted() {
        state
            .registry
            .list_contracts(&prefix, listing, limit + 1, offset)
            .await?
    } else {
        // Offsets count contracts in scope: read on until the page is full.
        let mut in_scope = Vec::new();
        let mut read = 0;
        let wanted = usize::try_from(offset + limit + 1).unwrap_or(usize::MAX);
        loop {
            let batch = state
                .registry
                .list_contracts(&prefix, listing, MAX_PAGE, read)
                .await?;
            let done = (batch.len() as i64) < MAX_PAGE;
            read += batch.len() as i64;
            in_scope.extend(batch.into_iter().filter(|s| {
                caller
                    .principal
                    .may(Action::Read, Some(s.contract.name.as_str()))
                    .is_ok()
            }));
            if done || in_scope.len() >= wanted {
                break;
            }
        }
        in_scope
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .collect()
    };
    let next_offset = (page.len() as i64 > limit).then_some(offset + limit);
    page.truncate(limit as usize);
    Ok(Json(ContractList {
        contracts: page
            .iter()
            .map(|s| ContractListItem {
                metadata: (&s.contract).into(),
                live_versions: s.live_versions,
                deleted: s.live_versions == 0 && s.versions > 0,
            })
            .collect(),
        next_offset,
    }))
}

/// `GET /contracts/{name}`: metadata, configuration and versions.
pub async fn find_contract(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ContractResponse>, ApiError> {
    let name = existing_name(&name)?;
    let detail = state.registry.contract(&name).await?;
    let latest_version = VersionSelector::Latest
        .select(detail.versions.iter().map(|v| (&v.version, !v.deleted, v)))
        .map(|v| v.version.to_string());
    Ok(Json(ContractResponse {
        metadata: (&detail.contract).into(),
        config: detail.config.into(),
        deleted: latest_version.is_none() && !detail.versions.is_empty(),
        latest_version,
        versions: detail.versions.iter().map(VersionSummary::from).collect(),
    }))
}

/// `PATCH /contracts/{name}`: change owner, description or tags.
pub async fn update_contract(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(request): ApiJson<PatchContractRequest>,
) -> Result<Json<ContractMetadata>, ApiError> {
    let name = existing_name(&name)?;
    let patch = MetadataPatch {
        owner: request.owner,
        description: request.description,
        tags: request.tags,
    };
    let contract = state
        .registry
        .update_contract(&name, &patch, &caller)
        .await?;
    Ok(Json((&contract).into()))
}

/// `GET /contracts/{name}/versions`: the versions, live ones unless `deleted=true`.
pub async fn list_versions(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<VersionsQuery>,
) -> Result<Json<VersionList>, ApiError> {
    let name = existing_name(&name)?;
    let versions = state.registry.list_versions(&name, query.deleted).await?;
    Ok(Json(VersionList {
        name: name.to_string(),
        versions: versions.iter().map(VersionSummary::from).collect(),
    }))
}

/// `GET /contracts/{name}/versions/{selector}`: a version with its schema.
pub async fn find_version(
    State(state): State<AppState>,
    ApiPath((name, sel)): ApiPath<(String, String)>,
    conditional: IfNoneMatch,
    by: FetchedBy,
) -> Result<Response, ApiError> {
    let name = existing_name(&name)?;
    let sel = selector(&sel)?;
    let version = state.registry.find_version(&name, &sel).await?;
    let schema = state.registry.schema(version.schema_id).await?;
    let documents = state.registry.referenced_documents(&schema).await?;
    // An exact live version is immutable (the client library then never asks again),
    // as its schema is. The metadata also carries `deleted`: a soft delete is not
    // seen by a consumer holding the immutable answer, which keeps validating as
    // before, the same as with the schema document. A deleted version gets its own
    // tag and the short max-age, since it may still be removed for good.
    let (tag, cache) = if version.deleted {
        (etag(&format!("{}.deleted", version.fingerprint)), SHORT)
    } else if sel.is_immutable() {
        (etag(&version.fingerprint), IMMUTABLE)
    } else {
        (etag(&version.fingerprint), SHORT)
    };
    let response = cached(
        &conditional,
        tag,
        cache,
        version_json(&version, &schema, documents)?,
    );
    after_fetch(&state, by, &version, response).await
}

/// `GET /contracts/{name}/versions/{selector}/schema`: the schema document itself.
pub async fn find_version_schema(
    State(state): State<AppState>,
    ApiPath((name, sel)): ApiPath<(String, String)>,
    conditional: IfNoneMatch,
    by: FetchedBy,
) -> Result<Response, ApiError> {
    let name = existing_name(&name)?;
    let sel = selector(&sel)?;
    let version = state.registry.find_version(&name, &sel).await?;
    let served = state.served.get(&state.registry, version.schema_id).await?;
    let cache = if sel.is_immutable() { IMMUTABLE } else { SHORT };
    let mut response = served.respond(&conditional, cache);
    if let Some(v) = version_header(&version.version) {
        response.headers_mut().insert(ACCORD_VERSION, v);
    }
    after_fetch(&state, by, &version, response).await
}

/// `GET /schemas/{id}`: a schema document by global id.
pub async fn find_schema(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    conditional: IfNoneMatch,
) -> Result<Response, ApiError> {
    let served = state.served.get(&state.registry, id).await?;
    Ok(served.respond(&conditional, IMMUTABLE))
}

/// `DELETE /contracts/{name}/versions/{version}`: soft delete, or `?permanent=true`.
pub async fn delete_version(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((name, version)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<DeleteVersionQuery>,
) -> Result<Response, ApiError> {
    let name = existing_name(&name)?;
    let version = exact_version(&version)?;
    if query.force && !query.permanent {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            "force applies to a permanent delete only (permanent=true)",
        ));
    }
    let record = state
        .registry
        .delete_version_forced(&name, &version, query.permanent, query.force, &caller)
        .await?;
    if query.permanent {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(Json(VersionSummary::from(&record)).into_response())
}

/// `DELETE /contracts/{name}`: soft-delete every live version (the contract is then
/// listed only with `deleted=true`), or with `?permanent=true`, once soft-deleted,
/// remove its versions, metadata and configuration for good (it is then not found;
/// its version numbers are still never given again).
pub async fn delete_contract(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<DeleteQuery>,
) -> Result<Response, ApiError> {
    let name = existing_name(&name)?;
    let deleted = state
        .registry
        .delete_contract(&name, query.permanent, &caller)
        .await?;
    if query.permanent {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(Json(VersionList {
        name: name.to_string(),
        versions: deleted.iter().map(VersionSummary::from).collect(),
    })
    .into_response())
}

/// `GET /contracts/{name}/diff?from=A&to=B`: the engine's report between two versions.
pub async fn diff_versions(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<DiffQuery>,
) -> Result<Json<DiffResponse>, ApiError> {
    let name = existing_name(&name)?;
    let diff = state
        .registry
        .diff(&name, &selector(&query.from)?, &selector(&query.to)?)
        .await?;
    Ok(Json(DiffResponse {
        name: name.to_string(),
        from: diff.from.version.to_string(),
        to: diff.to.version.to_string(),
        report: diff.report,
        consumers: diff.consumers,
    }))
}

/// `GET /config`: the global defaults.
pub async fn find_global_config(
    State(state): State<AppState>,
) -> Result<Json<GlobalConfigResponse>, ApiError> {
    let c = state.registry.global_config().await?;
    Ok(Json(GlobalConfigResponse {
        mode: c.mode,
        policy: c.policy,
    }))
}

/// `PUT /config`: change the global defaults.
pub async fn update_global_config(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<ConfigRequest>,
) -> Result<Json<GlobalConfigResponse>, ApiError> {
    if request.consumer_protection.is_some() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-config",
            "consumer_protection is set per contract (PUT /api/v1/contracts/{name}/config)",
        ));
    }
    let m = request.mode.as_deref().map(mode).transpose()?;
    let p = request.policy.as_deref().map(policy).transpose()?;
    let c = state.registry.set_global_config(m, p, &caller).await?;
    Ok(Json(GlobalConfigResponse {
        mode: c.mode,
        policy: c.policy,
    }))
}

/// `GET /contracts/{name}/config`: the contract's effective configuration.
pub async fn find_contract_config(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ConfigResponse>, ApiError> {
    let name = existing_name(&name)?;
    let config = state.registry.contract_config(&name).await?;
    let protection = state.registry.consumer_protection(&name).await?;
    Ok(Json(ConfigResponse::from(config).protected(protection)))
}

/// `PUT /contracts/{name}/config`: set the contract's overrides.
pub async fn update_contract_config(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(request): ApiJson<ConfigRequest>,
) -> Result<Json<ConfigResponse>, ApiError> {
    let name = contract_name(&name)?;
    let m = request.mode.as_deref().map(mode).transpose()?;
    let p = request.policy.as_deref().map(policy).transpose()?;
    let protection = request
        .consumer_protection
        .as_deref()
        .map(|s| {
            s.parse::<Protection>().map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-config",
                    e.to_string(),
                )
            })
        })
        .transpose()?;
    // The mode and policy first: they create the contract when it is new.
    let config = state
        .registry
        .set_contract_config(&name, m, p, &caller)
        .await?;
    if let Some(protection) = protection {
        state
            .registry
            .set_consumer_protection(&name, protection, &caller)
            .await?;
    }
    let protection = state.registry.consumer_protection(&name).await?;
    Ok(Json(ConfigResponse::from(config).protected(protection)))
}

/// `DELETE /contracts/{name}/config`: drop the overrides.
pub async fn delete_contract_config(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ConfigResponse>, ApiError> {
    let name = existing_name(&name)?;
    Ok(Json(
        state
            .registry
            .delete_contract_config(&name, &caller)
            .await?
            .into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_that_is_not_semver_is_refused_as_unprocessable() {
        let request: RegisterRequest =
            serde_json::from_str(r#"{"schema": {}, "version": "one"}"#).unwrap();
        let e = request.into_submission().unwrap_err();
        assert_eq!(
            (e.status, e.code),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid-version")
        );
    }

    #[test]
    fn the_submitted_schema_text_keeps_its_key_order() {
        let request: RegisterRequest =
            serde_json::from_str(r#"{"schema": {"type":"object","$id":"x"}}"#).unwrap();
        assert_eq!(
            request.into_submission().unwrap().schema,
            r#"{"type":"object","$id":"x"}"#
        );
    }
}
