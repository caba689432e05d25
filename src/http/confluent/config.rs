//! `/config` (compatibility level and policy) and `/mode` (READWRITE, READONLY,
//! IMPORT), registry-wide and per subject.
//!
//! Confluent's `compatibilityLevel` (GET) / `compatibility` (PUT) is Accord's mode and
//! `compatibilityPolicy` (STRICT / LENIENT) its policy. A subject without its own
//! configuration answers 40408 unless `defaultToGlobal=true`: kafkajs takes that 404
//! to mean "first registration" and sets the level after registering.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

use super::handlers::subject;
use super::{ConfluentError, Params, body};
use crate::domain::{Action, Caller, Mode, Policy, WriteMode};
use crate::http::AppState;

type Answer = Result<Response, ConfluentError>;

/// `ConfigUpdateRequest`: an absent field keeps its value, `null` clears it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigRequest {
    #[serde(default, deserialize_with = "present")]
    compatibility: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    compatibility_policy: Option<Option<String>>,
}

/// `ModeUpdateRequest`.
#[derive(Debug, Deserialize)]
struct ModeRequest {
    mode: Option<String>,
}

/// Tells a field sent as `null` (`Some(None)`) from an absent one (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn level(s: &str) -> Result<Mode, ConfluentError> {
    s.parse().map_err(|_| {
        ConfluentError::new(42203, format!("Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive; got {s:?}"))
    })
}

fn policy(s: &str) -> Result<Policy, ConfluentError> {
    s.parse().map_err(|_| {
        ConfluentError::new(
            42203,
            format!("Invalid compatibility policy. Valid values are STRICT and LENIENT; got {s:?}"),
        )
    })
}

fn write_mode(request: ModeRequest) -> Result<WriteMode, ConfluentError> {
    let given = request.mode.unwrap_or_default();
    given.parse().map_err(|_| {
        ConfluentError::new(42204, format!("Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT; got {given:?}"))
    })
}

/// A `Config` (GET) or `ConfigUpdateRequest` (PUT echo) body: the level under `key`,
/// the policy only when there is one to say.
fn config_json(key: &str, mode: Option<Mode>, policy: Option<Policy>) -> Response {
    let mut out = Map::new();
    if let Some(m) = mode {
        out.insert(key.into(), json!(m.as_str()));
    }
    if let Some(p) = policy {
        out.insert(
            "compatibilityPolicy".into(),
            json!(p.as_str().to_ascii_uppercase()),
        );
    }
    Json(Value::Object(out)).into_response()
}

/// The policy worth showing for the global config: only a non-default one.
fn shown_policy(p: Policy) -> Option<Policy> {
    (p != Policy::default()).then_some(p)
}

/// Applies a PUT body to current values: absent keeps, `null` clears, a value sets.
fn merged<T>(
    field: Option<Option<String>>,
    current: Option<T>,
    parse: fn(&str) -> Result<T, ConfluentError>,
) -> Result<Option<T>, ConfluentError> {
    match field {
        None => Ok(current),
        Some(None) => Ok(None),
        Some(Some(s)) => parse(&s).map(Some),
    }
}

/// `GET /config`.
pub async fn find_global_config(State(state): State<AppState>) -> Answer {
    let c = state.registry.global_config().await?;
    Ok(config_json(
        "compatibilityLevel",
        Some(c.mode),
        shown_policy(c.policy),
    ))
}

/// `PUT /config`: `null` resets a field to the built-in default.
pub async fn update_global_config(
    State(state): State<AppState>,
    caller: Caller,
    bytes: Result<Bytes, BytesRejection>,
) -> Answer {
    let request: ConfigRequest = body(bytes)?;
    let current = state.registry.global_config().await?;
    let mode = merged(request.compatibility, Some(current.mode), level)?.unwrap_or_default();
    let policy =
        merged(request.compatibility_policy, Some(current.policy), policy)?.unwrap_or_default();
    let c = state
        .registry
        .set_global_config(Some(mode), Some(policy), &caller)
        .await?;
    Ok(config_json(
        "compatibility",
        Some(c.mode),
        shown_policy(c.policy),
    ))
}

/// `DELETE /config`: back to the defaults; answers the config removed.
pub async fn delete_global_config(State(state): State<AppState>, caller: Caller) -> Answer {
    let previous = state.registry.global_config().await?;
    state
        .registry
        .set_global_config(Some(Mode::default()), Some(Policy::default()), &caller)
        .await?;
    Ok(config_json(
        "compatibilityLevel",
        Some(previous.mode),
        shown_policy(previous.policy),
    ))
}

