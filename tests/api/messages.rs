//! Every message in Simplified Chinese by default and in English on request, GraphQL's own
//! input errors included: each wrong value of every input type the schema declares (read by
//! introspection over HTTP) is refused with a stable code and a sentence in the language asked
//! for; refusals name roles and actions in the domain's terms; token refusals are Chinese
//! throughout.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, TestUser, error_code, spawn_app, spawn_app_with};
use crate::jwt;

fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// The English words of a Chinese message once quoted values and names (“…”) are taken out,
/// besides the few terms the messages keep (ID, and the date formats they show).
fn english_words(message: &str) -> Vec<String> {
    let mut unquoted = String::new();
    let mut depth = 0;
    for c in message.chars() {
        match c {
            '“' => depth += 1,
            '”' => depth -= 1,
            _ if depth == 0 => unquoted.push(c),
            _ => {}
        }
    }
    let kept = ["ID", "YYYY", "MM", "DD", "RFC"];
    unquoted
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() > 1 && !kept.contains(w))
        .map(str::to_owned)
        .collect()
}

/// Sends `query` with `variables` in Chinese (no header) and in English; asserts both are
/// refused with `code`, the Chinese in Chinese only, the English without Chinese; returns the
/// Chinese and English errors.
async fn refused_alike(
    app: &TestApp,
    query: &str,
    variables: Value,
    code: &str,
) -> (Vec<Value>, Vec<Value>) {
    let admin = TestUser::admin();
    let (_, zh) = app.gql(Some(&admin), query, variables.clone()).await;
    let (_, en) = app
        .gql_in("en", Some(&admin), query, variables.clone())
        .await;
    let zh_errors = zh["errors"].as_array().cloned().unwrap_or_default();
    let en_errors = en["errors"].as_array().cloned().unwrap_or_default();
    assert!(!zh_errors.is_empty(), "{query} {variables}: refused: {zh}");
    assert_eq!(zh_errors.len(), en_errors.len(), "{zh} {en}");
    for (zh_error, en_error) in zh_errors.iter().zip(&en_errors) {
        let message = zh_error["message"].as_str().unwrap_or_default();
        assert!(has_cjk(message), "{query} {variables}: {message}");
        assert!(
            english_words(message).is_empty(),
            "{query} {variables}: English in {message:?}: {:?}",
            english_words(message)
        );
        assert_eq!(
            zh_error["extensions"]["code"],
            json!(code),
            "{query} {variables}: {zh}"
        );
        let english = en_error["message"].as_str().unwrap_or_default();
        assert!(!has_cjk(english), "{query} {variables}: {english}");
        assert_eq!(en_error["extensions"]["code"], json!(code), "{en}");
    }
    (zh_errors, en_errors)
}

/// What introspection says of the schema's types.
struct Types(Vec<Value>);

impl Types {
    fn get(&self, name: &str) -> &Value {
        self.0
            .iter()
            .find(|t| t["name"] == json!(name))
            .unwrap_or_else(|| panic!("no type {name}"))
    }
}

const TYPE_REF: &str = "kind name ofType { kind name ofType { kind name ofType { kind name } } }";

async fn introspect(app: &TestApp) -> Types {
    let query = format!(
        "{{ __schema {{ types {{ kind name enumValues {{ name }} \
         inputFields {{ name defaultValue type {{ {TYPE_REF} }} }} \
         fields {{ name type {{ {TYPE_REF} }} args {{ name defaultValue type {{ {TYPE_REF} }} }} }} }} }} }}"
    );
    let data = app.data(&TestUser::admin(), &query, json!({})).await;
    Types(data["__schema"]["types"].as_array().unwrap().clone())
}

/// A type reference as GraphQL writes it (`[ID!]!`).
fn written(ty: &Value) -> String {
    match ty["kind"].as_str().unwrap() {
        "NON_NULL" => format!("{}!", written(&ty["ofType"])),
        "LIST" => format!("[{}]", written(&ty["ofType"])),
        _ => ty["name"].as_str().unwrap().to_owned(),
    }
}

/// The named type under lists and non-nulls.
fn base(ty: &Value) -> &Value {
    if ty["ofType"].is_object() {
        base(&ty["ofType"])
    } else {
        ty
    }
}

