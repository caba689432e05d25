//! Native TLS end to end: a throwaway CA and server certificate (rcgen), a real
//! `accord serve --tls-cert --tls-key`, and clients (every command that talks to a
//! registry, and the library) that trust the CA or do not. Then the clients' tokens:
//! sent as a bearer by every command, and never in their output.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// A CA, a server certificate it signed for `localhost` and `127.0.0.1`, and a key
/// that belongs to neither, as PEM files in a temporary directory.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "Accord test CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().expect("ca key");
        let ca_cert = ca.self_signed(&ca_key).expect("ca cert");

        let server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("server params");
        let server_key = KeyPair::generate().expect("server key");
        let server_cert = server
            .signed_by(&server_key, &ca_cert, &ca_key)
            .expect("server cert");
        let other_key = KeyPair::generate().expect("other key");

        let write = |name: &str, text: String| std::fs::write(dir.path().join(name), text);
        write("ca.pem", ca_cert.pem()).expect("write");
        write("server.pem", server_cert.pem()).expect("write");
        write("server.key", server_key.serialize_pem()).expect("write");
        write("other.key", other_key.serialize_pem()).expect("write");
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.path("ca.pem")).expect("read ca")
    }
}

/// A running `accord serve` (killed on drop) and its base URL.
struct Server {
    child: Child,
    url: String,
    _db: tempfile::TempDir,
}

impl Server {
    fn start(pki: &Pki, more: &[&str]) -> Server {
        let db = tempfile::tempdir().expect("tempdir");
        let database = format!("sqlite://{}", db.path().join("accord.db").display());
        let cert = pki.path("server.pem");
        let key = pki.path("server.key");
        let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(["serve", "--database", &database, "--listen", "127.0.0.1:0"])
            .arg("--tls-cert")
            .arg(&cert)
            .arg("--tls-key")
            .arg(&key)
            .args(more)
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
                std::thread::spawn(move || for _ in lines {});
                return Server {
                    child,
                    url,
                    _db: db,
                };
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("accord serve exited before listening");
    }

    fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .expect("port")
            .parse()
            .expect("port")
    }

    /// `GET /api/v1/config` with a client that trusts the test CA.
    fn config_status(&self, pki: &Pki) -> reqwest::StatusCode {
        trusting(pki)
            .get(format!("{}/api/v1/config", self.url))
            .send()
            .expect("an HTTPS request with the CA succeeds")
            .status()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking client that trusts only the test CA (no system roots).
fn trusting(pki: &Pki) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pki.ca_pem()).expect("ca pem"))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Runs `accord` with `args`.
fn accord(args: &[&str]) -> Output {
    accord_in(Path::new("."), args, &[])
}

/// Runs `accord` in `dir` with `args` and environment variables `env`.
fn accord_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("ACCORD_LOG", "warn")
        .env_remove("ACCORD_REGISTRY")
        .env_remove("ACCORD_DATABASE_URL")
        .env_remove("ACCORD_SOURCE_TOKEN")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("ACCORD_TLS_CERT")
        .env_remove("ACCORD_TLS_KEY")
        .envs(env.iter().copied())
        .output()
        .expect("accord runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_server_answers_https_to_a_client_that_trusts_its_ca() {
    let pki = Pki::new();
    let server = Server::start(&pki, &[]);
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    assert_eq!(server.config_status(&pki), reqwest::StatusCode::OK);
}

#[test]
fn a_client_without_the_ca_refuses_the_certificate() {
    let pki = Pki::new();
    let server = Server::start(&pki, &[]);
    let err = reqwest::blocking::Client::new()
        .get(format!("{}/api/v1/config", server.url))
        .send()
        .expect_err("an untrusted certificate is refused");
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    assert!(text.contains("certificate"), "{text}");
}

