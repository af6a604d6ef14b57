//! The prose of an inspection's public bulletin (通报), entered by the unit: the organisational
//! measures of section 一, the commitments of section 三, the contact block, who issues it and
//! when. Versioned with the inspection and audited; figures are named, not written, and
//! computed when a bulletin is generated (`report::bulletin::FIGURES`).

use entity::inspection;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::auth::Permission;
use crate::domain::records::change::{Record, audited, versioned_update};
use crate::domain::{Acting, reads::scope, records::inspection as inspections, records::text};
use crate::error::{AppError, AppResult};
use crate::report::bulletin::{FIGURES, unknown_figures};
use crate::report::{Contact, HeadingWording, Paragraph, ProblemWording, Publicity};

/// Items in section 一 or 三 at most.
const MAX_ITEMS: usize = 20;

/// Worded headings and problems of section 二 at most (an inspection's findings are fewer).
const MAX_WORDED: usize = 500;

/// The bulletin prose stored for an inspection (empty when none was entered).
pub fn of(inspection: &inspection::Model) -> Publicity {
    parse(inspection.publicity.clone())
}

/// The bulletin prose in a stored value (empty when none, or unreadable).
pub fn parse(stored: Option<serde_json::Value>) -> Publicity {
    stored
        .and_then(|p| serde_json::from_value(p).ok())
        .unwrap_or_default()
}

/// The bulletin prose as `caller` may read it: the wording of a problem outside its reach
/// left out (it quotes the finding).
pub async fn readable(
    db: &impl ConnectionTrait,
    caller: &crate::auth::Caller,
    inspection: &inspection::Model,
) -> AppResult<Publicity> {
    let mut p = of(inspection);
    let ids: Vec<i32> = p.problems.iter().map(|w| w.finding_id).collect();
    if !ids.is_empty() {
        let readable: std::collections::HashSet<i32> = scope::findings(caller)
            .filter(entity::finding::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|f| f.id)
            .collect();
        p.problems.retain(|w| readable.contains(&w.finding_id));
    }
    Ok(p)
}

/// Optional prose: trimmed, empty as none, at most `max` characters, naming known figures only.
fn prose(field: &str, value: Option<String>, max: usize) -> AppResult<Option<String>> {
    let Some(value) = value else { return Ok(None) };
    let value = text::optional(field, &value, max)?;
    if let Some(text) = &value {
        let unknown = unknown_figures(text);
        if !unknown.is_empty() {
            let known: Vec<String> = FIGURES.iter().map(|(n, _)| format!("{{{n}}}")).collect();
            return Err(AppError::bad_input(
                field,
                t!(
                    "bulletin-figure-unknown",
                    names = unknown.join("、"),
                    known = known.join("、")
                ),
            ));
        }
    }
    Ok(value)
}

fn items(field: &str, items: Vec<Paragraph>) -> AppResult<Vec<Paragraph>> {
    if items.len() > MAX_ITEMS {
        return Err(AppError::bad_input(
            field,
            t!("bulletin-too-many-items", max = MAX_ITEMS),
        ));
    }
    items
        .into_iter()
        .map(|p| {
            let title = prose(&format!("{field}.title"), Some(p.title), 200)?;
            let title = title.ok_or_else(|| {
                AppError::bad_input(
                    field,
                    t!(
                        "text-empty",
                        field = crate::i18n::field(&format!("{field}.title"))
                    ),
                )
            })?;
            let content = prose(&format!("{field}.content"), Some(p.content), 5_000)?;
            Ok(Paragraph {
                title,
                content: content.unwrap_or_default(),
            })
        })
        .collect()
}

fn contact(value: Option<Contact>) -> AppResult<Option<Contact>> {
    let Some(value) = value else { return Ok(None) };
    let part = |field: &str, v: Option<String>| -> AppResult<Option<String>> {
        v.map_or(Ok(None), |v| text::optional(field, &v, 300))
    };
    let checked = match value {
        Contact::Text(text) => text::optional("contact", &text, 1_000)?.map(Contact::Text),
        Contact::Parts {
            phone,
            address,
            email,
        } => {
            let parts = Contact::Parts {
                phone: part("contact.phone", phone)?,
                address: part("contact.address", address)?,
                email: part("contact.email", email)?,
            };
            (!parts.text().is_empty()).then_some(parts)
        }
    };
    Ok(checked)
}

