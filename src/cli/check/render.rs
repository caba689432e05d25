//! The renderers of a check's [`Outcome`]: one result, five formats.

use std::fmt::Write as _;
use std::io::Write as _;

use anstyle::{AnsiColor, Style};
use anyhow::{Context as _, Result};

use crate::domain::Direction;

use super::{CheckFormat, ContractResult, Finding, Level, Outcome, Status};

/// Writes `outcome` to standard output in `format` (and, for `github`, the step summary).
pub fn write(outcome: &Outcome, format: CheckFormat) -> Result<()> {
    let mut out = anstream::stdout();
    let text = match format {
        CheckFormat::Json => {
            serde_json::to_string_pretty(outcome).context("serialising the report")? + "\n"
        }
        CheckFormat::Text => text(outcome),
        CheckFormat::Markdown => markdown(outcome),
        CheckFormat::Junit => junit(outcome),
        CheckFormat::Github => {
            if let Ok(path) = std::env::var("GITHUB_STEP_SUMMARY") {
                if !path.is_empty() {
                    let mut f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)
                        .with_context(|| format!("opening $GITHUB_STEP_SUMMARY ({path})"))?;
                    f.write_all(markdown(outcome).as_bytes())
                        .context("writing the step summary")?;
                }
            }
            if let Ok(path) = std::env::var("GITHUB_OUTPUT") {
                if !path.is_empty() {
                    let mut f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)
                        .with_context(|| format!("opening $GITHUB_OUTPUT ({path})"))?;
                    let s = &outcome.summary;
                    writeln!(
                        f,
                        "error_count={}\nwarning_count={}\ninfo_count={}\nverdict={}",
                        s.errors, s.warnings, s.infos, outcome.verdict
                    )
                    .context("writing $GITHUB_OUTPUT")?;
                }
            }
            github(outcome)
        }
    };
    out.write_all(text.as_bytes())
        .context("writing the report")?;
    Ok(())
}

fn breaks(f: &Finding) -> &'static str {
    match (
        f.breaks.contains(&Direction::Backward),
        f.breaks.contains(&Direction::Forward),
    ) {
        (true, true) => "readers-first and writers-first (BACKWARD and FORWARD)",
        (true, false) => "readers-first (BACKWARD): data valid before is rejected now",
        (false, true) => "writers-first (FORWARD): new data is rejected by old readers",
        (false, false) => "nothing",
    }
}

/// The witness lines of a finding: each direction's instance, or why there is none.
fn witness_lines(f: &Finding) -> Vec<String> {
    let mut out = Vec::new();
    let w = f.witnesses.as_ref();
    let backward = w
        .and_then(|w| w.get(Direction::Backward))
        .or(f.witness.as_ref());
    if let Some(v) = backward {
        out.push(format!("witness (valid before, rejected now): {v}"));
    }
    if let Some(v) = w.and_then(|w| w.get(Direction::Forward)) {
        out.push(format!(
            "forward witness (valid now, rejected by the old schema): {v}"
        ));
    }
    if let Some(reason) = w.and_then(|w| w.missing.as_deref()) {
        out.push(format!("no witness: {reason}"));
    }
    out
}

fn short(v: &Option<serde_json::Value>) -> String {
    match v {
        None => "-".to_owned(),
        Some(v) => {
            let s = v.to_string();
            if s.chars().count() > 80 {
                s.chars().take(77).collect::<String>() + "..."
            } else {
                s
            }
        }
    }
}

fn pointer(f: &Finding) -> String {
    match f.schema_pointer.as_deref() {
        None => String::new(),
        Some(p) if p.starts_with('/') || p.is_empty() => format!("#{p}"),
        Some(p) => p.to_owned(),
    }
}

fn counts(o: &Outcome) -> String {
    let s = &o.summary;
    let mut line = format!(
        "{} contract{}: {} error{}, {} warning{}, {} info",
        s.contracts,
        if s.contracts == 1 { "" } else { "s" },
        s.errors,
        if s.errors == 1 { "" } else { "s" },
        s.warnings,
        if s.warnings == 1 { "" } else { "s" },
        s.infos
    );
    if s.accepted > 0 {
        let _ = write!(line, ", {} accepted", s.accepted);
    }
    if s.ignored > 0 {
        let _ = write!(line, ", {} ignored", s.ignored);
    }
    if s.failed_to_load > 0 {
        let _ = write!(line, ", {} could not be checked", s.failed_to_load);
    }
    line
}

