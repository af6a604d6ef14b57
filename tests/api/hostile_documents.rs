//! Hostile GraphQL documents: the known shapes that make a GraphQL server walk a document
//! exponentially often, recurse deep or parse for long (fragment fan-out, deep chains, wide
//! selections, many operations), and documents drawn at random from them. Each answers within
//! a second, anonymous or identified, with data or a coded error and never a 500, while
//! `/healthz` keeps answering.
//!
//! The random documents come from a seeded generator: `HOSTILE_SEED` replays a draw (default
//! 37, the issue's number), `HOSTILE_COUNT` sets how many (default 200).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::helpers::{SECRET, TestApp, TestUser, error_code, spawn_app_with};

/// "Answers within a second", as the issue asks: generous for a refusal that takes
/// milliseconds, far below the minute the fan-out took.
const WITHIN: Duration = Duration::from_secs(1);

/// Documents sent at once.
const AT_ONCE: usize = 4;

/// The app with the anonymous rate limit out of the way, so that anonymous documents reach the
/// checks rather than the limiter.
async fn app() -> TestApp {
    spawn_app_with(&[
        "--jwt-secret",
        SECRET,
        "--rate-anonymous-per-minute",
        "1000000",
        "--rate-anonymous-burst",
        "1000000",
    ])
    .await
}

/// The issue's document: each fragment spreads the next twice, 30 levels deep.
fn issue_document() -> String {
    fan_out(30, 2)
}

/// `query { me { ...L0 } }` with fragment `Li` spreading `L(i+1)` `ways` times.
fn fan_out(levels: usize, ways: usize) -> String {
    let mut text = String::from("query { me { ...L0 } } ");
    for i in 0..levels {
        let spreads = vec![format!("...L{}", i + 1); ways].join(" ");
        text.push_str(&format!("fragment L{i} on Me {{ {spreads} }} "));
    }
    text.push_str(&format!("fragment L{levels} on Me {{ role }}"));
    text
}

/// Fan-out through fields: each level selects `parent` and `children` of the next.
fn fan_out_in_fields(levels: usize) -> String {
    let mut text = String::from("query { me { department { ...D0 } } } ");
    for i in 0..levels {
        let next = i + 1;
        text.push_str(&format!(
            "fragment D{i} on Department {{ parent {{ ...D{next} }} children {{ ...D{next} }} }} "
        ));
    }
    text.push_str(&format!("fragment D{levels} on Department {{ name }}"));
    text
}

fn nested_inline_fragments(depth: usize) -> String {
    format!(
        "{{ me {{ {} role {} }} }}",
        "... on Me { ".repeat(depth),
        "}".repeat(depth)
    )
}

fn aliases(count: usize) -> String {
    let aliases: String = (0..count).map(|i| format!("a{i}: role ")).collect();
    format!("{{ me {{ {aliases} }} }}")
}

fn directives(count: usize) -> String {
    format!("{{ me {{ role {} }} }}", "@skip(if: false) ".repeat(count))
}

