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
    // A filter with a field the schema does not have is refused, not read as no filter.
    let filtered =
        "query($f: FindingFilterInput) { findings(first: 3, filter: $f) { nodes { id } } }";
    app.data(&admin, filtered, json!({"f": {"status": ["IN_PROGRESS"]}}))
        .await;
    for f in [
        json!({"stauts": ["IN_PROGRESS"]}),
        json!({"status": ["IN_PROGRESS"], "x": 1}),
    ] {
        let (body, compiled) = ask(&app, Some(&admin), filtered, &json!({"f": f})).await;
        assert!(!compiled, "{f}");
        assert!(
            body["errors"][0]["message"].as_str().is_some(),
            "{f}: {body}"
        );
        assert!(body["data"].is_null(), "{f}: {body}");
    }
    // The texts were learnt all along: good arguments are answered by their plans.
    by_plan(
        &app,
        &admin,
        filtered,
        &json!({"f": {"status": ["IN_PROGRESS"]}}),
    )
    .await;
    by_plan(&app, &admin, query, &json!({"n": 2})).await;

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
    // In the same app, a text within the subset is learnt and answered by its plan.
    let (_, compiled) = ask(&app, Some(&admin), LIST_PAGE, &json!({"n": 2})).await;
    assert!(!compiled);
    by_plan(&app, &admin, LIST_PAGE, &json!({"n": 2})).await;
}

/// Learns `query` with `vars`, then checks the plan's answer against the resolvers' first one.
async fn same_both_ways(app: &TestApp, token: &str, query: &str, vars: &Value) -> Value {
    let (first, compiled) = ask(app, Some(token), query, vars).await;
    assert!(!compiled, "{query}");
    assert!(first.get("errors").is_none(), "{query}: {first}");
    assert_eq!(by_plan(app, token, query, vars).await, first, "{query}");
    first
}

#[tokio::test]
async fn each_field_reads_the_columns_it_shows() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    // Values other than the defaults, in every column a field shows.
    for sql in [
        "UPDATE finding SET deadline = '2020-01-01' WHERE ordinal <= 5",
        "UPDATE finding SET status = 'closed', closed_at = '2026-01-02T00:00:00Z' WHERE ordinal = 2",
        "UPDATE finding SET archived_at = '2026-01-03T00:00:00Z' WHERE ordinal = 3",
        "UPDATE finding SET responsible_person = '张三', responsible_leader = '李四' WHERE ordinal = 1",
        "UPDATE measure SET deadline = '2020-06-01', responsible_person = '王五' WHERE ordinal = 1",
        "UPDATE measure SET status = 'done', completed_on = '2021-01-01' WHERE ordinal = 2",
    ] {
        app.sql(sql).await;
    }
    let fields = [
        "ordinal",
        "title",
        "description",
        "rectificationType",
        "status",
        "deadline",
        "responsibleLeader",
        "responsiblePerson",
        "createdAt",
        "updatedAt",
        "closedAt",
        "archived",
        "version",
        "isOverdue",
        "daysOverdue",
        "__typename",
        "department { name }",
        "department { __typename id code kind principalLeader archived version }",
        "measures { ordinal }",
        "measures { content }",
        "measures { status }",
        "measures { deadline }",
        "measures { completedOn }",
        "measures { responsiblePerson }",
        "measures { archived }",
        "measures { updatedAt }",
        "measures { version }",
        "measures { isOverdue }",
        "measures { daysOverdue }",
        "measures { __typename id }",
    ];
    for field in fields {
        let query = format!(
            "query($f: FindingFilterInput) {{ findings(first: 30, filter: $f) {{ nodes {{ id {field} }} }} }}"
        );
        let vars = json!({"f": {"includeArchived": true}});
        let body = same_both_ways(&app, &admin, &query, &vars).await;
        assert_eq!(
            body["data"]["findings"]["nodes"].as_array().unwrap().len(),
            21
        );
    }
    // The arranged values did show.
    let query = "{ findings(first: 3) { nodes { ordinal isOverdue daysOverdue closedAt measures { completedOn } } } }";
    let nodes = &same_both_ways(&app, &admin, query, &json!({})).await["data"]["findings"]["nodes"];
    assert_eq!(nodes[0]["isOverdue"], true);
    assert_eq!(nodes[1]["isOverdue"], false, "closed: {nodes}");
    assert!(nodes[1]["closedAt"].is_string(), "{nodes}");
    assert_eq!(nodes[0]["measures"][1]["completedOn"], "2021-01-01");
    // The archived third finding is left out without includeArchived.
    assert_eq!(nodes[2]["ordinal"], 4);
}

