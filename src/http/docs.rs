//! The OpenAPI document and a documentation page rendered from it on the server: the users'
//! networks are often isolated, so the page loads nothing from elsewhere.

use std::fmt::Write;

use axum::Json;
use axum::extract::State;
use axum::response::Html;
use utoipa::openapi::OpenApi;
use utoipa::openapi::path::Operation;

use crate::state::AppState;

pub async fn openapi(State(state): State<AppState>) -> Json<OpenApi> {
    Json((*state.openapi).clone())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn operation(out: &mut String, method: &str, path: &str, op: &Operation) {
    let _ = writeln!(
        out,
        "<section><h2><code>{method} {}</code></h2>",
        escape(path)
    );
    if let Some(summary) = &op.summary {
        let _ = writeln!(out, "<p><strong>{}</strong></p>", escape(summary));
    }
    if let Some(description) = &op.description {
        let _ = writeln!(out, "<p>{}</p>", escape(description));
    }
    if let Some(parameters) = &op.parameters
        && !parameters.is_empty()
    {
        out.push_str(
            "<table><tr><th>parameter</th><th>in</th><th>required</th><th>meaning</th></tr>",
        );
        for p in parameters {
            let value = serde_json::to_value(p).unwrap_or_default();
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(value["name"].as_str().unwrap_or("")),
                escape(value["in"].as_str().unwrap_or("")),
                if value["required"].as_bool().unwrap_or(false) {
                    "yes"
                } else {
                    "no"
                },
                escape(value["description"].as_str().unwrap_or("")),
            );
        }
        out.push_str("</table>");
    }
    out.push_str("<table><tr><th>status</th><th>meaning</th></tr>");
    for (status, response) in &op.responses.responses {
        let value = serde_json::to_value(response).unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(status),
            escape(value["description"].as_str().unwrap_or(""))
        );
    }
    out.push_str("</table></section>\n");
}

/// `GET /api/v1/docs`: every operation with its parameters and answers.
pub async fn page(State(state): State<AppState>) -> Html<String> {
    let api = &state.openapi;
    let mut out = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font:15px/1.5 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}}\
         table{{border-collapse:collapse;margin:.5em 0}}td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:left}}\
         section{{border-top:1px solid #ddd;margin-top:1.5em}}</style></head><body>\
         <h1>{} {}</h1><p>{}</p><p>Machine-readable: <a href=\"/api/v1/openapi.json\">openapi.json</a> (OpenAPI 3.1).</p>\n",
        escape(&api.info.title),
        escape(&api.info.title),
        escape(&api.info.version),
        escape(api.info.description.as_deref().unwrap_or("")),
    );
    for (path, item) in &api.paths.paths {
        for (method, op) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ] {
            if let Some(op) = op {
                operation(&mut out, method, path, op);
            }
        }
    }
    out.push_str("</body></html>\n");
    Html(out)
}
