//! GraphQL over WebSocket: the graphql-transport-ws protocol (the `graphql-ws` library's) on
//! `GET /graphql` with `Sec-WebSocket-Protocol: graphql-transport-ws`.
//!
//! async-graphql runs the protocol's operations; this layer stands in front of it for what it
//! leaves to the server:
//! - authentication in `connection_init`: `{"Authorization": "Bearer …"}` (also lower-case,
//!   and under `headers`, as Apollo's and Hasura's clients send it), or the upgrade request's
//!   own header; by the same token rules as every request. A refused token closes the socket
//!   with 4403, no `connection_init` in time with 4408, a second one with 4429;
//! - the token's expiry: the socket is closed with 4403 when it expires (clients then connect
//!   again with a fresh token);
//! - limits: sockets per caller (4429 when over), subscriptions per socket (an `error` message
//!   for the one over), and a `subscribe` before `connection_ack` (4401);
//! - malformed messages: 4400, never an internal error.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_graphql::Data;
use async_graphql::http::{WebSocket as Engine, WebSocketProtocols as Protocols, WsMessage};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request};
use axum::response::Response;
use serde_json::{Value, json};

use super::auth::bearer;
use crate::auth::Caller;
use crate::domain::Acting;
use crate::error::codes;
use crate::graphql::{RequestId, viewer};
use crate::http::state::{AppState, Counted};

/// The one protocol spoken.
pub const PROTOCOL: &str = "graphql-transport-ws";

/// Whether a request asks to upgrade to a WebSocket.
pub fn is_upgrade(request: &Request) -> bool {
    request
        .headers()
        .get(axum::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Accepts the upgrade when the client speaks graphql-transport-ws.
pub async fn upgrade(state: AppState, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    // The upgrade request's own token (the authentication layer has checked it), with its
    // expiry; a `connection_init` token takes precedence.
    let upgraded = match parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        Some(value) => bearer(&state, value).await.ok(),
        None => None,
    };
    let request_id = parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Logins sent over the socket count against its address, as over HTTP.
    let client = parts
        .extensions
        .get::<crate::auth::ClientAddress>()
        .copied();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(upgrade) => upgrade,
        Err(_) => return super::refuse(codes::BAD_REQUEST, &t!("ws-not-an-upgrade")),
    };
    let offered = parts
        .headers
        .get(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|p| p.trim() == PROTOCOL));
    if !offered {
        return super::refuse(codes::BAD_REQUEST, &t!("ws-protocol", protocol = PROTOCOL));
    }
    upgrade
        .protocols([PROTOCOL])
        .on_upgrade(move |socket| serve(state, upgraded, request_id, client, socket))
}

/// A close frame with a protocol code.
fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// The token a `connection_init` payload carries, in any of the places clients put it.
fn token_of(payload: &Value) -> Option<String> {
    let pick = |v: &Value| -> Option<String> {
        ["Authorization", "authorization"]
            .iter()
            .find_map(|k| v.get(k).and_then(Value::as_str).map(str::to_owned))
    };
    let found = pick(payload).or_else(|| payload.get("headers").and_then(pick))?;
    let found = found.trim();
    // A bare token is taken as a bearer token.
    Some(if found.contains(' ') {
        found.to_owned()
    } else {
        format!("Bearer {found}")
    })
}

/// What a socket knows once it is acknowledged.
struct Session {
    _counted: Counted,
    /// When the token expires (seconds since the epoch).
    expires: u64,
}