/// The wrong values a value of this named type can be given through a variable, each with the
/// path the refusal names below the value's own.
fn wrong_values(types: &Types, ty: &Value, seen: &mut HashSet<String>) -> Vec<(Value, String)> {
    let named = base(ty);
    let name = named["name"].as_str().unwrap();
    match named["kind"].as_str().unwrap() {
        "SCALAR" => match name {
            "Int" => vec![
                (json!("7"), String::new()),
                (json!(3_000_000_000i64), String::new()),
                (json!(1.5), String::new()),
            ],
            "Float" => vec![(json!("1.5"), String::new()), (json!(true), String::new())],
            "String" => vec![(json!(5), String::new()), (json!({"a": 1}), String::new())],
            "Boolean" => vec![(json!("yes"), String::new()), (json!(1), String::new())],
            "ID" => vec![(json!(true), String::new()), (json!(1.5), String::new())],
            "Date" => vec![
                (json!("2026-02-30"), String::new()),
                (json!(20260203), String::new()),
            ],
            "DateTime" => vec![
                (json!("yesterday"), String::new()),
                (json!(5), String::new()),
            ],
            // JSON and Upload take anything.
            _ => vec![],
        },
        "ENUM" => vec![
            (json!("NO_SUCH_VALUE"), String::new()),
            (json!(3), String::new()),
        ],
        "INPUT_OBJECT" => {
            let mut wrong = vec![
                (json!({"noSuchField": 1}), ".noSuchField".to_owned()),
                (json!("text"), String::new()),
            ];
            // Each field's own wrong values, once per input type.
            if seen.insert(name.to_owned()) {
                let object = types.get(name);
                for field in object["inputFields"].as_array().unwrap() {
                    let field_name = field["name"].as_str().unwrap();
                    if field["type"]["kind"] == json!("NON_NULL") {
                        wrong.push((json!({ field_name: null }), format!(".{field_name}")));
                    }
                    for (value, below) in wrong_values(types, &field["type"], seen) {
                        wrong.push((
                            json!({ field_name: value }),
                            format!(".{field_name}{below}"),
                        ));
                    }
                }
            }
            wrong
        }
        _ => vec![],
    }
}

/// Walks every argument of every query and mutation field, every input type, enum and scalar
/// they take: each wrong value is refused in Chinese (English on request) with the same code.
#[tokio::test]
async fn every_wrong_value_of_every_input_type_is_refused_in_the_language_asked_for() {
    let app = spawn_app().await;
    let types = introspect(&app).await;
    let mut seen = HashSet::new();
    let mut sent = 0;
    for (root, keyword) in [("Query", "query"), ("Mutation", "mutation")] {
        for field in types.get(root)["fields"].as_array().unwrap() {
            let field_name = field["name"].as_str().unwrap();
            let selection = match base(&field["type"])["kind"].as_str().unwrap() {
                "OBJECT" | "INTERFACE" | "UNION" => " { __typename }",
                _ => "",
            };
            let args = field["args"].as_array().unwrap();
            for argument in args {
                let arg = argument["name"].as_str().unwrap();
                // Every argument through a variable (the others given none, which a required
                // one refuses with the same code), the one under test as `$v`.
                let (mut declarations, mut passed) = (Vec::new(), Vec::new());
                for (i, other) in args.iter().enumerate() {
                    let name = other["name"].as_str().unwrap();
                    let variable = if name == arg {
                        "v".to_owned()
                    } else {
                        format!("o{i}")
                    };
                    declarations.push(format!("${variable}: {}", written(&other["type"])));
                    passed.push(format!("{name}: ${variable}"));
                }
                let query = format!(
                    "{keyword}({}) {{ {field_name}({}){selection} }}",
                    declarations.join(", "),
                    passed.join(", ")
                );
                let mut wrong = wrong_values(&types, &argument["type"], &mut seen);
                if argument["type"]["kind"] == json!("NON_NULL") {
                    wrong.push((Value::Null, String::new()));
                }
                for (value, below) in wrong {
                    let (errors, _) =
                        refused_alike(&app, &query, json!({ "v": value }), "BAD_USER_INPUT").await;
                    // The input field, as domain refusals name it (the variable's own name
                    // when the value is the whole of it).
                    let path = below.strip_prefix('.').unwrap_or("v").to_owned();
                    assert!(
                        errors
                            .iter()
                            .any(|e| e["extensions"]["field"] == json!(path)),
                        "{query} {value}: an error names {path}: {errors:?}"
                    );
                    sent += 1;
                }
            }
        }
    }
    assert!(sent > 300, "{sent} wrong values sent");
    assert!(seen.len() > 30, "{} input types walked", seen.len());
}

