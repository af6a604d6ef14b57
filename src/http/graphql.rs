//! GraphQL over HTTP: `POST /graphql` runs operations, `GET /graphql` serves GraphiQL.

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse};

use crate::auth::Caller;
use crate::graphql::RequestId;
use crate::state::AppState;

pub async fn graphiql() -> impl IntoResponse {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

pub async fn execute(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(|s| RequestId(s.to_owned()));
    let mut request = request.into_inner().data(caller);
    if let Some(id) = request_id {
        request = request.data(id);
    }
    state.schema.execute(request).await.into()
}