fn headline(r: &ContractResult) -> String {
    let declared = r.declared_version.as_deref().unwrap_or("?");
    let bump = |b: Option<crate::domain::Bump>| b.map_or_else(String::new, |b| format!(" ({b})"));
    match r.status {
        Status::Initial => format!("{}  new contract, initial version {declared}", r.name),
        Status::Unchanged => format!(
            "{}  {declared} unchanged (same schema as {})",
            r.name,
            r.base.as_deref().unwrap_or("?")
        ),
        Status::Changed | Status::NewMajor => format!(
            "{}  {} → {declared}{}   required: {}{}   mode {} ({}) vs {}",
            r.name,
            r.base_version.as_deref().unwrap_or("?"),
            bump(r.declared_bump),
            r.required_version
                .as_deref()
                .unwrap_or(if r.status == Status::NewMajor {
                    "new major line"
                } else {
                    "?"
                }),
            bump(r.required_bump),
            r.mode,
            r.policy,
            if r.checked_versions.is_empty() {
                "-".to_owned()
            } else {
                r.checked_versions.join(", ")
            }
        ),
        Status::Removed => format!(
            "{}  removed (was {})",
            r.name,
            r.base_version.as_deref().unwrap_or("?")
        ),
        Status::Failed => format!("{}  could not be checked", r.name),
        Status::Linted => format!("{}  {declared}", r.name),
        Status::Consumer => format!(
            "{}  consumer file{}",
            r.name,
            r.base.as_deref().map_or_else(
                || " (parsed; check against a registry to check what it reads)".to_owned(),
                |_| format!(
                    ", reads checked against {}",
                    if r.checked_versions.is_empty() {
                        "-".to_owned()
                    } else {
                        r.checked_versions.join(", ")
                    }
                )
            )
        ),
    }
}

/// The consumers section of a contract's result: one line per consumer deployed
/// against it (name, environment, range, what breaks for it).
fn consumer_lines(r: &ContractResult) -> Vec<String> {
    r.consumers.iter().map(|a| a.describe()).collect()
}

