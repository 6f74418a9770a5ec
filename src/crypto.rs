//! Real cryptography: AES-256-GCM for key material, AES-256-GCM or SM4-GCM (as the key's
//! spec says) for data and data keys.
//!
//! Key material is wrapped under a master key. Ciphertexts handed to clients are
//! framed like the ones in Huawei's documentation (spec §8.8): a header, the sealed
//! data, then the 36-character key ID, so decrypt-data can find the key from the
//! ciphertext alone. Clients treat the frame as opaque.

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm, Nonce};
use sha2::{Digest, Sha256};

use crate::domain::KeyId;
use crate::domain::key_spec::{HashAlgorithm, SymmetricCipher};

/// SM4 in GCM with a 96-bit nonce and a 128-bit tag: the same construction as AES-GCM
/// with the SM4 block cipher (GB/T 36624 and RFC 8998 describe SM4-GCM this way).
type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

pub mod asymmetric_encryption;
pub mod encapsulation;
pub mod key_agreement;
pub mod key_error;
pub mod key_import;
pub mod key_material;
pub mod mac;
pub mod signing;

pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;
const FRAME_MAGIC: [u8; 2] = [0x02, 0x00];
const KEY_ID_BYTES: usize = 36;
const TRAILER_BYTES: usize = 32;

/// Why a ciphertext could not be opened. Deliberately coarse: callers learn only
/// that it is not a ciphertext this service can open with the given context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unopenable;

pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
}

/// The master key that wraps every key's material. Never printed.
#[derive(Clone)]
pub struct MasterKey([u8; KEY_BYTES]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    pub fn generate() -> Self {
        Self(random_bytes(KEY_BYTES).try_into().expect("32 bytes"))
    }

    /// 64 hexadecimal characters.
    pub fn from_hex(text: &str) -> Result<Self, String> {
        crate::hex::decode(text.trim())
            .and_then(|bytes| <[u8; KEY_BYTES]>::try_from(bytes).ok())
            .map(Self)
            .ok_or_else(|| "the master key must be 64 hexadecimal characters (32 bytes)".to_owned())
    }

    pub fn to_hex(&self) -> String {
        crate::hex::lower(&self.0)
    }

    /// The key of the audit trail's hash chain: HMAC-SHA256 of the master key under a label,
    /// so the chain key reveals nothing of the key wrapping key material.
    pub fn audit_chain_key(&self) -> crate::domain::ChainKey {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length");
        mac.update(b"kms-emulator audit chain key v1");
        crate::domain::ChainKey::Keyed(mac.finalize().into_bytes().into())
    }

    /// Wraps new key material for `key_id`.
    pub fn wrap(&self, key_id: &KeyId, material: &[u8]) -> Vec<u8> {
        seal(&self.0, material, key_id.as_str().as_bytes())
    }

    pub fn unwrap(&self, key_id: &KeyId, wrapped: &[u8]) -> Result<Vec<u8>, Unopenable> {
        open(&self.0, wrapped, key_id.as_str().as_bytes())
    }

    /// Wraps the material of version `version` (1, 2, ...) of a key: bound to the key and
    /// the version, so a stored version can be neither moved to another key nor renumbered.
    /// Version 0, the key's first material, is wrapped by [`MasterKey::wrap`].
    pub fn wrap_version(&self, key_id: &KeyId, version: u32, material: &[u8]) -> Vec<u8> {
        seal(&self.0, material, &version_aad(key_id, version))
    }

    pub fn unwrap_version(
        &self,
        key_id: &KeyId,
        version: u32,
        wrapped: &[u8],
    ) -> Result<Vec<u8>, Unopenable> {
        if version == 0 {
            return self.unwrap(key_id, wrapped);
        }
        open(&self.0, wrapped, &version_aad(key_id, version))
    }
}

fn version_aad(key_id: &KeyId, version: u32) -> Vec<u8> {
    format!("{key_id}#v{version}").into_bytes()
}

/// nonce || ciphertext || tag, under AES-256-GCM (the master key's cipher).
fn seal(key: &[u8], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    seal_with(SymmetricCipher::Aes256Gcm, key, plaintext, aad)
}