fn deep_list_argument(depth: usize) -> String {
    format!(
        "{{ department(id: {}1{}) {{ name }} }}",
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

fn deep_selection(depth: usize) -> String {
    format!("{{ me {}{}", "{ a ".repeat(depth), "}".repeat(depth + 1))
}

fn deep_fields(depth: usize) -> String {
    format!(
        "{{ me {{ department {{ {} name {} }} }} }}",
        "parent { ".repeat(depth),
        "}".repeat(depth)
    )
}

fn operations(count: usize) -> String {
    (0..count)
        .map(|i| format!("query Q{i} {{ me {{ role }} }} "))
        .collect()
}

fn comment_run(bytes: usize) -> String {
    format!(
        "# {}\n{}{{ __typename }}",
        "x".repeat(bytes),
        " ".repeat(bytes)
    )
}

fn variables(count: usize) -> String {
    let defined: Vec<String> = (0..count).map(|i| format!("$v{i}: Int")).collect();
    format!("query Q({}) {{ __typename }}", defined.join(", "))
}

fn cycle() -> String {
    "query { me { ...A } } fragment A on Me { role ...B } fragment B on Me { ...A }".to_owned()
}

/// The known shapes, each in a size that passes or nearly passes and one far past the limits.
fn known_shapes() -> Vec<(String, String)> {
    let mut shapes = vec![
        ("issue fan-out".to_owned(), issue_document()),
        ("3-way fan-out".to_owned(), fan_out(20, 3)),
        ("10-way fan-out".to_owned(), fan_out(12, 10)),
        ("small fan-out".to_owned(), fan_out(4, 2)),
        ("fan-out in fields".to_owned(), fan_out_in_fields(30)),
        (
            "inline fragments 1,000 deep".to_owned(),
            nested_inline_fragments(1000),
        ),
        (
            "inline fragments 20 deep".to_owned(),
            nested_inline_fragments(20),
        ),
        ("1,000 aliases".to_owned(), aliases(1000)),
        ("120 aliases".to_owned(), aliases(120)),
        ("1,000 directives".to_owned(), directives(1000)),
        ("10 directives".to_owned(), directives(10)),
        ("lists 20,000 deep".to_owned(), deep_list_argument(20_000)),
        ("lists 40 deep".to_owned(), deep_list_argument(40)),
        ("selections 20,000 deep".to_owned(), deep_selection(20_000)),
        ("parents 40 deep".to_owned(), deep_fields(40)),
        ("3,000 operations".to_owned(), operations(3000)),
        ("100 operations".to_owned(), operations(100)),
        (
            "60 KB of comment and white space".to_owned(),
            comment_run(60_000),
        ),
        ("1,000 variables".to_owned(), variables(1000)),
        ("fragment cycle".to_owned(), cycle()),
        (
            "unterminated block string".to_owned(),
            format!("{{ me {{ role }} }} \"\"\"{}", "x".repeat(50_000)),
        ),
    ];
    shapes.push((
        "100 KB string argument".to_owned(),
        format!(
            "{{ department(id: \"{}\") {{ name }} }}",
            "9".repeat(100_000)
        ),
    ));
    shapes
}

/// SplitMix64: a seeded generator, so that a failing draw can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A document drawn at random: one of the known shapes at a random size, or a web of
/// fragments spreading later ones (and now and then an earlier one: a cycle) several times,
/// inside inline fragments, fields and aliases.
fn draw(rng: &mut Rng) -> String {
    match rng.below(12) {
        0 => fan_out(1 + rng.below(40), 1 + rng.below(6)),
        1 => fan_out_in_fields(1 + rng.below(40)),
        2 => nested_inline_fragments(1 + rng.below(3000)),
        3 => aliases(1 + rng.below(3000)),
        4 => directives(1 + rng.below(2000)),
        5 => deep_list_argument(1 + rng.below(30_000)),
        6 => deep_selection(1 + rng.below(30_000)),
        7 => operations(1 + rng.below(4000)),
        8 => variables(1 + rng.below(3000)),
        9 => comment_run(rng.below(60_000)),
        _ => web(rng),
    }
}

fn web(rng: &mut Rng) -> String {
    let fragments = 2 + rng.below(40);
    let mut text = String::from("query { me { ...W0 } } ");
    for i in 0..fragments {
        let mut body = String::from("role ");
        for _ in 0..rng.below(5) {
            let target = if rng.below(20) == 0 {
                rng.below(fragments)
            } else {
                i + 1 + rng.below(fragments - i)
            };
            let spread = if target >= fragments {
                "sub".to_owned()
            } else {
                format!("...W{target}")
            };
            body.push_str(&match rng.below(4) {
                0 => format!("... on Me {{ {spread} }} "),
                1 => format!("x{}: role {spread} ", rng.below(100)),
                _ => format!("{spread} "),
            });
        }
        text.push_str(&format!("fragment W{i} on Me {{ {body}}} "));
    }
    text
}

/// What one request came to: its outcome (`data` or the first error's code) and a complaint,
/// if any.
async fn send(
    app: &TestApp,
    token: Option<String>,
    name: &str,
    text: &str,
) -> (String, Option<String>) {
    let started = Instant::now();
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({"query": text, "operationName": if text.contains("query Q0") { Some("Q0") } else { None }}));
    if let Some(token) = &token {
        request = request.bearer_auth(token);
    }
    // Far past the bound, so that a stalled server fails the test rather than hanging it.
    let answer = tokio::time::timeout(Duration::from_secs(10), async {
        let response = request.send().await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.json::<Value>().await.ok()?))
    })
    .await;
    let took = started.elapsed();
    let who = if token.is_some() {
        "admin"
    } else {
        "anonymous"
    };
    let mut outcome = String::from("none");
    let complaint = match answer {
        Err(_) => Some(format!("{name} ({who}): no answer within 10 s")),
        Ok(None) => Some(format!("{name} ({who}): no JSON answer")),
        Ok(Some((status, body))) => {
            let errors = body["errors"].as_array().cloned().unwrap_or_default();
            let coded = errors
                .iter()
                .all(|e| e["extensions"]["code"].as_str().is_some());
            let data = !body["data"].is_null() && body.get("data").is_some();
            outcome = error_code(&body).unwrap_or("data").to_owned();
            if status >= 500 {
                Some(format!("{name} ({who}): status {status}: {body}"))
            } else if !coded || (errors.is_empty() && !data) {
                Some(format!(
                    "{name} ({who}): neither data nor coded errors: {body}"
                ))
            } else if took > WITHIN {
                Some(format!("{name} ({who}): answered after {took:?}"))
            } else {
                None
            }
        }
    };
    (outcome, complaint)
}

