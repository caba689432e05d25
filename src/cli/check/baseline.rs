//! What a contract file is compared with: the same file at a git revision, or the
//! registry's versions of the contract.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, anyhow, bail};
use semver::Version;

use crate::cli::connect::Credentials;
use crate::cli::contract_file::{self, ContractFile};
use crate::cli::registry_client::RegistryClient;
use crate::domain::{Mode, Policy};
use crate::schema::Schema;

use super::{parse_baseline_schema, parse_version};

/// Where baselines come from.
pub enum Baseline {
    /// A git revision.
    Git(GitBaseline),
    /// A registry.
    Registry(RegistryBaseline),
}

/// One earlier version.
pub struct Prev {
    /// Its version.
    pub version: Version,
    /// Its schema.
    pub schema: Schema,
    /// The contract file it came from (git baselines), for locating removals.
    pub file: Option<ContractFile>,
}

/// The baseline of one contract.
pub struct ForContract {
    /// Live versions that may be compared with, newest first.
    pub versions: Vec<Prev>,
    /// The highest version that exists (deleted ones included).
    pub highest: Option<Version>,
    /// A live version whose schema is canonically identical to the candidate's.
    pub identical: Option<Version>,
    /// The mode the baseline enforces, when it knows one.
    pub mode: Option<Mode>,
    /// The policy the baseline enforces, when it knows one.
    pub policy: Option<Policy>,
    /// How to name a version of this baseline.
    prefix: String,
}

impl ForContract {
    /// How reports name `version` of this baseline.
    pub fn describe(&self, version: &Version) -> String {
        format!("{}@{version}", self.prefix)
    }
}

impl Baseline {
    /// A git baseline at `rev` (checked to name a commit).
    pub fn git(rev: &str) -> Result<Baseline> {
        let inside = git(&["rev-parse", "--is-inside-work-tree"])?;
        if !inside.status.success() {
            bail!(
                "--against {rev}: the current directory is not in a git repository; run accord \
                 check inside the repository, or compare with a registry (--registry URL)"
            );
        }
        let out = git(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ])?;
        if !out.status.success() {
            bail!("{rev:?} does not name a commit in this git repository");
        }
        Ok(Baseline::Git(GitBaseline {
            rev: rev.to_owned(),
        }))
    }

    /// A registry baseline (checked to answer).
    pub fn registry(url: &str, credentials: &Credentials) -> Result<Baseline> {
        let client = RegistryClient::new(url, credentials)?;
        let global = client.global_config()?;
        Ok(Baseline::Registry(RegistryBaseline { client, global }))
    }
}

fn git(args: &[&str]) -> Result<std::process::Output> {
    Command::new("git")
        .args(args)
        .output()
        .context("running git (is it installed?)")
}

/// Files at a git revision.
pub struct GitBaseline {
    /// The revision.
    pub rev: String,
}

