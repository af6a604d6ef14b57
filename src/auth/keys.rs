//! Verification and signing keys, loaded once at start-up.
//!
//! The algorithm a key accepts is fixed by the key's type, never by the token: an HS256
//! secret accepts HS256 only, an RSA key RS256, a P-256 key ES256, an Ed25519 key EdDSA. A
//! token naming any other algorithm for that key (`none`, HS256 against a public key, ...)
//! finds no key and is refused. A JWKS key may narrow this by its own `alg` (an RSA key
//! marked PS256 accepts PS256 only), and only keys meant for signatures are used at all.

use std::path::Path;

use anyhow::{Context, bail, ensure};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use crate::config::{Environment, JwtConfig};

/// A key tokens may be verified with.
pub struct VerifyKey {
    /// Key id: the file name (PEM) or the JWK's `kid`; a token with a `kid` uses only this key.
    pub kid: Option<String>,
    pub key: DecodingKey,
    /// The one algorithm this key accepts.
    pub algorithm: Algorithm,
}

/// The key rectrack signs its own tokens with (`login`, `rectrack token`, dev tokens).
pub struct SigningKey {
    pub key: EncodingKey,
    pub algorithm: Algorithm,
    pub kid: Option<String>,
}

pub struct Keys {
    pub verify: Vec<VerifyKey>,
    pub signing: Option<SigningKey>,
    /// True when the keys were made up at start-up for development.
    pub ephemeral: bool,
}

const MIN_SECRET_BYTES: usize = 32;

impl Keys {
    /// Loads the configured keys. Without any, development gets a random HS256 secret that
    /// lives as long as the process; production refuses to start.
    pub fn load(config: &JwtConfig, environment: Environment) -> anyhow::Result<Self> {
        let mut verify = Vec::new();
        let mut signing = None;

        let secret = match (&config.jwt_secret, &config.jwt_secret_file) {
            (Some(secret), _) => Some(secret.expose().as_bytes().to_vec()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| {
                        format!("reading RECTRACK_JWT_SECRET_FILE {}", path.display())
                    })?
                    .trim_end_matches(['\r', '\n'])
                    .as_bytes()
                    .to_vec(),
            ),
            (None, None) => None,
        };
        if let Some(secret) = &secret {
            ensure!(
                secret.len() >= MIN_SECRET_BYTES,
                "the HS256 secret must have at least {MIN_SECRET_BYTES} bytes"
            );
            verify.push(VerifyKey {
                kid: None,
                key: DecodingKey::from_secret(secret),
                algorithm: Algorithm::HS256,
            });
            signing = Some(SigningKey {
                key: EncodingKey::from_secret(secret),
                algorithm: Algorithm::HS256,
                kid: None,
            });
        }
        for path in &config.jwt_public_key_files {
            verify.push(public_key_from_pem(path)?);
        }
        if let Some(path) = &config.jwt_jwks_file {
            verify.extend(keys_from_jwks(path)?);
        }
        if let Some(path) = &config.jwt_private_key_file {
            signing = Some(private_key_from_pem(
                path,
                config.jwt_private_key_id.clone(),
            )?);
        }

        let mut ephemeral = false;
        if verify.is_empty() {
            if environment == Environment::Production {
                bail!(
                    "no token keys configured: production needs RECTRACK_JWT_SECRET(_FILE), \
                     RECTRACK_JWT_PUBLIC_KEY_FILES or RECTRACK_JWT_JWKS_FILE"
                );
            }
            let mut secret = [0u8; 32];
            getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            verify.push(VerifyKey {
                kid: None,
                key: DecodingKey::from_secret(&secret),
                algorithm: Algorithm::HS256,
            });
            signing = Some(SigningKey {
                key: EncodingKey::from_secret(&secret),
                algorithm: Algorithm::HS256,
                kid: None,
            });
            ephemeral = true;
        }
        Ok(Self {
            verify,
            signing,
            ephemeral,
        })
    }

    /// The keys a token with this header may be checked against.
    pub fn candidates<'a>(
        &'a self,
        algorithm: Algorithm,
        kid: Option<&'a str>,
    ) -> impl Iterator<Item = &'a VerifyKey> + 'a {
        self.verify.iter().filter(move |key| {
            key.algorithm == algorithm
                && match kid {
                    // A token naming a key uses that key, or a key without an id (a shared
                    // secret, which issuers often label).
                    Some(kid) => key.kid.as_deref().is_none_or(|own| own == kid),
                    None => true,
                }
        })
    }
}

fn kid_of(path: &Path) -> Option<String> {
    path.file_stem().map(|s| s.to_string_lossy().into_owned())
}

