//! The OpenAPI document and a documentation page rendered from it on the server: the users'
//! networks are often isolated, so the page loads nothing from elsewhere.

use axum::Json;
use axum::extract::State;
use axum::response::Html;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use utoipa::openapi::OpenApi;
use utoipa::openapi::path::Operation;

use crate::http::state::AppState;

pub async fn openapi(State(state): State<AppState>) -> Json<OpenApi> {
    Json((*state.openapi).clone())
}

/// The style of the page (inline: the page loads nothing from elsewhere).
const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}\
section{border-top:1px solid #ddd;margin-top:1.5em}";

/// One operation: its path, summary, description, parameters and answers (maud escapes
/// every value).
fn operation(method: &str, path: &str, op: &Operation) -> Markup {
    let parameters: Vec<serde_json::Value> = op
        .parameters
        .iter()
        .flatten()
        .map(|p| serde_json::to_value(p).unwrap_or_default())
        .collect();
    let text = |value: &serde_json::Value, key: &str| value[key].as_str().unwrap_or("").to_owned();
    html! {
        section {
            h2 { code { (method) " " (path) } }
            @if let Some(summary) = &op.summary { p { strong { (summary) } } }
            @if let Some(description) = &op.description { p { (description) } }
            @if !parameters.is_empty() {
                table {
                    tr { th { "parameter" } th { "in" } th { "required" } th { "meaning" } }
                    @for p in &parameters {
                        tr {
                            td { code { (text(p, "name")) } }
                            td { (text(p, "in")) }
                            td { @if p["required"].as_bool().unwrap_or(false) { "yes" } @else { "no" } }
                            td { (text(p, "description")) }
                        }
                    }
                }
            }
            table {
                tr { th { "status" } th { "meaning" } }
                @for (status, response) in &op.responses.responses {
                    tr {
                        td { (status) }
                        td { (text(&serde_json::to_value(response).unwrap_or_default(), "description")) }
                    }
                }
            }
        }
    }
}

/// `GET /api/v1/docs`: every operation with its parameters and answers.
pub async fn page(State(state): State<AppState>) -> Html<String> {
    let api = &state.openapi;
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (api.info.title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (api.info.title) " " (api.info.version) }
                p { (api.info.description.as_deref().unwrap_or("")) }
                p {
                    "Machine-readable: "
                    a href="/api/v1/openapi.json" { "openapi.json" }
                    " (OpenAPI 3.1)."
                }
                @for (path, item) in &api.paths.paths {
                    @for (method, op) in [
                        ("GET", &item.get),
                        ("POST", &item.post),
                        ("PUT", &item.put),
                        ("PATCH", &item.patch),
                        ("DELETE", &item.delete),
                    ] {
                        @if let Some(op) = op { (operation(method, path, op)) }
                    }
                }
            }
        }
    };
    Html(page.into_string())
}