impl GitBaseline {
    fn show(&self, path: &Path) -> Result<Option<String>> {
        let spec = format!("{}:./{}", self.rev, path.display());
        let exists = git(&["cat-file", "-e", &spec])?;
        if !exists.status.success() {
            return Ok(None);
        }
        let out = git(&["show", &spec])?;
        if !out.status.success() {
            bail!(
                "git show {spec}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        String::from_utf8(out.stdout)
            .map(Some)
            .map_err(|_| anyhow!("{spec} is not UTF-8"))
    }

    /// The contract file at the revision, if it existed there.
    fn old_file(&self, path: &Path) -> Result<Option<ContractFile>> {
        let Some(text) = self.show(path)? else {
            return Ok(None);
        };
        let read = |p: &Path| -> Result<String> {
            self.show(p)?
                .ok_or_else(|| anyhow!("{} does not exist at {}", p.display(), self.rev))
        };
        ContractFile::parse(path, &text, &read)
            .map(Some)
            .with_context(|| format!("at {}", self.rev))
    }

    pub(super) fn for_contract(&self, c: &ContractFile, fingerprint: &str) -> Result<ForContract> {
        let prefix = format!("{}:{}", self.rev, c.path.display());
        let Some(old) = self.old_file(&c.path)? else {
            return Ok(ForContract {
                versions: Vec::new(),
                highest: None,
                identical: None,
                mode: None,
                policy: None,
                prefix,
            });
        };
        let schema = parse_baseline_schema(
            &old.schema_text,
            &format!("{}:{}", self.rev, old.schema_path.display()),
        )?;
        let identical = (schema.fingerprint() == fingerprint).then(|| old.version.clone());
        Ok(ForContract {
            highest: Some(old.version.clone()),
            identical,
            mode: old.mode,
            policy: old.policy,
            versions: vec![Prev {
                version: old.version.clone(),
                schema,
                file: Some(old),
            }],
            prefix,
        })
    }

    /// Contract files under `paths` at the revision that are not among `current`.
    pub fn removed_files(
        &self,
        paths: &[PathBuf],
        current: &[PathBuf],
    ) -> Result<Vec<(PathBuf, Option<ContractFile>)>> {
        let mut args = vec!["ls-tree", "-r", "--name-only", self.rev.as_str(), "--"];
        let specs: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        args.extend(specs.iter().map(String::as_str));
        let out = git(&args)?;
        if !out.status.success() {
            bail!(
                "git ls-tree {}: {}",
                self.rev,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let mut removed = Vec::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let path = contract_file::normalize(Path::new(line));
            if contract_file::is_contract_file(&path) && !current.contains(&path) {
                // An unreadable old file still counts as removed.
                let old = self.old_file(&path).ok().flatten();
                removed.push((path, old));
            }
        }
        Ok(removed)
    }
}

/// A registry's versions.
pub struct RegistryBaseline {
    client: RegistryClient,
    global: (Mode, Policy),
}

impl RegistryBaseline {
    /// The client talking to the registry.
    pub(super) fn client(&self) -> &RegistryClient {
        &self.client
    }

    pub(super) fn for_contract(&self, c: &ContractFile, fingerprint: &str) -> Result<ForContract> {
        let prefix = format!("registry {} {}", self.client.base(), c.name);
        let Some(detail) = self.client.contract(c.name.as_str())? else {
            return Ok(ForContract {
                versions: Vec::new(),
                highest: None,
                identical: None,
                mode: Some(self.global.0),
                policy: Some(self.global.1),
                prefix,
            });
        };
        let mode = c.mode.unwrap_or(detail.config.mode);
        let mut all = Vec::new();
        for v in &detail.versions {
            all.push((parse_version(&v.version)?, v));
        }
        let highest = all.iter().map(|(v, _)| v.clone()).max();
        let mut live: Vec<_> = all.iter().filter(|(_, s)| !s.deleted).collect();
        live.sort_by(|a, b| b.0.cmp(&a.0));
        let identical = live
            .iter()
            .find(|(_, s)| s.fingerprint == fingerprint)
            .map(|(v, _)| v.clone());
        // Fetch only what the comparison reads: the newest of the declared line (all
        // of it for transitive modes), or the newest live version for a new major.
        let line: Vec<_> = live
            .iter()
            .filter(|(v, _)| v.major == c.version.major)
            .collect();
        let wanted: Vec<_> = match (line.is_empty(), mode.is_transitive()) {
            (true, _) => live.iter().take(1).collect(),
            (false, true) => line,
            (false, false) => line.into_iter().take(1).collect(),
        };
        let mut versions = Vec::new();
        if identical.is_none() {
            for (v, s) in wanted {
                let text = self.client.schema(s.schema_id)?;
                let schema = parse_baseline_schema(&text, &format!("{prefix}@{v}"))?;
                versions.push(Prev {
                    version: v.clone(),
                    schema,
                    file: None,
                });
            }
        }
        Ok(ForContract {
            versions,
            highest,
            identical,
            mode: Some(detail.config.mode),
            policy: Some(detail.config.policy),
            prefix,
        })
    }
}
