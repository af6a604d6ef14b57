//! Outbound webhooks: the systems that receive rectrack's events by signed HTTP POST, in the
//! Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`, `webhook-signature`:
//! `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the endpoint's secret).
//!
//! An endpoint reads as a viewer of its department's subtree (or of everything without one):
//! an event reaches it only if that reader may read the record, by the same scoped reads as
//! everywhere. Deliveries are written from the outbox by the dispatch loop of `live`, which
//! sends them with retries; this module holds the rules: who may manage endpoints, what a
//! valid one is, how a delivery is rendered and signed, and replays.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use entity::enums::Role;
use entity::{event, webhook_delivery, webhook_endpoint};
use hmac::{Hmac, Mac};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::auth::{Caller, CallerDepartment, Identity, Permission};
use crate::domain::integration::events::KINDS;
use crate::domain::integration::webhook_target::{self, Allowed};
use crate::domain::reads::finding_list::{self, FindingFilter};
use crate::domain::reads::page::{self, Key, Order, Page, PageArgs};
use crate::domain::records::change::{self, Kind, Record, Versioned, audited, versioned_update};
use crate::domain::workflow::warning::Thresholds;
use crate::domain::{Acting, documents::report, records::department};
use crate::error::{AppError, AppResult};

/// The secret's prefix in the Standard Webhooks format.
const SECRET_PREFIX: &str = "whsec_";

impl Kind for webhook_endpoint::Entity {
    const NAME: &'static str = "webhook_endpoint";
    const COLUMNS: Versioned<webhook_endpoint::Column> = Versioned {
        id: webhook_endpoint::Column::Id,
        version: webhook_endpoint::Column::Version,
        updated_at: webhook_endpoint::Column::UpdatedAt,
        archived_at: webhook_endpoint::Column::ArchivedAt,
    };
    const MANAGE: Permission = Permission::ManageWebhooks;
    const SCOPED: bool = false;

    async fn readable(
        db: &impl ConnectionTrait,
        who: &Acting,
        id: i32,
    ) -> AppResult<webhook_endpoint::Model> {
        who.require(Permission::ManageWebhooks)?;
        webhook_endpoint::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::not_found("webhook_endpoint", id))
    }

    async fn governing(
        _: &impl ConnectionTrait,
        models: &[webhook_endpoint::Model],
    ) -> AppResult<Vec<Option<i32>>> {
        Ok(vec![None; models.len()])
    }

    fn archived(model: &webhook_endpoint::Model) -> bool {
        model.archived_at.is_some()
    }
}

/// A new endpoint as an administrator registers it; only the URL is required.
#[derive(Debug, Default, Clone)]
pub struct NewEndpoint {
    pub url: String,
    pub description: Option<String>,
    /// Event kinds; every kind when empty.
    pub event_types: Vec<String>,
    /// The department whose subtree it may learn of; everything when absent.
    pub department_code: Option<String>,
    /// `whsec_...`; generated when absent.
    pub secret: Option<String>,
}

/// Changes to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub event_types: Option<Vec<String>>,
    pub department_code: Option<Option<String>>,
    /// Enabling again clears the failure count and the run of failures; the messages that
    /// waited while it was disabled are then sent.
    pub enabled: Option<bool>,
}

fn event_types(values: &[String]) -> AppResult<Value> {
    if values.is_empty() {
        return Ok(json!(KINDS));
    }
    let mut kinds: Vec<&str> = Vec::new();
    for value in values {
        let known = KINDS.iter().find(|k| **k == value.trim()).ok_or_else(|| {
            AppError::bad_input(
                "eventTypes",
                t!(
                    "webhook-event-type-unknown",
                    kind = value.as_str(),
                    known = KINDS.join("、")
                ),
            )
        })?;
        if !kinds.contains(known) {
            kinds.push(known);
        }
    }
    Ok(json!(kinds))
}

async fn department_id(db: &impl ConnectionTrait, code: Option<&str>) -> AppResult<Option<i32>> {
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    department::find_by_code(db, code)
        .await?
        .filter(|d| d.archived_at.is_none())
        .map(|d| Some(d.id))
        .ok_or_else(|| AppError::bad_input("departmentCode", t!("no-department-code", code = code)))
}

