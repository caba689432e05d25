//! Handlers for schemas, subjects, versions and compatibility checks. Each parses its
//! input into domain types, calls registry use cases and shapes Confluent's answer.

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::error::{ConfluentError, breaking_messages};
use super::{Params, body};
use crate::domain::{Action, Caller, ContractName};
use crate::http::AppState;
use crate::registry::{ImportIds, Outcome, Registered, RegistryError, Submission};
use crate::store::{Listing, SchemaReference, VersionRecord};

type Answer = Result<Response, ConfluentError>;

/// A subject from the path (already percent-decoded): any string but the reserved
/// names and control characters (42208).
pub(super) fn subject(s: &str) -> Result<ContractName, ConfluentError> {
    if matches!(s, "__GLOBAL" | "__EMPTY") {
        return Err(ConfluentError::new(
            42208,
            format!("The specified subject '{s}' is not a valid subject"),
        ));
    }
    ContractName::confluent(s).map_err(|e| ConfluentError::new(42208, e.to_string()))
}

/// A version id from the path: a number in 1..2^31-1, or `latest` / `-1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VersionId {
    Latest,
    Number(i64),
}

fn version_id(s: &str) -> Result<VersionId, ConfluentError> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("latest") || t == "-1" {
        return Ok(VersionId::Latest);
    }
    match t.parse::<i64>() {
        Ok(n) if (1..=i64::from(i32::MAX)).contains(&n) => Ok(VersionId::Number(n)),
        _ => Err(ConfluentError::new(
            42202,
            format!(
                "The specified version '{s}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""
            ),
        )),
    }
}

fn schema_id(s: &str) -> Result<i64, ConfluentError> {
    s.trim()
        .parse()
        .map_err(|_| ConfluentError::new(404, "HTTP 404 Not Found"))
}

/// `RegisterSchemaRequest`: the body of register, lookup and compatibility calls.
/// Unknown fields (metadata, ruleSet, tags…) are ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchemaRequest {
    schema: Option<String>,
    schema_type: Option<String>,
    #[serde(default)]
    references: Vec<ReferenceRequest>,
    version: Option<i64>,
    id: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct ReferenceRequest {
    #[serde(deserialize_with = "crate::domain::stored_text")]
    name: String,
    subject: String,
    version: i64,
}

impl SchemaRequest {
    /// The submission, after the checks the registry cannot make: the schema type
    /// (absent means AVRO, as the clients assume) and an empty schema.
    fn into_submission(self, force: bool) -> Result<Submission, ConfluentError> {
        let kind = self
            .schema_type
            .as_deref()
            .unwrap_or("AVRO")
            .trim()
            .to_ascii_uppercase();
        match kind.as_str() {
            "JSON" => {}
            "AVRO" | "PROTOBUF" => {
                return Err(ConfluentError::invalid_schema(format!(
                    "Invalid schema: schemaType {kind} is not supported; this registry holds JSON Schema only (schemaType JSON)"
                )));
            }
            other => {
                return Err(ConfluentError::invalid_schema(format!(
                    "Invalid schema: unknown schemaType {other:?}; this registry holds JSON Schema only (schemaType JSON)"
                )));
            }
        }
        let schema = self
            .schema
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ConfluentError::invalid_schema("Invalid schema: the schema is empty"))?;
        let references = self
            .references
            .into_iter()
            .map(|r| {
                Ok(SchemaReference {
                    subject: ContractName::confluent(&r.subject).map_err(|e| {
                        ConfluentError::invalid_schema(format!("Invalid schema reference: {e}"))
                    })?,
                    name: r.name,
                    version: r.version,
                })
            })
            .collect::<Result<Vec<_>, ConfluentError>>()?;
        Ok(Submission {
            schema,
            version: None,
            allow_breaking: force,
            metadata: Default::default(),
            mode: None,
            policy: None,
            references,
            import: self.id.filter(|id| *id > 0).map(|schema_id| ImportIds {
                schema_id,
                seq: self.version.filter(|v| *v > 0),
            }),
        })
    }
}

fn references_json(references: &[SchemaReference]) -> Value {
    references
        .iter()
        .map(|r| json!({ "name": r.name, "subject": r.subject.as_str(), "version": r.version }))
        .collect()
}

/// The `Schema` entity: a version with its schema text (as first submitted) and
/// references; empty fields are left out, as Confluent does.
async fn version_entity(state: &AppState, v: &VersionRecord) -> Result<Value, ConfluentError> {
    let schema = state.registry.schema(v.schema_id).await?;
    let references = state.registry.references(v.schema_id).await?;
    let mut out = Map::new();
    out.insert("subject".into(), json!(v.contract.as_str()));
    out.insert("version".into(), json!(v.seq));
    out.insert("id".into(), json!(v.schema_id));
    out.insert("schemaType".into(), json!("JSON"));
    if !references.is_empty() {
        out.insert("references".into(), references_json(&references));
    }
    out.insert("schema".into(), json!(schema.original));
    if v.deleted {
        out.insert("deleted".into(), json!(true));
    }
    Ok(Value::Object(out))
}

