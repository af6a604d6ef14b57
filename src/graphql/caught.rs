//! Operations run with their panics caught: a panic while answering (a bug, such as a field
//! reading a column its read did not select: `entity::check`) becomes one opaque
//! `INTERNAL_SERVER_ERROR`, logged with what panicked, instead of a dropped connection or a
//! socket that stops answering. Nothing a request sends reaches a panic: this is for bugs.

use std::any::Any;
use std::panic::AssertUnwindSafe;

use async_graphql::{Response, ServerError};
use futures_util::stream::{BoxStream, StreamExt};
use futures_util::{FutureExt, Stream};

use crate::error::AppError;

/// `run`'s answer, or the internal error it panicked with.
pub async fn answer(run: impl Future<Output = Response>) -> Response {
    // Unwind safety: what a request shares with others (the loader's batches, the kept
    // counts, the documents) is changed in single steps under locks a read-off never holds,
    // so a request stopped half-way leaves it as it found it.
    AssertUnwindSafe(run)
        .catch_unwind()
        .await
        .unwrap_or_else(panicked)
}

/// `answers`, each of them or the internal error one panicked with (which ends the stream).
pub fn answers(
    answers: impl Stream<Item = Response> + Send + 'static,
) -> BoxStream<'static, Response> {
    AssertUnwindSafe(answers)
        .catch_unwind()
        .map(|answer| answer.unwrap_or_else(panicked))
        .boxed()
}

fn panicked(panic: Box<dyn Any + Send>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    let error = async_graphql::Error::from(AppError::internal(format_args!(
        "an operation panicked: {detail}"
    )));
    // No location: the panic is the server's, not a place in the document.
    let mut answer = ServerError::new(error.message, None);
    answer.extensions = error.extensions;
    Response::from_errors(vec![answer])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_while_answering_is_an_internal_error_with_its_code() {
        let response = answer(async {
            if true {
                panic!("finding.status was read from a row that did not select it");
            }
            Response::new(async_graphql::Value::Null)
        })
        .await;
        assert_eq!(response.data, async_graphql::Value::Null);
        assert_eq!(response.errors.len(), 1);
        let code = response.errors[0]
            .extensions
            .as_ref()
            .and_then(|ext| ext.get("code"))
            .cloned();
        assert_eq!(
            code,
            Some(async_graphql::Value::from("INTERNAL_SERVER_ERROR"))
        );
        // The client is told nothing of the bug; the log has it.
        assert!(!response.errors[0].message.contains("finding.status"));
    }

    #[tokio::test]
    async fn a_panic_in_a_stream_of_answers_ends_it_with_an_internal_error() {
        use futures_util::stream;
        let answers = answers(stream::iter([0, 1]).map(|i| {
            assert_eq!(i, 0, "the second answer panics");
            Response::new(async_graphql::Value::Null)
        }));
        let answered: Vec<Response> = answers.collect().await;
        assert_eq!(answered.len(), 2);
        assert!(answered[0].errors.is_empty());
        assert_eq!(answered[1].errors.len(), 1);
    }
}
