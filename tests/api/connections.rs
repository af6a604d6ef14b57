//! Every Relay connection of the schema outside the records (accounts, audit events,
//! notifications, published bulletins, reports, webhook endpoints, their deliveries, and
//! notices) paged forwards and backwards, read through aliases and fragments on the
//! connection, its edges, nodes and pageInfo, with exact answers: the same executor answers
//! them as answers the records' lists.

use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, TestUser, spawn_app_with};
use crate::jwt;

/// A connection field as a test reads it.
struct List<'a> {
    /// The field's name and its arguments other than the page's, e.g. `accounts(search: "a", `.
    head: &'a str,
    /// The node type.
    node: &'a str,
    /// Fields of the node besides its id (read as `key`).
    fields: &'a str,
    /// A selection the list sits in (the list at its `{}`), for a list under a record.
    around: &'a str,
    /// Where the connection is in the answer (a JSON pointer).
    at: &'a str,
}

impl List<'_> {
    fn query(&self) -> String {
        let list = format!(
            "list: {head}first: $first, after: $after, last: $last, before: $before) {{
               typeName: __typename
               total: totalCount
               ...Info
               rows: edges {{ typeName: __typename at: cursor item: node {{ ...Node }} }}
               nodes {{ key: id }}
             }}",
            head = self.head
        );
        let body = self.around.replacen("{}", &list, 1);
        format!(
            "query($first: Int, $after: String, $last: Int, $before: String) {{ {body} }}
             fragment Info on {node}Connection {{
               page: pageInfo {{ next: hasNextPage prev: hasPreviousPage start: startCursor end: endCursor }}
             }}
             fragment Node on {node} {{ typeName: __typename key: id {fields} }}",
            node = self.node,
            fields = self.fields,
        )
    }
}

