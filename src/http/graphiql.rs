//! GraphiQL, served from the binary: the page, its assets (a pinned GraphiQL release and the
//! React it runs on, embedded by build.rs from their npm packages, licences included) and the
//! few lines that start it. No page rectrack serves loads anything from elsewhere, so GraphiQL
//! works on an intranet without the internet. In development the headers editor holds a
//! development admin token, so that a query runs at once.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::http::state::AppState;

mod assets {
    include!(concat!(env!("OUT_DIR"), "/graphiql_assets.rs"));
}

/// The script that starts GraphiQL (rectrack's own).
const START: &str = include_str!("graphiql/start.js");

fn escape(text: &str) -> String {
    // The settings sit in a <script type="application/json">: no `</` may end it early.
    text.replace('<', "\\u003c")
}

pub async fn page(State(state): State<AppState>) -> Response {
    if assets::FILES.is_empty() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Html(
                "<!doctype html><meta charset=utf-8><title>GraphiQL</title>\
                 <p>This build of rectrack has no GraphiQL assets: build it where the npm \
                 registry is reachable, or with RECTRACK_GRAPHIQL_DIR set to a folder holding \
                 them. The API itself works: POST /graphql.</p>",
            ),
        )
            .into_response();
    }
    let headers = state
        .dev_tokens
        .iter()
        .find(|(role, _, _)| *role == entity::enums::Role::Admin)
        .map(|(_, _, token)| {
            serde_json::to_string_pretty(&json!({"Authorization": format!("Bearer {token}")}))
                .unwrap_or_default()
        });
    let settings = json!({"endpoint": "/graphql", "headers": headers});
    let page = format!(
        "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>rectrack GraphiQL</title>\n\
         <link rel=\"stylesheet\" href=\"/graphql/assets/graphiql.min.css\">\n\
         <style>html,body,#graphiql{{height:100%;margin:0}}</style>\n</head>\n<body>\n\
         <div id=\"graphiql\"></div>\n\
         <script id=\"rectrack-graphiql\" type=\"application/json\">{}</script>\n\
         <script src=\"/graphql/assets/react.production.min.js\"></script>\n\
         <script src=\"/graphql/assets/react-dom.production.min.js\"></script>\n\
         <script src=\"/graphql/assets/graphiql.min.js\"></script>\n\
         <script src=\"/graphql/assets/start.js\"></script>\n</body>\n</html>\n",
        escape(&settings.to_string())
    );
    Html(page).into_response()
}

/// One of the page's files.
pub async fn asset(Path(name): Path<String>) -> Response {
    let (media_type, body): (&str, &[u8]) = if name == "start.js" {
        ("text/javascript; charset=utf-8", START.as_bytes())
    } else {
        match assets::FILES.iter().find(|(file, _)| *file == name) {
            Some((file, body)) => (media_type(file), body),
            None => {
                return crate::http::refuse_at(
                    "/graphql/assets",
                    crate::error::AppError::NotFound(t!("no-asset", name = &name)),
                );
            }
        }
    };
    (
        [
            (header::CONTENT_TYPE, media_type),
            // The files change only with rectrack itself.
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}

fn media_type(name: &str) -> &'static str {
    if name.ends_with(".js") {
        "text/javascript; charset=utf-8"
    } else if name.ends_with(".css") {
        "text/css; charset=utf-8"
    } else if name.ends_with(".json") {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    }
}
