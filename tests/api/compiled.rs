//! Compiled reads: once async-graphql has answered a list query, later requests with the same
//! text are answered from a plan. These tests hold the plan to the resolvers' answers, for each
//! role, and check that what a plan must not answer still goes through async-graphql.

use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, TestUser, error_code, spawn_app, spawn_app_with};

const COMPILED: &str = "rectrack_graphql_compiled_total";

/// Every field a plan writes, through a fragment, aliases, variables, a filter and an order.
const BROAD: &str = "query List($n: Int, $after: String, $s: [FindingStatus!]) {
  __typename
  page: findings(first: $n, after: $after, filter: {status: $s}) {
    __typename totalCount
    pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor __typename node { ...Row } }
  }
  latest: findings(first: 3, orderBy: {field: DEADLINE, direction: DESC}) {
    nodes { id isOverdue daysOverdue deadline }
  }
}
fragment Row on Finding {
  id ordinal title description rectificationType status deadline responsibleLeader
  responsiblePerson createdAt updatedAt closedAt archived version isOverdue daysOverdue __typename
  department { __typename id code name kind principalLeader archived version }
  measures { __typename id ordinal content status deadline completedOn responsiblePerson
    archived updatedAt version isOverdue daysOverdue }
}";

/// The front end's list page (the benchmark's Q1).
const LIST_PAGE: &str = "query($n: Int) { findings(first: $n) { edges { node {
  id title status department { name } measures { id content status } } } } }";

/// One request; also says whether a plan answered it.
async fn ask(app: &TestApp, token: Option<&str>, query: &str, variables: &Value) -> (Value, bool) {
    let before = app.metric(COMPILED).await;
    let (_, body) = app.gql(token, query, variables.clone()).await;
    (body, app.metric(COMPILED).await > before)
}

/// The resolvers' answer: the text made new with a comment, so no plan knows it yet.
async fn by_resolvers(app: &TestApp, token: Option<&str>, query: &str, vars: &Value) -> Value {
    let fresh = format!("{query}\n# {}", rand_tag());
    let (body, compiled) = ask(app, token, &fresh, vars).await;
    assert!(
        !compiled,
        "a text seen for the first time runs through the resolvers"
    );
    body
}

/// The plan's answer to a text it has learnt.
async fn by_plan(app: &TestApp, token: &str, query: &str, vars: &Value) -> Value {
    let (body, compiled) = ask(app, Some(token), query, vars).await;
    assert!(compiled, "a learnt text is answered by its plan: {body}");
    body
}

fn rand_tag() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_learnt_list_query_is_answered_by_its_plan_with_the_resolvers_data() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let vars = json!({"n": 4, "s": ["IN_PROGRESS", "NOT_STARTED"]});

    // The first answer teaches the plan; the second comes from it and says the same.
    let (first, compiled) = ask(&app, Some(&admin), BROAD, &vars).await;
    assert!(!compiled);
    assert!(first.get("errors").is_none(), "{first}");
    let second = by_plan(&app, &admin, BROAD, &vars).await;
    assert_eq!(second, first);
    let page = &second["data"]["page"];
    assert_eq!(page["edges"].as_array().unwrap().len(), 4);
    assert_eq!(page["__typename"], "FindingConnection");
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    assert!(
        page["edges"][0]["node"]["measures"]
            .as_array()
            .unwrap()
            .len()
            > 1
    );
    assert_eq!(
        second["data"]["latest"]["nodes"].as_array().unwrap().len(),
        3
    );

    // The next page, through the cursor, also agrees with the resolvers.
    let next = json!({"n": 4, "s": vars["s"], "after": page["pageInfo"]["endCursor"]});
    let planned = by_plan(&app, &admin, BROAD, &next).await;
    assert_eq!(
        planned,
        by_resolvers(&app, Some(&admin), BROAD, &next).await
    );
    assert_eq!(planned["data"]["page"]["pageInfo"]["hasPreviousPage"], true);
    assert_ne!(
        planned["data"]["page"]["edges"][0]["node"]["id"],
        page["edges"][0]["node"]["id"]
    );

    // Nothing read is kept: a change shows in the very next planned answer.
    let node = &page["edges"][0]["node"];
    let update = "mutation($id: ID!, $v: Int!) { updateFinding(input: {id: $id, version: $v, title: \"已改标题\"}) { version } }";
    let changed = app
        .data(
            &admin,
            update,
            json!({"id": node["id"], "v": node["version"]}),
        )
        .await;
    let after = by_plan(&app, &admin, BROAD, &vars).await;
    let row = &after["data"]["page"]["edges"][0]["node"];
    assert_eq!(row["title"], "已改标题");
    assert_eq!(row["version"], changed["updateFinding"]["version"]);
    assert_eq!(after, by_resolvers(&app, Some(&admin), BROAD, &vars).await);
}