#[test]
fn plain_http_to_the_tls_port_is_answered_400_and_the_server_keeps_serving() {
    let pki = Pki::new();
    let server = Server::start(&pki, &[]);
    let mut socket = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    socket
        .write_all(b"GET /api/v1/config HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .expect("write");
    let mut answer = String::new();
    socket
        .read_to_string(&mut answer)
        .expect("the server answers and closes");
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(answer.contains("tls-required"), "{answer}");
    assert!(answer.contains("https://"), "{answer}");
    assert_eq!(server.config_status(&pki), reqwest::StatusCode::OK);
}

#[test]
fn a_stalled_handshake_is_closed_after_the_deadline() {
    let pki = Pki::new();
    let server = Server::start(&pki, &["--tls-handshake-timeout", "1s"]);
    // The first byte of a TLS record, then nothing: a handshake that never completes.
    let mut socket = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
    socket.write_all(&[0x16]).expect("write");
    socket
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    // Generous: the deadline is 1 s, the bound 60 s (a read that times out errs with
    // WouldBlock or TimedOut; a close is an end of stream or a reset).
    let mut rest = Vec::new();
    match socket.read_to_end(&mut rest) {
        Ok(_) => assert!(
            rest.is_empty() || rest[0] == 0x15,
            "only a TLS alert, at most"
        ),
        Err(e) => assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "the stalled handshake was not closed within 60 s"
        ),
    }
}

#[test]
fn a_hundred_stalled_handshakes_do_not_keep_a_real_client_out() {
    let pki = Pki::new();
    // The default handshake deadline (10 s) outlasts the test: only the connection
    // bound's eviction of idle connections lets the real client in.
    let server = Server::start(&pki, &["--max-connections", "20"]);
    let stalled: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
            s.write_all(&[0x16, 0x03, 0x01]).expect("write");
            s
        })
        .collect();
    for _ in 0..3 {
        assert_eq!(server.config_status(&pki), reqwest::StatusCode::OK);
    }
    drop(stalled);
}

