//! The configuration file, `rectrack.toml`: the layer between the built-in defaults and the
//! environment. It is read (through figment) before the command line is parsed and becomes the
//! defaults of the settings it names, so clap keeps its order (flag, then environment variable,
//! then default) and every setting declared the usual way in `config.rs` — a field with
//! `#[arg(long, env = ...)]` — is a file key too, named after its field (`database_url`), with
//! no second list of settings to keep in step.
//!
//! A key may also be written inside a table named after its first word (`[jwt] secret = ...`
//! is `jwt_secret`), and any value may be read from a file (`jwt_secret = { file = "..." }`),
//! which is how secrets stay out of the configuration file.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::builder::ArgAction;
use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, Command};
use figment::Figment;
use figment::providers::{Format, Toml};
use figment::value::{Dict, Value};

use crate::i18n::{Arg as MessageArg, Language, message_in};

/// The file looked for in the working directory when none is named.
pub const DEFAULT_FILE: &str = "rectrack.toml";

/// Root arguments that are not settings of the running system.
const NOT_SETTINGS: [&str; 4] = ["help", "version", "lang", "config_file"];

/// The settings the file gave, as the strings clap parses.
#[derive(Debug, Default)]
pub struct Layer {
    path: Option<PathBuf>,
    values: BTreeMap<String, Vec<String>>,
    /// Keys whose value was read from a file reference: never printed.
    referenced: Vec<String>,
}

/// What is wrong with the configuration file; each names the file and, but for the first
/// two, the key.
#[derive(Debug)]
pub enum Problem {
    Missing {
        file: PathBuf,
    },
    Unreadable {
        file: PathBuf,
        detail: String,
    },
    UnknownKey {
        file: PathBuf,
        key: String,
    },
    /// Written both flat and in its table (`jwt_secret` and `[jwt] secret`).
    Twice {
        file: PathBuf,
        key: String,
    },
    WrongType {
        file: PathBuf,
        key: String,
        expected: &'static str,
    },
    /// The value is none when it is a secret, not to be repeated.
    /// The detail is the setting's parser's own words, or else the values it takes.
    BadValue {
        file: PathBuf,
        key: String,
        value: Option<String>,
        detail: String,
        choices: Option<String>,
    },
    Reference {
        file: PathBuf,
        key: String,
        target: PathBuf,
        detail: String,
    },
}

impl Problem {
    pub fn message(&self, language: Language) -> String {
        let say = |id: &str, args: &[(&str, MessageArg)]| message_in(language, id, args);
        let file = |f: &Path| MessageArg::from(f.display().to_string());
        match self {
            Problem::Missing { file: f } => say("config-file-missing", &[("file", file(f))]),
            Problem::Unreadable { file: f, detail } => say(
                "config-file-unreadable",
                &[("file", file(f)), ("detail", detail.as_str().into())],
            ),
            Problem::UnknownKey { file: f, key } => say(
                "config-file-unknown-key",
                &[("file", file(f)), ("key", key.as_str().into())],
            ),
            Problem::Twice { file: f, key } => say(
                "config-file-twice",
                &[("file", file(f)), ("key", key.as_str().into())],
            ),
            Problem::WrongType {
                file: f,
                key,
                expected,
            } => say(
                "config-file-wrong-type",
                &[
                    ("file", file(f)),
                    ("key", key.as_str().into()),
                    ("expected", say(expected, &[]).into()),
                ],
            ),
            Problem::BadValue {
                file: f,
                key,
                value,
                detail,
                choices,
            } => say(
                "config-file-bad-value",
                &[
                    ("file", file(f)),
                    ("key", key.as_str().into()),
                    (
                        "value",
                        match value {
                            Some(value) => without_password(value, &say("config-redacted", &[])),
                            None => say("config-redacted", &[]),
                        }
                        .into(),
                    ),
                    (
                        "detail",
                        match choices {
                            Some(valid) => {
                                say("config-file-choices", &[("valid", valid.as_str().into())])
                            }
                            None => detail.clone(),
                        }
                        .into(),
                    ),
                ],
            ),
            Problem::Reference {
                file: f,
                key,
                target,
                detail,
            } => say(
                "config-file-reference",
                &[
                    ("file", file(f)),
                    ("key", key.as_str().into()),
                    ("target", file(target)),
                    ("detail", detail.as_str().into()),
                ],
            ),
        }
    }
}

