//! Helpers shared by the `accord check` and `accord publish` end-to-end tests: running
//! the binary, a temporary git repository, and a real `accord serve` on a free port.

#![expect(dead_code, reason = "each test binary uses a different subset")]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// Runs `accord` in `dir` without colour.
pub fn accord(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("ACCORD_REGISTRY")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_OUTPUT")
        .output()
        .expect("accord runs")
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8 stdout")
}

/// Runs git in `dir`, asserting success.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes a file, creating its directory.
pub fn write(dir: &Path, path: &str, text: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// A temporary git repository with everything in `files` committed.
pub fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    git(dir.path(), &["init", "-q"]);
    for (path, text) in files {
        write(dir.path(), path, text);
    }
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "v1"]);
    dir
}

/// A running `accord serve` on a fresh SQLite database; killed on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    _db: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts the real binary on a fresh SQLite database and waits for the line that
    /// names its address.
    pub fn start() -> Server {
        let db = tempfile::tempdir().expect("tempdir");
        let database = format!("sqlite://{}", db.path().join("accord.db").display());
        let mut server = Server::start_on(&database);
        server._db = Some(db);
        server
    }

    /// Starts the real binary on the database at `database` (left as it is afterwards).
    pub fn start_on(database: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(["serve", "--database", database, "--listen", "127.0.0.1:0"])
            .env("ACCORD_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn accord serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        for line in lines.by_ref() {
            let line = line.expect("read stdout");
            if let Some(url) = line.strip_prefix("accord listening on ") {
                let url = url.to_owned();
                // Keep draining stdout so the child never blocks on a full pipe.
                std::thread::spawn(move || for _ in lines {});
                return Server {
                    child,
                    url,
                    _db: None,
                };
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("accord serve exited before listening");
    }

    /// `GET` a native API path as JSON.
    pub fn get(&self, path: &str) -> serde_json::Value {
        reqwest::blocking::get(format!("{}/api/v1{path}", self.url))
            .expect("request")
            .json()
            .expect("json")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `sh` code blocks of a Markdown document's section whose heading starts with
/// `heading` (a `## ` heading), in order: what the README and docs tests run.
pub fn sh_blocks(markdown: &str, heading: &str) -> Vec<String> {
    let start = markdown
        .find(&format!("\n## {heading}"))
        .unwrap_or_else(|| panic!("no section {heading:?}"));
    let rest = &markdown[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    let section = &rest[..end];
    let mut out = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "```sh" {
            let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            out.push(block.join("\n"));
        }
    }
    out
}

/// A contract file whose schema is in `schema_file`.
pub fn contract(name: &str, version: &str, schema_file: &str) -> String {
    format!(
        "name: {name}\nversion: {version}\nowner: team-{name}\ndescription: The {name} event.\ncompatibility: BACKWARD\ntags: [test]\nschema: {schema_file}\n"
    )
}