async fn serve(
    state: AppState,
    upgraded: Option<(Caller, u64)>,
    request_id: Option<String>,
    client: Option<crate::auth::ClientAddress>,
    mut socket: WebSocket,
) {
    let live = &state.config.live;
    // The engine reads the messages let through and answers them.
    let (to_engine, from_client) = tokio::sync::mpsc::unbounded_channel::<String>();
    let incoming = futures_util::stream::unfold(from_client, |mut rx| async move {
        rx.recv().await.map(|text| (text, rx))
    });
    let data_slot: Arc<Mutex<Option<Data>>> = Arc::default();
    let slot = data_slot.clone();
    let mut engine = Box::pin(
        Engine::new(state.schema.clone(), incoming, Protocols::GraphQLWS).on_connection_init(
            move |_| async move {
                slot.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .ok_or_else(|| async_graphql::Error::new("Forbidden"))
            },
        ),
    );
    use futures_util::StreamExt;

    let init_deadline = tokio::time::Instant::now() + live.ws_init_timeout;
    let mut session: Option<Session> = None;
    let mut running: HashSet<String> = HashSet::new();
    // Operations the client completed: the engine's answering `complete` is not the
    // protocol's (the server says complete only of operations it ended).
    let mut stopped: HashSet<String> = HashSet::new();
    loop {
        let expiry = async {
            match &session {
                Some(s) => {
                    let now = jsonwebtoken::get_current_timestamp();
                    let left = std::time::Duration::from_secs(s.expires.saturating_sub(now));
                    tokio::time::sleep(left).await;
                }
                None => tokio::time::sleep_until(init_deadline).await,
            }
        };
        tokio::select! {
            received = socket.recv() => {
                let text = match received {
                    Some(Ok(Message::Text(text))) => text.to_string(),
                    Some(Ok(Message::Binary(_))) => {
                        let _ = socket.send(close(4400, "Binary messages are not accepted")).await;
                        return;
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                };
                let Ok(message) = serde_json::from_str::<Value>(&text) else {
                    let _ = socket.send(close(4400, "Invalid message received")).await;
                    return;
                };
                let kind = message.get("type").and_then(Value::as_str).unwrap_or_default();
                match kind {
                    "connection_init" => {
                        if session.is_some() {
                            let _ = socket.send(close(4429, "Too many initialisation requests")).await;
                            return;
                        }
                        let payload = message.get("payload").cloned().unwrap_or(Value::Null);
                        let verified = match token_of(&payload) {
                            Some(value) => bearer(&state, &value).await.ok(),
                            None => upgraded.clone(),
                        };
                        let Some((caller, expires)) = verified else {
                            let _ = socket.send(close(4403, "Forbidden")).await;
                            return;
                        };
                        let sub = caller.identity().map(|i| i.sub.clone()).unwrap_or_default();
                        let Some(counted) = state.sockets.open(&sub, live.ws_max_sockets) else {
                            let _ = socket.send(close(4429, "Too many sockets for this caller")).await;
                            return;
                        };
                        *data_slot.lock().unwrap_or_else(|e| e.into_inner()) =
                            Some(session_data(&state, &caller, request_id.clone(), client));
                        session = Some(Session { _counted: counted, expires });
                        let _ = to_engine.send(text);
                    }
                    "subscribe" => {
                        if session.is_none() {
                            let _ = socket.send(close(4401, "Unauthorized")).await;
                            return;
                        }
                        let Some(id) = message.get("id").and_then(Value::as_str).map(str::to_owned) else {
                            let _ = socket.send(close(4400, "Invalid message received")).await;
                            return;
                        };
                        if running.contains(&id) {
                            let _ = socket.send(close(4409, &format!("Subscriber for {id} already exists"))).await;
                            return;
                        }
                        if running.len() >= live.ws_max_subscriptions {
                            let refused = json!({
                                "id": id,
                                "type": "error",
                                "payload": [{
                                    "message": t!("ws-too-many-subscriptions", max = live.ws_max_subscriptions),
                                    "extensions": {"code": codes::TOO_MANY_SUBSCRIPTIONS},
                                }],
                            });
                            let _ = socket.send(Message::Text(refused.to_string().into())).await;
                            continue;
                        }
                        running.insert(id);
                        let _ = to_engine.send(text);
                    }
                    "complete" => {
                        if let Some(id) = message.get("id").and_then(Value::as_str)
                            && running.remove(id)
                        {
                            stopped.insert(id.to_owned());
                        }
                        let _ = to_engine.send(text);
                    }
                    "ping" | "pong" => {
                        let _ = to_engine.send(text);
                    }
                    _ => {
                        let _ = socket.send(close(4400, "Invalid message received")).await;
                        return;
                    }
                }
            }
            out = engine.next() => {
                match out {
                    Some(WsMessage::Text(text)) => {
                        let text = as_error_if_refused(text, &mut stopped);
                        // A subscription the server ended frees its place.
                        if let Ok(message) = serde_json::from_str::<Value>(&text)
                            && let Some(kind @ ("complete" | "error")) = message.get("type").and_then(Value::as_str)
                            && let Some(id) = message.get("id").and_then(Value::as_str)
                        {
                            running.remove(id);
                            if kind == "complete" && stopped.remove(id) {
                                continue;
                            }
                        }
                        if socket.send(Message::Text(text.into())).await.is_err() {
                            return;
                        }
                    }
                    Some(WsMessage::Close(code, reason)) => {
                        let _ = socket.send(close(code, &reason)).await;
                        return;
                    }
                    None => return,
                }
            }
            () = expiry => {
                let reason = if session.is_some() { "Forbidden: the token has expired" } else { "Connection initialisation timeout" };
                let code = if session.is_some() { 4403 } else { 4408 };
                let _ = socket.send(close(code, reason)).await;
                return;
            }
        }
    }
}

/// A `next` carrying an operation refused before it ran becomes the protocol's `error` (its
/// payload the errors), and the engine's `complete` after it is dropped: `error` ends an
/// operation by itself.
fn as_error_if_refused(text: String, stopped: &mut HashSet<String>) -> String {
    let Ok(message) = serde_json::from_str::<Value>(&text) else {
        return text;
    };
    let refused = message["type"] == "next"
        && message["payload"]["extensions"][crate::graphql::REFUSED] == Value::Bool(true);
    let Some(id) = message["id"].as_str().filter(|_| refused) else {
        return text;
    };
    stopped.insert(id.to_owned());
    json!({"id": id, "type": "error", "payload": message["payload"]["errors"]}).to_string()
}

/// What every operation on the socket sees: the caller and its loaders, as a request's.
fn session_data(
    state: &AppState,
    caller: &Caller,
    request_id: Option<String>,
    client: Option<crate::auth::ClientAddress>,
) -> Data {
    let mut data = Data::default();
    let who = Acting::new(caller, request_id.clone(), state.config.timezone);
    data.insert(viewer::loader(
        state.db.clone(),
        who,
        state.config.graphql.dataloader_delay,
    ));
    if let Some(id) = request_id {
        data.insert(RequestId(id));
    }
    if let Some(client) = client {
        data.insert(client);
    }
    data.insert(caller.clone());
    data
}
