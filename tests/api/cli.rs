//! The command line says what is missing, in Chinese (English with LANG=en_*), exits non-zero
//! and leaves no file behind when it fails; it reads the database it is given, on SQLite and
//! PostgreSQL alike.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::helpers::{SECRET, TestDb, spawn_app};

/// An empty folder of its own, removed afterwards.
pub struct Folder(pub PathBuf);

impl Folder {
    pub fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "rectrack_cli_{name}_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn files(&self) -> Vec<String> {
        std::fs::read_dir(&self.0)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the binary in `dir` with only the given settings (none inherited from the test's
/// environment).
pub fn rectrack(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rectrack"));
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const TOKEN: [&str; 7] = [
    "token", "--sub", "s", "--role", "manager", "--dept", "ZJTZB",
];

#[test]
fn a_token_without_a_database_setting_says_which_is_missing_and_leaves_no_file() {
    let folder = Folder::new("token");
    let output = rectrack(&folder.0, &[("RECTRACK_JWT_SECRET", SECRET)], &TOKEN);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_eq!(
        stderr(&output).trim_end(),
        "错误：核对令牌的部门代码需要数据库，但数据库文件 rectrack.db 不存在（未作任何修改，也没有新建文件）：\
         请用 RECTRACK_DATABASE_URL 环境变量或 --database-url 指明已有的数据库，\
         如 sqlite:///路径/rectrack.db 或 postgres://用户@主机/库名；新数据库请先运行 rectrack migrate up"
    );
    assert_eq!(folder.files(), Vec::<String>::new());

    // English with an English locale, or on request.
    for (env, args) in [
        (vec![("LANG", "en_US.UTF-8")], TOKEN.to_vec()),
        (vec![], [&["--lang", "en"][..], &TOKEN].concat()),
    ] {
        let mut env = env;
        env.push(("RECTRACK_JWT_SECRET", SECRET));
        let output = rectrack(&folder.0, &env, &args);
        assert_eq!(output.status.code(), Some(1));
        assert!(
            stderr(&output).starts_with(
                "error: checking the token's department code needs the database, but the database file rectrack.db does not exist"
            ),
            "{}",
            stderr(&output)
        );
        assert_eq!(folder.files(), Vec::<String>::new());
    }
}

/// Settings, arguments, and the message expected.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], &'a str);

#[test]
fn every_refusal_of_the_token_command_is_chinese_and_leaves_no_file() {
    let folder = Folder::new("refusals");
    let cases: [Case; 3] = [
        (
            &[],
            &TOKEN,
            "错误：没有配置签名密钥：请设置 RECTRACK_JWT_SECRET（或 RECTRACK_JWT_SECRET_FILE），或 RECTRACK_JWT_PRIVATE_KEY_FILE",
        ),
        (
            &[("RECTRACK_JWT_SECRET", SECRET)],
            &["token", "--sub", "s", "--role", "boss"],
            "错误：没有“boss”这一角色：可用 admin、inspector、manager、officer、viewer",
        ),
        (
            &[("RECTRACK_JWT_SECRET", SECRET)],
            &["token", "--sub", "s", "--role", "officer"],
            "错误：“责任科室”角色的令牌需要用 --dept 指明所属部门的代码",
        ),
    ];
    for (env, args, expected) in cases {
        let output = rectrack(&folder.0, env, args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert_eq!(stderr(&output).trim_end(), expected);
        assert_eq!(folder.files(), Vec::<String>::new(), "{args:?}");
    }
}

#[test]
fn commands_that_read_a_database_never_create_one() {
    let folder = Folder::new("readers");
    for args in [
        &["export", "--inspection", "1", "--output", "ledger.xlsx"][..],
        &["audit", "verify"],
        &["migrate", "status"],
    ] {
        let output = rectrack(&folder.0, &[], args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&output).contains("数据库文件 rectrack.db 不存在"),
            "{}",
            stderr(&output)
        );
        assert_eq!(folder.files(), Vec::<String>::new(), "{args:?}");
    }
    // An import of a file that is not there makes no database either.
    let output = rectrack(
        &folder.0,
        &[],
        &["import", "missing.csv", "--inspection", "1"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("错误：无法读取文件 missing.csv："),
        "{}",
        stderr(&output)
    );
    assert_eq!(folder.files(), Vec::<String>::new());
}

#[tokio::test]
async fn a_token_against_an_empty_database_says_to_migrate_and_against_the_real_one_is_issued() {
    let folder = Folder::new("databases");
    // An empty database (a fresh SQLite file or PostgreSQL database, per TEST_DATABASE_URL).
    let empty = TestDb::new().await;
    // Connecting makes the SQLite file: a database that exists but was never set up.
    empty.connect().await.close().await.unwrap();
    let env = [
        ("RECTRACK_JWT_SECRET", SECRET),
        ("RECTRACK_DATABASE_URL", empty.url.as_str()),
    ];
    let output = rectrack(&folder.0, &env, &TOKEN);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim_end(),
        "错误：核对令牌的部门代码需要已建好的数据库，但该数据库尚未建立或未升级到本版本：\
         请先运行 rectrack migrate up，或检查 RECTRACK_DATABASE_URL（--database-url）是否指向正确的数据库"
    );

    // The app's database, migrated and seeded: the token is issued; an unknown department
    // is named.
    let app = spawn_app().await;
    let env = [
        ("RECTRACK_JWT_SECRET", SECRET),
        ("RECTRACK_DATABASE_URL", app.test_db.url.as_str()),
    ];
    let output = rectrack(&folder.0, &env, &TOKEN);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let token = String::from_utf8(output.stdout).unwrap();
    assert_eq!(token.trim().split('.').count(), 3, "{token}");
    let output = rectrack(
        &folder.0,
        &env,
        &["token", "--sub", "s", "--role", "manager", "--dept", "NOPE"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim_end(),
        "错误：没有代码为“NOPE”的在用部门（--dept）"
    );
    assert_eq!(folder.files(), Vec::<String>::new());
}

#[test]
fn settings_that_do_not_fit_are_named_in_chinese_and_english_on_request() {
    let folder = Folder::new("settings");
    let env = [
        ("RECTRACK_JWT_SECRET", SECRET),
        ("RECTRACK_DATABASE_URL", "mysql://root@127.0.0.1/test"),
    ];
    let output = rectrack(
        &folder.0,
        &env,
        &["token", "--sub", "s", "--role", "viewer"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim_end(),
        "错误：RECTRACK_DATABASE_URL 应以 sqlite: 或 postgres: 开头"
    );
    let output = rectrack(
        &folder.0,
        &env,
        &["--lang", "en", "token", "--sub", "s", "--role", "viewer"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim_end(),
        "error: RECTRACK_DATABASE_URL must start with sqlite: or postgres:"
    );
    assert_eq!(folder.files(), Vec::<String>::new());
}

#[test]
fn a_command_line_clap_cannot_read_is_refused_in_chinese_with_exit_code_2() {
    let folder = Folder::new("usage");
    let env = [("RECTRACK_JWT_SECRET", SECRET)];
    let cases: [(&[&str], &str); 3] = [
        (
            &["tokn"],
            "错误：没有“tokn”这一命令：用 rectrack --help 查看可用的命令",
        ),
        (
            &["token", "--sub", "s", "--role", "viewer", "--bogus"],
            "错误：不认识的参数“--bogus”：用 rectrack --help 查看可用的参数",
        ),
        (
            &["migrate", "down", "--steps", "x"],
            "错误：参数 --steps <STEPS> 的值“x”无效",
        ),
    ];
    for (args, expected) in cases {
        let output = rectrack(&folder.0, &env, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&output).trim_end(), expected, "{args:?}");
    }
    let output = rectrack(&folder.0, &env, &["--lang", "en", "tokn"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output).trim_end(),
        "error: there is no command \"tokn\": rectrack --help lists the commands"
    );
    // Help is still help.
    let output = rectrack(&folder.0, &env, &["--help"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(folder.files(), Vec::<String>::new());
}
