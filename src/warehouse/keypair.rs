//! Loading the RSA private key for key-pair authentication.
//!
//! `snowflake-api` accepts only an unencrypted PKCS#8 PEM string. Keys are
//! often kept encrypted (`BEGIN ENCRYPTED PRIVATE KEY`, as Snowflake's own
//! guide creates them) or in PKCS#1 form (`BEGIN RSA PRIVATE KEY`); both are
//! converted here. Error messages name the file but never the passphrase or
//! key material.

use std::path::Path;

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
        let passphrase = passphrase
            .filter(|p| !p.is_empty())
            .ok_or("the key is encrypted but no private_key_passphrase is set")?;
        let (label, der) = pkcs8::der::pem::decode_vec(pem.trim().as_bytes())
            .map_err(|e| format!("not a valid PEM file ({e})"))?;
        if label != "ENCRYPTED PRIVATE KEY" {
            return Err(format!("unexpected PEM label {label:?}"));
        }
        let info = EncryptedPrivateKeyInfo::try_from(der.as_slice())
            .map_err(|e| format!("not an encrypted PKCS#8 key ({e})"))?;
        let doc = info
            .decrypt(passphrase.expose())
            .map_err(|_| "cannot decrypt the key: wrong passphrase or unsupported cipher")?;
        RsaPrivateKey::from_pkcs8_der(doc.as_bytes())
            .map_err(|e| format!("decrypted key is not an RSA key ({e})"))?
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

        let missing = load_private_key_pem(Path::new("/nonexistent/key.p8"), None).unwrap_err();
        assert!(missing.contains("/nonexistent/key.p8"), "{missing}");
    }
}