/// The file to read: `--config FILE`, else `RECTRACK_CONFIG`, else `rectrack.toml` in the
/// working directory if there is one. Named files must exist; the default one need not.
/// Read from the raw arguments: the file is needed before clap parses them.
pub fn locate(args: &[OsString]) -> Option<PathBuf> {
    let flag = args.iter().enumerate().find_map(|(i, arg)| {
        let text = arg.to_str()?;
        if text == "--config" {
            args.get(i + 1).map(PathBuf::from)
        } else {
            text.strip_prefix("--config=").map(PathBuf::from)
        }
    });
    if let Some(path) = flag.or_else(|| std::env::var_os("RECTRACK_CONFIG").map(PathBuf::from)) {
        return Some(path);
    }
    let default = PathBuf::from(DEFAULT_FILE);
    default.exists().then_some(default)
}

/// The arguments of `command` that are settings, in declaration order.
pub fn settings(command: &Command) -> impl Iterator<Item = &Arg> {
    command
        .get_arguments()
        .filter(|arg| !NOT_SETTINGS.contains(&arg.get_id().as_str()) && arg.get_long().is_some())
}

/// What a setting's value is, as far as the file's types go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Number,
    Switch,
    /// Parsed from text by the setting's own parser (durations, addresses, names...).
    Other,
}

fn kind(arg: &Arg) -> Kind {
    use std::any::TypeId;
    let id = arg.get_value_parser().type_id();
    if matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse)
        || id == TypeId::of::<bool>()
    {
        Kind::Switch
    } else if id == TypeId::of::<String>()
        || id == TypeId::of::<PathBuf>()
        || id == TypeId::of::<crate::config::Secret>()
    {
        Kind::Text
    } else if [
        TypeId::of::<u8>(),
        TypeId::of::<u16>(),
        TypeId::of::<u32>(),
        TypeId::of::<u64>(),
        TypeId::of::<usize>(),
        TypeId::of::<i8>(),
        TypeId::of::<i16>(),
        TypeId::of::<i32>(),
        TypeId::of::<i64>(),
        TypeId::of::<f32>(),
        TypeId::of::<f64>(),
    ]
    .iter()
    .any(|t| id == *t)
    {
        Kind::Number
    } else {
        Kind::Other
    }
}

/// A setting that takes several values (a list in the file).
fn is_list(arg: &Arg) -> bool {
    arg.get_value_delimiter().is_some() || matches!(arg.get_action(), ArgAction::Append)
}

/// A setting whose value is a secret: of type `Secret`, or whose environment value clap hides.
pub fn is_secret(arg: &Arg) -> bool {
    arg.get_value_parser().type_id() == std::any::TypeId::of::<crate::config::Secret>()
        || arg.is_hide_env_values_set()
}

/// Reads and checks the file against the settings of `command`.
pub fn load(command: &Command, path: &Path) -> Result<Layer, Problem> {
    if !path.exists() {
        // Only a named file can be missing: the default one is read only when it is there.
        return Err(Problem::Missing {
            file: path.to_owned(),
        });
    }
    let dict: Dict = Figment::from(Toml::file_exact(path))
        .extract()
        .map_err(|err| Problem::Unreadable {
            file: path.to_owned(),
            detail: err.to_string(),
        })?;
    let known: BTreeMap<&str, &Arg> = settings(command)
        .map(|arg| (arg.get_id().as_str(), arg))
        .collect();
    let mut layer = Layer {
        path: Some(path.to_owned()),
        ..Layer::default()
    };
    walk(&mut layer, &known, path, "", &dict)?;
    Ok(layer)
}

fn walk(
    layer: &mut Layer,
    known: &BTreeMap<&str, &Arg>,
    file: &Path,
    prefix: &str,
    dict: &Dict,
) -> Result<(), Problem> {
    for (name, value) in dict {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}_{name}")
        };
        match known.get(key.as_str()) {
            Some(_) if layer.values.contains_key(&key) => {
                return Err(Problem::Twice {
                    file: file.to_owned(),
                    key,
                });
            }
            Some(arg) => {
                let (raws, referenced) = strings(arg, file, &key, value)?;
                check(arg, file, &key, &raws, referenced)?;
                if referenced {
                    layer.referenced.push(key.clone());
                }
                layer.values.insert(key, raws);
            }
            // A table whose name is not a setting groups settings under its name.
            None => match value {
                Value::Dict(_, inner)
                    if known.keys().any(|k| k.starts_with(&format!("{key}_"))) =>
                {
                    walk(layer, known, file, &key, inner)?
                }
                _ => {
                    return Err(Problem::UnknownKey {
                        file: file.to_owned(),
                        key,
                    });
                }
            },
        }
    }
    Ok(())
}

