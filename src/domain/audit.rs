//! Audit records of the grant lifecycle: who did what to which grant, when, in which request.
//!
//! The records are append-only (the database refuses updates and deletes of them) and
//! are written in the same transaction as the change they describe, so a record exists
//! exactly when its change happened. Denials are written after the refused request's
//! transaction rolled back. A denial is a refusal by the authorization rules, including
//! the "key not found" that hides a key from a stranger; a revoke or retire of a grant
//! that no longer exists (the loser of a race) is not a denial and leaves no record.
//!
//! The records form a hash chain (`ChainKey::link`): each one's chain value covers the
//! previous record's value and its own fields, and the chain's head is kept (and
//! authenticated) apart, so `ChainVerifier` names the first record altered, inserted or
//! deleted behind the service's back, even by the service's own database role.

use super::{Caller, GrantId, KeyId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditEvent {
    GrantCreated,
    GrantRevoked,
    GrantRetired,
    /// create-grant refused by the authorization rules.
    CreateGrantDenied,
    /// revoke-grant refused by the authorization rules.
    RevokeDenied,
    /// retire-grant refused by the authorization rules.
    RetireDenied,
    /// A key operation (encrypt, decrypt, describe...) refused by the authorization core.
    KeyUseDenied,
    /// Any other action refused by the authorization core (key administration, key
    /// policies, listings, creating keys, random bytes).
    AccessDenied,
    /// An operator reset keys and grants (`POST /_emulator/reset`, `kms-emulator reset`);
    /// the detail names the scope and how many rows went.
    Reset,
    /// The seed file (`--seed`) inserted keys, grants or aliases that were missing; the
    /// detail says how many.
    SeedLoaded,
}

impl AuditEvent {
    pub const ALL: [Self; 10] = [
        Self::GrantCreated,
        Self::GrantRevoked,
        Self::GrantRetired,
        Self::CreateGrantDenied,
        Self::RevokeDenied,
        Self::RetireDenied,
        Self::KeyUseDenied,
        Self::AccessDenied,
        Self::Reset,
        Self::SeedLoaded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::GrantCreated => "grant-created",
            Self::GrantRevoked => "grant-revoked",
            Self::GrantRetired => "grant-retired",
            Self::CreateGrantDenied => "create-grant-denied",
            Self::RevokeDenied => "revoke-grant-denied",
            Self::RetireDenied => "retire-grant-denied",
            Self::KeyUseDenied => "key-use-denied",
            Self::AccessDenied => "access-denied",
            Self::Reset => "reset",
            Self::SeedLoaded => "seed-loaded",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.as_str() == name)
    }
}

/// One audit record as written. `detail` says what was granted or why it was refused;
/// it never holds a secret (tokens, keys and plaintext are not audit material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub event: AuditEvent,
    /// Milliseconds since the Unix epoch.
    pub occurred_at: i64,
    pub request_id: String,
    pub actor_user_id: String,
    pub actor_project_id: String,
    pub key_id: String,
    pub grant_id: Option<String>,
    pub detail: String,
}

impl AuditRecord {
    pub fn new(
        event: AuditEvent,
        occurred_at: i64,
        caller: &Caller,
        key_id: Option<&KeyId>,
        grant_id: Option<&GrantId>,
        detail: String,
    ) -> Self {
        Self {
            event,
            occurred_at,
            request_id: caller.request_id.clone(),
            actor_user_id: caller.user_id.clone(),
            actor_project_id: caller.project_id.clone(),
            // Actions on no key (CreateKey, ListKeys, ...) record an empty key ID.
            key_id: key_id.map(KeyId::to_string).unwrap_or_default(),
            grant_id: grant_id.map(GrantId::to_string),
            // Details quote request material (refusal messages, constraints): control
            // characters are replaced, so none can fail a PostgreSQL write (U+0000) or
            // forge lines in the trail.
            detail: match super::text::printable(&detail) {
                std::borrow::Cow::Borrowed(_) => detail,
                std::borrow::Cow::Owned(clean) => clean,
            },
        }
    }
}