/// Sends every document, anonymous and as admin, `AT_ONCE` at a time, while another task polls
/// `/healthz`; returns the complaints, the outcomes and the slowest health answer.
async fn barrage(
    app: Arc<TestApp>,
    documents: Vec<(String, String)>,
) -> (Vec<String>, BTreeMap<String, usize>, Duration) {
    let done = Arc::new(AtomicBool::new(false));
    let health = {
        let (app, done) = (app.clone(), done.clone());
        tokio::spawn(async move {
            let mut slowest = Duration::ZERO;
            let mut complaints = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let started = Instant::now();
                let answer = tokio::time::timeout(
                    Duration::from_secs(10),
                    app.client.get(app.url("/healthz")).send(),
                )
                .await;
                slowest = slowest.max(started.elapsed());
                match answer {
                    Ok(Ok(r)) if r.status() == 200 => {}
                    other => complaints.push(format!("/healthz: {other:?}")),
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (slowest, complaints)
        })
    };
    let mut complaints = Vec::new();
    let mut outcomes = BTreeMap::new();
    let mut pending = JoinSet::new();
    let sends = documents.into_iter().flat_map(|(name, text)| {
        [None, Some(TestUser::admin())]
            .into_iter()
            .map(move |token| (name.clone(), text.clone(), token))
    });
    for (name, text, token) in sends {
        if pending.len() >= AT_ONCE
            && let Some(Ok((outcome, complaint))) = pending.join_next().await
        {
            *outcomes.entry(outcome).or_default() += 1;
            complaints.extend(complaint);
        }
        let app = app.clone();
        pending.spawn(async move { send(&app, token, &name, &text).await });
    }
    while let Some(result) = pending.join_next().await {
        let (outcome, complaint) = result.expect("a request task ends");
        *outcomes.entry(outcome).or_default() += 1;
        complaints.extend(complaint);
    }
    done.store(true, Ordering::Relaxed);
    let (slowest, health_complaints) = health.await.expect("the health poller ends");
    complaints.extend(health_complaints);
    (complaints, outcomes, slowest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_issues_fragment_fan_out_is_refused_as_too_complex_at_once() {
    let app = app().await;
    let document = issue_document();
    assert_eq!(document.len(), 1132, "the issue's document: {document}");
    for token in [None, Some(TestUser::admin())] {
        let started = Instant::now();
        let (status, body) = tokio::time::timeout(
            Duration::from_secs(10),
            app.gql(token.as_deref(), &document, json!({})),
        )
        .await
        .expect("an answer within 10 s");
        let took = started.elapsed();
        assert_eq!(status, 200, "{body}");
        assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        // `me`, its spread and 3 * 2^30 - 2 selections below L0: counted exactly, once per
        // fragment.
        assert!(
            message.starts_with("查询过于复杂：选择了 3221225472 个字段")
                && message.ends_with("最多允许 300 个。"),
            "{message}"
        );
        assert!(took < WITHIN, "answered after {took:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_limit_is_refused_by_name_before_the_document_is_walked() {
    let app = app().await;
    let admin = TestUser::admin();
    for (text, starts) in [
        (
            aliases(120),
            "查询过于复杂：使用了 120 个别名（片段每展开一次都计入），最多允许 100 个",
        ),
        (
            directives(10),
            "查询过于复杂：一个字段或片段带有 10 个指令，最多允许 4 个",
        ),
        (
            operations(3000),
            "查询过长：共 24000 个词法单元，最多允许 5000 个",
        ),
        (
            deep_list_argument(40),
            "查询嵌套过深：选择集、片段或括号嵌套 42 层，最多允许 32 层",
        ),
        (
            nested_inline_fragments(40),
            "查询嵌套过深：选择集、片段或括号嵌套 42 层，最多允许 32 层",
        ),
        (
            deep_fields(20),
            "查询嵌套过深：深度 23，最多允许 12（内省查询 16）",
        ),
    ] {
        let (status, body) = app.gql(Some(&admin), &text, json!({})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            error_code(&body),
            Some("QUERY_TOO_COMPLEX"),
            "{text}: {body}"
        );
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(starts), "{message}");
    }
    // A cycle is refused as validation refuses it, without walking it.
    let (_, body) = app.gql(Some(&admin), &cycle(), json!({})).await;
    assert_eq!(
        error_code(&body),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["message"], "片段 A 直接或间接地展开了自身。",
        "{body}"
    );
    // What a front end sends still runs: nesting, fragments spread twice, a long comment.
    let data = app
        .data(&admin, &nested_inline_fragments(20), json!({}))
        .await;
    assert_eq!(data["me"]["role"], "ADMIN");
    let data = app.data(&admin, &fan_out(4, 2), json!({})).await;
    assert_eq!(data["me"]["role"], "ADMIN");
    let data = app.data(&admin, &comment_run(60_000), json!({})).await;
    assert_eq!(data["__typename"], "Query");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_documents_answer_within_a_second_while_healthz_keeps_answering() {
    let app = Arc::new(app().await);
    let seed: u64 = std::env::var("HOSTILE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(37);
    let count: usize = std::env::var("HOSTILE_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let mut rng = Rng(seed);
    let mut documents = known_shapes();
    for i in 0..count {
        documents.push((format!("seed {seed} draw {i}"), draw(&mut rng)));
    }
    let (complaints, outcomes, slowest_health) = barrage(app, documents).await;
    assert!(
        complaints.is_empty(),
        "seed {seed}: {} complaints:\n{}",
        complaints.len(),
        complaints.join("\n")
    );
    // The draws reach every kind of answer: data, refusals by size and shape, invalid texts.
    for outcome in [
        "data",
        "QUERY_TOO_COMPLEX",
        "GRAPHQL_VALIDATION_FAILED",
        "GRAPHQL_PARSE_FAILED",
    ] {
        assert!(
            outcomes.get(outcome).is_some_and(|n| *n > 0),
            "seed {seed}: no {outcome} among {outcomes:?}"
        );
    }
    assert!(
        slowest_health < WITHIN,
        "/healthz answered after {slowest_health:?}"
    );
}
