//! A graphql-transport-ws client, as the `graphql-ws` library speaks it: the messages are the
//! protocol's own JSON, over a real WebSocket to the running server.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How long a test waits for a message that should come.
pub const WAIT: Duration = Duration::from_secs(15);

impl Ws {
    /// Opens a socket to `address` (`http://host:port`) speaking graphql-transport-ws.
    pub async fn open(address: &str) -> Self {
        Self::open_with(address, &[]).await
    }

    /// Opens a socket with extra headers on the upgrade request.
    pub async fn open_with(address: &str, headers: &[(&str, &str)]) -> Self {
        let url = format!("{}/graphql", address.replacen("http", "ws", 1));
        let mut request = url.into_client_request().expect("a ws url");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        for (name, value) in headers {
            let name: tokio_tungstenite::tungstenite::http::HeaderName =
                name.parse().expect("a header name");
            request
                .headers_mut()
                .insert(name, value.parse().expect("a header value"));
        }
        let (stream, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the upgrade is accepted");
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some("graphql-transport-ws")
        );
        Self { stream }
    }

    /// Opens a socket and completes `connection_init` with `payload`, expecting the ack.
    pub async fn connected(address: &str, payload: Value) -> Self {
        let mut ws = Self::open(address).await;
        ws.send(json!({"type": "connection_init", "payload": payload}))
            .await;
        let ack = ws.next().await.expect("an answer to connection_init");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws
    }

    /// Opens a socket authenticated with a bearer token.
    pub async fn as_caller(address: &str, token: &str) -> Self {
        Self::connected(address, json!({"Authorization": format!("Bearer {token}")})).await
    }

    pub async fn send(&mut self, message: Value) {
        self.stream
            .send(Message::text(message.to_string()))
            .await
            .expect("the message is sent");
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::text(text.to_owned()))
            .await
            .expect("the message is sent");
    }

    /// Starts an operation under `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({
            "id": id,
            "type": "subscribe",
            "payload": {"query": query, "variables": variables},
        }))
        .await;
    }

    /// The next protocol message (pings answered with pongs are skipped); `None` when the
    /// server closed the socket. Panics when nothing comes within [`WAIT`].
    pub async fn next(&mut self) -> Option<Value> {
        self.next_within(WAIT)
            .await
            .unwrap_or_else(|| panic!("no message within {WAIT:?}"))
    }

    /// The next message within `wait`: `Some(None)` when the socket closed, `None` when
    /// nothing came.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Option<Value>> {
        loop {
            let read = tokio::time::timeout(wait, self.stream.next()).await.ok()?;
            match read {
                Some(Ok(Message::Text(text))) => {
                    return Some(Some(serde_json::from_str(&text).expect("JSON")));
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Some(None),
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next `next` message of subscription `id`, its `payload.data`.
    pub async fn data(&mut self, id: &str) -> Value {
        loop {
            let message = self.next().await.expect("the socket stays open");
            if message["type"] == "next" && message["id"] == id {
                assert!(
                    message["payload"].get("errors").is_none(),
                    "errors in {message}"
                );
                return message["payload"]["data"].clone();
            }
            assert_ne!(message["type"], "error", "{message}");
        }
    }

    /// The code the server closes the socket with (waiting for it).
    pub async fn closed_with(&mut self) -> u16 {
        loop {
            let read = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("the server closes the socket in time");
            match read {
                Some(Ok(Message::Close(Some(frame)))) => return frame.code.into(),
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return 1005,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Whether nothing arrives within `wait` (for events that must not come).
    pub async fn quiet_for(&mut self, wait: Duration) -> bool {
        match self.next_within(wait).await {
            None => true,
            Some(message) => panic!("expected nothing, got {message:?}"),
        }
    }
}