fn open(key: &[u8], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, Unopenable> {
    open_with(SymmetricCipher::Aes256Gcm, key, sealed, aad)
}

/// nonce || ciphertext || tag under `cipher`. The key must have the cipher's length
/// (the material of a key of that spec always has).
fn seal_with(cipher: SymmetricCipher, key: &[u8], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let nonce: [u8; NONCE_BYTES] = random_bytes(NONCE_BYTES).try_into().expect("12 bytes");
    let payload = Payload {
        msg: plaintext,
        aad,
    };
    let sealed = match cipher {
        SymmetricCipher::Aes256Gcm => Aes256Gcm::new_from_slice(key)
            .expect("a 32-byte AES-256 key")
            .encrypt(&Nonce::from(nonce), payload),
        SymmetricCipher::Sm4Gcm => Sm4Gcm::new_from_slice(key)
            .expect("a 16-byte SM4 key")
            .encrypt(&Nonce::from(nonce), payload),
    }
    .expect("GCM encryption of in-memory data cannot fail");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    out
}

fn open_with(
    cipher: SymmetricCipher,
    key: &[u8],
    sealed: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, Unopenable> {
    if sealed.len() < NONCE_BYTES + TAG_BYTES {
        return Err(Unopenable);
    }
    let (nonce, body) = sealed.split_at(NONCE_BYTES);
    let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| Unopenable)?;
    let payload = Payload { msg: body, aad };
    match cipher {
        SymmetricCipher::Aes256Gcm => Aes256Gcm::new_from_slice(key)
            .map_err(|_| Unopenable)?
            .decrypt(&Nonce::from(nonce), payload),
        SymmetricCipher::Sm4Gcm => Sm4Gcm::new_from_slice(key)
            .map_err(|_| Unopenable)?
            .decrypt(&Nonce::from(nonce), payload),
    }
    .map_err(|_| Unopenable)
}

/// Binds a ciphertext to its key and to the caller's additional data, so neither can
/// be swapped without decryption failing.
fn associated_data(key_id: &KeyId, context: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(KEY_ID_BYTES + 1 + context.len());
    aad.extend_from_slice(key_id.as_str().as_bytes());
    aad.push(0);
    aad.extend_from_slice(context);
    aad
}

/// Encrypts `plaintext` under a key's material into a client-facing frame:
/// magic(2) | length(2, BE, = bytes up to and including the key ID) | nonce | ciphertext+tag |
/// key ID(36) | material version(4, BE) | SHA-256 of everything before it(32).
///
/// The version field was written as 0000 before keys could rotate: those frames name
/// version 0, the key's first material, which every key keeps.
///
/// The frame does not name its cipher: the key it names does (its spec, fixed at
/// creation), so decryption uses the cipher of the key's spec and never guesses.
#[cfg(test)]
pub fn encrypt_framed(
    key_id: &KeyId,
    material: &[u8],
    plaintext: &[u8],
    context: &[u8],
) -> Vec<u8> {
    encrypt_framed_version(
        SymmetricCipher::Aes256Gcm,
        key_id,
        0,
        material,
        plaintext,
        context,
    )
}

/// As [`encrypt_framed`], under `cipher` (the key spec's), with the material of version
/// `version` of the key.
pub fn encrypt_framed_version(
    cipher: SymmetricCipher,
    key_id: &KeyId,
    version: u32,
    material: &[u8],
    plaintext: &[u8],
    context: &[u8],
) -> Vec<u8> {
    let sealed = seal_with(
        cipher,
        material,
        plaintext,
        &associated_data(key_id, context),
    );
    let mut frame = Vec::with_capacity(4 + sealed.len() + KEY_ID_BYTES + 4 + TRAILER_BYTES);
    frame.extend_from_slice(&FRAME_MAGIC);
    let length = (4 + sealed.len() + KEY_ID_BYTES) as u16;
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(&sealed);
    frame.extend_from_slice(key_id.as_str().as_bytes());
    frame.extend_from_slice(&version.to_be_bytes());
    let digest = Sha256::digest(&frame);
    frame.extend_from_slice(&digest);
    frame
}

/// The key a frame names, without decrypting it.
pub fn framed_key_id(frame: &[u8]) -> Result<KeyId, Unopenable> {
    let (_, key_id) = split_frame(frame)?;
    Ok(key_id)
}

/// The key and the version of its material a frame names, without decrypting it.
pub fn framed_key_version(frame: &[u8]) -> Result<(KeyId, u32), Unopenable> {
    let (sealed, key_id) = split_frame(frame)?;
    // split_frame checked the layout: the version follows the sealed data and the key ID.
    let at = 4 + sealed.len() + KEY_ID_BYTES;
    let version = u32::from_be_bytes(frame[at..at + 4].try_into().map_err(|_| Unopenable)?);
    Ok((key_id, version))
}

fn split_frame(frame: &[u8]) -> Result<(&[u8], KeyId), Unopenable> {
    let min = 4 + NONCE_BYTES + TAG_BYTES + KEY_ID_BYTES + 4 + TRAILER_BYTES;
    if frame.len() < min || frame[..2] != FRAME_MAGIC {
        return Err(Unopenable);
    }
    let length = usize::from(u16::from_be_bytes([frame[2], frame[3]]));
    if length + 4 + TRAILER_BYTES != frame.len() {
        return Err(Unopenable);
    }
    // The checksum catches damage before the key is even looked up, so a mangled
    // frame is reported as a bad ciphertext rather than as some other key.
    let (framed, trailer) = frame.split_at(frame.len() - TRAILER_BYTES);
    if Sha256::digest(framed)[..] != *trailer {
        return Err(Unopenable);
    }
    let key_id_bytes = &frame[length - KEY_ID_BYTES..length];
    let key_id = std::str::from_utf8(key_id_bytes)
        .ok()
        .and_then(|s| KeyId::parse(s).ok())
        .ok_or(Unopenable)?;
    Ok((&frame[4..length - KEY_ID_BYTES], key_id))
}

/// Decrypts a frame made by `encrypt_framed_version` for `key_id` with the same cipher
/// and context.
pub fn decrypt_framed(
    cipher: SymmetricCipher,
    key_id: &KeyId,
    material: &[u8],
    frame: &[u8],
    context: &[u8],
) -> Result<Vec<u8>, Unopenable> {
    let (sealed, framed_key) = split_frame(frame)?;
    // A frame names the key as clients do: a multi-Region key's shared ID, whichever
    // region's row opens it.
    if framed_key.as_str() != key_id.as_str() {
        return Err(Unopenable);
    }
    open_with(cipher, material, sealed, &associated_data(key_id, context))
}

/// The additional data for an AWS encryption context: the same bytes the Huawei
/// dialect makes from an `encryption_context` object (`\0ctx:` and the JSON with keys
/// in order), so a ciphertext made in one dialect opens in the other with the same
/// context. An empty context is no context, as in AWS.
pub fn context_bytes_of_map(context: &std::collections::BTreeMap<String, String>) -> Vec<u8> {
    if context.is_empty() {
        return Vec::new();
    }
    let mut bytes = b"\0ctx:".to_vec();
    bytes.extend_from_slice(
        serde_json::to_string(context)
            .expect("a map of strings serializes")
            .as_bytes(),
    );
    bytes
}

/// The encryption context in `context` additional data, when it is one: empty data is
/// the empty context, `\0ctx:` + a JSON object of strings is that object. Anything else
/// (a Huawei `additional_authenticated_data` string, non-string values) is `None`,
/// which no grant constraint accepts.
pub fn context_map_of_bytes(context: &[u8]) -> Option<std::collections::BTreeMap<String, String>> {
    if context.is_empty() {
        return Some(Default::default());
    }
    let json = context.strip_prefix(b"\0ctx:")?;
    serde_json::from_slice(json).ok()
}

/// Domain separation: a grant token can never be mistaken for wrapped key material.
const GRANT_TOKEN_AAD: &[u8] = b"kms-emulator grant token v1";

/// An AWS grant token: grant ID (32 bytes) and key ID sealed under the master key,
/// Base64url. A fresh nonce makes every token different, even for one grant.
pub fn seal_grant_token(
    master: &MasterKey,
    key_id: &KeyId,
    grant_id: &crate::domain::GrantId,
) -> String {
    use base64::Engine;
    let mut payload = crate::hex::decode(grant_id.as_str()).expect("a grant ID is 64 hex digits");
    payload.extend_from_slice(key_id.as_str().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(seal(
        &master.0,
        &payload,
        GRANT_TOKEN_AAD,
    ))
}

/// The key and grant a token names, when this master key sealed it.
pub fn open_grant_token(
    master: &MasterKey,
    token: &str,
) -> Option<(KeyId, crate::domain::GrantId)> {
    use base64::Engine;
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let payload = open(&master.0, &sealed, GRANT_TOKEN_AAD).ok()?;
    if payload.len() != 32 + KEY_ID_BYTES {
        return None;
    }
    let grant_id = crate::domain::GrantId::parse(&crate::hex::lower(&payload[..32])).ok()?;
    let key_id = KeyId::parse(std::str::from_utf8(&payload[32..]).ok()?).ok()?;
    Some((key_id, grant_id))
}

pub fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// The digest of `data` under `hash`, for the hashes data keys are checked with
/// (SHA-256, and SM3 for SM4 keys); `None` for the others.
pub fn digest(hash: HashAlgorithm, data: &[u8]) -> Option<Vec<u8>> {
    match hash {
        HashAlgorithm::Sha256 => Some(sha256(data)),
        HashAlgorithm::Sm3 => {
            use sm3::Digest as _;
            Some(sm3::Sm3::digest(data).to_vec())
        }
        _ => None,
    }
}

/// Lower-case hex SHA-256, as both request signatures and token storage write it.
pub fn sha256_hex(data: &[u8]) -> String {
    crate::hex::lower(&Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    const AES: SymmetricCipher = SymmetricCipher::Aes256Gcm;

    #[test]
    fn sm4_gcm_frames_round_trip_and_do_not_open_as_aes() {
        let material = random_bytes(16);
        let frame = encrypt_framed_version(
            SymmetricCipher::Sm4Gcm,
            &key_id(),
            2,
            &material,
            b"hello",
            b"ctx",
        );
        assert_eq!(framed_key_version(&frame).unwrap(), (key_id(), 2));
        assert_eq!(
            decrypt_framed(
                SymmetricCipher::Sm4Gcm,
                &key_id(),
                &material,
                &frame,
                b"ctx"
            )
            .unwrap(),
            b"hello"
        );
        assert_eq!(
            decrypt_framed(SymmetricCipher::Sm4Gcm, &key_id(), &material, &frame, b"x"),
            Err(Unopenable)
        );
        // The wrong cipher, even with a key of its length, is an unopenable ciphertext.
        assert_eq!(
            decrypt_framed(AES, &key_id(), &material, &frame, b"ctx"),
            Err(Unopenable)
        );
        let mut doubled = material.clone();
        doubled.extend_from_slice(&material);
        assert_eq!(
            decrypt_framed(AES, &key_id(), &doubled, &frame, b"ctx"),
            Err(Unopenable)
        );
    }

    #[test]
    fn sm4_gcm_matches_a_published_vector() {
        // RFC 8998 Appendix A.1, SM4-GCM.
        let key = crate::hex::decode("0123456789ABCDEFFEDCBA9876543210").unwrap();
        let nonce = crate::hex::decode("00001234567800000000ABCD").unwrap();
        let aad = crate::hex::decode("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2").unwrap();
        let plaintext = crate::hex::decode(concat!(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
            "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
        ))
        .unwrap();
        let mut sealed = nonce.clone();
        sealed.extend_from_slice(
            &Sm4Gcm::new_from_slice(&key)
                .unwrap()
                .encrypt(
                    &Nonce::from(<[u8; NONCE_BYTES]>::try_from(nonce.as_slice()).unwrap()),
                    Payload {
                        msg: &plaintext,
                        aad: &aad,
                    },
                )
                .unwrap(),
        );
        assert_eq!(
            crate::hex::upper(&sealed[NONCE_BYTES..]),
            concat!(
                "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735",
                "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
                "83DE3541E4C2B58177E065A9BF7B62EC"
            )
        );
        assert_eq!(
            open_with(SymmetricCipher::Sm4Gcm, &key, &sealed, &aad).unwrap(),
            plaintext
        );
    }

    #[test]
    fn data_key_digests_are_sha256_or_sm3() {
        assert_eq!(
            crate::hex::lower(&digest(HashAlgorithm::Sm3, b"abc").unwrap()),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_eq!(
            digest(HashAlgorithm::Sha256, b"abc").unwrap(),
            sha256(b"abc")
        );
        assert_eq!(digest(HashAlgorithm::Sha1, b"abc"), None);
    }

    #[test]
    fn grant_tokens_are_fresh_opaque_and_unforgeable() {
        let master = MasterKey::generate();
        let key_id = KeyId::generate();
        let grant_id = crate::domain::GrantId::generate();
        let a = seal_grant_token(&master, &key_id, &grant_id);
        let b = seal_grant_token(&master, &key_id, &grant_id);
        assert_ne!(a, b);
        assert!(!a.contains(grant_id.as_str()));
        assert_eq!(
            open_grant_token(&master, &a),
            Some((key_id.clone(), grant_id.clone()))
        );
        assert_eq!(open_grant_token(&MasterKey::generate(), &a), None);
        let mut tampered = a.clone().into_bytes();
        tampered[10] = if tampered[10] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            open_grant_token(&master, &String::from_utf8(tampered).unwrap()),
            None
        );
        assert_eq!(open_grant_token(&master, "not a token!"), None);
        assert_eq!(open_grant_token(&master, ""), None);
    }

    #[test]
    fn aws_contexts_match_the_huawei_encryption_context_bytes() {
        let map: std::collections::BTreeMap<String, String> = [
            ("b".to_string(), "2".to_string()),
            ("a".to_string(), "1".to_string()),
        ]
        .into();
        assert_eq!(
            context_bytes_of_map(&map),
            b"\0ctx:{\"a\":\"1\",\"b\":\"2\"}".to_vec()
        );
        assert!(context_bytes_of_map(&Default::default()).is_empty());
        assert_eq!(context_map_of_bytes(&context_bytes_of_map(&map)), Some(map));
        assert_eq!(context_map_of_bytes(b"aad:x"), None);
        assert_eq!(context_map_of_bytes(b"\0ctx:{\"a\":1}"), None);
    }

    fn key_id() -> KeyId {
        KeyId::parse("0d0466b0-e727-4d9c-b35d-f84bb474a37f").unwrap()
    }

    #[test]
    fn frames_round_trip_and_name_their_key() {
        let material = random_bytes(KEY_BYTES);
        let frame = encrypt_framed(&key_id(), &material, b"hello", b"ctx");
        assert_eq!(framed_key_id(&frame).unwrap(), key_id());
        assert_eq!(
            decrypt_framed(AES, &key_id(), &material, &frame, b"ctx").unwrap(),
            b"hello"
        );
    }

    #[test]
    fn frames_name_their_material_version_and_old_frames_are_version_0() {
        let material = random_bytes(KEY_BYTES);
        let old = encrypt_framed(&key_id(), &material, b"old", b"");
        assert_eq!(framed_key_version(&old).unwrap(), (key_id(), 0));
        let new = encrypt_framed_version(AES, &key_id(), 7, &material, b"new", b"");
        assert_eq!(framed_key_version(&new).unwrap(), (key_id(), 7));
        assert_eq!(
            decrypt_framed(AES, &key_id(), &material, &new, b"").unwrap(),
            b"new"
        );
        let master = MasterKey::generate();
        let wrapped = master.wrap_version(&key_id(), 3, b"m3");
        assert_eq!(
            master.unwrap_version(&key_id(), 3, &wrapped).unwrap(),
            b"m3"
        );
        assert!(master.unwrap_version(&key_id(), 2, &wrapped).is_err());
        assert!(master.unwrap_version(&key_id(), 0, &wrapped).is_err());
        let first = master.wrap(&key_id(), b"m0");
        assert_eq!(master.unwrap_version(&key_id(), 0, &first).unwrap(), b"m0");
    }

    #[test]
    fn the_shortest_frame_still_meets_the_documented_minimum_length() {
        let frame = encrypt_framed(&key_id(), &random_bytes(KEY_BYTES), b"x", b"");
        // decrypt-data's cipher_text is ^[0-9a-zA-Z+/=]{128,5648}$ in Base64.
        assert!(frame.len().div_ceil(3) * 4 >= 128, "{}", frame.len());
    }

    #[test]
    fn tampering_wrong_context_or_wrong_key_fail() {
        let material = random_bytes(KEY_BYTES);
        let frame = encrypt_framed(&key_id(), &material, b"secret", b"ctx");
        assert_eq!(
            decrypt_framed(AES, &key_id(), &material, &frame, b"other"),
            Err(Unopenable)
        );
        assert_eq!(
            decrypt_framed(AES, &key_id(), &random_bytes(KEY_BYTES), &frame, b"ctx"),
            Err(Unopenable)
        );
        for i in 0..frame.len() {
            let mut bad = frame.clone();
            bad[i] ^= 0x01;
            assert!(
                decrypt_framed(AES, &key_id(), &material, &bad, b"ctx").is_err(),
                "byte {i}"
            );
        }
        assert_eq!(
            decrypt_framed(AES, &key_id(), &material, &frame[..frame.len() - 1], b"ctx"),
            Err(Unopenable)
        );
        assert_eq!(framed_key_id(b"short"), Err(Unopenable));
        let other = KeyId::parse("bb6a3d22-dc93-47ac-b5bd-88df7ad35f1e").unwrap();
        assert_eq!(
            decrypt_framed(AES, &other, &material, &frame, b"ctx"),
            Err(Unopenable)
        );
    }

    #[test]
    fn master_keys_wrap_per_key_and_parse_from_hex() {
        let master = MasterKey::generate();
        let wrapped = master.wrap(&key_id(), b"material");
        assert_eq!(master.unwrap(&key_id(), &wrapped).unwrap(), b"material");
        let other = KeyId::parse("bb6a3d22-dc93-47ac-b5bd-88df7ad35f1e").unwrap();
        assert!(
            master.unwrap(&other, &wrapped).is_err(),
            "material is bound to its key"
        );
        assert_eq!(
            MasterKey::from_hex(&master.to_hex()).unwrap().to_hex(),
            master.to_hex()
        );
        assert!(MasterKey::from_hex("abcd").is_err());
        assert_eq!(format!("{master:?}"), "MasterKey(***)");
    }
}