/// A secret in the Standard Webhooks format: `whsec_` and the base64 of 24 to 64 random bytes.
fn secret(given: Option<&str>) -> AppResult<String> {
    match given {
        Some(value) => {
            key_of(value)
                .filter(|k| (24..=64).contains(&k.len()))
                .ok_or_else(|| AppError::bad_input("secret", t!("webhook-secret-invalid")))?;
            Ok(value.to_owned())
        }
        None => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(AppError::internal)?;
            Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
        }
    }
}

/// The signing key of a `whsec_` secret.
fn key_of(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()
}

/// Registers an endpoint; returns it with its secret, which is shown this once. Its URL must
/// lead where `allow` and the rules of [`webhook_target`] let deliveries go.
pub async fn create(
    db: &impl ConnectionTrait,
    who: &Acting,
    new: NewEndpoint,
    allow: &[Allowed],
) -> AppResult<(webhook_endpoint::Model, String)> {
    who.require(Permission::ManageWebhooks)?;
    let now = who.now();
    let secret = secret(new.secret.as_deref())?;
    let created = webhook_endpoint::ActiveModel {
        id: NotSet,
        url: Set(webhook_target::url(&new.url, allow)?.to_string()),
        description: Set(crate::domain::records::text::maybe(
            "description",
            new.description.as_deref(),
            500,
        )?),
        event_types: Set(event_types(&new.event_types)?),
        department_id: Set(department_id(db, new.department_code.as_deref()).await?),
        secret: Set(secret.clone()),
        enabled: Set(true),
        consecutive_failures: Set(0),
        disabled_at: Set(None),
        disabled_reason: Set(None),
        failing_since: Set(None),
        last_delivered_at: Set(None),
        created_by: Set(who.sub().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        archived_at: Set(None),
    }
    .insert(db)
    .await?;
    let record = Record {
        kind: "webhook_endpoint",
        id: created.id,
        department_id: None,
    };
    audited(
        db,
        who,
        "webhook_endpoint.create",
        record,
        None,
        Some(&created),
    )
    .await?;
    Ok((created, secret))
}

/// Changes an endpoint at `version`; a new URL is checked as at registration.
pub async fn update(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    version: i32,
    patch: EndpointPatch,
    allow: &[Allowed],
) -> AppResult<webhook_endpoint::Model> {
    who.require(Permission::ManageWebhooks)?;
    let (current, _) = change::writable::<webhook_endpoint::Entity>(db, who, id).await?;
    let mut update = webhook_endpoint::Entity::update_many();
    if let Some(value) = &patch.url {
        let url = webhook_target::url(value, allow)?.to_string();
        update = update.col_expr(webhook_endpoint::Column::Url, Expr::value(url));
    }
    if let Some(value) = &patch.description {
        let value = crate::domain::records::text::maybe("description", value.as_deref(), 500)?;
        update = update.col_expr(webhook_endpoint::Column::Description, Expr::value(value));
    }
    if let Some(values) = &patch.event_types {
        update = update.col_expr(
            webhook_endpoint::Column::EventTypes,
            Expr::value(event_types(values)?),
        );
    }
    if let Some(code) = &patch.department_code {
        let id = department_id(db, code.as_deref()).await?;
        update = update.col_expr(webhook_endpoint::Column::DepartmentId, Expr::value(id));
    }
    if let Some(enabled) = patch.enabled {
        update = update.col_expr(webhook_endpoint::Column::Enabled, Expr::value(enabled));
        if enabled {
            update = update
                .col_expr(
                    webhook_endpoint::Column::ConsecutiveFailures,
                    Expr::value(0),
                )
                .col_expr(
                    webhook_endpoint::Column::DisabledAt,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(
                    webhook_endpoint::Column::DisabledReason,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    webhook_endpoint::Column::FailingSince,
                    Expr::value(Option::<DateTime<Utc>>::None),
                );
        } else {
            update = update.col_expr(webhook_endpoint::Column::DisabledAt, Expr::value(who.now()));
        }
    }
    let updated = versioned_update::<webhook_endpoint::Entity>(db, update, id, version).await?;
    let record = Record {
        kind: "webhook_endpoint",
        id,
        department_id: None,
    };
    audited(
        db,
        who,
        "webhook_endpoint.update",
        record,
        Some(&current),
        Some(&updated),
    )
    .await?;
    Ok(updated)
}

/// Disables an endpoint after sustained failure (the server's own decision, audited).
pub async fn disable_failing(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    reason: String,
) -> AppResult<()> {
    let Some(current) = webhook_endpoint::Entity::find_by_id(id).one(db).await? else {
        return Ok(());
    };
    if !current.enabled {
        return Ok(());
    }
    webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
        .col_expr(webhook_endpoint::Column::DisabledAt, Expr::value(who.now()))
        .col_expr(
            webhook_endpoint::Column::DisabledReason,
            Expr::value(reason),
        )
        .col_expr(
            webhook_endpoint::Column::Version,
            Expr::col(webhook_endpoint::Column::Version).add(1),
        )
        .filter(webhook_endpoint::Column::Id.eq(id))
        .exec(db)
        .await?;
    let updated = webhook_endpoint::Entity::find_by_id(id).one(db).await?;
    let record = Record {
        kind: "webhook_endpoint",
        id,
        department_id: None,
    };
    audited(
        db,
        who,
        "webhook_endpoint.disable",
        record,
        Some(&current),
        updated.as_ref(),
    )
    .await
}

/// Endpoints, newest first (administrators).
pub async fn list(
    db: &impl ConnectionTrait,
    who: &Acting,
    args: &PageArgs,
) -> AppResult<Page<webhook_endpoint::Model>> {
    who.require(Permission::ManageWebhooks)?;
    let select =
        webhook_endpoint::Entity::find().filter(webhook_endpoint::Column::ArchivedAt.is_null());
    let order = Order {
        name: "webhook_endpoint.id",
        exprs: vec![Expr::col(webhook_endpoint::Column::Id)],
        keys: |e: &webhook_endpoint::Model| vec![Key::I(e.id.into())],
        descending: true,
    };
    page::fetch(db, select, &order, args).await
}

/// An endpoint's deliveries, newest first, of `status` if given.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    who: &Acting,
    endpoint_id: i32,
    status: Option<&str>,
    args: &PageArgs,
) -> AppResult<Page<webhook_delivery::Model>> {
    who.require(Permission::ManageWebhooks)?;
    let mut select = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id));
    if let Some(status) = status {
        select = select.filter(webhook_delivery::Column::Status.eq(status));
    }
    let order = Order {
        name: "webhook_delivery.id",
        exprs: vec![Expr::col(webhook_delivery::Column::Id)],
        keys: |d: &webhook_delivery::Model| vec![Key::I(d.id.into())],
        descending: true,
    };
    page::fetch(db, select, &order, args).await
}