#[tokio::test]
async fn plans_follow_operation_names_defaults_and_every_direction_of_paging() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let document = "query Back($before: String) {
        x: findings(last: 3, before: $before) {
          edges { cursor node { id } } pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
        }
      }
      query Changed($n: Int = 4, $after: String, $o: FindingOrderInput = {field: UPDATED_AT, direction: DESC}) {
        findings(first: $n, after: $after, orderBy: $o) {
          nodes { ... on Finding { id updatedAt } } pageInfo { hasNextPage endCursor }
        }
      }";
    let ask_op = |op: &'static str, vars: Value| {
        let app = &app;
        let admin = &admin;
        async move {
            let before = app.metric(COMPILED).await;
            let (_, body) = app.gql_op(Some(admin), document, op, vars).await;
            (body, app.metric(COMPILED).await > before)
        }
    };

    // Backwards from the end, then the page before it.
    let (last, compiled) = ask_op("Back", json!({})).await;
    assert!(!compiled);
    let (planned, compiled) = ask_op("Back", json!({})).await;
    assert!(compiled && planned == last, "{planned} {last}");
    assert_eq!(
        last["data"]["x"]["edges"][2]["node"]["id"],
        app.finding_id(21).await.to_string()
    );
    assert_eq!(last["data"]["x"]["pageInfo"]["hasPreviousPage"], true);
    let before = json!({"before": last["data"]["x"]["pageInfo"]["startCursor"]});
    let (earlier, compiled) = ask_op("Back", before.clone()).await;
    assert!(compiled);
    assert_eq!(
        earlier["data"]["x"]["edges"][2]["node"]["id"],
        app.finding_id(18).await.to_string()
    );
    assert_eq!(earlier["data"]["x"]["pageInfo"]["hasNextPage"], true);

    // The other operation of the same text, on its variables' defaults, then paged on.
    let (changed, compiled) = ask_op("Changed", json!({})).await;
    assert!(!compiled);
    assert_eq!(
        changed["data"]["findings"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let (planned, compiled) = ask_op("Changed", json!({})).await;
    assert!(compiled && planned == changed);
    let next = json!({"after": changed["data"]["findings"]["pageInfo"]["endCursor"]});
    let (page2, compiled) = ask_op("Changed", next).await;
    assert!(compiled);
    let ids = |v: &Value| -> Vec<String> {
        v["data"]["findings"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].to_string())
            .collect()
    };
    assert!(ids(&page2).iter().all(|id| !ids(&changed).contains(id)));

    // An explicit null page size means the default (20): larger than the 4 validated, so the
    // resolvers answer first, and then the plan.
    let (body, compiled) = ask_op("Changed", json!({"n": null})).await;
    assert!(!compiled);
    assert_eq!(
        body["data"]["findings"]["nodes"].as_array().unwrap().len(),
        20
    );
    let (planned, compiled) = ask_op("Changed", json!({"n": null})).await;
    assert!(compiled && planned == body);
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

#[tokio::test]
async fn only_identified_callers_teach_plans_and_a_flood_of_texts_does_not_lock_them_out() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    // Anonymous callers may ask for the root's type name, but their texts are not learnt.
    let typename = "{ __typename }";
    for _ in 0..2 {
        let (body, compiled) = ask(&app, None, typename, &json!({})).await;
        assert!(!compiled);
        assert_eq!(body["data"]["__typename"], "Query");
    }
    same_both_ways(&app, &admin, typename, &json!({})).await;

    // More one-off texts than the table holds: it starts afresh, and the list page is learnt
    // again on its next answer.
    for i in 0..600 {
        let (body, _) = ask(
            &app,
            Some(&admin),
            &format!("{{ __typename }} # {i}"),
            &json!({}),
        )
        .await;
        assert_eq!(body["data"]["__typename"], "Query");
    }
    let (_, compiled) = ask(&app, Some(&admin), LIST_PAGE, &json!({"n": 3})).await;
    assert!(!compiled);
    by_plan(&app, &admin, LIST_PAGE, &json!({"n": 3})).await;
}
