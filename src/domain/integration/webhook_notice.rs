//! What the administrators are told of a webhook endpoint in trouble, as Svix tells a sender:
//! once when a run of failed deliveries begins (the receiver may be down; nothing is lost, the
//! messages wait and are retried), and once when the endpoint is disabled after failing
//! continuously for `RECTRACK_WEBHOOK_DISABLE_AFTER`. Notices are written in the transaction
//! that records the attempt, and audited; administrators read them in `webhookNotices`.

use chrono::{DateTime, Utc};
use entity::{webhook_endpoint, webhook_notice};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::time::Duration;

use crate::auth::Permission;
use crate::domain::Acting;
use crate::domain::reads::page::{self, Key, Order, Page, PageArgs};
use crate::domain::records::change::{Record, audited};
use crate::error::AppResult;
use crate::i18n::{Arg, Language, message_in};

/// Why the administrators are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// The first failed attempt after deliveries went through (or ever).
    Failing,
    /// Disabled after failing continuously for the configured time.
    Disabled,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failing => "failing",
            Self::Disabled => "disabled",
        }
    }
}

/// A length of time in Chinese: `5 天`, `2 小时 30 分钟`, `2 秒`.
pub fn chinese_duration(length: Duration) -> String {
    let mut seconds = length.as_secs();
    let mut parts = Vec::new();
    for (unit, name) in [(86_400, "天"), (3_600, "小时"), (60, "分钟"), (1, "秒")] {
        if seconds >= unit {
            parts.push(format!("{} {name}", seconds / unit));
            seconds %= unit;
        }
    }
    if parts.is_empty() {
        parts.push("0 秒".to_owned());
    }
    parts.join(" ")
}

/// A time on the configured zone's clock, as the notices print it.
pub fn local_time(who: &Acting, at: DateTime<Utc>) -> String {
    at.with_timezone(&who.zone.0)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Writes a notice of `kind` about `endpoint` (whose run of failures began at `since`), and
/// audits it. The texts are Chinese: they are the unit's records, read by its administrators.
pub async fn notify(
    db: &impl ConnectionTrait,
    who: &Acting,
    endpoint: &webhook_endpoint::Model,
    kind: NoticeKind,
    since: DateTime<Utc>,
    disable_after: Duration,
) -> AppResult<webhook_notice::Model> {
    let zh = |id: &str, args: &[(&str, Arg)]| message_in(Language::Chinese, id, args);
    let url = crate::domain::integration::webhook_target::shown(&endpoint.url);
    let since = local_time(who, since);
    let after = chinese_duration(disable_after);
    let (title, body) = match kind {
        NoticeKind::Failing => (
            zh(
                "webhook-notice-failing-title",
                &[("url", url.clone().into())],
            ),
            zh(
                "webhook-notice-failing-body",
                &[("since", since.into()), ("after", after.into())],
            ),
        ),
        NoticeKind::Disabled => (
            zh(
                "webhook-notice-disabled-title",
                &[("url", url.clone().into())],
            ),
            zh(
                "webhook-notice-disabled-body",
                &[
                    ("since", since.into()),
                    ("after", after.into()),
                    ("at", local_time(who, who.now()).into()),
                ],
            ),
        ),
    };
    let notice = webhook_notice::ActiveModel {
        id: NotSet,
        endpoint_id: Set(endpoint.id),
        kind: Set(kind.as_str().to_owned()),
        title: Set(title),
        body: Set(body),
        created_at: Set(who.now()),
    }
    .insert(db)
    .await?;
    let record = Record {
        kind: "webhook_notice",
        id: notice.id,
        department_id: None,
    };
    audited(
        db,
        who,
        "webhook_notice.create",
        record,
        None,
        Some(&notice),
    )
    .await?;
    tracing::warn!(
        endpoint = endpoint.id,
        kind = kind.as_str(),
        "webhook endpoint notice for the administrators"
    );
    Ok(notice)
}

/// The notices, newest first (those who manage webhooks).
pub async fn list(
    db: &impl ConnectionTrait,
    who: &Acting,
    endpoint_id: Option<i32>,
    args: &PageArgs,
) -> AppResult<Page<webhook_notice::Model>> {
    use sea_orm::ColumnTrait;
    who.require(Permission::ManageWebhooks)?;
    let mut select = webhook_notice::Entity::find();
    if let Some(id) = endpoint_id {
        select = select.filter(webhook_notice::Column::EndpointId.eq(id));
    }
    let order = Order {
        name: "webhook_notice.id",
        exprs: vec![Expr::col(webhook_notice::Column::Id)],
        keys: |n: &webhook_notice::Model| vec![Key::I(n.id.into())],
        descending: true,
    };
    page::fetch(db, select, &order, args).await
}
