//! Personal data at rest: AES-256-GCM for the value, a keyed blind index (HMAC-SHA-256) so
//! exact lookup and de-duplication work without decrypting, and keyed digests for the audit
//! log's before/after fields. All three keys derive from one 32-byte data key.

use aes_gcm::{
    Aes256Gcm, Key, Nonce,
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

const VERSION: u8 = 1;

/// Which field a sealed value belongs to; bound into the ciphertext (AAD) and the blind
/// index, so a phone cannot be passed off as an ID number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    IdNumber,
    IdLast4,
    Phone,
}

impl Field {
    fn label(self) -> &'static [u8] {
        match self {
            Field::IdNumber => b"person.id_number",
            Field::IdLast4 => b"person.id_number.last4",
            Field::Phone => b"person.phone",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("数据密钥应为32字节：64位十六进制或Base64编码")]
    BadKey,
}

/// The keys, derived once at start-up. Debug never prints them.
#[derive(Clone)]
pub struct Vault {
    cipher: Aes256Gcm,
    bidx_key: Zeroizing<[u8; 32]>,
    digest_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("数据解密失败：密钥不匹配或数据已损坏")]
pub struct OpenError;

fn hmac(key: &[u8]) -> HmacSha256 {
    <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes keys of any length")
}

fn derive(master: &[u8; 32], label: &[u8]) -> Zeroizing<[u8; 32]> {
    // HMAC as a PRF: one derived key per purpose.
    let mut mac = hmac(master);
    mac.update(label);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

impl Vault {
    pub fn new(master: &[u8; 32]) -> Vault {
        let enc = derive(master, b"yinling/enc/v1");
        Vault {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&enc[..])),
            bidx_key: derive(master, b"yinling/bidx/v1"),
            digest_key: derive(master, b"yinling/digest/v1"),
        }
    }

    /// Parses a key given as 64 hex characters or standard Base64 of 32 bytes.
    pub fn parse_key(text: &str) -> Result<Zeroizing<[u8; 32]>, KeyError> {
        use base64::Engine;
        let text = text.trim();
        let bytes = if text.len() == 64 {
            hex::decode(text).map_err(|_| KeyError::BadKey)?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| KeyError::BadKey)?
        };
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::BadKey)?;
        Ok(Zeroizing::new(arr))
    }

    /// A new random key, hex-encoded (for `yinling` to write a key file).
    pub fn generate_key_hex() -> String {
        use rand::RngCore;
        let mut k = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut k[..]);
        hex::encode(&k[..])
    }

    /// Encrypts: version byte, 12-byte random nonce, ciphertext with tag.
    pub fn seal(&self, field: Field, plain: &str) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ct = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain.as_bytes(),
                    aad: field.label(),
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + 12 + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn open(&self, field: Field, sealed: &[u8]) -> Result<String, OpenError> {
        if sealed.len() < 1 + 12 + 16 || sealed[0] != VERSION {
            return Err(OpenError);
        }
        let nonce = Nonce::from_slice(&sealed[1..13]);
        let plain = self
            .cipher
            .decrypt(
                nonce,
                Payload {
                    msg: &sealed[13..],
                    aad: field.label(),
                },
            )
            .map_err(|_| OpenError)?;
        String::from_utf8(plain).map_err(|_| OpenError)
    }

    /// Keyed blind index of a normalised value: equal inputs give equal indexes; without the
    /// key the index reveals nothing, not even for the 10,000 possible last-four digits.
    pub fn blind_index(&self, field: Field, normalised: &str) -> Vec<u8> {
        let mut mac = hmac(&self.bidx_key[..]);
        mac.update(field.label());
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        mac.finalize().into_bytes()[..16].to_vec()
    }

    /// Keyed digest of a record's state, for the audit log's before/after columns.
    pub fn digest(&self, canonical: &str) -> String {
        let mut mac = hmac(&self.digest_key[..]);
        mac.update(canonical.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::new(&[7u8; 32])
    }

    #[test]
    fn seal_then_open_round_trips_and_differs_each_time() {
        let v = vault();
        let a = v.seal(Field::IdNumber, "37083019500101123X");
        let b = v.seal(Field::IdNumber, "37083019500101123X");
        assert_ne!(a, b, "random nonce");
        assert!(
            !a.windows(4).any(|w| w == b"3708"),
            "no plaintext in ciphertext"
        );
        assert_eq!(v.open(Field::IdNumber, &a).unwrap(), "37083019500101123X");
    }

    #[test]
    fn wrong_field_or_key_or_tamper_fails() {
        let v = vault();
        let sealed = v.seal(Field::Phone, "13812345678");
        assert!(v.open(Field::IdNumber, &sealed).is_err());
        assert!(Vault::new(&[8u8; 32]).open(Field::Phone, &sealed).is_err());
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(v.open(Field::Phone, &tampered).is_err());
    }

    #[test]
    fn blind_index_is_deterministic_and_field_bound() {
        let v = vault();
        assert_eq!(
            v.blind_index(Field::Phone, "13812345678"),
            v.blind_index(Field::Phone, "13812345678")
        );
        assert_ne!(
            v.blind_index(Field::Phone, "13812345678"),
            v.blind_index(Field::IdNumber, "13812345678")
        );
        assert_ne!(
            v.blind_index(Field::IdLast4, "1234"),
            Vault::new(&[8u8; 32]).blind_index(Field::IdLast4, "1234")
        );
    }

    #[test]
    fn keys_parse_from_hex_or_base64() {
        let hex_key = "00".repeat(32);
        assert!(Vault::parse_key(&hex_key).is_ok());
        assert!(Vault::parse_key("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_ok());
        assert_eq!(Vault::parse_key("short").err(), Some(KeyError::BadKey));
        assert_eq!(Vault::generate_key_hex().len(), 64);
    }
}