/// Sends deliveries of an endpoint again: those named, or else those created since `since`
/// (every one when absent) that are not pending. They keep their `webhook-id`, so receivers
/// see a redelivery of the same message. Returns how many were queued.
pub async fn replay(
    db: &impl ConnectionTrait,
    who: &Acting,
    endpoint_id: i32,
    ids: &[i32],
    since: Option<DateTime<Utc>>,
    failed_only: bool,
) -> AppResult<u64> {
    let (endpoint, _) = change::writable::<webhook_endpoint::Entity>(db, who, endpoint_id).await?;
    let mut update = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value("pending"))
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(0))
        .col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(who.now()),
        )
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .filter(webhook_delivery::Column::Status.ne("pending"));
    if !ids.is_empty() {
        update = update.filter(webhook_delivery::Column::Id.is_in(ids.iter().copied()));
    }
    if let Some(since) = since {
        update = update.filter(webhook_delivery::Column::CreatedAt.gte(since));
    }
    if failed_only {
        update = update.filter(webhook_delivery::Column::Status.eq("failed"));
    }
    let queued = update.exec(db).await?.rows_affected;
    let record = Record {
        kind: "webhook_endpoint",
        id: endpoint.id,
        department_id: None,
    };
    let what = json!({"replayed": queued, "ids": ids, "since": since, "failed_only": failed_only});
    audited(
        db,
        who,
        "webhook_endpoint.replay",
        record,
        None,
        Some(&what),
    )
    .await?;
    Ok(queued)
}