#[tokio::test]
async fn a_plan_reads_within_each_callers_reach() {
    let app = spawn_app().await;
    let vars = json!({"n": 50});
    let admin = TestUser::admin();
    let (learnt, _) = ask(&app, Some(&admin), LIST_PAGE, &vars).await;
    let everything = learnt["data"]["findings"]["edges"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(everything, 21);

    let callers = [
        ("inspector", TestUser::inspector()),
        ("manager", TestUser::manager("ZJTZB-BGS")),
        ("officer", TestUser::officer("ZJTZB-GBK")),
    ];
    for (role, token) in &callers {
        let planned = by_plan(&app, token, LIST_PAGE, &vars).await;
        let resolved = by_resolvers(&app, Some(token), LIST_PAGE, &vars).await;
        assert_eq!(planned, resolved, "{role}");
        let seen = planned["data"]["findings"]["edges"]
            .as_array()
            .unwrap()
            .len();
        if *role != "inspector" {
            assert!(
                seen > 0 && seen < everything,
                "{role} sees {seen} of {everything}"
            );
        } else {
            assert_eq!(seen, everything);
        }
    }

    // Without a token the plan does not answer; the resolvers refuse as always.
    let (anonymous, compiled) = ask(&app, None, LIST_PAGE, &vars).await;
    assert!(!compiled);
    assert_eq!(
        error_code(&anonymous),
        Some("UNAUTHENTICATED"),
        "{anonymous}"
    );
}

#[tokio::test]
async fn bad_arguments_to_a_learnt_text_get_the_resolvers_errors() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let query = "query($n: Int, $after: String) { findings(first: $n, after: $after) { edges { cursor node { id } } } }";
    app.data(&admin, query, json!({"n": 5})).await;

    for (vars, code) in [
        (json!({"n": 5, "after": "not-a-cursor"}), "BAD_USER_INPUT"),
        (json!({"n": -1}), "BAD_USER_INPUT"),
        (json!({"n": "five"}), "BAD_USER_INPUT"),
    ] {
        let (body, compiled) = ask(&app, Some(&admin), query, &vars).await;
        assert!(!compiled, "{vars}");
        assert_eq!(error_code(&body), Some(code), "{vars}: {body}");
    }
    // A required variable left out is the resolvers' error too.
    let required = "query($n: Int!) { findings(first: $n) { nodes { id } } }";
    app.data(&admin, required, json!({"n": 2})).await;
    let (body, compiled) = ask(&app, Some(&admin), required, &json!({})).await;
    assert!(!compiled);
    assert_eq!(
        error_code(&body),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], "Variable n is not defined.");
}

#[tokio::test]
async fn a_larger_page_than_the_validated_one_is_checked_for_complexity_again() {
    // The list page costs about 38 per finding: a page of 5 passes, one of 50 does not.
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--graphql-max-complexity", "600"]).await;
    let admin = TestUser::admin();
    let (small, _) = ask(&app, Some(&admin), LIST_PAGE, &json!({"n": 5})).await;
    assert!(small.get("errors").is_none(), "{small}");

    let (big, compiled) = ask(&app, Some(&admin), LIST_PAGE, &json!({"n": 50})).await;
    assert!(!compiled);
    assert_eq!(error_code(&big), Some("QUERY_TOO_COMPLEX"), "{big}");
    // Sizes up to the validated one are answered by the plan.
    let three = by_plan(&app, &admin, LIST_PAGE, &json!({"n": 3})).await;
    assert_eq!(
        three["data"]["findings"]["edges"].as_array().unwrap().len(),
        3
    );
}

#[tokio::test]
async fn operations_outside_the_subset_always_run_through_the_resolvers() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    for query in [
        // A directive, a relation plans do not cover, a root field they do not cover.
        "{ findings(first: 2) { nodes { id @include(if: true) } } }",
        "{ findings(first: 2) { nodes { id category { title } } } }",
        "{ findings(first: 2) { nodes { id } } departments(first: 2) { nodes { id } } }",
        // The same key twice (GraphQL merges the two selections).
        "{ findings(first: 2) { nodes { id } nodes { title } } }",
    ] {
        for _ in 0..2 {
            let (body, compiled) = ask(&app, Some(&admin), query, &json!({})).await;
            assert!(!compiled, "{query}");
            assert!(body.get("errors").is_none(), "{query}: {body}");
        }
    }
}

#[tokio::test]
async fn the_list_page_from_a_plan_costs_three_statements_at_any_size() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    app.data(&admin, LIST_PAGE, json!({"n": 20})).await;
    for n in [5, 20] {
        let before = app.sql_statements().await;
        let body = by_plan(&app, &admin, LIST_PAGE, &json!({"n": n})).await;
        assert_eq!(
            body["data"]["findings"]["edges"].as_array().unwrap().len(),
            n
        );
        // The page, then its departments and its measures, one statement each.
        assert_eq!(app.sql_statements().await - before, 3);
    }
}

#[tokio::test]
async fn plans_can_be_switched_off() {
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--graphql-compiled", "false"]).await;
    let admin = TestUser::admin();
    for _ in 0..3 {
        let (body, compiled) = ask(&app, Some(&admin), LIST_PAGE, &json!({"n": 5})).await;
        assert!(!compiled);
        assert_eq!(
            body["data"]["findings"]["edges"].as_array().unwrap().len(),
            5
        );
    }
    assert_eq!(app.metric(COMPILED).await, 0);
}