/// What an operator asks the audit trail for; every field set narrows the answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub key_id: Option<String>,
    pub grant_id: Option<String>,
    pub request_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub event: Option<AuditEvent>,
    /// Only records of requests made in this project (the actor's project).
    pub actor_project_id: Option<String>,
    /// Only refusals (`Denied`) or only the changes that happened (`Allowed`).
    pub outcome: Option<AuditOutcome>,
    /// Newest first: pages then run backwards, and `after` (0 for the newest) is the seq the
    /// next page starts below.
    pub newest_first: bool,
}

/// Whether an audit record tells of a refusal (the `*-denied` events) or of a change that
/// happened (grants created, revoked, retired; resets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditOutcome {
    Allowed,
    Denied,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Allowed, Self::Denied]
            .into_iter()
            .find(|outcome| outcome.as_str() == name)
    }

    /// The outcome of an event: the refusal events are exactly those named `*-denied`
    /// (the store filters on that suffix).
    pub fn of(event: AuditEvent) -> Self {
        if event.as_str().ends_with("-denied") {
            Self::Denied
        } else {
            Self::Allowed
        }
    }
}

/// How chain values are computed: HMAC-SHA256 under a key derived from a configured master
/// key, or plain SHA-256 when none is configured (the generated master key lives in the
/// database itself, so a key derived from it would prove nothing against its readers).
#[derive(Clone)]
pub enum ChainKey {
    Keyed([u8; 32]),
    Plain,
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// The chain value before the first chained record.
pub const GENESIS: &str = "";

impl ChainKey {
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Keyed(_) => "hmac-sha256 (keyed from the configured master key)",
            Self::Plain => {
                "sha256 (no master key configured: detects accidental and naive edits only)"
            }
        }
    }

    /// Length-prefixed fields (a missing one differs from an empty one), under a label.
    fn digest(&self, label: &str, fields: &[Option<&str>]) -> String {
        use hmac::{Hmac, Mac};
        use sha2::{Digest, Sha256};
        let mut bytes = Vec::with_capacity(256);
        for field in std::iter::once(Some(label)).chain(fields.iter().copied()) {
            match field {
                None => bytes.push(0),
                Some(text) => {
                    bytes.push(1);
                    bytes.extend_from_slice(&(text.len() as u64).to_be_bytes());
                    bytes.extend_from_slice(text.as_bytes());
                }
            }
        }
        match self {
            Self::Keyed(key) => {
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
                mac.update(&bytes);
                crate::hex::lower(&mac.finalize().into_bytes())
            }
            Self::Plain => crate::hex::lower(&Sha256::digest(&bytes)),
        }
    }

    /// The chain value of `row`: its canonical fields (as stored, in text) after `previous`.
    pub fn link(&self, previous: &str, row: &RawAuditRow) -> String {
        let seq = row.seq.to_string();
        self.digest(
            "kms-audit-link-v1",
            &[
                Some(previous),
                Some(&seq),
                row.event.as_deref(),
                row.occurred_at.as_deref(),
                row.request_id.as_deref(),
                row.actor_user_id.as_deref(),
                row.actor_project_id.as_deref(),
                row.key_id.as_deref(),
                row.grant_id.as_deref(),
                row.detail.as_deref(),
            ],
        )
    }

    /// Authenticates the chain head, so records deleted at the end show.
    pub fn head_mac(&self, seq: i64, chain: &str) -> String {
        self.digest("kms-audit-head-v1", &[Some(&seq.to_string()), Some(chain)])
    }

    /// Authenticates the retention checkpoint verification starts from.
    pub fn checkpoint_mac(&self, seq: i64, chain: &str) -> String {
        self.digest(
            "kms-audit-checkpoint-v1",
            &[Some(&seq.to_string()), Some(chain)],
        )
    }
}

/// An audit row as stored, every field as text (`None` for SQL null), whether this service
/// wrote it or not: what the chain covers, and what an operator sees of a row that does not
/// parse.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct RawAuditRow {
    pub seq: i64,
    pub event: Option<String>,
    pub occurred_at: Option<String>,
    pub request_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub actor_project_id: Option<String>,
    pub key_id: Option<String>,
    pub grant_id: Option<String>,
    pub detail: Option<String>,
    pub chain: Option<String>,
}