fn public_key_from_pem(path: &Path) -> anyhow::Result<VerifyKey> {
    let pem =
        std::fs::read(path).with_context(|| format!("reading public key {}", path.display()))?;
    let (key, algorithm) = if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
        (key, Algorithm::RS256)
    } else if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
        (key, Algorithm::ES256)
    } else if let Ok(key) = DecodingKey::from_ed_pem(&pem) {
        (key, Algorithm::EdDSA)
    } else {
        bail!(
            "{} is not an RSA, EC P-256 or Ed25519 public key in PEM",
            path.display()
        );
    };
    Ok(VerifyKey {
        kid: kid_of(path),
        key,
        algorithm,
    })
}

fn private_key_from_pem(path: &Path, kid: Option<String>) -> anyhow::Result<SigningKey> {
    let pem =
        std::fs::read(path).with_context(|| format!("reading private key {}", path.display()))?;
    let (key, algorithm) = if let Ok(key) = EncodingKey::from_rsa_pem(&pem) {
        (key, Algorithm::RS256)
    } else if let Ok(key) = EncodingKey::from_ec_pem(&pem) {
        (key, Algorithm::ES256)
    } else if let Ok(key) = EncodingKey::from_ed_pem(&pem) {
        (key, Algorithm::EdDSA)
    } else {
        bail!(
            "{} is not an RSA, EC P-256 or Ed25519 private key in PEM",
            path.display()
        );
    };
    Ok(SigningKey {
        key,
        algorithm,
        kid: kid.or_else(|| kid_of(path)),
    })
}

/// The keys of a JWKS file that may verify signatures. A key whose `use` is not `sig`, whose
/// `key_ops` leave out `verify`, or whose `alg` is an encryption algorithm is for something
/// else and is left out (identity providers publish their encryption keys in the same set). A
/// key with a signature `alg` accepts that algorithm only, and a signature `alg` its type cannot
/// sign with (ES256 on an RSA key, HS256 on any) stops the start: the file is wrong.
fn keys_from_jwks(path: &Path) -> anyhow::Result<Vec<VerifyKey>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading JWKS {}", path.display()))?;
    let set: JwkSet =
        serde_json::from_str(&text).with_context(|| format!("parsing JWKS {}", path.display()))?;
    let mut keys = Vec::new();
    for jwk in &set.keys {
        let kid = &jwk.common.key_id;
        let for_signatures = matches!(
            jwk.common.public_key_use,
            None | Some(PublicKeyUse::Signature)
        ) && jwk
            .common
            .key_operations
            .as_ref()
            .is_none_or(|ops| ops.contains(&KeyOperations::Verify))
            // An `alg` that is no signature algorithm (RSA-OAEP, ECDH-ES, one jsonwebtoken
            // does not know) marks a key for something else.
            && jwk
                .common
                .key_algorithm
                .is_none_or(|alg| Algorithm::try_from(alg).is_ok());
        if !for_signatures {
            tracing::info!(
                jwks = %path.display(),
                kid = ?kid,
                "a JWKS key not meant for signatures is not used to verify tokens"
            );
            continue;
        }
        let (kind, signs_with): (&str, &[Algorithm]) = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => (
                "RSA",
                &[
                    Algorithm::RS256,
                    Algorithm::RS384,
                    Algorithm::RS512,
                    Algorithm::PS256,
                    Algorithm::PS384,
                    Algorithm::PS512,
                ],
            ),
            AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
                ("EC P-256", &[Algorithm::ES256])
            }
            AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
                ("Ed25519", &[Algorithm::EdDSA])
            }
            _ => bail!(
                "JWKS {}: key {:?} is not RSA, EC P-256 or Ed25519 (shared secrets go in RECTRACK_JWT_SECRET)",
                path.display(),
                kid
            ),
        };
        // Without an `alg`, the one algorithm of the key's type rectrack has always used.
        let algorithm = match jwk.common.key_algorithm {
            None => signs_with[0],
            Some(alg) => match Algorithm::try_from(alg) {
                Ok(algorithm) if signs_with.contains(&algorithm) => algorithm,
                // A signature algorithm of another key type: the file is wrong.
                _ => bail!(
                    "JWKS {}: key {:?} says alg {alg}, which a {kind} key cannot sign with",
                    path.display(),
                    kid
                ),
            },
        };
        let key = DecodingKey::from_jwk(jwk)
            .with_context(|| format!("JWKS {}: key {:?}", path.display(), kid))?;
        keys.push(VerifyKey {
            kid: kid.clone(),
            key,
            algorithm,
        });
    }
    Ok(keys)
}
