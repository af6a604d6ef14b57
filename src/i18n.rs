//! Messages people read, in Simplified Chinese by default and in English when the request's
//! `Accept-Language` prefers it, through Project Fluent (`locales/*.ftl`). Codes
//! (`extensions.code`, `error.code`) never change with the language.
//!
//! The language is the request's: `http` runs each request inside [`scope`], and [`t!`]
//! formats a message in it wherever the message is made (a domain function deep inside a
//! command included). Outside a request (the command line, seeding) messages are Chinese.
//! Texts that are kept (ledger entries, reports, bulletins) are always written in Chinese:
//! they are documents of the unit, whoever made them.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// The languages messages come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    Chinese,
    English,
}

tokio::task_local! {
    static LANGUAGE: Language;
}

/// Runs `future` with messages in `language`.
pub async fn scope<F: std::future::Future>(language: Language, future: F) -> F::Output {
    LANGUAGE.scope(language, future).await
}

/// The language of the request being served (Chinese outside any).
pub fn current() -> Language {
    LANGUAGE.try_with(|l| *l).unwrap_or_default()
}

/// The language an `Accept-Language` header prefers: English when an English tag weighs more
/// than any Chinese one, Chinese otherwise (and without the header).
pub fn negotiate(header: Option<&str>) -> Language {
    let Some(header) = header else {
        return Language::Chinese;
    };
    let mut english = 0.0_f32;
    let mut chinese = 0.0_f32;
    for item in header.split(',') {
        let mut parts = item.trim().split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if tag == "en" || tag.starts_with("en-") {
            english = english.max(q);
        } else if tag == "zh" || tag.starts_with("zh-") || tag == "*" {
            chinese = chinese.max(q);
        }
    }
    if english > chinese {
        Language::English
    } else {
        Language::Chinese
    }
}

const ZH: &str = include_str!("../locales/zh-CN.ftl");
const EN: &str = include_str!("../locales/en.ftl");

fn bundle(locale: &str, source: &'static str) -> FluentBundle<FluentResource> {
    let id: LanguageIdentifier = locale.parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around arguments: the texts go into JSON and logs.
    bundle.set_use_isolating(false);
    let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(r, _)| r);
    let _ = bundle.add_resource(resource);
    bundle
}

fn bundles() -> &'static (FluentBundle<FluentResource>, FluentBundle<FluentResource>) {
    static BUNDLES: OnceLock<(FluentBundle<FluentResource>, FluentBundle<FluentResource>)> =
        OnceLock::new();
    BUNDLES.get_or_init(|| (bundle("zh-CN", ZH), bundle("en", EN)))
}

/// An argument of a message.
pub enum Arg {
    Text(String),
    Number(f64),
}

macro_rules! text_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Self {
                Arg::Text(v.to_string())
            }
        }
    )*};
}
text_arg!(
    &str,
    String,
    &String,
    chrono::NaiveDate,
    entity::enums::FindingStatus,
    entity::enums::MeasureStatus,
    entity::enums::ReportStatus
);

/// A role in a message is its name in the domain's terms (责任科室), never its code.
impl From<entity::enums::Role> for Arg {
    fn from(role: entity::enums::Role) -> Self {
        Arg::Text(role_label(role))
    }
}

/// A role's name in the current language (整改牵头部门).
pub fn role_label(role: entity::enums::Role) -> String {
    message(&format!("role-{}", role.as_str()), &[])
}

macro_rules! number_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Self {
                Arg::Number(v as f64)
            }
        }
    )*};
}
number_arg!(i32, i64, u32, u64, usize);

/// A finding's status in the current language (整改中).
pub fn finding_status(status: entity::enums::FindingStatus) -> String {
    message(&format!("finding-status-{}", status.as_str()), &[])
}

/// A supervision order's level in the current language (重点督办).
pub fn supervision_level(level: entity::enums::SupervisionLevel) -> String {
    message(&format!("supervision-level-{}", level.as_str()), &[])
}

/// A supervision order's status in the current language (待回复).
pub fn supervision_status(status: entity::enums::SupervisionStatus) -> String {
    message(&format!("supervision-status-{}", status.as_str()), &[])
}

/// A measure's status in the current language (进行中).
pub fn measure_status(status: entity::enums::MeasureStatus) -> String {
    message(&format!("measure-status-{}", status.as_str()), &[])
}

/// A field's label in the current language, for messages people read: `标题` for `title`,
/// `整改时限` for `deadline` (Fluent keys `field-<kebab-name>`). A dotted path
/// (`links.title`) labels each part (链接的标题). A name without a label comes back as it
/// is, which a test rules out for every field the domain names.
pub fn field(name: &str) -> String {
    let mut parts = name.split('.').map(|part| {
        let id = field_id(part);
        if known(&id) {
            message(&id, &[])
        } else {
            part.to_owned()
        }
    });
    let first = parts.next().unwrap_or_default();
    parts.fold(first, |parent, child| {
        message(
            "field-path",
            &[("parent", Arg::Text(parent)), ("child", Arg::Text(child))],
        )
    })
}

/// The catalogue key of a field's label: `field-required-value` for `requiredValue`.
pub fn field_id(name: &str) -> String {
    let mut id = String::from("field-");
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            id.push('-');
            id.push(c.to_ascii_lowercase());
        } else if c == '_' {
            id.push('-');
        } else {
            id.push(c);
        }
    }
    id
}