/// Section 二's headings as the unit words them: one per feedback heading, each a text.
fn headings(items: Vec<HeadingWording>) -> AppResult<Vec<HeadingWording>> {
    if items.len() > MAX_WORDED {
        return Err(AppError::bad_input(
            "headings",
            t!("bulletin-too-many-items", max = MAX_WORDED),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for h in items {
        if h.category < 1 || !seen.insert(h.category) {
            return Err(AppError::bad_input(
                "headings.category",
                t!("bulletin-heading-number", number = h.category),
            ));
        }
        if let Some(text) = prose("headings.text", Some(h.text), 300)? {
            out.push(HeadingWording {
                category: h.category,
                text,
            });
        }
    }
    Ok(out)
}

/// Section 二's problems as the unit words them: one per finding; a wording that says nothing
/// beyond the ledger is dropped.
fn worded_problems(items: Vec<ProblemWording>) -> AppResult<Vec<ProblemWording>> {
    if items.len() > MAX_WORDED {
        return Err(AppError::bad_input(
            "problems",
            t!("bulletin-too-many-items", max = MAX_WORDED),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for w in items {
        if !seen.insert(w.finding_id) {
            return Err(AppError::bad_input(
                "problems.findingId",
                t!("bulletin-item-twice"),
            ));
        }
        let w = ProblemWording {
            finding_id: w.finding_id,
            title: prose("problems.title", w.title, 500)?,
            intro: prose("problems.intro", w.intro, 5_000)?,
            measures_apart: w.measures_apart,
        };
        if w.title.is_some() || w.intro.is_some() || w.measures_apart {
            out.push(w);
        }
    }
    Ok(out)
}

/// The prose checked: trimmed, bounded, figures known.
pub fn checked(p: Publicity) -> AppResult<Publicity> {
    Ok(Publicity {
        issuer: prose("issuer", p.issuer, 200)?,
        issued_on: p.issued_on.map(|d| text::date("issuedOn", d)).transpose()?,
        deployed_by: prose("deployedBy", p.deployed_by, 100)?,
        unit_short_name: prose("unitShortName", p.unit_short_name, 100)?,
        lead_heading: prose("leadHeading", p.lead_heading, 200)?,
        lead: prose("lead", p.lead, 5_000)?,
        organisational_measures: items("organisationalMeasures", p.organisational_measures)?,
        closing_heading: prose("closingHeading", p.closing_heading, 200)?,
        closing_lead: prose("closingLead", p.closing_lead, 5_000)?,
        closing_commitments: items("closingCommitments", p.closing_commitments)?,
        contact: contact(p.contact)?,
        headings: headings(p.headings)?,
        problems: worded_problems(p.problems)?,
    })
}

/// Replaces an inspection's bulletin prose if the inspection is still at `version` (the unit's
/// managers within their subtree, admins). Bulletins generated before keep what they said.
pub async fn set(
    db: &impl ConnectionTrait,
    who: &Acting,
    inspection_id: i32,
    version: i32,
    content: Publicity,
) -> AppResult<inspection::Model> {
    who.require(Permission::ManageReports)?;
    let current = inspections::get(db, &who.caller, inspection_id).await?;
    scope::require_writable(db, &who.caller, current.unit_id).await?;
    let content = checked(content)?;
    // The problems worded are the inspection's own.
    let ids: Vec<i32> = content.problems.iter().map(|w| w.finding_id).collect();
    if !ids.is_empty() {
        let own = entity::finding::Entity::find()
            .filter(entity::finding::Column::InspectionId.eq(inspection_id))
            .filter(entity::finding::Column::Id.is_in(ids.clone()))
            .count(db)
            .await?;
        if own != ids.len() as u64 {
            return Err(AppError::bad_input(
                "problems.findingId",
                t!("bulletin-item-not-here"),
            ));
        }
    }
    let value = serde_json::to_value(&content).map_err(AppError::internal)?;
    let update = inspection::Entity::update_many()
        .col_expr(inspection::Column::Publicity, Expr::value(value))
        .filter(inspection::Column::ArchivedAt.is_null());
    let updated =
        versioned_update::<inspection::Entity>(db, update, inspection_id, version).await?;
    let record = Record {
        kind: "inspection",
        id: inspection_id,
        department_id: Some(current.unit_id),
    };
    audited(
        db,
        who,
        "inspection.bulletin_content",
        record,
        Some(&current),
        Some(&updated),
    )
    .await?;
    Ok(updated)
}
