//! The unit's side of an acknowledgement: the office's import answers a signed
//! acknowledgement (the bundle number it merged, and the unit's chain as it now holds it);
//! recorded here, it moves the peer's `acked_sequence` / `acked_event_id`, so the next bundle
//! carries only what changed after that event. Checked first: signed by the registered peer
//! with the registered key, addressed to this instance, for a bundle that was written, and
//! naming an event of this instance's chain with its true hash.

use sea_orm::{DatabaseConnection, TransactionTrait};

use super::identity::Identity;
use super::import::{ACK_FORMAT, Acknowledgement};
use crate::auth::Permission;
use crate::domain::Acting;
use crate::domain::integration::decisions;
use crate::domain::integration::exchange as peers;
use crate::domain::integration::signature;
use crate::domain::records::change::{Record, audited};
use crate::error::{AppError, AppResult, codes};

/// Whether the acknowledgement moved the peer's acknowledged position (false: it was not
/// newer than the one recorded).
pub async fn record(
    db: &DatabaseConnection,
    who: &Acting,
    me: &Identity,
    ack: &Acknowledgement,
) -> AppResult<bool> {
    who.require(Permission::ManageExchange)?;
    let refused = |code: &'static str, message: String| AppError::Request { code, message };
    if ack.format != ACK_FORMAT {
        return Err(refused(
            codes::BUNDLE_UNSUPPORTED,
            t!(
                "exchange-bundle-unsupported",
                version = ack.format.as_str(),
                supported = ACK_FORMAT
            ),
        ));
    }
    if ack.to != me.instance_id {
        return Err(refused(
            codes::BUNDLE_MISADDRESSED,
            t!("exchange-bundle-misaddressed", to = ack.to.as_str()),
        ));
    }
    let txn = db.begin().await?;
    let peer = peers::sender(&txn, &ack.from).await?.ok_or_else(|| {
        refused(
            codes::BUNDLE_UNKNOWN_SENDER,
            t!("exchange-bundle-unknown-sender", from = ack.from.as_str()),
        )
    })?;
    let key = signature::public_key(&peer.public_key)
        .ok_or_else(|| AppError::internal("a registered key does not parse"))?;
    if !signature::verify(&key, &ack.signed_bytes(), &ack.signature) {
        return Err(refused(
            codes::BUNDLE_BAD_SIGNATURE,
            t!("exchange-bundle-bad-signature", name = peer.name.as_str()),
        ));
    }
    // It must name a bundle written to that peer and an event of this chain as it is.
    let true_hash = crate::audit::holds(&txn, ack.last_event_id, &ack.last_hash).await?;
    if ack.sequence < 1 || ack.sequence > peer.sent_sequence || !true_hash {
        return Err(refused(
            codes::BUNDLE_OUT_OF_SEQUENCE,
            t!(
                "exchange-ack-unknown",
                sequence = ack.sequence.to_string(),
                event = ack.last_event_id.to_string()
            ),
        ));
    }
    let moved =
        peers::acknowledged(&txn, &peer, ack.sequence, ack.last_event_id, who.now()).await?;
    if moved {
        let after = serde_json::json!({
            "peer": peer.instance_id,
            "ackedSequence": ack.sequence,
            "ackedEventId": ack.last_event_id,
        });
        audited(
            &txn,
            who,
            "exchange.ack",
            Record {
                kind: "exchange_peer",
                id: peer.id,
                department_id: Some(peer.department_id),
            },
            None,
            Some(&after),
        )
        .await?;
    }
    // The unit's answers to the office's decisions (recorded once each, whatever the order in
    // which acknowledgements arrive).
    let answered = decisions::answered(&txn, who, &peer, &ack.decisions).await?;
    crate::db::commit(db, txn).await?;
    Ok(moved || answered > 0)
}