/// The subject's versions, soft-deleted ones too; 40401 when it has none to show.
async fn subject_versions(
    state: &AppState,
    name: &ContractName,
    include_deleted: bool,
) -> Result<Vec<VersionRecord>, ConfluentError> {
    let versions = match state.registry.list_versions(name, true).await {
        Ok(v) => v,
        Err(RegistryError::ContractNotFound(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    if !versions.iter().any(|v| include_deleted || !v.deleted) {
        return Err(ConfluentError::subject_not_found(name.as_str()));
    }
    Ok(versions)
}

/// The version a path names: `latest` is the newest live one; a number may name a
/// soft-deleted one when `include_deleted`.
async fn resolve_version(
    state: &AppState,
    name: &ContractName,
    id: VersionId,
    include_deleted: bool,
) -> Result<VersionRecord, ConfluentError> {
    let versions = subject_versions(state, name, include_deleted).await?;
    let found = match id {
        VersionId::Latest => versions
            .into_iter()
            .filter(|v| !v.deleted)
            .max_by_key(|v| v.seq),
        VersionId::Number(n) => versions
            .into_iter()
            .find(|v| v.seq == n && (include_deleted || !v.deleted)),
    };
    found.ok_or_else(|| match id {
        VersionId::Latest => ConfluentError::version_not_found("latest"),
        VersionId::Number(n) => ConfluentError::version_not_found(n),
    })
}

fn json_answer(value: Value) -> Answer {
    Ok(Json(value).into_response())
}

/// `GET /` and `POST /`: `{}`.
pub async fn root() -> Json<Value> {
    Json(json!({}))
}

/// `GET /schemas/types`: only JSON Schema is supported.
pub async fn schema_types() -> Json<Value> {
    Json(json!(["JSON"]))
}

/// Whether the caller may read `contract` (listings show only those).
fn in_scope(caller: &Caller, contract: &str) -> bool {
    caller.principal.may(Action::Read, Some(contract)).is_ok()
}

/// `GET /contexts`: only the default context.
pub async fn list_contexts(params: Params) -> Answer {
    json_answer(json!(params.page(vec!["."])?))
}

/// `GET /schemas/ids/{id}`: the schema text, type and references.
pub async fn find_schema(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let id = schema_id(&id)?;
    let schema = state.registry.schema(id).await?;
    let references = state.registry.references(id).await?;
    let mut out = Map::new();
    out.insert("schemaType".into(), json!("JSON"));
    if !references.is_empty() {
        out.insert("references".into(), references_json(&references));
    }
    out.insert("schema".into(), json!(schema.original));
    json_answer(Value::Object(out))
}

/// `GET /schemas/ids/{id}/schema`: the schema text itself.
pub async fn find_schema_text(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let schema = state.registry.schema(schema_id(&id)?).await?;
    Ok(schema.original.clone().into_response())
}

async fn versions_of_schema(
    state: &AppState,
    id: &str,
    params: &Params,
) -> Result<Vec<VersionRecord>, ConfluentError> {
    let include_deleted = params.flag("deleted");
    Ok(state
        .registry
        .versions_with_schema(schema_id(id)?)
        .await?
        .into_iter()
        .filter(|v| include_deleted || !v.deleted)
        .collect())
}

/// `GET /schemas/ids/{id}/subjects`: the subjects that use the schema.
pub async fn list_schema_subjects(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    params: Params,
) -> Answer {
    let names: BTreeSet<String> = versions_of_schema(&state, &id, &params)
        .await?
        .into_iter()
        .filter(|v| in_scope(&caller, v.contract.as_str()))
        .map(|v| v.contract.to_string())
        .collect();
    json_answer(json!(params.page(names.into_iter().collect())?))
}

/// `GET /schemas/ids/{id}/versions`: the `{subject, version}` pairs that use it.
pub async fn list_schema_versions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    params: Params,
) -> Answer {
    let pairs: Vec<Value> = versions_of_schema(&state, &id, &params)
        .await?
        .iter()
        .filter(|v| in_scope(&caller, v.contract.as_str()))
        .map(|v| json!({ "subject": v.contract.as_str(), "version": v.seq }))
        .collect();
    json_answer(json!(params.page(pairs)?))
}

/// `GET /subjects`: subjects with live versions (with `deleted`, also those whose
/// versions are all soft-deleted; with `deletedOnly`, only those).
pub async fn list_subjects(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> Answer {
    const PAGE: i64 = 1000;
    let prefix = params
        .get("subjectPrefix")
        .filter(|p| *p != ":*:")
        .unwrap_or("");
    let deleted_only = params.flag("deletedOnly");
    let include_deleted = params.flag("deleted") || deleted_only;
    let mut names = Vec::new();
    let mut offset = 0;
    loop {
        let listing = if include_deleted {
            Listing::WithDeleted
        } else {
            Listing::Live
        };
        let page = state
            .registry
            .list_contracts(prefix, listing, PAGE, offset)
            .await?;
        for summary in &page {
            let live = summary.live_versions > 0;
            let keep = if live {
                !deleted_only
            } else {
                include_deleted && summary.versions > 0
            };
            if keep && in_scope(&caller, summary.contract.name.as_str()) {
                names.push(summary.contract.name.to_string());
            }
        }
        if (page.len() as i64) < PAGE {
            break;
        }
        offset += PAGE;
    }
    json_answer(json!(params.page(names)?))
}

/// `GET /subjects/{subject}/versions`: the version numbers, ascending.
pub async fn list_versions(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> Answer {
    let name = subject(&name)?;
    let deleted_only = params.flag("deletedOnly");
    let include_deleted = params.flag("deleted") || deleted_only;
    let as_negative = params.flag("deletedAsNegative");
    let versions = subject_versions(&state, &name, include_deleted || as_negative).await?;
    let numbers: Vec<i64> = versions
        .iter()
        .filter_map(
            |v| match (v.deleted, deleted_only, include_deleted, as_negative) {
                (true, _, _, true) => Some(-v.seq),
                (true, _, true, _) => Some(v.seq),
                (true, _, false, _) => None,
                (false, true, _, _) => None,
                (false, _, _, _) => Some(v.seq),
            },
        )
        .collect();
    json_answer(json!(params.page(numbers)?))
}

/// `POST /subjects/{subject}/versions`: register (idempotent for any live version).
pub async fn create_version(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    params: Params,
    bytes: Result<Bytes, BytesRejection>,
) -> Answer {
    let name = subject(&name)?;
    let request: SchemaRequest = body(bytes)?;
    let submission = request.into_submission(params.flag("force"))?;
    let version = match state.registry.register(&name, submission, &caller).await {
        Ok(Registered::Created { version, .. } | Registered::Existing(version)) => version,
        Err(RegistryError::Refused(refusal)) => {
            return Err(incompatible(&state, &name, &refusal).await);
        }
        Err(e) => return Err(e.into()),
    };
    json_answer(version_entity(&state, &version).await?)
}

/// A refused registration's 40901, naming the version it conflicts with by its
/// Confluent (integer) version rather than the semantic one the engine labels it with.
async fn incompatible(
    state: &AppState,
    name: &ContractName,
    refusal: &crate::registry::Refusal,
) -> ConfluentError {
    let failed = refusal.report().and_then(|r| r.failed_version.clone());
    let seq = match &failed {
        Some(label) => state
            .registry
            .list_versions(name, true)
            .await
            .ok()
            .and_then(|vs| vs.into_iter().find(|v| v.version.to_string() == *label))
            .map(|v| v.seq),
        None => None,
    };
    ConfluentError::incompatible(refusal, seq)
}

/// `POST /subjects/{subject}`: is this schema registered under the subject?
pub async fn lookup_schema(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    bytes: Result<Bytes, BytesRejection>,
) -> Answer {
    let name = subject(&name)?;
    let request: SchemaRequest = body(bytes)?;
    let submission = request.into_submission(false)?;
    let version = state
        .registry
        .lookup(&name, &submission, params.flag("deleted"))
        .await?;
    json_answer(version_entity(&state, &version).await?)
}

/// `DELETE /subjects/{subject}`: soft-delete every version (or `permanent=true`).
pub async fn delete_subject(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    params: Params,
) -> Answer {
    let name = subject(&name)?;
    let deleted = state
        .registry
        .delete_contract(&name, params.flag("permanent"), &caller)
        .await?;
    json_answer(json!(deleted.iter().map(|v| v.seq).collect::<Vec<_>>()))
}

/// `GET /subjects/{subject}/versions/{version}`: the `Schema` entity.
pub async fn find_version(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
    params: Params,
) -> Answer {
    let name = subject(&name)?;
    let id = version_id(&version)?;
    let v = resolve_version(&state, &name, id, params.flag("deleted")).await?;
    json_answer(version_entity(&state, &v).await?)
}

/// `GET /subjects/{subject}/versions/{version}/schema`: the schema text itself.
pub async fn find_version_schema(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
    params: Params,
) -> Answer {
    let name = subject(&name)?;
    let id = version_id(&version)?;
    let v = resolve_version(&state, &name, id, params.flag("deleted")).await?;
    Ok(state
        .registry
        .schema(v.schema_id)
        .await?
        .original
        .clone()
        .into_response())
}

/// `GET /subjects/{subject}/versions/{version}/referencedby`: ids of the schemas that
/// refer to this version.
pub async fn list_referrers(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, version)): Path<(String, String)>,
    params: Params,
) -> Answer {
    let name = subject(&name)?;
    let id = version_id(&version)?;
    let include_deleted = params.flag("deleted");
    let v = resolve_version(&state, &name, id, true).await?;
    let ids: BTreeSet<i64> = state
        .registry
        .referrers(&name, v.seq)
        .await?
        .into_iter()
        .filter(|r| include_deleted || !r.deleted)
        .filter(|r| in_scope(&caller, r.contract.as_str()))
        .map(|r| r.schema_id)
        .collect();
    json_answer(json!(params.page(ids.into_iter().collect())?))
}

/// `DELETE /subjects/{subject}/versions/{version}`: soft delete (or `permanent=true`
/// after a soft delete); answers the version number.
pub async fn delete_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, version)): Path<(String, String)>,
    params: Params,
) -> Answer {
    let name = subject(&name)?;
    let id = version_id(&version)?;
    let permanent = params.flag("permanent");
    // A soft-deleted version can be named by number, to be removed for good (or to be
    // told it is already soft-deleted).
    let v = resolve_version(&state, &name, id, true).await?;
    state
        .registry
        .delete_version(&name, &v.version, permanent, &caller)
        .await?;
    json_answer(json!(v.seq))
}