impl RawAuditRow {
    /// The row this service writes for `record` at `seq` (without its chain value).
    pub fn of(seq: i64, record: &AuditRecord) -> Self {
        Self {
            seq,
            event: Some(record.event.as_str().to_owned()),
            occurred_at: Some(record.occurred_at.to_string()),
            request_id: Some(record.request_id.clone()),
            actor_user_id: Some(record.actor_user_id.clone()),
            actor_project_id: Some(record.actor_project_id.clone()),
            key_id: Some(record.key_id.clone()),
            grant_id: record.grant_id.clone(),
            detail: Some(record.detail.clone()),
            chain: None,
        }
    }

    /// The record, or why the row is not one this service could have written.
    pub fn parse(&self) -> Result<AuditRecord, String> {
        let field = |name: &str, value: &Option<String>| {
            value.clone().ok_or_else(|| format!("{name} is null"))
        };
        let event_name = field("event", &self.event)?;
        let event = AuditEvent::parse(&event_name)
            .ok_or_else(|| format!("unknown event {:?}", super::ids::excerpt(&event_name)))?;
        let occurred_at = field("occurred_at", &self.occurred_at)?
            .parse::<i64>()
            .map_err(|_| "occurred_at is not a number".to_owned())?;
        Ok(AuditRecord {
            event,
            occurred_at,
            request_id: field("request_id", &self.request_id)?,
            actor_user_id: field("actor_user_id", &self.actor_user_id)?,
            actor_project_id: field("actor_project_id", &self.actor_project_id)?,
            key_id: field("key_id", &self.key_id)?,
            grant_id: self.grant_id.clone(),
            detail: field("detail", &self.detail)?,
        })
    }
}

/// The chain's bookkeeping row (`kms_audit_chain`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChainState {
    /// Records up to here predate the chain (written before it existed).
    pub start_seq: i64,
    pub head_seq: i64,
    pub head_chain: String,
    pub head_mac: Option<String>,
    /// Records up to here were deleted by retention; `checkpoint_chain` is the last one's value.
    pub checkpoint_seq: i64,
    pub checkpoint_chain: String,
    pub checkpoint_mac: Option<String>,
    pub pruned_records: i64,
    pub pruned_at: Option<i64>,
}

impl ChainState {
    /// Where verification starts: after the retention checkpoint, or after the unchained prefix.
    pub fn origin(&self) -> (i64, String) {
        if self.checkpoint_seq > self.start_seq {
            (self.checkpoint_seq, self.checkpoint_chain.clone())
        } else {
            (self.start_seq, GENESIS.to_owned())
        }
    }
}

/// What `audit verify` found first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The record's fields no longer give its chain value, yet the next record links to it.
    Altered(i64),
    /// The record is not part of the chain: the next record links past it, or nothing does.
    Inserted(i64),
    /// The record does not verify, and whether it was altered or inserted cannot be told.
    Broken(i64),
    /// Records from..=to were deleted.
    Missing(i64, i64),
    /// The chain head (the last record appended) was changed.
    HeadAltered,
    /// The retention checkpoint was changed.
    CheckpointAltered,
}

impl Finding {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Altered(_) => "altered",
            Self::Inserted(_) => "inserted",
            Self::Broken(_) => "broken",
            Self::Missing(..) => "missing",
            Self::HeadAltered => "head-altered",
            Self::CheckpointAltered => "checkpoint-altered",
        }
    }

    /// The first record concerned, if the finding is about records.
    pub fn seq(&self) -> Option<i64> {
        match self {
            Self::Altered(s) | Self::Inserted(s) | Self::Broken(s) | Self::Missing(s, _) => {
                Some(*s)
            }
            Self::HeadAltered | Self::CheckpointAltered => None,
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Altered(s) => write!(
                f,
                "record {s} was altered: its fields no longer match its chain value"
            ),
            Self::Inserted(s) => write!(f, "record {s} was inserted: it is not part of the chain"),
            Self::Broken(s) => write!(f, "record {s} does not verify (altered or inserted)"),
            Self::Missing(a, b) if a == b => write!(f, "record {a} is missing (deleted)"),
            Self::Missing(a, b) => write!(f, "records {a} to {b} are missing (deleted)"),
            Self::HeadAltered => f.write_str(
                "the chain head was altered (records deleted at the end, or the head moved)",
            ),
            Self::CheckpointAltered => f.write_str("the retention checkpoint was altered"),
        }
    }
}