/// The reader an endpoint's events are checked with: a viewer of its department's subtree,
/// or of everything.
pub async fn reader(
    db: &impl ConnectionTrait,
    endpoint: &webhook_endpoint::Model,
) -> AppResult<Caller> {
    let department = match endpoint.department_id {
        Some(id) => crate::domain::reads::relations::departments(db, [id])
            .await?
            .remove(&id)
            .map(|d| CallerDepartment {
                id: d.id,
                code: d.code,
                name: d.name,
                path: d.path,
            }),
        None => None,
    };
    // A department that has gone reads nothing rather than everything.
    if endpoint.department_id.is_some() && department.is_none() {
        return Ok(Caller::Anonymous);
    }
    Ok(Caller::Authenticated(Identity {
        sub: format!("webhook:{}", endpoint.id),
        name: None,
        role: Role::Viewer,
        department,
        account_id: None,
    }))
}

/// Whether an endpoint receives events of `kind`.
pub fn wants(endpoint: &webhook_endpoint::Model, kind: &str) -> bool {
    endpoint
        .event_types
        .as_array()
        .is_some_and(|kinds| kinds.iter().any(|k| k.as_str() == Some(kind)))
}

/// The bodies of `events` for one endpoint's reader: `None` for those it may not learn of.
/// The body is the Standard Webhooks shape: `{type, timestamp, data}`.
pub async fn render(
    db: &impl ConnectionTrait,
    reader: &Caller,
    thresholds: &Thresholds,
    events: &[&event::Model],
) -> AppResult<Vec<Option<String>>> {
    if reader.identity().is_none() {
        return Ok(vec![None; events.len()]);
    }
    let filter = FindingFilter {
        include_archived: true,
        ..FindingFilter::default()
    };
    let ids: Vec<i32> = events.iter().filter_map(|e| e.finding_id).collect();
    let findings = finding_list::among(db, reader, &filter, thresholds, &ids).await?;
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let mut data = json!({
            "eventId": e.id.to_string(),
            "action": e.action,
            "entityType": e.entity_type,
            "entityId": e.entity_id.to_string(),
        });
        let subject = match e.finding_id {
            Some(id) => findings.iter().find(|f| f.id == id).map(|f| {
                (
                    "finding",
                    json!({
                        "id": f.id.to_string(),
                        "inspectionId": f.inspection_id.to_string(),
                        "ordinal": f.ordinal,
                        "title": f.title,
                        "status": f.status,
                        "deadline": f.deadline,
                        "departmentId": f.department_id.to_string(),
                        "responsiblePerson": f.responsible_person,
                        "responsibleLeader": f.responsible_leader,
                        "closedAt": f.closed_at,
                        "updatedAt": f.updated_at,
                        "version": f.version,
                        "archived": f.archived_at.is_some(),
                    }),
                )
            }),
            None if e.entity_type == "report" => match report::get(db, reader, e.entity_id).await {
                Ok(r) => Some((
                    "report",
                    json!({
                        "id": r.id.to_string(),
                        "inspectionId": r.inspection_id.to_string(),
                        "kind": r.kind,
                        "status": r.status,
                        "periodEnd": r.period_end,
                        "submittedAt": r.submitted_at,
                        "publishedAt": r.published_at,
                    }),
                )),
                Err(AppError::NotFound(_)) => None,
                Err(err) => return Err(err),
            },
            // Which feedback, about which bulletin and problem: never its text (a sender may
            // have typed a name or number into it), name or contact.
            None if e.entity_type == "public_feedback" => {
                match crate::domain::workflow::public_feedback::get(db, reader, e.entity_id).await {
                    Ok(f) => Some((
                        "publicFeedback",
                        json!({
                            "id": f.id.to_string(),
                            "bulletinId": f.report_id.to_string(),
                            "inspectionId": f.inspection_id.to_string(),
                            "problemNo": f.problem_no,
                            "status": f.status,
                            "createdAt": f.created_at,
                        }),
                    )),
                    Err(AppError::NotFound(_)) => None,
                    Err(err) => return Err(err),
                }
            }
            None => None,
        };
        let Some((name, value)) = subject else {
            out.push(None);
            continue;
        };
        data[name] = value;
        if let Some(payload) = e
            .payload
            .as_ref()
            .filter(|_| e.entity_type == "supervision_order")
        {
            data["supervisionOrder"] = json!({
                "id": e.entity_id.to_string(),
                "level": payload.get("level"),
                "status": payload.get("status"),
                "replyDeadline": payload.get("reply_deadline"),
            });
        } else if let Some(payload) = &e.payload {
            data["warning"] = json!({
                "level": payload.get("level"),
                "subjectType": payload.get("subject_type"),
                "subjectId": payload.get("subject_id").map(|v| v.to_string()),
                "deadline": payload.get("deadline"),
                "crossedOn": payload.get("crossed_on"),
            });
        }
        let body = json!({
            "type": e.kind,
            "timestamp": e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "data": data,
        });
        out.push(Some(body.to_string()));
    }
    Ok(out)
}