fn text(o: &Outcome) -> String {
    let red = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
    let yellow = Style::new().fg_color(Some(AnsiColor::Yellow.into())).bold();
    let green = Style::new().fg_color(Some(AnsiColor::Green.into())).bold();
    let dim = Style::new().dimmed();
    let bold = Style::new().bold();
    let mut s = String::new();
    for r in &o.contracts {
        let _ = writeln!(s, "{bold}{}{bold:#}   {dim}{}{dim:#}", headline(r), r.file);
        if let Some(e) = &r.error {
            let _ = writeln!(s, "  {red}could not be checked{red:#}: {e}");
        }
        for f in &r.findings {
            let settled = f.accepted.is_some() || f.ignored.is_some();
            let style = match f.level {
                Level::Error if !settled => red,
                Level::Warning if !settled => yellow,
                _ => dim,
            };
            let level = f.label();
            let place = match (&f.instance_path, pointer(f)) {
                (Some(i), p) if !p.is_empty() => format!("{i}   ({p})   "),
                _ => String::new(),
            };
            let _ = writeln!(
                s,
                "\n  {style}{level:<8}{style:#} [{}]  {place}{}:{}:{}",
                f.rule, f.file, f.line, f.column
            );
            let _ = writeln!(s, "           {}", f.message);
            if f.old.is_some() || f.new.is_some() {
                let _ = writeln!(s, "           {} → {}", short(&f.old), short(&f.new));
            }
            if !f.breaks.is_empty() {
                let _ = writeln!(s, "           breaks: {}", breaks(f));
            }
            for line in witness_lines(f) {
                let _ = writeln!(s, "           {line}");
            }
            if let Some(h) = &f.hint {
                let _ = writeln!(s, "           fix: {h}");
            }
            if let Some(i) = &f.ignored {
                let _ = writeln!(s, "           ignored: {}", ignore_text(i));
            }
            if let Some(a) = &f.accepted {
                let _ = writeln!(
                    s,
                    "           accepted: {}{}",
                    a.reason,
                    a.expires
                        .map_or_else(String::new, |d| format!(" (until {d})"))
                );
            }
            if let Some(a) = &f.expired_acceptance {
                let _ = writeln!(
                    s,
                    "           {red}acceptance expired{red:#} on {}: {}",
                    a.expires.map_or_else(String::new, |d| d.to_string()),
                    a.reason
                );
            }
            let _ = writeln!(s, "           {dim}fingerprint: {}{dim:#}", f.fingerprint);
        }
        let lines = consumer_lines(r);
        if !lines.is_empty() {
            let _ = writeln!(s, "\n  {bold}consumers{bold:#}");
            for (a, line) in r.consumers.iter().zip(&lines) {
                let style = if a.receives && a.breaks { yellow } else { dim };
                let _ = writeln!(s, "    {style}{line}{style:#}");
            }
        }
        let _ = writeln!(s);
    }
    for e in &o.stale_acceptances {
        let _ = writeln!(
            s,
            "{dim}info     stale acceptance {} ({}) matches no finding; remove it{dim:#}",
            e.fingerprint, e.reason
        );
    }
    let verdict = match o.verdict {
        "clean" if o.command == "lint" => format!("{green}no lint findings that fail{green:#}"),
        "clean" => format!("{green}no breaking changes{green:#}"),
        "breaking" => format!(
            "{red}{} finding{} at or above {}{red:#}",
            o.summary.failing,
            if o.summary.failing == 1 { "" } else { "s" },
            o.fail_on.as_str()
        ),
        _ => format!("{red}incomplete: some contracts could not be checked{red:#}"),
    };

    let _ = write!(s, "{verdict} · {}", counts(o));
    if !o.against.is_empty() {
        let _ = write!(s, " · against {}", o.against);
    }
    let _ = writeln!(s);
    if o.verdict == "breaking" && o.command == "lint" {
        let _ = writeln!(
            s,
            "{dim}To silence a rule for some files, add an ignore (rule and paths) to accord.yaml's lint section (docs/lint.md).{dim:#}"
        );
    } else if o.verdict == "breaking" {
        let _ = writeln!(
            s,
            "{dim}To accept a known break, add its fingerprint to accord-accept.yaml with a reason (and an expiry).{dim:#}"
        );
    }
    s
}

/// GitHub escapes for the message and for property values.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn gh_prop(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn github(o: &Outcome) -> String {
    let mut s = String::new();
    for r in &o.contracts {
        if let Some(e) = &r.error {
            let _ = writeln!(
                s,
                "::error file={},title={}::{}",
                gh_prop(&r.file),
                gh_prop(&format!("accord: {} could not be checked", r.name)),
                gh_data(e)
            );
        }
        for f in &r.findings {
            let command = match f.level {
                _ if f.accepted.is_some() || f.ignored.is_some() => "notice",
                Level::Error => "error",
                Level::Warning => "warning",
                Level::Info => "notice",
            };
            let mut message = format!("{}: {}", r.name, f.message);
            if f.old.is_some() || f.new.is_some() {
                let _ = write!(message, "\n{} → {}", short(&f.old), short(&f.new));
            }
            if !f.breaks.is_empty() {
                let _ = write!(message, "\nbreaks: {}", breaks(f));
            }
            for line in witness_lines(f) {
                let _ = write!(message, "\n{line}");
            }
            if let Some(h) = &f.hint {
                let _ = write!(message, "\nfix: {h}");
            }
            if let Some(a) = &f.accepted {
                let _ = write!(message, "\naccepted: {}", a.reason);
            }
            if let Some(i) = &f.ignored {
                let _ = write!(message, "\nignored: {}", ignore_text(i));
            }
            let _ = write!(message, "\nfingerprint: {}", f.fingerprint);
            let _ = writeln!(
                s,
                "::{command} file={},line={},col={},title={}::{}",
                gh_prop(&f.file),
                f.line,
                f.column,
                gh_prop(&format!("{} [{}]", r.name, f.rule)),
                gh_data(&message)
            );
        }
    }
    for r in &o.contracts {
        let lines = consumer_lines(r);
        if !lines.is_empty() {
            let _ = writeln!(
                s,
                "::notice file={},title={}::{}",
                gh_prop(&r.file),
                gh_prop(&format!("accord: consumers of {}", r.name)),
                gh_data(&lines.join("\n"))
            );
        }
    }
    for e in &o.stale_acceptances {
        let _ = writeln!(
            s,
            "::notice title=stale acceptance::{}",
            gh_data(&format!(
                "{} ({}) matches no finding",
                e.fingerprint, e.reason
            ))
        );
    }
    let _ = writeln!(s, "accord {}: {} · {}", o.command, o.verdict, counts(o));
    s
}