fn start_fails(pki: &Pki, cert: &Path, key: &Path) -> String {
    let db = tempfile::tempdir().expect("tempdir");
    let database = format!("sqlite://{}", db.path().join("accord.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["serve", "--database", &database, "--listen", "127.0.0.1:0"])
        .arg("--tls-cert")
        .arg(cert)
        .arg("--tls-key")
        .arg(key)
        .env("ACCORD_LOG", "warn")
        .output()
        .expect("accord runs");
    let _ = pki;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        !db.path().join("accord.db").exists(),
        "nothing is created for a server that cannot start"
    );
    stderr(&out)
}

#[test]
fn a_missing_certificate_file_is_named_at_start_up() {
    let pki = Pki::new();
    let missing = pki.path("nope.pem");
    let err = start_fails(&pki, &missing, &pki.path("server.key"));
    assert!(err.contains("certificate"), "{err}");
    assert!(err.contains(&missing.display().to_string()), "{err}");
}

#[test]
fn a_missing_key_file_is_named_at_start_up() {
    let pki = Pki::new();
    let missing = pki.path("nope.key");
    let err = start_fails(&pki, &pki.path("server.pem"), &missing);
    assert!(err.contains("private key"), "{err}");
    assert!(err.contains(&missing.display().to_string()), "{err}");
}

#[test]
fn a_key_that_is_not_the_certificates_is_refused_at_start_up() {
    let pki = Pki::new();
    let err = start_fails(&pki, &pki.path("server.pem"), &pki.path("other.key"));
    assert!(err.contains("does not belong"), "{err}");
    assert!(
        err.contains(&pki.path("other.key").display().to_string()),
        "{err}"
    );
    assert!(
        err.contains(&pki.path("server.pem").display().to_string()),
        "{err}"
    );
}

#[test]
fn pem_without_a_certificate_is_refused_at_start_up() {
    let pki = Pki::new();
    // A key file given as the certificate: PEM, but no certificate in it.
    let err = start_fails(&pki, &pki.path("server.key"), &pki.path("server.key"));
    assert!(err.contains("holds no certificate"), "{err}");
    assert!(
        err.contains(&pki.path("server.key").display().to_string()),
        "{err}"
    );
    // And a certificate given as the key.
    let err = start_fails(&pki, &pki.path("server.pem"), &pki.path("server.pem"));
    assert!(err.contains("holds no private key"), "{err}");
}

#[test]
fn the_key_needs_the_certificate_and_the_other_way_round() {
    let pki = Pki::new();
    let key = pki.path("server.key");
    let out = accord(&["serve", "--tls-key", key.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--tls-cert"), "{}", stderr(&out));
}

// ---- the clients over HTTPS ----------------------------------------------------

const SCHEMA: &str = r#"{"type": "object", "properties": {"id": {"type": "string"}}}"#;

/// A directory with one contract file, `tls.orders`, in `contracts/`.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("contracts")).expect("mkdir");
    std::fs::write(
        dir.path().join("contracts/orders.contract.yaml"),
        "name: tls.orders\nversion: 1.0.0\nowner: team-tls\ndescription: Orders.\n\
         compatibility: BACKWARD\ntags: [test]\nschema: orders.json\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("contracts/orders.json"), SCHEMA).expect("write");
    dir
}

fn all_output(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn every_registry_command_works_over_https_with_the_private_ca() {
    let pki = Pki::new();
    let server = Server::start(&pki, &[]);
    let dir = project();
    let ca = pki.path("ca.pem");
    let ca = ca.to_str().expect("utf-8");
    let url = server.url.as_str();

    let out = accord_in(
        dir.path(),
        &["publish", "--registry", url, "--ca-cert", ca],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    // The environment variable does the same as the flag.
    let out = accord_in(
        dir.path(),
        &["check", "--registry", url],
        &[("ACCORD_CA_CERT", ca)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));

    std::fs::write(
        dir.path().join("records.ndjson"),
        "{\"id\": \"a\"}\n{\"id\": 1}\n",
    )
    .expect("write");
    let cache = dir.path().join("cache");
    let out = accord_in(
        dir.path(),
        &[
            "validate",
            "--registry",
            url,
            "--contract",
            "tls.orders",
            "--ca-cert",
            ca,
            "--cache-dir",
            cache.to_str().expect("utf-8"),
            "records.ndjson",
        ],
        &[],
    );
    // One valid record and one invalid: exit 1, having fetched the contract.
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));

    let out = accord_in(
        dir.path(),
        &["token", "list", "--registry", url, "--ca-cert", ca],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));

    let out = accord_in(
        dir.path(),
        &["export", "--registry", url, "--ca-cert", ca],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("tls.orders"));

    let copy = format!("sqlite://{}", dir.path().join("copy.db").display());
    let out = accord_in(
        dir.path(),
        &[
            "import",
            "--from-confluent",
            url,
            "--ca-cert",
            ca,
            "--database",
            &copy,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert!(
        all_output(&out).contains("tls.orders"),
        "{}",
        all_output(&out)
    );
}

#[test]
fn without_the_ca_every_registry_command_fails_with_a_certificate_error() {
    let pki = Pki::new();
    let server = Server::start(&pki, &[]);
    let dir = project();
    let url = server.url.as_str();
    let copy = format!("sqlite://{}", dir.path().join("copy.db").display());
    let cache = dir.path().join("cache");
    let commands: Vec<Vec<&str>> = vec![
        vec!["check", "--registry", url],
        vec!["publish", "--registry", url],
        vec![
            "validate",
            "--registry",
            url,
            "--contract",
            "tls.orders",
            "--cache-dir",
            cache.to_str().expect("utf-8"),
        ],
        vec!["export", "--registry", url],
        vec!["import", "--from-confluent", url, "--database", &copy],
        vec!["token", "list", "--registry", url],
        vec!["audit", "--registry", url],
    ];
    for args in commands {
        let out = accord_in(dir.path(), &args, &[]);
        let text = all_output(&out);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {text}");
        assert!(text.contains("certificate"), "{args:?}: {text}");
        assert!(
            text.contains("--ca-cert"),
            "{args:?} says what to do: {text}"
        );
    }
}

#[test]
fn a_ca_file_that_cannot_be_used_is_named() {
    let pki = Pki::new();
    let dir = project();
    let missing = pki.path("missing-ca.pem");
    let out = accord_in(
        dir.path(),
        &[
            "check",
            "--registry",
            "https://127.0.0.1:9",
            "--ca-cert",
            missing.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(3), "{}", all_output(&out));
    assert!(all_output(&out).contains(&missing.display().to_string()));
    // A key is PEM, but no certificate.
    let key = pki.path("server.key");
    let out = accord_in(
        dir.path(),
        &[
            "publish",
            "--registry",
            "https://127.0.0.1:9",
            "--ca-cert",
            key.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(3), "{}", all_output(&out));
    assert!(
        all_output(&out).contains("holds no certificate"),
        "{}",
        all_output(&out)
    );
    assert!(
        !all_output(&out).contains("PRIVATE KEY-----\n"),
        "the key is not quoted"
    );
}

#[test]
fn the_library_fetches_over_https_with_the_private_ca_and_refuses_without() {
    let pki = Pki::new();
    let server = Server::start(&pki, &[]);
    let registered = trusting(&pki)
        .post(format!("{}/api/v1/contracts/tls.orders/versions", server.url))
        .json(&serde_json::json!({"schema": serde_json::from_str::<serde_json::Value>(SCHEMA).expect("json")}))
        .send()
        .expect("register");
    assert!(registered.status().is_success(), "{}", registered.status());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");

    let client = accord::client::Client::builder(&server.url)
        .ca_cert(pki.path("ca.pem"))
        .without_disk_cache()
        .build()
        .expect("client");
    let contract = runtime
        .block_on(client.contract("tls.orders", "^1"))
        .expect("fetched over HTTPS");
    assert!(contract.validate(&serde_json::json!({"id": 1})).len() == 1);

    let untrusting = accord::client::Client::builder(&server.url)
        .without_disk_cache()
        .build()
        .expect("client");
    let err = runtime
        .block_on(untrusting.contract("tls.orders", "^1"))
        .expect_err("the certificate is not trusted");
    let text = err.to_string();
    assert!(text.contains("certificate"), "{text}");
    assert!(text.contains("ca_cert"), "says what to do: {text}");

    let err = accord::client::Client::builder(&server.url)
        .ca_cert(pki.path("server.key"))
        .build()
        .expect_err("a key is not a CA certificate");
    assert!(err.to_string().contains("holds no certificate"), "{err}");
}

// ---- tokens ------------------------------------------------------------------

const TOKEN: &str = "accord_0123456789abcdef_5ecret5ecret5ecret5ecret5ecret5ecret5ecret5ecret5e";

/// A plain-HTTP stand-in for a registry that refuses every request with 401 and
/// keeps the `Authorization` header of each.
struct Refuser {
    url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Option<String>>>>,
}

impl Refuser {
    fn start() -> Refuser {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = std::sync::Arc::clone(&seen);
        std::thread::spawn(move || {
            for socket in listener.incoming() {
                let Ok(mut socket) = socket else { continue };
                let mut reader = BufReader::new(socket.try_clone().expect("clone"));
                let mut authorization = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        if name.eq_ignore_ascii_case("authorization") {
                            authorization = Some(value.trim().to_owned());
                        }
                    }
                }
                kept.lock().expect("lock").push(authorization);
                let body = r#"{"error":{"code":"unauthorized","message":"a valid token is needed"},"error_code":40101,"message":"a valid token is needed"}"#;
                let _ = write!(
                    socket,
                    "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n\
                     www-authenticate: Bearer\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Refuser { url, seen }
    }

    fn take(&self) -> Vec<Option<String>> {
        std::mem::take(&mut *self.seen.lock().expect("lock"))
    }
}

#[test]
fn every_registry_command_sends_the_token_and_never_prints_it() {
    let refuser = Refuser::start();
    let dir = project();
    let url = refuser.url.as_str();
    let copy = format!("sqlite://{}", dir.path().join("copy.db").display());
    let cache = dir.path().join("cache");
    let cache = cache.to_str().expect("utf-8");
    type Run<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let runs: Vec<Run> = vec![
        (vec!["check", "--registry", url, "--token", TOKEN], vec![]),
        (
            vec!["check", "--registry", url],
            vec![("ACCORD_TOKEN", TOKEN)],
        ),
        (vec!["publish", "--registry", url, "--token", TOKEN], vec![]),
        (
            vec!["publish", "--registry", url, "--dry-run"],
            vec![("ACCORD_TOKEN", TOKEN)],
        ),
        (
            vec![
                "validate",
                "--registry",
                url,
                "--contract",
                "tls.orders",
                "--cache-dir",
                cache,
                "--token",
                TOKEN,
            ],
            vec![],
        ),
        (
            vec![
                "validate",
                "--registry",
                url,
                "--contract",
                "tls.orders",
                "--cache-dir",
                cache,
            ],
            vec![("ACCORD_TOKEN", TOKEN)],
        ),
        (
            vec!["token", "list", "--registry", url, "--token", TOKEN],
            vec![],
        ),
        (
            vec!["audit", "--registry", url],
            vec![("ACCORD_TOKEN", TOKEN)],
        ),
        (vec!["export", "--registry", url, "--token", TOKEN], vec![]),
        (
            vec!["export", "--registry", url],
            vec![("ACCORD_TOKEN", TOKEN)],
        ),
        (
            vec![
                "import",
                "--from-confluent",
                url,
                "--token",
                TOKEN,
                "--database",
                &copy,
            ],
            vec![],
        ),
        (
            vec!["import", "--from-confluent", url, "--database", &copy],
            vec![("ACCORD_SOURCE_TOKEN", TOKEN)],
        ),
    ];
    for (args, env) in runs {
        let out = accord_in(dir.path(), &args, &env);
        let text = all_output(&out);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {text}");
        assert!(
            text.contains("401"),
            "{args:?} says the registry refused: {text}"
        );
        assert!(!text.contains(TOKEN), "{args:?} printed the token: {text}");
        assert!(
            !text.contains("5ecret"),
            "{args:?} printed part of the token: {text}"
        );
        let seen = refuser.take();
        assert!(!seen.is_empty(), "{args:?} made no request");
        for authorization in seen {
            assert_eq!(
                authorization.as_deref(),
                Some(format!("Bearer {TOKEN}").as_str()),
                "{args:?}"
            );
        }
    }
}

#[test]
fn a_token_a_header_cannot_carry_is_refused_without_being_printed() {
    let dir = project();
    let token = "5ecret with\nnewline";
    let out = accord_in(
        dir.path(),
        &[
            "check",
            "--registry",
            "http://127.0.0.1:9",
            "--token",
            token,
        ],
        &[],
    );
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("--token"), "{text}");
    assert!(!text.contains("5ecret"), "{text}");
}

#[test]
fn the_library_never_shows_its_token() {
    let builder = accord::client::Client::builder("http://127.0.0.1:9").token(TOKEN);
    assert!(!format!("{builder:?}").contains("5ecret"));
    let client = builder.without_disk_cache().build().expect("client");
    assert!(!format!("{client:?}").contains("5ecret"));
    let err = accord::client::Client::builder("http://127.0.0.1:9")
        .token("5ecret\n")
        .build()
        .expect_err("a token with a line break");
    assert!(!err.to_string().contains("5ecret"), "{err}");
    assert!(!format!("{err:?}").contains("5ecret"), "{err:?}");
}
