//! Accord: a schema contract registry for data pipelines.
//!
//! Producers register versioned JSON Schemas ("contracts"), the registry enforces
//! compatibility and semantic versions, CI checks changes before deploy, and
//! consumers validate payloads at pipeline boundaries. See `DESIGN.md` in the
//! shared folder for the architecture; the module map is:
//!
//! - [`domain`]: names, modes, policies, bumps: trusted value types.
//! - [`schema`]: JSON Schema documents: drafts, `$ref` resolution, canonical form.
//! - [`compat`]: the diff engine: rules, changes, reports, modes, required bumps.
//! - [`client`]: the consumer library: fetch, cache and compile contracts, validate payloads.
//! - [`cli`]: the `accord` command's subcommands.
//! - [`cache`]: the server's bounded in-memory caches and their hit and miss counts.
//! - [`limits`]: every limit and timeout of the server, with its flag and default.
#![forbid(unsafe_code)]

pub mod cache;
pub mod cli;
pub mod client;
pub mod compat;
pub mod domain;
pub mod http;
pub mod limits;
pub mod registry;
pub mod schema;
pub mod store;
