//! GenerateMac / VerifyMac (generate-mac / verify-mac): HMAC (RFC 2104) with SHA-2 or SM3.

use hmac_next::{KeyInit, Mac};

use super::key_error::KeyTypeError;
use crate::domain::key_spec::{KeySpec, KeyUsage, MacAlgorithm};

fn check(spec: KeySpec, algorithm: MacAlgorithm) -> Result<(), KeyTypeError> {
    if spec
        .mac_algorithms(KeyUsage::GenerateVerifyMac)
        .contains(&algorithm)
    {
        Ok(())
    } else {
        Err(KeyTypeError::WrongKeyType)
    }
}

/// Runs `$body` with `$mac` bound to an HMAC of `$algorithm`'s hash over `$message`.
macro_rules! with_hmac {
    ($algorithm:expr, $key:expr, $message:expr, |$mac:ident| $body:expr) => {{
        fn keyed<M: KeyInit + Mac>(key: &[u8], message: &[u8]) -> M {
            let mut mac =
                <M as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
            mac.update(message);
            mac
        }
        match $algorithm {
            MacAlgorithm::HmacSha224 => {
                let $mac = keyed::<hmac_next::Hmac<sha2_next::Sha224>>($key, $message);
                $body
            }
            MacAlgorithm::HmacSha256 => {
                let $mac = keyed::<hmac_next::Hmac<sha2_next::Sha256>>($key, $message);
                $body
            }
            MacAlgorithm::HmacSha384 => {
                let $mac = keyed::<hmac_next::Hmac<sha2_next::Sha384>>($key, $message);
                $body
            }
            MacAlgorithm::HmacSha512 => {
                let $mac = keyed::<hmac_next::Hmac<sha2_next::Sha512>>($key, $message);
                $body
            }
            MacAlgorithm::HmacSm3 => {
                let $mac = keyed::<hmac_next::Hmac<sm3::Sm3>>($key, $message);
                $body
            }
        }
    }};
}

pub fn generate_mac(
    spec: KeySpec,
    key: &[u8],
    algorithm: MacAlgorithm,
    message: &[u8],
) -> Result<Vec<u8>, KeyTypeError> {
    check(spec, algorithm)?;
    Ok(with_hmac!(algorithm, key, message, |mac| mac
        .finalize()
        .into_bytes()
        .to_vec()))
}

/// Compares in constant time (`Mac::verify_slice`), so the time taken does not tell a
/// caller how many leading bytes of a forged MAC were right.
pub fn verify_mac(
    spec: KeySpec,
    key: &[u8],
    algorithm: MacAlgorithm,
    message: &[u8],
    mac: &[u8],
) -> Result<(), KeyTypeError> {
    check(spec, algorithm)?;
    with_hmac!(algorithm, key, message, |computed| computed
        .verify_slice(mac))
    .map_err(|_| KeyTypeError::InvalidMac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4231_test_case_2() {
        // Key "Jefe", data "what do ya want for nothing?".
        let key = b"Jefe";
        let data = b"what do ya want for nothing?";
        let expect = |spec, algorithm, hex: &str| {
            let mac = generate_mac(spec, key, algorithm, data).unwrap();
            assert_eq!(crate::hex::lower(&mac), hex, "{algorithm:?}");
            verify_mac(spec, key, algorithm, data, &mac).unwrap();
        };
        expect(
            KeySpec::Hmac224,
            MacAlgorithm::HmacSha224,
            "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
        );
        expect(
            KeySpec::Hmac256,
            MacAlgorithm::HmacSha256,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        );
        expect(
            KeySpec::Hmac384,
            MacAlgorithm::HmacSha384,
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
        );
        expect(
            KeySpec::Hmac512,
            MacAlgorithm::HmacSha512,
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
        );
    }

    #[test]
    fn hmac_sm3_matches_openssl() {
        // Expected value from OpenSSL 3.0 (Python: hmac.new(b"\x0b" * 20, b"Hi There", "sm3")).
        let key = [0x0b_u8; 20];
        let mac = generate_mac(KeySpec::HmacSm3, &key, MacAlgorithm::HmacSm3, b"Hi There").unwrap();
        assert_eq!(
            crate::hex::lower(&mac),
            "51b00d1fb49832bfb01c3ce27848e59f871d9ba938dc563b338ca964755cce70"
        );
        verify_mac(
            KeySpec::HmacSm3,
            &key,
            MacAlgorithm::HmacSm3,
            b"Hi There",
            &mac,
        )
        .unwrap();
    }

    #[test]
    fn wrong_macs_messages_keys_and_algorithms_fail() {
        let key = [7_u8; 32];
        let mac = generate_mac(KeySpec::Hmac256, &key, MacAlgorithm::HmacSha256, b"m").unwrap();
        assert_eq!(
            verify_mac(KeySpec::Hmac256, &key, MacAlgorithm::HmacSha256, b"n", &mac),
            Err(KeyTypeError::InvalidMac)
        );
        assert_eq!(
            verify_mac(
                KeySpec::Hmac256,
                &[8; 32],
                MacAlgorithm::HmacSha256,
                b"m",
                &mac
            ),
            Err(KeyTypeError::InvalidMac)
        );
        assert_eq!(
            verify_mac(
                KeySpec::Hmac256,
                &key,
                MacAlgorithm::HmacSha256,
                b"m",
                &mac[..31]
            ),
            Err(KeyTypeError::InvalidMac)
        );
        assert_eq!(
            verify_mac(KeySpec::Hmac256, &key, MacAlgorithm::HmacSha256, b"m", b""),
            Err(KeyTypeError::InvalidMac)
        );
        assert_eq!(
            generate_mac(KeySpec::Hmac256, &key, MacAlgorithm::HmacSha512, b"m"),
            Err(KeyTypeError::WrongKeyType)
        );
        assert_eq!(
            generate_mac(KeySpec::Aes256, &key, MacAlgorithm::HmacSha256, b"m"),
            Err(KeyTypeError::WrongKeyType)
        );
    }
}