/// The examples, word for word: literal arguments and variables, in both languages.
#[tokio::test]
async fn graphql_input_errors_say_what_is_wrong_in_chinese() {
    let app = spawn_app().await;
    let create = "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id } }";
    let input = |extra: Value| {
        let mut i = json!({"inspectionId": "1", "title": "新问题", "rectificationType": "IMMEDIATE", "departmentCode": "ZJTZB"});
        for (k, v) in extra.as_object().unwrap() {
            i[k] = v.clone();
        }
        json!({ "i": i })
    };
    let cases = [
        (
            input(json!({"deadline": "2026-02-30"})),
            "变量“$i.deadline”：“2026-02-30”不是日期：请按 YYYY-MM-DD 书写，年份四位、月和日各两位（如 2026-02-03）",
            "variable \"$i.deadline\": \"2026-02-30\" is not a date: write it as YYYY-MM-DD, with a four-digit year and two-digit month and day (e.g. 2026-02-03)",
        ),
        (
            input(json!({"rectificationType": "SOON"})),
            "变量“$i.rectificationType”的值 “SOON” 不是可选的值（可选：“IMMEDIATE”、“BY_DEADLINE”、“LONG_TERM”）",
            "variable \"$i.rectificationType\": \"SOON\" is not one of the values allowed (\"IMMEDIATE\", \"BY_DEADLINE\", \"LONG_TERM\")",
        ),
        (
            input(json!({"ordinal": 3_000_000_000i64})),
            "变量“$i.ordinal”的值 “3000000000” 超出整数的范围（-2147483648 到 2147483647）",
            "variable \"$i.ordinal\": \"3000000000\" is outside the range of whole numbers (-2147483648 to 2147483647)",
        ),
        (
            input(json!({"titel": "拼错的字段"})),
            "变量“$i”：输入类型“CreateFindingInput”没有“titel”这一项",
            "variable \"$i\": input type \"CreateFindingInput\" has no field \"titel\"",
        ),
        (
            json!({"i": {"inspectionId": "1", "rectificationType": "IMMEDIATE", "departmentCode": "ZJTZB"}}),
            "变量“$i”缺少必填项“title”",
            "variable \"$i\" lacks the required field \"title\"",
        ),
        (
            input(json!({"disclosed": "yes"})),
            "变量“$i.disclosed”应为“true”或“false”，收到 “yes”",
            "variable \"$i.disclosed\" must be \"true\" or \"false\", not \"yes\"",
        ),
        (
            json!({}),
            "缺少变量“$i”的值",
            "no value given for variable \"$i\"",
        ),
    ];
    for (variables, chinese, english) in cases {
        let (zh, en) = refused_alike(&app, create, variables, "BAD_USER_INPUT").await;
        assert_eq!(zh[0]["message"], json!(chinese));
        assert_eq!(en[0]["message"], json!(english));
    }

    // The same mistakes written into the document are the document's: GRAPHQL_VALIDATION_FAILED.
    let literal = |fields: &str| {
        format!(
            "mutation {{ createFinding(input: {{inspectionId: \"1\", title: \"新问题\", \
             rectificationType: IMMEDIATE, departmentCode: \"ZJTZB\"{fields}}}) {{ id }} }}"
        )
    };
    let cases = [
        (
            literal(", deadline: \"2026/02/03\""),
            "参数“input.deadline”：“2026/02/03”不是日期：请按 YYYY-MM-DD 书写，年份四位、月和日各两位（如 2026-02-03）",
        ),
        (
            literal(", ordinal: 1e3"),
            "参数“input.ordinal”应为整数，收到 “1000.0”",
        ),
        (
            literal(", titel: \"x\""),
            "参数“input”：输入类型“CreateFindingInput”没有“titel”这一项",
        ),
    ];
    for (query, chinese) in cases {
        let (zh, _) = refused_alike(&app, &query, json!({}), "GRAPHQL_VALIDATION_FAILED").await;
        assert_eq!(zh[0]["message"], json!(chinese), "{query}");
    }
    let (zh, en) = refused_alike(
        &app,
        "{ findings(frist: 5) { totalCount } }",
        json!({}),
        "GRAPHQL_VALIDATION_FAILED",
    )
    .await;
    assert_eq!(zh[0]["message"], json!("字段“findings”没有参数“frist”"));
    assert_eq!(
        en[0]["message"],
        json!("field \"findings\" has no argument \"frist\"")
    );
    // A variable where its type does not fit, or one the operation never declared.
    let (zh, en) = refused_alike(
        &app,
        "query($x: String) { findings(first: $x) { totalCount } }",
        json!({"x": "5"}),
        "GRAPHQL_VALIDATION_FAILED",
    )
    .await;
    assert_eq!(
        zh[0]["message"],
        json!("变量“$x”声明的类型“String”与参数“first”所需的类型“Int”不符")
    );
    assert_eq!(
        en[0]["message"],
        json!("variable \"$x\" is declared \"String\", but argument \"first\" takes \"Int\"")
    );
    let (zh, _) = refused_alike(
        &app,
        "{ findings(first: $y) { totalCount } }",
        json!({}),
        "GRAPHQL_VALIDATION_FAILED",
    )
    .await;
    assert_eq!(zh[0]["message"], json!("变量“$y”未在操作中声明"));
    let (zh, _) = refused_alike(
        &app,
        "{ finding { id } }",
        json!({}),
        "GRAPHQL_VALIDATION_FAILED",
    )
    .await;
    assert_eq!(zh[0]["message"], json!("字段“finding”缺少必填参数“id”"));
    let (zh, _) = refused_alike(
        &app,
        "{ findings { totalCont } }",
        json!({}),
        "GRAPHQL_VALIDATION_FAILED",
    )
    .await;
    assert_eq!(
        zh[0]["message"],
        json!("类型“FindingConnection”没有字段“totalCont”。您是不是要找“totalCount”？")
    );
}