/// The file's value as the strings clap parses, and whether it came from a file reference.
fn strings(
    arg: &Arg,
    file: &Path,
    key: &str,
    value: &Value,
) -> Result<(Vec<String>, bool), Problem> {
    let wrong = |expected: &'static str| Problem::WrongType {
        file: file.to_owned(),
        key: key.to_owned(),
        expected,
    };
    let kind = kind(arg);
    let expected = match (is_list(arg), kind) {
        (true, _) => "config-type-list",
        (false, Kind::Number) => "config-type-number",
        (false, Kind::Switch) => "config-type-switch",
        (false, _) => "config-type-text",
    };
    match value {
        Value::Dict(_, reference) => {
            let Some(Value::String(_, target)) =
                reference.get("file").filter(|_| reference.len() == 1)
            else {
                return Err(wrong(expected));
            };
            let target = PathBuf::from(target);
            let text = std::fs::read_to_string(&target).map_err(|err| Problem::Reference {
                file: file.to_owned(),
                key: key.to_owned(),
                target: target.clone(),
                detail: err.to_string(),
            })?;
            // Secret files usually end with a line break that is not part of the secret.
            Ok((vec![text.trim_end_matches(['\n', '\r']).to_owned()], true))
        }
        Value::Array(_, items) if is_list(arg) => items
            .iter()
            .map(|item| scalar(kind, item).ok_or_else(|| wrong(expected)))
            .collect::<Result<Vec<_>, _>>()
            .map(|raws| (raws, false)),
        Value::Array(..) => Err(wrong(expected)),
        scalar_value => scalar(kind, scalar_value)
            .map(|raw| (vec![raw], false))
            .ok_or_else(|| wrong(expected)),
    }
}

/// One value as text, if its type fits the setting.
fn scalar(kind: Kind, value: &Value) -> Option<String> {
    match (kind, value) {
        (Kind::Switch, Value::Bool(_, b)) => Some(b.to_string()),
        (Kind::Number, Value::Num(_, n)) => n
            .to_i128()
            .map(|i| i.to_string())
            .or_else(|| n.to_u128().map(|u| u.to_string()))
            .or_else(|| n.to_f64().map(|f| f.to_string())),
        (Kind::Text | Kind::Other, Value::String(_, s)) => Some(s.clone()),
        (Kind::Text | Kind::Other, Value::Char(_, c)) => Some(c.to_string()),
        (Kind::Other, Value::Num(_, n)) => n
            .to_i128()
            .map(|i| i.to_string())
            .or_else(|| n.to_f64().map(|f| f.to_string())),
        (Kind::Other, Value::Bool(_, b)) => Some(b.to_string()),
        _ => None,
    }
}

/// Runs the setting's own parser over the file's values, so a bad value is refused naming the
/// file and the key rather than as if it were a flag.
fn check(
    arg: &Arg,
    file: &Path,
    key: &str,
    raws: &[String],
    referenced: bool,
) -> Result<(), Problem> {
    if matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse) {
        return Ok(());
    }
    let long = arg.get_long().unwrap_or(key);
    let alone = arg
        .clone()
        .global(false)
        .required(false)
        .env(None::<&'static str>)
        .default_values(Vec::<String>::new());
    let mut probe = Command::new("rectrack").no_binary_name(true).arg(alone);
    for raw in raws {
        let Err(err) = probe.try_get_matches_from_mut([format!("--{long}={raw}")]) else {
            continue;
        };
        use clap::error::{ContextKind, ContextValue};
        use std::error::Error as _;
        let choices = match err.get(ContextKind::ValidValue) {
            Some(ContextValue::Strings(valid)) => Some(valid.join(", ")),
            _ => None,
        };
        let detail = err
            .source()
            .map(|source| source.to_string())
            .unwrap_or_else(|| "none".to_owned());
        return Err(Problem::BadValue {
            file: file.to_owned(),
            key: key.to_owned(),
            value: (!referenced && !is_secret(arg)).then(|| raw.clone()),
            detail,
            choices,
        });
    }
    Ok(())
}

impl Layer {
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// `command` with the file's values as its defaults.
    pub fn apply(&self, mut command: Command) -> Command {
        for (key, raws) in &self.values {
            let raws = raws.clone();
            command = command.mut_arg(key, move |arg| arg.default_values(raws));
        }
        command
    }