/// A kind of record's name in the current language ("finding" -> 问题).
pub fn kind_name(kind: &str) -> String {
    message(&format!("kind-{kind}"), &[])
}

/// The message `id` with its arguments, in the current language (its id if unknown, which a
/// test rules out for every message the code names).
pub fn message(id: &str, args: &[(&str, Arg)]) -> String {
    message_in(current(), id, args)
}

/// [`message`] in a given language.
pub fn message_in(language: Language, id: &str, args: &[(&str, Arg)]) -> String {
    let (zh, en) = bundles();
    let bundle = match language {
        Language::Chinese => zh,
        Language::English => en,
    };
    let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
        return id.to_owned();
    };
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        match value {
            Arg::Text(text) => fluent_args.set(*name, FluentValue::from(text.clone())),
            Arg::Number(n) => fluent_args.set(*name, FluentValue::from(*n)),
        }
    }
    let mut errors = Vec::new();
    bundle
        .format_pattern(pattern, Some(&fluent_args), &mut errors)
        .into_owned()
}

/// Whether both catalogues hold message `id`.
pub fn known(id: &str) -> bool {
    let (zh, en) = bundles();
    zh.has_message(id) && en.has_message(id)
}

/// A message in the request's language: `t!("finding-not-found", id = 3)`.
macro_rules! t {
    ($id:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::i18n::message($id, &[$((stringify!($name), $crate::i18n::Arg::from($value))),*])
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_english_only_when_it_weighs_more() {
        assert_eq!(negotiate(None), Language::Chinese);
        assert_eq!(negotiate(Some("en-US,en;q=0.9")), Language::English);
        assert_eq!(
            negotiate(Some("zh-CN,zh;q=0.9,en;q=0.8")),
            Language::Chinese
        );
        assert_eq!(negotiate(Some("en;q=0.5, zh;q=0.8")), Language::Chinese);
        assert_eq!(negotiate(Some("fr-FR,en;q=0.7")), Language::English);
        assert_eq!(negotiate(Some("fr-FR")), Language::Chinese);
    }

    /// Every field the domain's input checks name (the first argument of a `text::` check or
    /// of `bad_input`) has a label in both catalogues, so no message shows an identifier.
    #[test]
    fn every_field_the_domain_names_has_a_label() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain");
        let mut files = vec![dir.clone()];
        let mut missing = Vec::new();
        let mut seen = 0;
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(
                    std::fs::read_dir(&path)
                        .unwrap()
                        .flatten()
                        .map(|e| e.path()),
                );
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for call in [
                "required(\"",
                "optional(\"",
                "maybe(\"",
                "date(\"",
                "maybe_date(\"",
                "number(\"",
                "refuse_nul(\"",
                "refuse_controls(\"",
                "bad_input(\"",
                "person(\"",
                "prose(\"",
                "part(\"",
                "items(\"",
                "check_deadline_of(db, finding.inspection_id, \"",
            ] {
                for (i, _) in text.match_indices(call) {
                    let rest = &text[i + call.len()..];
                    let name = &rest[..rest.find('"').unwrap()];
                    // A unit test's literal date, not a field.
                    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
                        continue;
                    }
                    seen += 1;
                    for part in name.split('.') {
                        if !known(&field_id(part)) {
                            missing.push(format!("{}: {name}", path.display()));
                        }
                    }
                }
            }
        }
        assert!(seen > 60, "{seen}");
        assert!(missing.is_empty(), "{missing:#?}");
        assert_eq!(field("requiredValue"), "目标值");
        assert_eq!(field("links.title"), "链接的标题");
        assert_eq!(
            message_in(Language::English, &field_id("startedOn"), &[]),
            "inspection start date"
        );
    }

    /// Every message the code names is in both catalogues, and both catalogues hold the same
    /// messages.
    #[test]
    fn every_message_named_in_the_code_is_in_both_catalogues() {
        fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("i18n.rs")
                {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for (i, _) in text.match_indices("t!(\"") {
                        // `format!("` ends the same way: only a `t` that starts a name counts.
                        let before = text[..i].chars().next_back();
                        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                            continue;
                        }
                        let rest = &text[i + 4..];
                        let id = &rest[..rest.find('"').unwrap()];
                        out.push((path.display().to_string(), id.to_owned()));
                    }
                }
            }
        }
        let mut used = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut used,
        );
        assert!(used.len() > 50, "{}", used.len());
        let missing: Vec<_> = used.iter().filter(|(_, id)| !known(id)).collect();
        assert!(missing.is_empty(), "{missing:?}");
        let ids = |source: &str| -> Vec<String> {
            let mut ids: Vec<String> = source
                .lines()
                .filter_map(|l| l.split_once(" = ").map(|(id, _)| id.trim().to_owned()))
                .filter(|id| !id.starts_with('#') && !id.starts_with(' ') && !id.is_empty())
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(ZH), ids(EN));
        // Chinese is the default.
        assert_eq!(message("test-hello", &[]), "你好");
        assert_eq!(message_in(Language::English, "test-hello", &[]), "hello");
    }
}
