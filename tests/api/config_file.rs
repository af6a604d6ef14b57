//! The configuration file, through the real binary: defaults < file < environment < flags,
//! each level seen in `config check` and in a running server; a file with an unknown key, a
//! wrong type or a bad value refused naming the file and the key; secrets read from files and
//! never printed; JSON logs whose every line of a request carries its request id.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cli::{Folder, rectrack, stderr};
use crate::helpers::TestDb;

fn write(folder: &Folder, name: &str, text: &str) -> String {
    let path = folder.0.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The line `config check` prints for `key`.
fn line<'a>(report: &'a str, key: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.starts_with(&format!("{key} = ")) || l.starts_with(&format!("# {key} = ")))
        .unwrap_or_else(|| panic!("no line for {key} in:\n{report}"))
}

#[test]
fn each_level_overrides_the_one_below_in_config_check() {
    let folder = Folder::new("config_levels");
    write(
        &folder,
        "rectrack.toml",
        "graphql_max_depth = 9\n\
         graphql_max_tokens = 4000\n\
         graphql_max_batch = 7\n\
         cors_origins = [\"https://a.example.gov\", \"https://b.example.gov\"]\n\
         [import]\n\
         max_rows = 500\n",
    );
    let env = [
        ("RECTRACK_GRAPHQL_MAX_TOKENS", "3000"),
        ("RECTRACK_GRAPHQL_MAX_BATCH", "6"),
    ];
    let output = rectrack(
        &folder.0,
        &env,
        &["config", "check", "--graphql-max-batch", "5"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = stdout(&output);
    assert_eq!(
        report.lines().next().unwrap(),
        "# rectrack 的有效配置（配置文件：rectrack.toml）；每行为“键 = 值  # 来源”，密钥已隐藏"
    );
    assert_eq!(
        line(&report, "graphql_max_aliases"),
        "graphql_max_aliases = 100  # 默认值"
    );
    assert_eq!(
        line(&report, "graphql_max_depth"),
        "graphql_max_depth = 9  # 配置文件 rectrack.toml"
    );
    assert_eq!(
        line(&report, "import_max_rows"),
        "import_max_rows = 500  # 配置文件 rectrack.toml"
    );
    assert_eq!(
        line(&report, "cors_origins"),
        "cors_origins = [\"https://a.example.gov\", \"https://b.example.gov\"]  # 配置文件 rectrack.toml"
    );
    assert_eq!(
        line(&report, "graphql_max_tokens"),
        "graphql_max_tokens = 3000  # 环境变量 RECTRACK_GRAPHQL_MAX_TOKENS"
    );
    assert_eq!(
        line(&report, "graphql_max_batch"),
        "graphql_max_batch = 5  # 命令行参数 --graphql-max-batch"
    );
    assert_eq!(line(&report, "contact_name"), "# contact_name =  # 未设置");
    // Settings are listed as declared, whichever level gave them.
    let keys: Vec<&str> = report
        .lines()
        .skip(1)
        .map(|l| l.trim_start_matches("# ").split(' ').next().unwrap())
        .collect();
    assert_eq!(&keys[..3], ["database_url", "bind", "environment"]);

    // A file named by RECTRACK_CONFIG instead of the working directory's, and --config over
    // both; in English on request.
    let other = write(&folder, "other.toml", "graphql_max_depth = 8\n");
    let third = write(&folder, "third.toml", "graphql_max_depth = 7\n");
    let output = rectrack(
        &folder.0,
        &[("RECTRACK_CONFIG", other.as_str()), ("LANG", "en_US.UTF-8")],
        &["config", "check"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        line(&stdout(&output), "graphql_max_depth"),
        format!("graphql_max_depth = 8  # configuration file {other}")
    );
    let output = rectrack(
        &folder.0,
        &[("RECTRACK_CONFIG", other.as_str())],
        &["--config", &third, "config", "check"],
    );
    assert_eq!(
        line(&stdout(&output), "graphql_max_depth"),
        format!("graphql_max_depth = 7  # 配置文件 {third}")
    );

    // What only the whole configuration can tell is checked too: exit code 1, nothing printed.
    write(&folder, "rectrack.toml", "warning_yellow_days = 30\n");
    let output = rectrack(&folder.0, &[], &["config", "check"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output).trim_end(),
        "错误：配置文件 rectrack.toml 中的 warning_yellow_days 不能大于 warning_green_days 的默认值"
    );
    // Each setting is named where its value came from: a flag, a variable, the file's key.
    let output = rectrack(
        &folder.0,
        &[("RECTRACK_WARNING_YELLOW_DAYS", "40")],
        &["--warning-green-days", "20", "config", "check"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim_end(),
        "错误：RECTRACK_WARNING_YELLOW_DAYS 不能大于 --warning-green-days"
    );
    let output = rectrack(
        &folder.0,
        &[("LANG", "en_US.UTF-8")],
        &["--warning-green-days", "20", "config", "check"],
    );
    assert_eq!(
        stderr(&output).trim_end(),
        "error: warning_yellow_days in the configuration file rectrack.toml may not exceed \
         --warning-green-days"
    );
}

#[test]
fn a_file_that_does_not_fit_is_refused_naming_the_file_and_the_key() {
    let folder = Folder::new("config_refused");
    let cases = [
        (
            "graphql_max_deep = 9\n",
            "错误：配置文件 rectrack.toml 中的“graphql_max_deep”不是 rectrack 的设置项：\
             可用的键见 rectrack config check 的输出",
        ),
        (
            "[jwt]\nsecrets = \"x\"\n",
            "错误：配置文件 rectrack.toml 中的“jwt_secrets”不是 rectrack 的设置项：\
             可用的键见 rectrack config check 的输出",
        ),
        (
            "graphql_max_depth = 9\n[graphql]\nmax_depth = 8\n",
            "错误：配置文件 rectrack.toml 中 graphql_max_depth 写了两次（一次在表外，一次在表内）：\
             请只保留一处",
        ),
        (
            "db_max_connections = \"many\"\n",
            "错误：配置文件 rectrack.toml 中 db_max_connections 的类型不对：应为数字",
        ),
        (
            "demo = \"yes\"\n",
            "错误：配置文件 rectrack.toml 中 demo 的类型不对：应为布尔值（true 或 false）",
        ),
        (
            "database_url = 5\n",
            "错误：配置文件 rectrack.toml 中 database_url 的类型不对：应为字符串（用引号括起）",
        ),
        (
            "cors_origins = [1]\n",
            "错误：配置文件 rectrack.toml 中 cors_origins 的类型不对：应为列表（如 [\"a\", \"b\"]）",
        ),
        (
            "environment = \"staging\"\n",
            "错误：配置文件 rectrack.toml 中 environment 的值“staging”无效：\
             可用的值为 development, production",
        ),
        (
            "request_timeout = \"soon\"\n",
            "错误：配置文件 rectrack.toml 中 request_timeout 的值“soon”无效：\
             expected number at 0 (examples: 90s, 15m, 12h, 30d)",
        ),
        (
            "jwt_secret = { file = \"/nonexistent/rectrack-secret\" }\n",
            "错误：配置文件 rectrack.toml 中 jwt_secret 引用的文件 /nonexistent/rectrack-secret \
             无法读取：No such file or directory (os error 2)",
        ),
    ];
    for (text, expected) in cases {
        write(&folder, "rectrack.toml", text);
        // Refused at start-up, before anything runs: no database file is made.
        let output = rectrack(&folder.0, &[], &["serve"]);
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert_eq!(stderr(&output).trim_end(), expected, "{text}");
        assert_eq!(folder.files(), ["rectrack.toml"], "{text}");
    }

    // In English on request; a named file that is not there.
    write(&folder, "rectrack.toml", "graphql_max_deep = 9\n");
    let output = rectrack(&folder.0, &[("LANG", "en_US.UTF-8")], &["config", "check"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output).trim_end(),
        "error: \"graphql_max_deep\" in the configuration file rectrack.toml is not a rectrack \
         setting: rectrack config check lists the keys"
    );
    let output = rectrack(
        &folder.0,
        &[],
        &["--config", "absent.toml", "config", "check"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output).trim_end(),
        "错误：找不到配置文件 absent.toml（由 --config 或 RECTRACK_CONFIG 指定）"
    );
}

#[test]
fn a_secret_read_from_a_file_signs_tokens_and_is_never_printed() {
    use hmac::{Hmac, Mac};
    let folder = Folder::new("config_secret");
    let secret = "file-held-secret-0123456789-abcdefghijklmn";
    let secret_file = write(&folder, "jwt-secret", &format!("{secret}\n"));
    write(
        &folder,
        "rectrack.toml",
        &format!(
            "database_url = \"postgres://rectrack:db-password@db.internal/rectrack\"\n\
             [jwt]\nsecret = {{ file = \"{secret_file}\" }}\n"
        ),
    );
    let output = rectrack(&folder.0, &[], &["config", "check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = stdout(&output);
    assert_eq!(
        line(&report, "jwt_secret"),
        "jwt_secret = \"[已隐藏]\"  # 配置文件 rectrack.toml"
    );
    assert_eq!(
        line(&report, "database_url"),
        "database_url = \"postgres://rectrack:[已隐藏]@db.internal/rectrack\"  # 配置文件 rectrack.toml"
    );
    assert!(!report.contains(secret) && !report.contains("db-password"));

    // The token the command mints is signed with the file's content (its line break aside).
    write(
        &folder,
        "rectrack.toml",
        &format!("[jwt]\nsecret = {{ file = \"{secret_file}\" }}\n"),
    );
    let output = rectrack(&folder.0, &[], &["token", "--sub", "s", "--role", "admin"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let token = stdout(&output).trim().to_owned();
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    assert_eq!(
        signature,
        crate::jwt::b64url(&mac.finalize().into_bytes()),
        "signed with the secret in the file"
    );
}

/// A server started from `dir` with only `env` and `args`: its child, its address, and its
/// standard error gathered as it comes (a pipe left unread would stall it).
fn serve(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> (Child, String, ErrLines) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rectrack"));
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("the binary starts");
    let mut err = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("the server prints its address")
            .expect("stdout is text");
        if let Some(rest) = line.strip_prefix("rectrack listening on ") {
            break rest.trim().to_owned();
        }
    };
    // The development tokens follow on stdout: read them so the server never blocks.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    (child, address, ErrLines(errors))
}

struct ErrLines(std::thread::JoinHandle<String>);

/// Stops the server with SIGTERM and returns what it wrote on standard error.
fn stop(mut child: Child, errors: ErrLines) -> String {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let started = Instant::now();
    while child.try_wait().expect("wait works").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the server did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    errors.0.join().unwrap()
}

#[tokio::test]
async fn a_running_server_takes_each_setting_from_the_highest_level_that_gives_it() {
    let folder = Folder::new("config_server");
    let db = TestDb::new().await;
    write(
        &folder,
        "rectrack.toml",
        "bind = \"127.0.0.1:0\"\n\
         demo = false\n\
         contact_name = \"文件里的巡察办\"\n\
         contact_email = \"file@unit.example.gov\"\n\
         contact_url = \"https://file.example.gov\"\n",
    );
    let env = [
        ("RECTRACK_DATABASE_URL", db.url.as_str()),
        ("RECTRACK_CONTACT_EMAIL", "env@unit.example.gov"),
        ("RECTRACK_CONTACT_URL", "https://env.example.gov"),
        ("RUST_LOG", "warn"),
    ];
    let (child, address, errors) = serve(
        &folder.0,
        &env,
        &["--contact-url", "https://flag.example.gov", "serve"],
    );
    let document: serde_json::Value = crate::helpers::http_client()
        .get(format!("{address}/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let errors = stop(child, errors);
    assert_eq!(
        document["info"]["contact"],
        serde_json::json!({
            "name": "文件里的巡察办",
            "email": "env@unit.example.gov",
            "url": "https://flag.example.gov",
        }),
        "{errors}"
    );
}

#[tokio::test]
async fn json_logs_carry_the_request_id_on_every_line_of_a_request() {
    let folder = Folder::new("config_json_logs");
    let db = TestDb::new().await;
    write(
        &folder,
        "rectrack.toml",
        "bind = \"127.0.0.1:0\"\ndemo = false\nlog_format = \"json\"\n",
    );
    let env = [
        ("RECTRACK_DATABASE_URL", db.url.as_str()),
        ("RUST_LOG", "rectrack=info,tower_http=debug"),
    ];
    let (child, address, errors) = serve(&folder.0, &env, &[]);
    let response = crate::helpers::http_client()
        .get(format!("{address}/healthz"))
        .header("x-request-id", "cfg-request-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], "cfg-request-42");
    let errors = stop(child, errors);

    // Every line is one JSON object; the request's lines (tower-http's, in its span) name it.
    let lines: Vec<serde_json::Value> = errors
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let of_request: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| {
            l["target"]
                .as_str()
                .unwrap_or("")
                .starts_with("tower_http::trace")
        })
        .collect();
    assert!(of_request.len() >= 2, "{errors}");
    for line in of_request {
        assert_eq!(
            line["spans"][0],
            serde_json::json!({
                "name": "request",
                "method": "GET",
                "path": "/healthz",
                "request_id": "cfg-request-42",
            }),
            "{line}"
        );
    }
    let messages: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["fields"]["message"].as_str())
        .collect();
    assert!(
        messages.contains(&"finished processing request"),
        "{errors}"
    );
}

#[test]
fn the_example_configuration_in_the_readme_is_valid() {
    let folder = Folder::new("config_readme");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let example = readme
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README.md shows a rectrack.toml");
    let secret = write(
        &folder,
        "jwt-secret",
        "example-secret-0123456789-abcdefghijklmn\n",
    );
    write(
        &folder,
        "rectrack.toml",
        &example.replace("/run/secrets/rectrack-jwt", &secret),
    );
    let output = rectrack(&folder.0, &[], &["config", "check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        line(&stdout(&output), "jwt_secret"),
        "jwt_secret = \"[已隐藏]\"  # 配置文件 rectrack.toml"
    );
}