    /// Each setting's name as the operator gave it, for messages about settings that do not
    /// fit together: the flag, the environment variable, the key in the file (and which
    /// file), or the default.
    pub fn names(
        &self,
        command: &Command,
        matches: &ArgMatches,
        language: Language,
    ) -> BTreeMap<String, String> {
        let file = self
            .path
            .as_ref()
            .map(|path| path.display().to_string())
            .unwrap_or_default();
        settings(command)
            .map(|arg| {
                let id = arg.get_id().as_str();
                let name = match matches.value_source(id) {
                    Some(ValueSource::CommandLine) => {
                        format!("--{}", arg.get_long().unwrap_or(id))
                    }
                    Some(ValueSource::EnvVariable) => arg
                        .get_env()
                        .map_or_else(|| id.to_owned(), |e| e.to_string_lossy().into_owned()),
                    Some(_) if self.values.contains_key(id) => message_in(
                        language,
                        "config-name-file",
                        &[("file", file.as_str().into()), ("key", id.into())],
                    ),
                    _ => message_in(language, "config-name-default", &[("key", id.into())]),
                };
                (id.to_owned(), name)
            })
            .collect()
    }

    /// The effective configuration, one `key = value  # source` line per setting, secrets
    /// redacted.
    pub fn report(&self, command: &Command, matches: &ArgMatches, language: Language) -> String {
        let say = |id: &str, args: &[(&str, MessageArg)]| message_in(language, id, args);
        let mut out = String::new();
        let file = match &self.path {
            Some(path) => path.display().to_string(),
            None => say("config-check-no-file", &[]),
        };
        out.push_str(&format!(
            "# {}\n",
            say("config-check-heading", &[("file", file.as_str().into())])
        ));
        for arg in settings(command) {
            let id = arg.get_id().as_str();
            let raws: Vec<String> = matches
                .get_raw(id)
                .map(|values| values.map(|v| v.to_string_lossy().into_owned()).collect())
                .unwrap_or_default();
            let secret = is_secret(arg) || self.referenced.iter().any(|k| k == id);
            let shown: Vec<String> = raws
                .iter()
                .map(|raw| {
                    if secret {
                        quoted(Kind::Text, &say("config-redacted", &[]))
                    } else {
                        quoted(
                            kind(arg),
                            &without_password(raw, &say("config-redacted", &[])),
                        )
                    }
                })
                .collect();
            let value = if is_list(arg) {
                format!("[{}]", shown.join(", "))
            } else {
                shown.first().cloned().unwrap_or_default()
            };
            let source = match matches.value_source(id) {
                None => say("config-source-unset", &[]),
                Some(ValueSource::CommandLine) => say(
                    "config-source-flag",
                    &[("flag", format!("--{}", arg.get_long().unwrap_or(id)).into())],
                ),
                Some(ValueSource::EnvVariable) => say(
                    "config-source-env",
                    &[(
                        "name",
                        arg.get_env()
                            .map(|e| e.to_string_lossy().into_owned())
                            .unwrap_or_default()
                            .into(),
                    )],
                ),
                Some(_) if self.values.contains_key(id) => {
                    say("config-source-file", &[("file", file.as_str().into())])
                }
                Some(_) => say("config-source-default", &[]),
            };
            if value.is_empty() {
                out.push_str(&format!("# {id} =  # {source}\n"));
            } else {
                out.push_str(&format!("{id} = {value}  # {source}\n"));
            }
        }
        out
    }
}

/// A value as TOML writes it: numbers and switches bare, the rest quoted.
fn quoted(kind: Kind, raw: &str) -> String {
    match kind {
        Kind::Number | Kind::Switch => raw.to_owned(),
        _ => serde_json::to_string(raw).unwrap_or_default(),
    }
}

/// A URL's password replaced by `marker` (`postgres://user:[redacted]@host/db`): database and
/// receiver URLs carry them.
fn without_password(raw: &str, marker: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split_once(':').map(|(u, _)| u).unwrap_or(userinfo);
            format!("{scheme}://{user}:{marker}@{host}{tail}")
        }
        _ => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_redacted_and_the_rest_kept() {
        assert_eq!(
            without_password(
                "postgres://rt:s3cr:et@db.local:5432/rectrack?sslmode=require",
                "[redacted]"
            ),
            "postgres://rt:[redacted]@db.local:5432/rectrack?sslmode=require"
        );
        assert_eq!(
            without_password("postgres://rt@db.local/rectrack", "[redacted]"),
            "postgres://rt@db.local/rectrack"
        );
        assert_eq!(
            without_password("sqlite://rectrack.db?mode=rwc", "[redacted]"),
            "sqlite://rectrack.db?mode=rwc"
        );
    }
}