/// `GET /config/{subject}`: the subject's own config (40408 when it has none), or
/// with `defaultToGlobal=true` the effective one.
pub async fn find_subject_config(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> Answer {
    let name = subject(&name)?;
    let (mode, policy) = state.registry.contract_overrides(&name).await?;
    if params.flag("defaultToGlobal") {
        let global = state.registry.global_config().await?;
        return Ok(config_json(
            "compatibilityLevel",
            Some(mode.unwrap_or(global.mode)),
            policy.or(shown_policy(global.policy)),
        ));
    }
    if mode.is_none() && policy.is_none() {
        return Err(ConfluentError::new(
            40408,
            format!("Subject '{name}' does not have subject-level compatibility configured"),
        ));
    }
    Ok(config_json("compatibilityLevel", mode, policy))
}

/// `PUT /config/{subject}`: allowed before the subject's first version.
///
/// Needs the right to configure the subject, except for one request producers make:
/// kafkajs, after a subject's first registration, sets the subject's level to the one
/// it was registered under. A producer may therefore pin, on a subject that has no
/// configuration of its own, exactly the level and policy already in force; anything
/// else is 40301.
pub async fn update_subject_config(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    bytes: Result<Bytes, BytesRejection>,
) -> Answer {
    let name = subject(&name)?;
    let request: ConfigRequest = body(bytes)?;
    let (current_mode, current_policy) = state.registry.contract_overrides(&name).await?;
    let mode = merged(request.compatibility, current_mode, level)?;
    let policy = merged(request.compatibility_policy, current_policy, policy)?;
    if let Err(denied) = caller.principal.may(Action::Configure, Some(name.as_str())) {
        let global = state.registry.global_config().await?;
        let pins_what_is_in_force = current_mode.is_none()
            && current_policy.is_none()
            && mode.is_none_or(|m| m == global.mode)
            && policy.is_none_or(|p| p == global.policy);
        if !pins_what_is_in_force {
            return Err(ConfluentError::forbidden(&denied));
        }
    }
    let c = state
        .registry
        .replace_contract_config(&name, mode, policy, &caller)
        .await?;
    Ok(config_json(
        "compatibility",
        c.mode_override,
        c.policy_override,
    ))
}

/// `DELETE /config/{subject}`: answers the config removed; 40401 when there was none.
pub async fn delete_subject_config(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Answer {
    let name = subject(&name)?;
    let (mode, policy) = state.registry.contract_overrides(&name).await?;
    if mode.is_none() && policy.is_none() {
        return Err(ConfluentError::subject_not_found(name.as_str()));
    }
    state
        .registry
        .replace_contract_config(&name, None, None, &caller)
        .await?;
    Ok(config_json("compatibilityLevel", mode, policy))
}

fn mode_json(mode: WriteMode) -> Response {
    Json(json!({ "mode": mode.as_str() })).into_response()
}

/// `GET /mode`.
pub async fn find_global_mode(State(state): State<AppState>) -> Answer {
    Ok(mode_json(state.registry.global_write_mode().await?))
}

/// `PUT /mode`: IMPORT while subjects have live versions needs `force=true`.
pub async fn update_global_mode(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    bytes: Result<Bytes, BytesRejection>,
) -> Answer {
    let mode = write_mode(body(bytes)?)?;
    state
        .registry
        .set_global_write_mode(mode, params.flag("force"), &caller)
        .await?;
    Ok(mode_json(mode))
}

/// `DELETE /mode`: back to READWRITE; answers the previous mode.
pub async fn delete_global_mode(State(state): State<AppState>, caller: Caller) -> Answer {
    let previous = state
        .registry
        .set_global_write_mode(WriteMode::Readwrite, true, &caller)
        .await?;
    Ok(mode_json(previous))
}

/// `GET /mode/{subject}`: the subject's own mode (40409 when it has none), or with
/// `defaultToGlobal=true` the one in force.
pub async fn find_subject_mode(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> Answer {
    let name = subject(&name)?;
    match state.registry.contract_write_mode(&name).await? {
        Some(m) => Ok(mode_json(m)),
        None if params.flag("defaultToGlobal") => {
            Ok(mode_json(state.registry.global_write_mode().await?))
        }
        None => Err(ConfluentError::new(
            40409,
            format!("Subject '{name}' does not have subject-level mode configured"),
        )),
    }
}

/// `PUT /mode/{subject}`: IMPORT on a subject with live versions needs `force=true`.
pub async fn update_subject_mode(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    params: Params,
    bytes: Result<Bytes, BytesRejection>,
) -> Answer {
    let name = subject(&name)?;
    let mode = write_mode(body(bytes)?)?;
    state
        .registry
        .set_contract_write_mode(&name, Some(mode), params.flag("force"), &caller)
        .await?;
    Ok(mode_json(mode))
}

/// `DELETE /mode/{subject}`: answers the mode removed; 40401 when there was none.
pub async fn delete_subject_mode(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Answer {
    let name = subject(&name)?;
    match state
        .registry
        .set_contract_write_mode(&name, None, true, &caller)
        .await?
    {
        Some(previous) => Ok(mode_json(previous)),
        None => Err(ConfluentError::subject_not_found(name.as_str())),
    }
}
