//! Loading the RSA private key for key-pair authentication.
//!
//! `snowflake-api` accepts only an unencrypted PKCS#8 PEM string. Keys are
//! often kept encrypted (`BEGIN ENCRYPTED PRIVATE KEY`, as Snowflake's own
//! guide creates them) or in PKCS#1 form (`BEGIN RSA PRIVATE KEY`); both are
//! converted here. A key may come from a file (`private_key_path`) or
//! inline (`private_key`: PEM text or base64 DER, as dbt-snowflake takes
//! it). Error messages name the file but never the passphrase or key
//! material.

use std::path::Path;

use base64::Engine as _;
use pkcs8::der::zeroize::Zeroizing;
use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncryptedPrivateKeyInfo, LineEnding};
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;

use super::config::Secret;

/// Reads `path` and returns the key as unencrypted PKCS#8 PEM.
pub(crate) fn load_private_key_pem(
    path: &Path,
    passphrase: Option<&Secret>,
) -> Result<Zeroizing<String>, String> {
    let shown = path.display();
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read private key file {shown}: {e}"))?,
    );
    private_key_pem_from_str(&text, passphrase).map_err(|e| format!("private key {shown}: {e}"))
}

/// Converts a PEM key (PKCS#8 plain or encrypted, or PKCS#1) to
/// unencrypted PKCS#8 PEM.
pub(crate) fn private_key_pem_from_str(
    pem: &str,
    passphrase: Option<&Secret>,
) -> Result<Zeroizing<String>, String> {
    let key = if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        let (label, der) = pkcs8::der::pem::decode_vec(pem.trim().as_bytes())
            .map_err(|e| format!("not a valid PEM file ({e})"))?;
        let der = Zeroizing::new(der);
        if label != "ENCRYPTED PRIVATE KEY" {
            return Err(format!("unexpected PEM label {label:?}"));
        }
        let info = EncryptedPrivateKeyInfo::try_from(der.as_slice())
            .map_err(|e| format!("not an encrypted PKCS#8 key ({e})"))?;
        decrypt(&info, passphrase)?
    } else if pem.contains("-----BEGIN RSA PRIVATE KEY-----") {
        if pem.contains("Proc-Type: 4,ENCRYPTED") {
            return Err(
                "legacy encrypted PKCS#1 keys are not supported; convert with \
                 `openssl pkcs8 -topk8 -v2 aes256`"
                    .to_owned(),
            );
        }
        RsaPrivateKey::from_pkcs1_pem(pem.trim())
            .map_err(|e| format!("not a valid PKCS#1 RSA key ({e})"))?
    } else if pem.contains("-----BEGIN PRIVATE KEY-----") {
        RsaPrivateKey::from_pkcs8_pem(pem.trim())
            .map_err(|e| format!("not a valid PKCS#8 RSA key ({e})"))?
    } else {
        return Err("not a PEM private key (expected a BEGIN PRIVATE KEY block)".to_owned());
    };
    key.to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| format!("cannot encode the key ({e})"))
}

/// Decrypts an encrypted PKCS#8 key with `passphrase`.
fn decrypt(
    info: &EncryptedPrivateKeyInfo<'_>,
    passphrase: Option<&Secret>,
) -> Result<RsaPrivateKey, String> {
    let passphrase = passphrase
        .filter(|p| !p.is_empty())
        .ok_or("the key is encrypted but no private_key_passphrase is set")?;
    let doc = info
        .decrypt(passphrase.expose())
        .map_err(|_| "cannot decrypt the key: wrong passphrase or unsupported cipher")?;
    RsaPrivateKey::from_pkcs8_der(doc.as_bytes())
        .map_err(|e| format!("decrypted key is not an RSA key ({e})"))
}

