//! Consumers on the native API (described in `openapi.yaml` and
//! docs/consumers-api.md): declarations, environments, deployments, a contract's
//! consumers matrix, deprecating and retiring major lines, consumer-side can-i-deploy,
//! and what a fetch does for consumers (the `Accord-Consumer` header is noted; a
//! version of a deprecated line answers with `Deprecation`, `Sunset` and `Link`).

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AppState;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use super::native::{VersionSummary, existing_name};
use crate::domain::{
    AppVersion, Caller, ConsumerName, ContractName, EnvironmentName, FieldPath, Protection,
    stored_text,
};
use crate::registry::consumers::{CanIDeploy, ConsumerError, MatrixRow};
use crate::store::{
    ConsumerRecord, Declaration, DeploymentRecord, EnvironmentRecord, FetchRecord, LineDeprecation,
    NewDeclaration, Read, VersionRecord,
};

/// The header a consumer names itself with when it fetches.
pub const ACCORD_CONSUMER: HeaderName = HeaderName::from_static("accord-consumer");

fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-consumer",
        message,
    )
}

fn consumer_name(s: &str) -> Result<ConsumerName, ApiError> {
    ConsumerName::parse(s).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-consumer-name",
            e.to_string(),
        )
    })
}

fn environment_path(s: &str) -> Result<EnvironmentName, ApiError> {
    EnvironmentName::parse(s).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-environment-name",
            e.to_string(),
        )
    })
}

fn environment_body(s: &str) -> Result<EnvironmentName, ApiError> {
    EnvironmentName::parse(s).map_err(|e| unprocessable(e.to_string()))
}

fn app_version(s: &str) -> Result<AppVersion, ApiError> {
    AppVersion::parse(s).map_err(|e| unprocessable(e.to_string()))
}

fn major(s: &str) -> Result<u64, ApiError> {
    s.trim()
        .parse::<u64>()
        .ok()
        .filter(|m| i64::try_from(*m).is_ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-major",
                format!("{s:?} is not a major version number (0, 1, 2, …)"),
            )
        })
}

/// The API's answer to a consumer use case's failure.
pub(super) fn consumer_error(e: ConsumerError) -> ApiError {
    match e {
        ConsumerError::ConsumerNotFound(_) => {
            ApiError::new(StatusCode::NOT_FOUND, "consumer-not-found", e.to_string())
        }
        ConsumerError::NotDeclared { .. } => ApiError::new(
            StatusCode::NOT_FOUND,
            "app-version-not-declared",
            e.to_string(),
        ),
        ConsumerError::EnvironmentNotFound(_) => ApiError::new(
            StatusCode::NOT_FOUND,
            "environment-not-found",
            e.to_string(),
        ),
        ConsumerError::Invalid(_) => unprocessable(e.to_string()),
        ConsumerError::Blocked { ref consumers, .. } => {
            let details = json!({ "consumers": consumers });
            ApiError::new(StatusCode::CONFLICT, "consumers-broken", e.to_string())
                .with_details(details)
        }
        ConsumerError::StillRead { ref consumers, .. } => {
            let details = json!({ "consumers": consumers });
            ApiError::new(StatusCode::CONFLICT, "consumers-deployed", e.to_string())
                .with_details(details)
        }
    }
}

// ---------------------------------------------------------------- bodies

/// One read of [`DeclareRequest`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    /// The contract.
    pub contract: String,
    /// A semver range, e.g. `^1` or `~1.4`.
    pub range: String,
    /// The instance paths used (`/amount`, `/items/*/sku`); absent or empty: all.
    #[serde(default)]
    pub fields: Vec<String>,
}

/// `PUT /consumers/{name}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclareRequest {
    /// Who owns the consumer.
    #[serde(default, deserialize_with = "stored_text")]
    pub owner: Option<String>,
    /// What it is.
    #[serde(default, deserialize_with = "stored_text")]
    pub description: Option<String>,
    /// The application version these reads are for.
    pub app_version: String,
    /// What it reads.
    pub reads: Vec<ReadRequest>,
}