/// The Standard Webhooks headers of one attempt: id, timestamp (seconds) and signature.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> AppResult<String> {
    let key = key_of(secret).ok_or_else(|| AppError::internal("a webhook secret is malformed"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(AppError::internal)?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-id` of a delivery: the same for every attempt of it.
pub fn message_id(delivery: &webhook_delivery::Model) -> String {
    format!("msg_{}_{}", delivery.event_id, delivery.endpoint_id)
}

/// Deliveries of endpoints that are enabled, due by `now` and pending, oldest first.
/// Deliveries waiting to be sent, per endpoint id, at most [`QUEUED_ENDPOINTS`] endpoints
/// (`/metrics`; served by the index on status and next attempt).
pub async fn queued(db: &impl ConnectionTrait) -> AppResult<Vec<(i32, i64)>> {
    use sea_orm::QuerySelect;
    Ok(webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::EndpointId)
        .column_as(webhook_delivery::Column::Id.count(), "queued")
        .filter(webhook_delivery::Column::Status.eq("pending"))
        .group_by(webhook_delivery::Column::EndpointId)
        .order_by_asc(webhook_delivery::Column::EndpointId)
        .limit(QUEUED_ENDPOINTS)
        .into_tuple::<(i32, i64)>()
        .all(db)
        .await?)
}

/// The most endpoints [`queued`] reports (a label each at `/metrics`).
pub const QUEUED_ENDPOINTS: u64 = 1_000;

pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> AppResult<Vec<(webhook_delivery::Model, webhook_endpoint::Model)>> {
    use sea_orm::QuerySelect;
    // Only enabled endpoints' deliveries: those of a disabled one wait (however many, they
    // never fill the batch ahead of others).
    let sending = sea_orm::sea_query::Query::select()
        .column(webhook_endpoint::Column::Id)
        .from(webhook_endpoint::Entity)
        .and_where(webhook_endpoint::Column::Enabled.eq(true))
        .and_where(webhook_endpoint::Column::ArchivedAt.is_null())
        .to_owned();
    let due = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Status.eq("pending"))
        .filter(webhook_delivery::Column::EndpointId.in_subquery(sending))
        .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .order_by_asc(webhook_delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let endpoints = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Id.is_in(due.iter().map(|d| d.endpoint_id)))
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .filter(webhook_endpoint::Column::ArchivedAt.is_null())
        .all(db)
        .await?;
    Ok(due
        .into_iter()
        .filter_map(|d| {
            let e = endpoints.iter().find(|e| e.id == d.endpoint_id)?.clone();
            Some((d, e))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks reference example: this secret, id, timestamp and body sign to
    /// this signature.
    #[test]
    fn signs_as_the_standard_does() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        let signed = signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_are_checked_and_made() {
        assert!(secret(Some("not-a-secret")).is_err());
        assert!(secret(Some("whsec_c2hvcnQ=")).is_err());
        let made = secret(None).unwrap();
        assert!(made.starts_with(SECRET_PREFIX));
        assert_eq!(key_of(&made).unwrap().len(), 32);
    }
}