/// A refusal names the role and the action as the domain says them, never code names.
#[tokio::test]
async fn refusals_name_the_role_and_the_action_in_the_domains_terms() {
    let app = spawn_app().await;
    let approve = "mutation($id: ID!) { approveCloseOut(findingId: $id) { id } }";
    let officer = TestUser::officer("ZJTZB-BGS");
    let id = app.finding_id(1).await;
    let (_, zh) = app.gql(Some(&officer), approve, json!({"id": id})).await;
    assert_eq!(error_code(&zh), Some("FORBIDDEN"), "{zh}");
    assert_eq!(
        zh["errors"][0]["message"],
        json!("责任科室角色无权审核销号申请")
    );
    let (_, en) = app
        .gql_in("en", Some(&officer), approve, json!({"id": id}))
        .await;
    assert_eq!(
        en["errors"][0]["message"],
        json!("the responsible section role may not review close-outs")
    );

    // Page sizes and NUL characters name the argument as a quoted name.
    let (_, body) = app
        .gql(
            Some(&TestUser::admin()),
            "{ findings(first: 101) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(
        body["errors"][0]["message"],
        json!("每页条数（参数“first”）必须在 0 到 100 之间")
    );
    let (_, body) = app
        .gql(
            Some(&TestUser::admin()),
            "query($t: String) { findings(filter: {search: $t}) { totalCount } }",
            json!({"t": "a\u{0}b"}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(
        body["errors"][0]["message"],
        json!("变量“t”含有空字符（NUL），任何文字都不能含有它")
    );
}

/// Token refusals are Chinese throughout: the algorithm named as a value, lifetimes in days.
#[tokio::test]
async fn token_refusals_are_chinese_throughout() {
    let app = spawn_app().await;
    let me = "{ me { sub } }";
    let header = json!({"alg": "none", "typ": "JWT"});
    let claims = json!({"sub": "s", "role": "admin", "exp": jwt::now() + 600});
    let unsigned = format!("{}.", jwt::signing_input(&header, &claims));
    let (status, body) = app.gql(Some(&unsigned), me, json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    assert_eq!(
        body["errors"][0]["message"],
        json!("令牌无效：令牌头无效，或指明的算法不被接受（从不接受算法“none”）")
    );

    let far = json!({"sub": "s", "role": "admin", "exp": jwt::now() + 200 * 86_400});
    let token = jwt::hs256(SECRET.as_bytes(), &far);
    let (_, body) = app.gql(Some(&token), me, json!({})).await;
    assert_eq!(
        body["errors"][0]["message"],
        json!("令牌无效：令牌有效期过长（超过 90 天）")
    );
    let (_, body) = app.gql_in("en", Some(&token), me, json!({})).await;
    assert_eq!(
        body["errors"][0]["message"],
        json!("invalid token: the token expires too far ahead (more than 90 days from now)")
    );

    let app = spawn_app_with(&["--jwt-secret", SECRET, "--jwt-max-lifetime", "36h"]).await;
    let far = json!({"sub": "s", "role": "admin", "exp": jwt::now() + 3 * 86_400});
    let (_, body) = app
        .gql(Some(&jwt::hs256(SECRET.as_bytes(), &far)), me, json!({}))
        .await;
    assert_eq!(
        body["errors"][0]["message"],
        json!("令牌无效：令牌有效期过长（超过 1 天 12 小时）")
    );
}

#[tokio::test]
async fn a_document_that_does_not_parse_is_refused_in_chinese_with_its_place() {
    let app = spawn_app().await;
    let viewer = TestUser::viewer(None);
    let cases = [
        (
            "{ findings(first: 1) { nodes { id } }",
            "GraphQL 文档有语法错误：第 1 行第",
            "the GraphQL document has a syntax error at line 1, column",
        ),
        (
            "query a { __typename } query a { __typename }",
            "操作“a”定义了两次",
            "the operation \"a\" is defined twice",
        ),
        (
            "{ __typename } query b { __typename }",
            "文档中有多个操作时，每个操作都要有名字",
            "when a document holds several operations, each must have a name",
        ),
    ];
    for (document, chinese, english) in cases {
        let (_, zh) = app.gql(Some(&viewer), document, json!({})).await;
        assert_eq!(error_code(&zh), Some("GRAPHQL_PARSE_FAILED"), "{zh}");
        let message = zh["errors"][0]["message"].as_str().unwrap();
        assert!(message.starts_with(chinese), "{message}");
        assert!(zh["errors"][0]["locations"][0]["line"].is_number(), "{zh}");
        let (_, en) = app.gql_in("en", Some(&viewer), document, json!({})).await;
        assert_eq!(error_code(&en), Some("GRAPHQL_PARSE_FAILED"), "{en}");
        let message = en["errors"][0]["message"].as_str().unwrap();
        assert!(message.starts_with(english), "{message}");
    }
}

#[tokio::test]
async fn a_selection_that_does_not_fit_its_field_is_refused_in_chinese() {
    let app = spawn_app().await;
    let viewer = TestUser::viewer(None);
    let cases = [
        (
            "{ finding(id: 1) }",
            "字段“finding”是“Finding”，须选择其中的字段",
            "the field \"finding\" is a \"Finding\": select some of its fields",
        ),
        (
            "{ finding(id: 1) { title { x } } }",
            "字段“title”的值是“String”，不能再选择其中的字段",
            "the field \"title\" is a \"String\": nothing can be selected inside it",
        ),
    ];
    for (document, chinese, english) in cases {
        let (_, zh) = app.gql(Some(&viewer), document, json!({})).await;
        assert_eq!(error_code(&zh), Some("GRAPHQL_VALIDATION_FAILED"), "{zh}");
        assert_eq!(zh["errors"][0]["message"], json!(chinese), "{zh}");
        let (_, en) = app.gql_in("en", Some(&viewer), document, json!({})).await;
        assert_eq!(en["errors"][0]["message"], json!(english), "{en}");
    }
}