/// `s` as a code span in a table cell; an empty value (a finding about the contract
/// file, not a schema node) is a dash, not an empty code span.
fn md_code(s: &str) -> String {
    if s.is_empty() {
        "—".to_owned()
    } else {
        format!("`{}`", md_cell(s))
    }
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn markdown(o: &Outcome) -> String {
    let mut s = String::new();
    let icon = match o.verdict {
        "clean" => "✅",
        "breaking" => "❌",
        _ => "⚠️",
    };
    let _ = writeln!(s, "## {icon} accord {}: {}\n", o.command, o.verdict);
    let _ = write!(s, "{}", counts(o));
    if !o.against.is_empty() {
        let _ = write!(s, " · against `{}`", o.against);
    }
    let _ = writeln!(s, " · fail on `{}`\n", o.fail_on.as_str());
    for r in &o.contracts {
        let _ = writeln!(s, "### `{}`\n", r.name);
        let _ = writeln!(s, "{}  \n`{}`\n", md_cell(&headline(r)), r.file);
        if let Some(e) = &r.error {
            let _ = writeln!(s, "> **could not be checked:** {}\n", md_cell(e));
        }
        if !r.consumers.is_empty() {
            let _ = writeln!(
                s,
                "| consumer | environment | range | deployed against | receives | breaks | what breaks |"
            );
            let _ = writeln!(s, "| --- | --- | --- | --- | --- | --- | --- |");
            for a in &r.consumers {
                let what = a.what_breaks();
                let _ = writeln!(
                    s,
                    "| `{}` | {}{} | `{}` | {} | {} | {} | {} |",
                    md_cell(&a.consumer),
                    md_cell(&a.environment),
                    if a.protected { " (protected)" } else { "" },
                    md_cell(&a.range),
                    md_cell(a.deployed_version.as_deref().unwrap_or("—")),
                    if a.receives { "yes" } else { "no" },
                    if a.breaks { "**yes**" } else { "no" },
                    if what.is_empty() {
                        "—".to_owned()
                    } else {
                        md_cell(&what.join("; "))
                    }
                );
            }
            let _ = writeln!(s);
        }
        if r.findings.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "| level | rule | instance path | schema pointer | old → new | where |"
        );
        let _ = writeln!(s, "| --- | --- | --- | --- | --- | --- |");
        for f in &r.findings {
            let level = f.label();
            let _ = writeln!(
                s,
                "| {level} | `{}` | {} | {} | `{}` → `{}` | `{}:{}:{}` |",
                f.rule,
                md_code(f.instance_path.as_deref().unwrap_or("")),
                md_code(&pointer(f)),
                md_cell(&short(&f.old)),
                md_cell(&short(&f.new)),
                f.file,
                f.line,
                f.column
            );
        }
        let _ = writeln!(s, "\n<details><summary>details</summary>\n");
        for f in &r.findings {
            let _ = writeln!(
                s,
                "- **{}** `{}`: {}",
                f.label(),
                f.rule,
                md_cell(&f.message)
            );
            if let Some(h) = &f.hint {
                let _ = writeln!(s, "  - fix: {}", md_cell(h));
            }
            if let Some(i) = &f.ignored {
                let _ = writeln!(s, "  - ignored: {}", md_cell(&ignore_text(i)));
            }
            if !f.breaks.is_empty() {
                let _ = writeln!(s, "  - breaks: {}", breaks(f));
            }
            for line in witness_lines(f) {
                let (label, rest) = line.split_once(": ").unwrap_or((line.as_str(), ""));
                if label == "no witness" {
                    let _ = writeln!(s, "  - {label}: {}", md_cell(rest));
                } else {
                    let _ = writeln!(s, "  - {label}: `{}`", md_cell(rest));
                }
            }
            if let Some(a) = &f.accepted {
                let _ = writeln!(s, "  - accepted: {}", md_cell(&a.reason));
            }
            if let Some(a) = &f.expired_acceptance {
                let _ = writeln!(s, "  - acceptance **expired**: {}", md_cell(&a.reason));
            }
            let _ = writeln!(s, "  - fingerprint: `{}`", f.fingerprint);
        }
        let _ = writeln!(s, "\n</details>\n");
    }
    for e in &o.stale_acceptances {
        let _ = writeln!(
            s,
            "- stale acceptance `{}` ({}) matches no finding\n",
            e.fingerprint,
            md_cell(&e.reason)
        );
    }
    if o.summary.failing > 0 && o.command == "check" {
        let _ = writeln!(
            s,
            "To accept a known break, add to `accord-accept.yaml`:\n\n```yaml\naccept:\n  - fingerprint: <fingerprint>\n    reason: \"why this break is fine\"\n    expires: YYYY-MM-DD\n```"
        );
    }
    s
}