/// What an intact trail looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub chained: u64,
    /// Rows older than the chain, which nothing vouches for.
    pub unchained_prefix: u64,
}

/// Checks rows fed in sequence order against the chain; stops at the first finding.
pub struct ChainVerifier<'k> {
    key: &'k ChainKey,
    state: ChainState,
    prev_seq: i64,
    prev_chain: String,
    /// A row that did not link, kept until the next row (or the head) tells why.
    suspect: Option<(RawAuditRow, i64, String)>,
    finding: Option<Finding>,
    verified: Verified,
}

impl<'k> ChainVerifier<'k> {
    pub fn new(key: &'k ChainKey, state: ChainState) -> Self {
        let (prev_seq, prev_chain) = state.origin();
        let finding = (state.checkpoint_seq > 0
            && state.checkpoint_mac.as_deref()
                != Some(
                    key.checkpoint_mac(state.checkpoint_seq, &state.checkpoint_chain)
                        .as_str(),
                ))
        .then_some(Finding::CheckpointAltered);
        Self {
            key,
            state,
            prev_seq,
            prev_chain,
            suspect: None,
            finding,
            verified: Verified {
                chained: 0,
                unchained_prefix: 0,
            },
        }
    }

    /// The first finding so far.
    pub fn finding(&self) -> Option<&Finding> {
        self.finding.as_ref()
    }

    fn links(&self, previous: &str, row: &RawAuditRow) -> bool {
        row.chain.as_deref() == Some(self.key.link(previous, row).as_str())
    }

    /// Feeds the next row (ascending seq). Returns false once something was found.
    pub fn feed(&mut self, row: &RawAuditRow) -> bool {
        if self.finding.is_some() {
            return false;
        }
        if row.seq <= self.state.checkpoint_seq {
            // Retention deleted everything up to the checkpoint.
            self.finding = Some(Finding::Inserted(row.seq));
            return false;
        }
        if row.seq <= self.state.start_seq {
            self.verified.unchained_prefix += 1;
            return true;
        }
        if let Some((suspect, prev_seq, prev_chain)) = self.suspect.take() {
            let past = self.links(&prev_chain, row);
            let onto = suspect.chain.as_deref().is_some_and(|c| self.links(c, row));
            self.finding = Some(judge(&suspect, prev_seq, past, onto));
            return false;
        }
        if self.links(&self.prev_chain, row) {
            // A gap that the chain spans held nothing this service wrote (a failed append).
            self.prev_seq = row.seq;
            self.prev_chain = row.chain.clone().unwrap_or_default();
            self.verified.chained += 1;
        } else {
            self.suspect = Some((row.clone(), self.prev_seq, self.prev_chain.clone()));
        }
        true
    }

    /// The head as read after the last row (appends may have moved it since `new`).
    pub fn set_head(&mut self, state: &ChainState) {
        self.state.head_seq = state.head_seq;
        self.state.head_chain = state.head_chain.clone();
        self.state.head_mac = state.head_mac.clone();
    }

    /// After the last row: checks the head, which says where the chain should end.
    pub fn finish(mut self) -> Result<Verified, Finding> {
        if let Some(finding) = self.finding.take() {
            return Err(finding);
        }
        let head = (self.state.head_seq, self.state.head_chain.clone());
        let head_ok = match &self.state.head_mac {
            Some(mac) => *mac == self.key.head_mac(head.0, &head.1),
            None => head.0 == self.state.start_seq && head.1 == GENESIS,
        };
        if let Some((suspect, prev_seq, prev_chain)) = self.suspect.take() {
            let past = head_ok && head == (prev_seq, prev_chain);
            let onto = head_ok
                && Some(head.1.as_str()) == suspect.chain.as_deref()
                && head.0 == suspect.seq;
            return Err(judge(&suspect, prev_seq, past, onto));
        }
        if !head_ok {
            return Err(Finding::HeadAltered);
        }
        if head.0 > self.prev_seq {
            return Err(Finding::Missing(self.prev_seq + 1, head.0));
        }
        if head != (self.prev_seq, self.prev_chain.clone()) {
            return Err(Finding::HeadAltered);
        }
        Ok(self.verified)
    }
}