fn reads(requests: Vec<ReadRequest>) -> Result<Vec<Read>, ApiError> {
    requests
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let contract = ContractName::parse(&r.contract)
                .map_err(|e| unprocessable(format!("reads[{i}].contract: {e}")))?;
            if r.range.trim().is_empty() {
                return Err(unprocessable(format!(
                    "reads[{i}].range is empty; give a semver range such as ^1"
                )));
            }
            let range = VersionReq::parse(r.range.trim()).map_err(|e| {
                unprocessable(format!(
                    "reads[{i}].range {:?} is not a semver range such as ^1 or ~1.4: {e}",
                    r.range
                ))
            })?;
            let fields = r
                .fields
                .iter()
                .map(|f| {
                    FieldPath::parse(f)
                        .map_err(|e| unprocessable(format!("reads[{i}].fields: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Read {
                contract,
                range,
                fields,
            })
        })
        .collect()
}

/// A read as answered.
#[derive(Debug, Serialize)]
pub struct ReadView {
    /// The contract.
    pub contract: String,
    /// The range.
    pub range: String,
    /// The fields (empty: all).
    pub fields: Vec<FieldPath>,
}

impl From<&Read> for ReadView {
    fn from(r: &Read) -> Self {
        Self {
            contract: r.contract.to_string(),
            range: r.range.to_string(),
            fields: r.fields.clone(),
        }
    }
}

/// A consumer's own record.
#[derive(Debug, Serialize)]
pub struct ConsumerSummary {
    /// Its name.
    pub name: ConsumerName,
    /// Its owner.
    pub owner: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// When it was first declared.
    pub created_at: DateTime<Utc>,
    /// When it last declared something.
    pub updated_at: DateTime<Utc>,
}

impl From<&ConsumerRecord> for ConsumerSummary {
    fn from(c: &ConsumerRecord) -> Self {
        Self {
            name: c.name.clone(),
            owner: c.owner.clone(),
            description: c.description.clone(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// The answer to a declaration.
#[derive(Debug, Serialize)]
pub struct DeclaredResponse {
    /// The consumer.
    #[serde(flatten)]
    pub consumer: ConsumerSummary,
    /// The application version declared.
    pub app_version: AppVersion,
    /// What it reads.
    pub reads: Vec<ReadView>,
    /// What looked wrong without refusing the declaration.
    pub warnings: Vec<String>,
}

/// `GET /consumers`.
#[derive(Debug, Serialize)]
pub struct ConsumerList {
    /// Every consumer, by name.
    pub consumers: Vec<ConsumerSummary>,
}

/// One declaration of a consumer.
#[derive(Debug, Serialize)]
pub struct DeclarationView {
    /// The application version.
    pub app_version: AppVersion,
    /// When it was declared.
    pub declared_at: DateTime<Utc>,
    /// What it reads.
    pub reads: Vec<ReadView>,
}

impl From<&Declaration> for DeclarationView {
    fn from(d: &Declaration) -> Self {
        Self {
            app_version: d.app_version.clone(),
            declared_at: d.declared_at,
            reads: d.reads.iter().map(ReadView::from).collect(),
        }
    }
}

/// One resolution of a deployment.
#[derive(Debug, Serialize)]
pub struct ResolutionView {
    /// The contract.
    pub contract: String,
    /// The version its range resolved to (null: none matched then).
    pub version: Option<String>,
}

/// A deployment.
#[derive(Debug, Serialize)]
pub struct DeploymentView {
    /// The consumer.
    pub consumer: ConsumerName,
    /// The environment.
    pub environment: EnvironmentName,
    /// The application version running there.
    pub app_version: AppVersion,
    /// When it was recorded.
    pub deployed_at: DateTime<Utc>,
    /// What each read resolved to.
    pub resolutions: Vec<ResolutionView>,
}

impl From<&DeploymentRecord> for DeploymentView {
    fn from(d: &DeploymentRecord) -> Self {
        Self {
            consumer: d.consumer.clone(),
            environment: d.environment.clone(),
            app_version: d.app_version.clone(),
            deployed_at: d.deployed_at,
            resolutions: d
                .resolutions
                .iter()
                .map(|r| ResolutionView {
                    contract: r.contract.to_string(),
                    version: r.version.as_ref().map(Version::to_string),
                })
                .collect(),
        }
    }
}

/// A last fetch.
#[derive(Debug, Serialize)]
pub struct FetchView {
    /// The contract.
    pub contract: String,
    /// The version.
    pub version: String,
    /// When, to about a minute.
    pub fetched_at: DateTime<Utc>,
}

impl From<&FetchRecord> for FetchView {
    fn from(f: &FetchRecord) -> Self {
        Self {
            contract: f.contract.to_string(),
            version: f.version.to_string(),
            fetched_at: f.fetched_at,
        }
    }
}

/// `GET /consumers/{name}`.
#[derive(Debug, Serialize)]
pub struct ConsumerResponse {
    /// The consumer.
    #[serde(flatten)]
    pub consumer: ConsumerSummary,
    /// Its declarations, newest first.
    pub declarations: Vec<DeclarationView>,
    /// Where it runs.
    pub deployments: Vec<DeploymentView>,
    /// Its last fetches.
    pub fetches: Vec<FetchView>,
}

/// `PUT /environments/{name}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentRequest {
    /// Whether `consumer_protection: block` protects the consumers deployed there.
    pub protected: bool,
}

/// An environment.
#[derive(Debug, Serialize)]
pub struct EnvironmentView {
    /// Its name.
    pub name: EnvironmentName,
    /// Whether it is protected.
    pub protected: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&EnvironmentRecord> for EnvironmentView {
    fn from(e: &EnvironmentRecord) -> Self {
        Self {
            name: e.name.clone(),
            protected: e.protected,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// `GET /environments`.
#[derive(Debug, Serialize)]
pub struct EnvironmentList {
    /// Every environment, by name.
    pub environments: Vec<EnvironmentView>,
}

/// `POST /consumers/{name}/deployments`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentRequest {
    /// The (declared) application version now running.
    pub app_version: String,
    /// Where.
    pub environment: String,
}

/// A deprecated line as answered.
#[derive(Debug, Serialize)]
pub struct DeprecationView {
    /// The contract.
    pub name: String,
    /// The major version of the line.
    pub major: u64,
    /// The day after which it may be retired.
    pub sunset: NaiveDate,
    /// Why.
    pub reason: String,
    /// The line to move to.
    pub successor: Option<u64>,
    /// When it was announced.
    pub deprecated_at: DateTime<Utc>,
}

impl From<&LineDeprecation> for DeprecationView {
    fn from(d: &LineDeprecation) -> Self {
        Self {
            name: d.contract.to_string(),
            major: d.major,
            sunset: d.sunset,
            reason: d.reason.clone(),
            successor: d.successor,
            deprecated_at: d.deprecated_at,
        }
    }
}

/// `GET /contracts/{name}/consumers`.
#[derive(Debug, Serialize)]
pub struct MatrixResponse {
    /// The contract.
    pub name: String,
    /// Its `consumer_protection`.
    pub consumer_protection: Protection,
    /// Its deprecated lines.
    pub deprecations: Vec<DeprecationView>,
    /// One row per consumer, environment and read; consumers only seen fetching have
    /// a row without environment.
    pub consumers: Vec<MatrixRow>,
}

/// `POST /contracts/{name}/lines/{major}/deprecate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeprecateRequest {
    /// The day after which the line may be retired (`YYYY-MM-DD`).
    pub sunset: NaiveDate,
    /// Why, for the people reading it.
    #[serde(deserialize_with = "stored_text")]
    pub reason: String,
    /// The major line readers should move to.
    pub successor: Option<u64>,
}

/// `POST /contracts/{name}/lines/{major}/retire` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForceQuery {
    /// Retire even though deployed consumers resolve to the line (admin; audited).
    #[serde(default)]
    pub force: bool,
}

/// The answer to a retirement.
#[derive(Debug, Serialize)]
pub struct RetiredResponse {
    /// The contract.
    pub name: String,
    /// The line.
    pub major: u64,
    /// The versions soft-deleted.
    pub versions: Vec<VersionSummary>,
}

/// `POST /consumers/{name}/can-i-deploy`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanIDeployRequest {
    /// The environment to deploy to.
    pub environment: String,
    /// A declared application version whose reads are checked.
    pub app_version: Option<String>,
    /// Reads to check instead (a consumer file not yet published).
    pub reads: Option<Vec<ReadRequest>>,
}

// ---------------------------------------------------------------- handlers

/// `PUT /consumers/{name}`: declare what an application version reads.
pub async fn declare_consumer(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(request): ApiJson<DeclareRequest>,
) -> Result<Response, ApiError> {
    let consumer = consumer_name(&name)?;
    let app_version = app_version(&request.app_version)?;
    let reads = reads(request.reads)?;
    let new = NewDeclaration {
        consumer,
        owner: request.owner,
        description: request.description,
        app_version: app_version.clone(),
        reads,
    };
    let views = new.reads.iter().map(ReadView::from).collect();
    let declared = state.registry.declare_consumer(new, &caller).await?;
    let status = if declared.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = DeclaredResponse {
        consumer: (&declared.consumer).into(),
        app_version,
        reads: views,
        warnings: declared.warnings,
    };
    Ok((status, Json(body)).into_response())
}

/// `GET /consumers`: every consumer in the caller's scopes (matched against consumer
/// names, as everywhere on these routes).
pub async fn list_consumers(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ConsumerList>, ApiError> {
    let consumers = state.registry.consumers().await?;
    Ok(Json(ConsumerList {
        consumers: consumers
            .iter()
            .filter(|c| {
                caller
                    .principal
                    .may(crate::domain::Action::Read, Some(c.name.as_str()))
                    .is_ok()
            })
            .map(ConsumerSummary::from)
            .collect(),
    }))
}

/// `GET /consumers/{name}`: declarations, deployments and last fetches.
pub async fn find_consumer(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ConsumerResponse>, ApiError> {
    let name = consumer_name(&name)?;
    let detail = state.registry.consumer_detail(&name).await?;
    Ok(Json(ConsumerResponse {
        consumer: (&detail.consumer).into(),
        declarations: detail
            .declarations
            .iter()
            .map(DeclarationView::from)
            .collect(),
        deployments: detail
            .deployments
            .iter()
            .map(DeploymentView::from)
            .collect(),
        fetches: detail.fetches.iter().map(FetchView::from).collect(),
    }))
}

/// `POST /consumers/{name}/deployments`: an application version now runs somewhere.
pub async fn record_deployment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(request): ApiJson<DeploymentRequest>,
) -> Result<Response, ApiError> {
    let consumer = consumer_name(&name)?;
    let app_version = app_version(&request.app_version)?;
    let environment = environment_body(&request.environment)?;
    let record = state
        .registry
        .record_deployment(&consumer, &environment, &app_version, &caller)
        .await?;
    Ok((StatusCode::CREATED, Json(DeploymentView::from(&record))).into_response())
}

/// `POST /consumers/{name}/can-i-deploy`: whether every read resolves, with every
/// declared field, now.
pub async fn can_i_deploy(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(request): ApiJson<CanIDeployRequest>,
) -> Result<Json<CanIDeploy>, ApiError> {
    let consumer = consumer_name(&name)?;
    let environment = environment_body(&request.environment)?;
    let app_version = request
        .app_version
        .as_deref()
        .map(app_version)
        .transpose()?;
    let reads = request.reads.map(reads).transpose()?;
    Ok(Json(
        state
            .registry
            .can_i_deploy(&consumer, &environment, app_version.as_ref(), reads)
            .await?,
    ))
}

/// `PUT /environments/{name}`: create an environment or change its protection.
pub async fn put_environment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(request): ApiJson<EnvironmentRequest>,
) -> Result<Response, ApiError> {
    let name = environment_path(&name)?;
    let (record, created) = state
        .registry
        .put_environment(&name, request.protected, &caller)
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(EnvironmentView::from(&record))).into_response())
}

/// `GET /environments`: every environment.
pub async fn list_environments(
    State(state): State<AppState>,
) -> Result<Json<EnvironmentList>, ApiError> {
    let environments = state.registry.environments().await?;
    Ok(Json(EnvironmentList {
        environments: environments.iter().map(EnvironmentView::from).collect(),
    }))
}

/// `GET /contracts/{name}/consumers`: who reads the contract, where, with what.
pub async fn contract_consumers(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<MatrixResponse>, ApiError> {
    let name = existing_name(&name)?;
    state.registry.contract(&name).await?;
    let matrix = state.registry.consumers_matrix(&name).await?;
    Ok(Json(MatrixResponse {
        name: name.to_string(),
        consumer_protection: matrix.protection,
        deprecations: matrix
            .deprecations
            .iter()
            .map(DeprecationView::from)
            .collect(),
        consumers: matrix.rows,
    }))
}

/// `POST /contracts/{name}/lines/{major}/deprecate`: announce a line's retirement.
pub async fn deprecate_line(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((name, line)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<DeprecateRequest>,
) -> Result<Json<DeprecationView>, ApiError> {
    let name = existing_name(&name)?;
    let major = major(&line)?;
    if request.reason.trim().is_empty() {
        return Err(unprocessable("reason is empty; say why the line goes"));
    }
    let d = state
        .registry
        .deprecate_line(
            &name,
            major,
            request.sunset,
            request.reason,
            request.successor,
            &caller,
        )
        .await?;
    Ok(Json(DeprecationView::from(&d)))
}

/// `POST /contracts/{name}/lines/{major}/retire`: soft-delete the line's versions.
pub async fn retire_line(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((name, line)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<ForceQuery>,
) -> Result<Json<RetiredResponse>, ApiError> {
    let name = existing_name(&name)?;
    let major = major(&line)?;
    let retired = state
        .registry
        .retire_line(&name, major, query.force, &caller)
        .await?;
    Ok(Json(RetiredResponse {
        name: name.to_string(),
        major,
        versions: retired.iter().map(VersionSummary::from).collect(),
    }))
}

// ---------------------------------------------------------------- fetches

/// The consumer a fetch announces with `Accord-Consumer`, when it names one validly
/// (an invalid name is ignored: the fetch is served all the same).
#[derive(Debug, Clone)]
pub struct FetchedBy(pub Option<ConsumerName>);

impl<S: Send + Sync> FromRequestParts<S> for FetchedBy {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(FetchedBy(
            parts
                .headers
                .get(&ACCORD_CONSUMER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| ConsumerName::parse(v.trim()).ok()),
        ))
    }
}

/// Notes the fetch of `version` by its consumer (in the background), and marks the
/// answer when the version's line is deprecated.
pub(super) async fn after_fetch(
    state: &AppState,
    by: FetchedBy,
    version: &VersionRecord,
    mut response: Response,
) -> Result<Response, ApiError> {
    if let Some(consumer) = by.0 {
        state
            .registry
            .note_fetch(consumer, version.contract.clone(), version.version.clone());
    }
    let deprecation = state
        .registry
        .line_deprecation(&version.contract, &version.version)
        .await?;
    if let Some(d) = deprecation {
        let headers = response.headers_mut();
        for (name, value) in deprecation_headers(&d) {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
    }
    Ok(response)
}

/// `Deprecation` (RFC 9745: `@` and the Unix time it was announced), `Sunset` (RFC
/// 8594: the HTTP-date the line may go) and, with a successor, a `Link` to it.
fn deprecation_headers(d: &LineDeprecation) -> Vec<(HeaderName, String)> {
    let sunset = d
        .sunset
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().format("%a, %d %b %Y %H:%M:%S GMT").to_string());
    let mut out = vec![(
        HeaderName::from_static("deprecation"),
        format!("@{}", d.deprecated_at.timestamp()),
    )];
    if let Some(sunset) = sunset {
        out.push((HeaderName::from_static("sunset"), sunset));
    }
    if let Some(s) = d.successor {
        let encoded: String = url_path_segment(d.contract.as_str());
        out.push((
            HeaderName::from_static("link"),
            format!("</api/v1/contracts/{encoded}/versions/%5E{s}>; rel=\"successor-version\""),
        ));
    }
    out
}

/// A contract name as one path segment (Confluent subject names may hold anything).
fn url_path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'_' | b'-' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deprecated_line_announces_its_date_sunset_and_successor() {
        let d = LineDeprecation {
            contract: ContractName::parse("orders.placed").unwrap(),
            major: 1,
            sunset: NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
            reason: "moved".to_owned(),
            successor: Some(2),
            deprecated_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        };
        let h: Vec<(String, String)> = deprecation_headers(&d)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(
            h,
            vec![
                ("deprecation".to_owned(), "@1800000000".to_owned()),
                (
                    "sunset".to_owned(),
                    "Mon, 01 Mar 2027 00:00:00 GMT".to_owned()
                ),
                (
                    "link".to_owned(),
                    "</api/v1/contracts/orders.placed/versions/%5E2>; rel=\"successor-version\""
                        .to_owned()
                ),
            ]
        );
    }

    #[test]
    fn reads_are_refused_with_the_reason_and_position() {
        let bad = |range: &str, field: &str| {
            reads(vec![ReadRequest {
                contract: "orders.placed".to_owned(),
                range: range.to_owned(),
                fields: vec![field.to_owned()],
            }])
            .unwrap_err()
        };
        let e = bad("", "/a");
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            e.message.contains("reads[0].range is empty"),
            "{}",
            e.message
        );
        assert!(bad("one", "/a").message.contains("semver range"));
        assert!(bad("^1", "amount").message.contains("reads[0].fields"));
    }
}