/// An ignore as one line: the rule, the globs and the reason.
fn ignore_text(i: &crate::cli::lint::config::Ignore) -> String {
    let mut s = format!("accord.yaml ignores {} in {}", i.rule, i.paths.join(", "));
    if let Some(r) = &i.reason {
        let _ = write!(s, ": {r}");
    }
    s
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn junit(o: &Outcome) -> String {
    let failing = |r: &ContractResult| r.findings.iter().any(|f| f.fails(o.fail_on));
    let failures = o
        .contracts
        .iter()
        .filter(|r| r.error.is_none() && failing(r))
        .count();
    let errors = o.contracts.iter().filter(|r| r.error.is_some()).count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"accord {command}\" tests=\"{n}\" failures=\"{failures}\" errors=\"{errors}\">\n  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{failures}\" errors=\"{errors}\">",
        xml(&if o.against.is_empty() {
            format!("accord {}", o.command)
        } else {
            format!("accord {} against {}", o.command, o.against)
        }),
        command = o.command,
        n = o.contracts.len()
    );
    for r in &o.contracts {
        let _ = write!(
            s,
            "    <testcase classname=\"accord.contracts\" name=\"{}\" file=\"{}\">",
            xml(&r.name),
            xml(&r.file)
        );
        if let Some(e) = &r.error {
            let _ = write!(s, "\n      <error message=\"{}\" type=\"load\"/>", xml(e));
        } else if failing(r) {
            let bad: Vec<&Finding> = r.findings.iter().filter(|f| f.fails(o.fail_on)).collect();
            let mut body = String::new();
            for f in &r.findings {
                let _ = writeln!(
                    body,
                    "{} [{}] {} at {}:{}:{}: {} ({} → {}) fingerprint {}",
                    f.label(),
                    f.rule,
                    f.instance_path.as_deref().unwrap_or(""),
                    f.file,
                    f.line,
                    f.column,
                    f.message,
                    short(&f.old),
                    short(&f.new),
                    f.fingerprint
                );
                for line in witness_lines(f) {
                    let _ = writeln!(body, "  {line}");
                }
            }
            let _ = write!(
                s,
                "\n      <failure message=\"{}\" type=\"{}\">{}</failure>",
                xml(&format!(
                    "{} finding(s) at or above {}: {}",
                    bad.len(),
                    o.fail_on.as_str(),
                    bad.iter()
                        .map(|f| f.rule.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                xml(bad.first().map_or("", |f| f.rule.as_str())),
                xml(&body)
            );
        }
        let lines = consumer_lines(r);
        if !lines.is_empty() {
            let _ = write!(
                s,
                "\n      <system-out>{}</system-out>",
                xml(&format!("consumers:\n{}", lines.join("\n")))
            );
        }
        let _ = writeln!(s, "\n    </testcase>");
    }
    let _ = writeln!(s, "  </testsuite>\n</testsuites>");
    s
}