fn compatibility_answer(compatible: bool, messages: Vec<String>, verbose: bool) -> Answer {
    if verbose {
        json_answer(json!({ "is_compatible": compatible, "messages": messages }))
    } else {
        json_answer(json!({ "is_compatible": compatible }))
    }
}

/// With `verbose`, an unparsable candidate is an incompatible answer, not an error.
fn verbose_schema_error(e: RegistryError, verbose: bool) -> Answer {
    match e {
        RegistryError::InvalidSchema(_) | RegistryError::InvalidReference(_) if verbose => {
            compatibility_answer(false, vec![e.to_string()], true)
        }
        e => Err(e.into()),
    }
}

/// `POST /compatibility/subjects/{subject}/versions`: would a registration pass? The
/// same decision as registering (against the live versions of the target major line,
/// under the subject's mode), without writing.
pub async fn check_compatibility(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    bytes: Result<Bytes, BytesRejection>,
) -> Answer {
    let name = subject(&name)?;
    let verbose = params.flag("verbose");
    let request: SchemaRequest = body(bytes)?;
    let submission = request.into_submission(false)?;
    let dry = match state.registry.check(&name, submission).await {
        Ok(dry) => dry,
        Err(e) => return verbose_schema_error(e, verbose),
    };
    let compatible = !matches!(dry.outcome, Outcome::Refused(_));
    let messages = if compatible {
        Vec::new()
    } else {
        let mut m = breaking_messages(&dry.report);
        if let Some(label) = &dry.report.failed_version
            && let Some(v) = state
                .registry
                .list_versions(&name, false)
                .await?
                .into_iter()
                .find(|v| v.version.to_string() == *label)
        {
            m.push(format!("{{oldSchemaVersion: {}}}", v.seq));
        }
        m.push(format!("{{compatibility: '{}'}}", dry.report.mode));
        m
    };
    compatibility_answer(compatible, messages, verbose)
}

/// `POST /compatibility/subjects/{subject}/versions/{version}`: is the schema
/// compatible with that one version under the subject's mode?
pub async fn check_version_compatibility(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
    params: Params,
    bytes: Result<Bytes, BytesRejection>,
) -> Answer {
    let name = subject(&name)?;
    let id = version_id(&version)?;
    let verbose = params.flag("verbose");
    let request: SchemaRequest = body(bytes)?;
    let submission = request.into_submission(false)?;
    let seq = match id {
        VersionId::Latest => None,
        VersionId::Number(n) => Some(n),
    };
    let report = match state.registry.check_against(&name, seq, &submission).await {
        Ok(report) => report,
        Err(RegistryError::VersionNotFound { .. }) => {
            return Err(ConfluentError::version_not_found(version.trim()));
        }
        Err(e) => return verbose_schema_error(e, verbose),
    };
    let messages = if report.compatible {
        Vec::new()
    } else {
        let mut m = breaking_messages(&report);
        m.push(format!(
            "{{oldSchemaVersion: {}}}",
            report.failed_version.as_deref().unwrap_or("?")
        ));
        m.push(format!("{{compatibility: '{}'}}", report.mode));
        m
    };
    compatibility_answer(report.compatible, messages, verbose)
}