/// Why `suspect` (which did not link after `prev_seq`) is wrong: the next link goes past it
/// (inserted), records before it are gone (missing), the next link rests on its stored chain
/// value (altered), or nothing tells.
fn judge(
    suspect: &RawAuditRow,
    prev_seq: i64,
    next_links_past: bool,
    next_links_onto: bool,
) -> Finding {
    if next_links_past || suspect.chain.is_none() {
        Finding::Inserted(suspect.seq)
    } else if suspect.seq > prev_seq + 1 {
        Finding::Missing(prev_seq + 1, suspect.seq - 1)
    } else if next_links_onto {
        Finding::Altered(suspect.seq)
    } else {
        Finding::Broken(suspect.seq)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn outcomes_are_refusals_or_changes() {
        use super::{AuditEvent, AuditOutcome};
        let denied: Vec<_> = AuditEvent::ALL
            .into_iter()
            .filter(|event| AuditOutcome::of(*event) == AuditOutcome::Denied)
            .collect();
        assert_eq!(
            denied,
            [
                AuditEvent::CreateGrantDenied,
                AuditEvent::RevokeDenied,
                AuditEvent::RetireDenied,
                AuditEvent::KeyUseDenied,
                AuditEvent::AccessDenied,
            ]
        );
        assert_eq!(AuditOutcome::parse("denied"), Some(AuditOutcome::Denied));
        assert_eq!(AuditOutcome::parse("allowed"), Some(AuditOutcome::Allowed));
        assert_eq!(AuditOutcome::parse("Denied"), None);
    }
    use super::*;

    #[test]
    fn every_event_name_parses_back_to_its_event() {
        for event in AuditEvent::ALL {
            assert_eq!(AuditEvent::parse(event.as_str()), Some(event));
        }
        assert_eq!(AuditEvent::parse("grant-deleted"), None);
        assert_eq!(AuditEvent::parse(""), None);
    }

    /// A chain of `n` records as the store writes it, with its state.
    fn chain(key: &ChainKey, n: i64) -> (Vec<RawAuditRow>, ChainState) {
        let mut rows = Vec::new();
        let mut prev = GENESIS.to_owned();
        for seq in 1..=n {
            let mut row = RawAuditRow {
                seq,
                event: Some("grant-created".into()),
                occurred_at: Some((1000 + seq).to_string()),
                request_id: Some(format!("r{seq}")),
                actor_user_id: Some("u".into()),
                actor_project_id: Some("p".into()),
                key_id: Some("k".into()),
                grant_id: None,
                detail: Some("d".into()),
                chain: None,
            };
            row.chain = Some(key.link(&prev, &row));
            prev = row.chain.clone().unwrap();
            rows.push(row);
        }
        let state = ChainState {
            head_seq: n,
            head_mac: Some(key.head_mac(n, &prev)),
            head_chain: prev,
            ..ChainState::default()
        };
        (rows, state)
    }

    fn verify(
        key: &ChainKey,
        rows: &[RawAuditRow],
        state: ChainState,
    ) -> Result<Verified, Finding> {
        let mut verifier = ChainVerifier::new(key, state);
        for row in rows {
            if !verifier.feed(row) {
                break;
            }
        }
        verifier.finish()
    }

    #[test]
    fn the_verifier_names_the_first_altered_inserted_or_missing_record() {
        let key = ChainKey::Keyed([7; 32]);
        let (rows, state) = chain(&key, 5);
        assert_eq!(verify(&key, &rows, state.clone()).unwrap().chained, 5);

        let mut altered = rows.clone();
        altered[2].detail = Some("rewritten".into());
        assert_eq!(
            verify(&key, &altered, state.clone()),
            Err(Finding::Altered(3))
        );

        let mut deleted = rows.clone();
        deleted.remove(2);
        assert_eq!(
            verify(&key, &deleted, state.clone()),
            Err(Finding::Missing(3, 3))
        );
        assert_eq!(
            verify(&key, &rows[..4], state.clone()),
            Err(Finding::Missing(5, 5))
        );

        // A forged row linked with plain SHA-256 does not pass under a key.
        let mut inserted = rows.clone();
        let mut forged = rows[4].clone();
        forged.seq = 6;
        forged.chain = Some(ChainKey::Plain.link(rows[4].chain.as_ref().unwrap(), &forged));
        inserted.push(forged);
        assert_eq!(
            verify(&key, &inserted, state.clone()),
            Err(Finding::Inserted(6))
        );

        // A row slipped in the middle, the next record linking past it.
        let mut middle = rows.clone();
        let mut foreign = rows[1].clone();
        foreign.seq = 3;
        foreign.chain = None;
        middle.insert(2, foreign);
        for row in &mut middle[3..] {
            row.seq += 1;
        }
        let (relinked, relinked_state) = {
            let mut prev = rows[1].chain.clone().unwrap();
            let mut out = middle.clone();
            for row in &mut out[3..] {
                row.chain = Some(key.link(&prev, row));
                prev = row.chain.clone().unwrap();
            }
            let seq = out.last().unwrap().seq;
            let state = ChainState {
                head_seq: seq,
                head_mac: Some(key.head_mac(seq, &prev)),
                head_chain: prev,
                ..ChainState::default()
            };
            (out, state)
        };
        assert_eq!(
            verify(&key, &relinked, relinked_state),
            Err(Finding::Inserted(3))
        );

        let mut moved = state.clone();
        moved.head_seq = 4;
        moved.head_chain = rows[3].chain.clone().unwrap();
        assert_eq!(verify(&key, &rows[..4], moved), Err(Finding::HeadAltered));

        // Verified under another key, nothing passes.
        assert!(verify(&ChainKey::Plain, &rows, state).is_err());
    }

    #[test]
    fn unchained_rows_and_checkpoints_are_accounted_for() {
        let key = ChainKey::Plain;
        let (rows, mut state) = chain(&key, 4);
        // Records 1 and 2 went before a checkpoint; verification starts from it.
        state.checkpoint_seq = 2;
        state.checkpoint_chain = rows[1].chain.clone().unwrap();
        state.checkpoint_mac = Some(key.checkpoint_mac(2, &state.checkpoint_chain));
        assert_eq!(verify(&key, &rows[2..], state.clone()).unwrap().chained, 2);
        assert_eq!(
            verify(&key, &rows, state.clone()),
            Err(Finding::Inserted(1))
        );
        let mut forged = state.clone();
        forged.checkpoint_seq = 3;
        assert_eq!(
            verify(&key, &rows[3..], forged),
            Err(Finding::CheckpointAltered)
        );

        // Rows older than the chain are counted, not verified.
        let legacy = RawAuditRow {
            seq: 1,
            event: Some("whatever".into()),
            ..RawAuditRow::default()
        };
        let fresh = ChainState {
            start_seq: 1,
            head_seq: 1,
            ..ChainState::default()
        };
        assert_eq!(
            verify(&key, &[legacy], fresh),
            Ok(Verified {
                chained: 0,
                unchained_prefix: 1
            })
        );
    }

    #[test]
    fn foreign_rows_parse_to_a_reason() {
        let (rows, _) = chain(&ChainKey::Plain, 1);
        assert!(rows[0].parse().is_ok());
        let mut odd = rows[0].clone();
        odd.event = Some("grant-deleted".into());
        assert!(odd.parse().unwrap_err().contains("unknown event"));
        odd.event = Some("grant-created".into());
        odd.occurred_at = Some("yesterday".into());
        assert!(odd.parse().unwrap_err().contains("occurred_at"));
    }

    #[test]
    fn details_never_carry_control_characters() {
        let caller = crate::domain::Caller {
            user_id: "u".into(),
            user_name: "n".into(),
            domain_id: "d".into(),
            project_id: "p".into(),
            region: "eu-de".into(),
            request_id: "r".into(),
            aws_arn: "arn".into(),
            aws_account: "111122223333".into(),
            policies: Default::default(),
        };
        let record = AuditRecord::new(
            AuditEvent::ALL[0],
            0,
            &caller,
            None,
            None,
            "context {\"k\":\"a\0b\"}\nforged".into(),
        );
        assert_eq!(
            record.detail,
            "context {\"k\":\"a\u{fffd}b\"}\u{fffd}forged"
        );
    }

    #[test]
    fn event_names_are_distinct() {
        let names: std::collections::HashSet<_> =
            AuditEvent::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(names.len(), AuditEvent::ALL.len());
    }
}
