//! A peer's signatures: the public key it registers, read from its text, and a signature of
//! it checked. What a peer may be registered with (`exchange::register`) and what every bundle,
//! acknowledgement and pull from it is checked by; signing is the instance's own
//! (`crate::exchange::identity`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};

/// A peer's public key from its base64 text; `None` when it is not one.
pub fn public_key(text: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = STANDARD.decode(text.trim()).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// Whether `signature` (base64) is `key`'s over `message`.
pub fn verify(key: &VerifyingKey, message: &[u8], signature: &str) -> bool {
    let Some(bytes) = STANDARD
        .decode(signature.trim())
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
    else {
        return false;
    };
    // Strict: weak keys and malleable signatures are refused.
    key.verify_strict(message, &Signature::from_bytes(&bytes))
        .is_ok()
}