/// Reads `list` two at a time, forwards then backwards, checking each page against
/// `expected` (its nodes, in the list's order, each with `key` and the fields read).
async fn walk(app: &TestApp, token: &str, list: &List<'_>, expected: &[Value]) {
    let query = list.query();
    let n = expected.len();
    let node_type = json!(list.node);
    let check = |data: &Value, from: usize, to: usize| {
        let conn = data.pointer(list.at).unwrap_or_else(|| panic!("{data}"));
        assert_eq!(
            conn["typeName"],
            format!("{}Connection", list.node),
            "{conn}"
        );
        assert_eq!(conn["total"], n, "{conn}");
        let rows = conn["rows"].as_array().unwrap();
        let items: Vec<Value> = rows
            .iter()
            .map(|row| {
                assert_eq!(row["typeName"], format!("{}Edge", list.node));
                let mut item = row["item"].clone();
                assert_eq!(item["typeName"], node_type);
                item.as_object_mut().unwrap().remove("typeName");
                item
            })
            .collect();
        assert_eq!(
            items,
            expected[from..to],
            "{}: page {from}..{to}",
            list.node
        );
        let keys: Vec<&Value> = conn["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|node| &node["key"])
            .collect();
        let edge_keys: Vec<&Value> = items.iter().map(|item| &item["key"]).collect();
        assert_eq!(keys, edge_keys);
        let page = &conn["page"];
        assert_eq!(page["start"], rows[0]["at"]);
        assert_eq!(page["end"], rows[rows.len() - 1]["at"]);
        page.clone()
    };

    let mut after = Value::Null;
    let mut from = 0;
    while from < n {
        let data = app
            .data(token, &query, json!({"first": 2, "after": after}))
            .await;
        let to = (from + 2).min(n);
        let page = check(&data, from, to);
        assert_eq!(page["prev"], from > 0, "{}: {page}", list.node);
        assert_eq!(page["next"], to < n, "{}: {page}", list.node);
        after = page["end"].clone();
        from = to;
    }

    let mut before = Value::Null;
    let mut to = n;
    while to > 0 {
        let data = app
            .data(token, &query, json!({"last": 2, "before": before}))
            .await;
        let from = to.saturating_sub(2);
        let page = check(&data, from, to);
        assert_eq!(page["prev"], from > 0, "{}: {page}", list.node);
        assert_eq!(page["next"], to < n, "{}: {page}", list.node);
        before = page["start"].clone();
        to = from;
    }
}

/// An admin token carrying a display name (what an inbox is addressed to).
fn named_admin(name: &str) -> String {
    jwt::hs256(
        SECRET.as_bytes(),
        &json!({"sub": "test-admin", "name": name, "role": "admin", "exp": jwt::now() + 3600, "iat": jwt::now()}),
    )
}

async fn app() -> TestApp {
    spawn_app_with(&["--jwt-secret", SECRET, "--webhook-allow", "127.0.0.1"]).await
}

#[tokio::test]
async fn accounts_and_their_audit_events_page_both_ways_through_aliases_and_fragments() {
    let app = app().await;
    let admin = TestUser::admin();
    let mut accounts = Vec::new();
    for i in 1..=5 {
        let query = "mutation($input: CreateAccountInput!) { createAccount(input: $input) { id } }";
        let input = json!({"input": {"username": format!("relay-{i}"), "password": "correct horse battery",
            "displayName": format!("接力{i}"), "role": "OFFICER", "departmentCode": "ZJTZB-BGS"}});
        let id = app.data(&admin, query, input).await["createAccount"]["id"].clone();
        accounts.push(id);
    }

    let expected: Vec<Value> = accounts
        .iter()
        .enumerate()
        .map(|(i, id)| {
            json!({"key": id, "name": format!("relay-{}", i + 1), "displayName": format!("接力{}", i + 1),
                "role": "OFFICER", "disabled": false, "lockedUntil": null, "department": {"code": "ZJTZB-BGS"}})
        })
        .collect();
    let list = List {
        head: "accounts(search: \"relay-\", ",
        node: "Account",
        fields: "name: username displayName role disabled lockedUntil department { code }",
        around: "{}",
        at: "/list",
    };
    walk(&app, &admin, &list, &expected).await;

    // The trail names them newest first (its default order), and oldest first on request.
    let mut expected: Vec<Value> = accounts
        .iter()
        .map(|id| json!({"key": null, "action": "account.create", "entityType": "account", "entityId": id, "actor": "test-admin"}))
        .collect();
    let filter = "{action: \"account.create\", actor: \"test-admin\"}";
    let head = format!("auditLog(filter: {filter}, direction: ASC, ");
    let list = List {
        head: &head,
        node: "AuditEvent",
        fields: "action entityType entityId actor",
        around: "{}",
        at: "/list",
    };
    // Event ids are the trail's own: read them once, then page against them.
    let ids = app
        .data(
            &admin,
            &format!("{{ auditLog(filter: {filter}, direction: ASC) {{ nodes {{ id }} }} }}"),
            json!({}),
        )
        .await["auditLog"]["nodes"]
        .clone();
    for (event, id) in expected.iter_mut().zip(ids.as_array().unwrap()) {
        event["key"] = id["id"].clone();
    }
    assert_eq!(ids.as_array().unwrap().len(), 5);
    walk(&app, &admin, &list, &expected).await;
    expected.reverse();
    let head = format!("auditLog(filter: {filter}, ");
    let list = List {
        head: &head,
        ..list
    };
    walk(&app, &admin, &list, &expected).await;
}

#[tokio::test]
async fn reports_and_published_bulletins_page_both_ways_through_aliases_and_fragments() {
    let app = app().await;
    let manager = TestUser::manager("ZJTZB");
    let mut reports = Vec::new();
    let mut bulletins = Vec::new();
    for _ in 0..5 {
        reports.push(app.report(&manager).await);
        bulletins.push(app.published_bulletin(&manager).await);
    }
    // A draft bulletin is no published one.
    app.bulletin(&manager).await;

    // Newest first.
    let expected: Vec<Value> = reports
        .iter()
        .rev()
        .map(|id| {
            json!({"key": id, "kind": "SEMI_MONTHLY", "status": "DRAFT", "inspection": {"id": "1"},
                "downloads": {"csv": format!("/api/v1/reports/{id}?format=csv")}})
        })
        .collect();
    let list = List {
        head: "reports(filter: {kind: SEMI_MONTHLY}, ",
        node: "Report",
        fields: "kind status inspection { id } downloads { csv }",
        around: "{}",
        at: "/list",
    };
    walk(&app, &manager, &list, &expected).await;

    // The latest published first, for anyone.
    let expected: Vec<Value> = bulletins
        .iter()
        .rev()
        .map(|id| json!({"key": id, "url": format!("/public/bulletins/{id}")}))
        .collect();
    let list = List {
        head: "publishedBulletins(",
        node: "PublishedBulletin",
        fields: "url",
        around: "{}",
        at: "/list",
    };
    walk(&app, &TestUser::viewer(None), &list, &expected).await;
}

#[tokio::test]
async fn webhook_endpoints_deliveries_notices_and_notifications_page_both_ways() {
    let app = app().await;
    let admin = TestUser::admin();
    let create = "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { endpoint { id } } }";
    let mut endpoints = Vec::new();
    for i in 1..=5 {
        let input = json!({"url": format!("http://127.0.0.1:9/hook{i}"), "description": format!("接收方{i}"),
            "eventTypes": ["warning.raised"]});
        let id = app.data(&admin, create, json!({"i": input})).await["createWebhookEndpoint"]
            ["endpoint"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        endpoints.push(id);
    }
    let expected: Vec<Value> = endpoints
        .iter()
        .enumerate()
        .rev()
        .map(|(i, id)| json!({"key": id, "description": format!("接收方{}", i + 1), "enabled": true, "department": null}))
        .collect();
    let list = List {
        head: "webhookEndpoints(",
        node: "WebhookEndpoint",
        fields: "description enabled department { code }",
        around: "{}",
        at: "/list",
    };
    walk(&app, &admin, &list, &expected).await;

    // Deliveries of the newest endpoint, the failed ones (one delivered is left out).
    let newest = &endpoints[4];
    for i in 1..=6 {
        let status = if i == 3 { "delivered" } else { "failed" };
        app.sql(&format!(
            "INSERT INTO webhook_delivery (endpoint_id, event_id, event_kind, body, status, attempts, \
             next_attempt_at, created_at) VALUES ({newest}, {}, 'warning.raised', '{{}}', '{status}', {i}, \
             '2026-01-01T00:00:00Z', '2026-01-0{i}T00:00:00Z')",
            100 + i
        ))
        .await;
    }
    let ids = app
        .data(
            &admin,
            "{ webhookEndpoints(first: 1) { nodes { deliveries(status: FAILED) { nodes { id } } } } }",
            json!({}),
        )
        .await["webhookEndpoints"]["nodes"][0]["deliveries"]["nodes"]
        .clone();
    let ids: Vec<Value> = ids
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].clone())
        .collect();
    let expected: Vec<Value> = [6, 5, 4, 2, 1]
        .iter()
        .zip(&ids)
        .map(|(i, id)| {
            json!({"key": id, "eventId": (100 + i).to_string(), "eventType": "warning.raised",
                "status": "FAILED", "attempts": i, "lastError": null})
        })
        .collect();
    assert_eq!(ids.len(), 5);
    let list = List {
        head: "deliveries(status: FAILED, ",
        node: "WebhookDelivery",
        fields: "eventId eventType status attempts lastError",
        around: "outer: webhookEndpoints(first: 1) { edges { node { {} } } }",
        at: "/outer/edges/0/node/list",
    };
    walk(&app, &admin, &list, &expected).await;

    // Notices about the endpoints, newest first.
    for (i, endpoint) in endpoints.iter().enumerate() {
        let kind = if i % 2 == 0 { "failing" } else { "disabled" };
        app.sql(&format!(
            "INSERT INTO webhook_notice (endpoint_id, kind, title, body, created_at) \
             VALUES ({endpoint}, '{kind}', '通知{i}', '正文{i}', '2026-01-0{}T00:00:00Z')",
            i + 1
        ))
        .await;
    }
    let ids = app
        .data(&admin, "{ webhookNotices { nodes { id } } }", json!({}))
        .await["webhookNotices"]["nodes"]
        .clone();
    let ids: Vec<Value> = ids
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].clone())
        .collect();
    let expected: Vec<Value> = (0..5)
        .rev()
        .zip(&ids)
        .map(|(i, id)| {
            let kind = if i % 2 == 0 { "FAILING" } else { "DISABLED" };
            json!({"key": id, "kind": kind, "title": format!("通知{i}"),
                "endpoint": {"description": format!("接收方{}", i + 1)}})
        })
        .collect();
    assert_eq!(ids.len(), 5);
    let list = List {
        head: "webhookNotices(",
        node: "WebhookNotice",
        fields: "kind title endpoint { description }",
        around: "{}",
        at: "/list",
    };
    walk(&app, &admin, &list, &expected).await;

    // An inbox: notifications addressed to one name, newest first.
    for ordinal in 1..=5 {
        let finding = app.finding_id(ordinal).await;
        app.sql(&format!(
            "INSERT INTO warning_crossing (subject_type, subject_id, finding_id, level, deadline, \
             crossed_on, created_at) VALUES ('finding', {finding}, {finding}, 'red', '2026-01-01', \
             '2026-01-02', '2026-01-02T00:00:00Z')"
        ))
        .await;
        app.sql(&format!(
            "INSERT INTO notification (crossing_id, finding_id, role, recipient, level, title, body, \
             created_at) VALUES ((SELECT MAX(id) FROM warning_crossing), {finding}, \
             'responsible_person', '关注人', 'red', '提醒{ordinal}', '正文', '2026-01-02T00:00:00Z')"
        ))
        .await;
    }
    let inbox = named_admin("关注人");
    let ids = app
        .data(&inbox, "{ notifications { nodes { id } } }", json!({}))
        .await["notifications"]["nodes"]
        .clone();
    let ids: Vec<Value> = ids
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].clone())
        .collect();
    let expected: Vec<Value> = (1..=5)
        .rev()
        .zip(&ids)
        .map(|(ordinal, id)| {
            json!({"key": id, "title": format!("提醒{ordinal}"), "level": "RED",
                "role": "RESPONSIBLE_PERSON", "readAt": null, "finding": {"ordinal": ordinal}})
        })
        .collect();
    assert_eq!(ids.len(), 5);
    let list = List {
        head: "notifications(unreadOnly: true, ",
        node: "Notification",
        fields: "title level role readAt finding { ordinal }",
        around: "{}",
        at: "/list",
    };
    walk(&app, &inbox, &list, &expected).await;
}

/// Every connection of the schema is the catalogue's: async-graphql's own `Connection` (a
/// second executor, with its own description of `edges`, `node` and `pageInfo`) is used
/// nowhere in the server.
#[test]
fn no_connection_is_built_outside_the_catalogue() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![root];
    let mut offenders = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for name in [
                    "connection::Connection",
                    "connection::{Connection",
                    "connection::Edge",
                    "connection::EmptyFields",
                    "Connection::with_additional_fields",
                ] {
                    if text.contains(name) {
                        offenders.push(format!("{}: {name}", path.display()));
                    }
                }
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}