/// The `private_key` of a profile as unencrypted PKCS#8 PEM: PEM text
/// (any form [`private_key_pem_from_str`] takes), or, as dbt-snowflake
/// accepts it, the base64 of the DER key (PKCS#8 plain or encrypted, or
/// PKCS#1), whitespace and line breaks allowed.
pub(crate) fn inline_private_key_pem(
    value: &str,
    passphrase: Option<&Secret>,
) -> Result<Zeroizing<String>, String> {
    let value = value.trim();
    if value.starts_with("-----BEGIN") {
        return private_key_pem_from_str(value, passphrase)
            .map_err(|e| format!("private_key: {e}"));
    }
    let compact = Zeroizing::new(
        value
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>(),
    );
    let der = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|_| {
                "private_key is neither a PEM key (-----BEGIN PRIVATE KEY-----) nor the base64 of a DER key".to_owned()
            })?,
    );
    let key = if let Ok(key) = RsaPrivateKey::from_pkcs8_der(&der) {
        key
    } else if let Ok(info) = EncryptedPrivateKeyInfo::try_from(der.as_slice()) {
        decrypt(&info, passphrase).map_err(|e| format!("private_key: {e}"))?
    } else if let Ok(key) = RsaPrivateKey::from_pkcs1_der(&der) {
        key
    } else {
        return Err(
            "private_key is base64 but not of an RSA private key (PKCS#8, encrypted PKCS#8 or PKCS#1 DER)"
                .to_owned(),
        );
    };
    key.to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| format!("cannot encode the key ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::EncodeRsaPrivateKey;

    /// A small key, generated once per test run (never stored).
    fn test_key() -> RsaPrivateKey {
        let mut rng = pkcs8::rand_core::OsRng;
        RsaPrivateKey::new(&mut rng, 1024).expect("generate test key")
    }

    #[test]
    fn converts_all_supported_forms_and_rejects_bad_input() {
        let key = test_key();
        let plain = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        let pkcs1 = key.to_pkcs1_pem(LineEnding::LF).unwrap();
        let pass = Secret::new("correct horse battery");
        // PBKDF2 with few iterations keeps the debug-build test fast; the
        // cipher and KDF are the ones `openssl pkcs8 -topk8 -v2 aes256` uses.
        let params =
            pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(64, &[7u8; 16], &[9u8; 16])
                .unwrap();
        let der = key.to_pkcs8_der().unwrap();
        let info = pkcs8::PrivateKeyInfo::try_from(der.as_bytes()).unwrap();
        let encrypted = info
            .encrypt_with_params(params, pass.expose())
            .unwrap()
            .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
            .unwrap();

        for (pem, pp) in [
            (plain.as_str(), None),
            (pkcs1.as_str(), None),
            (encrypted.as_str(), Some(&pass)),
        ] {
            let out = private_key_pem_from_str(pem, pp).unwrap();
            assert!(out.starts_with("-----BEGIN PRIVATE KEY-----"));
            assert_eq!(RsaPrivateKey::from_pkcs8_pem(&out).unwrap(), key);
        }

        let wrong = Secret::new("wrong passphrase value");
        let err = private_key_pem_from_str(&encrypted, Some(&wrong)).unwrap_err();
        assert!(err.contains("wrong passphrase"), "{err}");
        assert!(!err.contains(wrong.expose()));
        let err = private_key_pem_from_str(&encrypted, None).unwrap_err();
        assert!(err.contains("no private_key_passphrase"), "{err}");
        assert!(private_key_pem_from_str("garbage", None).is_err());
        assert!(private_key_pem_from_str("-----BEGIN PRIVATE KEY-----\n!!\n", None).is_err());

        // Inline, as dbt-snowflake's `private_key`: PEM, or base64 DER.
        let b64 = |der: &[u8]| base64::engine::general_purpose::STANDARD.encode(der);
        let encrypted_der = pkcs8::der::pem::decode_vec(encrypted.as_bytes()).unwrap().1;
        for (value, pp) in [
            (format!("  {}  ", plain.as_str()), None),
            (b64(key.to_pkcs8_der().unwrap().as_bytes()), None),
            (b64(key.to_pkcs1_der().unwrap().as_bytes()), None),
            (b64(&encrypted_der), Some(&pass)),
        ] {
            // Line-wrapped base64 is accepted too.
            let wrapped: String = if value.contains("BEGIN") {
                value
            } else {
                value
                    .as_bytes()
                    .chunks(64)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let out = inline_private_key_pem(&wrapped, pp).unwrap();
            assert_eq!(RsaPrivateKey::from_pkcs8_pem(&out).unwrap(), key);
        }
        let err = inline_private_key_pem(&b64(&encrypted_der), None).unwrap_err();
        assert!(err.contains("no private_key_passphrase"), "{err}");
        let err = inline_private_key_pem("not a key!", None).unwrap_err();
        assert!(err.contains("neither a PEM key"), "{err}");
        let err = inline_private_key_pem(&b64(b"0123456789"), None).unwrap_err();
        assert!(err.contains("not of an RSA private key"), "{err}");
        assert!(!err.contains("MDEy"), "{err}");

        let missing = load_private_key_pem(Path::new("/nonexistent/key.p8"), None).unwrap_err();
        assert!(missing.contains("/nonexistent/key.p8"), "{missing}");
    }
}
