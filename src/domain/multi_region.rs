//! Multi-Region keys (AWS ReplicateKey / UpdatePrimaryRegion, Huawei `replicate` and
//! `update-primary-region`): who may be replicated, where, and the swap of roles.
//!
//! A multi-Region key is one row per region sharing the ID `mrk-...` (see `KeyId`): one
//! primary and any number of replicas, each in a region of its own. The rows share their
//! material (every version: rotations reach every row) and key spec, usage and origin; the
//! rest (description, policy, tags, aliases, grants, state) is each row's own.

use super::{KeyId, KmsError};

/// A row's role in its multi-Region key (AWS MultiRegionKeyType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Primary,
    Replica,
}

impl Role {
    /// The stored and AWS name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Primary => "PRIMARY",
            Self::Replica => "REPLICA",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "PRIMARY" => Some(Self::Primary),
            "REPLICA" => Some(Self::Replica),
            _ => None,
        }
    }
}

/// One region's row of a multi-Region key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The stored ID (`mrk-...@REGION`).
    pub key_id: KeyId,
    pub region: String,
    pub role: Role,
}

/// The rows of one multi-Region key, as read in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MultiRegionKey {
    pub members: Vec<Member>,
}

impl MultiRegionKey {
    pub fn primary(&self) -> Option<&Member> {
        self.members.iter().find(|m| m.role == Role::Primary)
    }

    /// The replicas, ordered by region (AWS lists ReplicaKeys in no documented order).
    pub fn replicas(&self) -> Vec<&Member> {
        let mut replicas: Vec<&Member> = self
            .members
            .iter()
            .filter(|m| m.role == Role::Replica)
            .collect();
        replicas.sort_by(|a, b| a.region.cmp(&b.region));
        replicas
    }

    pub fn in_region(&self, region: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.region == region)
    }
}

/// Whether the key of `key_id`, seen in `region`, may be replicated into `replica_region`.
/// `served` says whether this service serves a region.
pub fn check_replicate(
    key_id: &KeyId,
    key: &MultiRegionKey,
    region: &str,
    replica_region: &str,
    served: impl Fn(&str) -> bool,
) -> Result<(), KmsError> {
    if !key_id.is_multi_region() {
        return Err(KmsError::MultiRegionUnsupported(format!(
            "{key_id} is not a multi-Region key: only a multi-Region primary key can be replicated."
        )));
    }
    match key.in_region(region) {
        Some(member) if member.role == Role::Primary => {}
        _ => {
            return Err(KmsError::MultiRegionUnsupported(format!(
                "{key_id} in {region} is a replica key: replicate its primary key instead."
            )));
        }
    }
    if !served(replica_region) {
        return Err(KmsError::MultiRegionUnsupported(format!(
            "ReplicaRegion {replica_region} is not a region this service serves."
        )));
    }
    if let Some(member) = key.in_region(replica_region) {
        return Err(KmsError::ReplicaExists(format!(
            "{key_id} already has a {} key in {replica_region}.",
            member.role.name().to_ascii_lowercase()
        )));
    }
    Ok(())
}

/// Whether the primary of `key_id`, seen in `region`, may move to `primary_region`.
pub fn check_update_primary(
    key_id: &KeyId,
    key: &MultiRegionKey,
    region: &str,
    primary_region: &str,
) -> Result<(), KmsError> {
    if !key_id.is_multi_region() {
        return Err(KmsError::MultiRegionUnsupported(format!(
            "{key_id} is not a multi-Region key."
        )));
    }
    match key.in_region(region) {
        Some(member) if member.role == Role::Primary => {}
        _ => {
            return Err(KmsError::MultiRegionUnsupported(format!(
                "{key_id} in {region} is not the primary key: call UpdatePrimaryRegion on the primary key."
            )));
        }
    }
    if primary_region == region {
        return Err(KmsError::MultiRegionUnsupported(format!(
            "{key_id} is already the primary key in {primary_region}."
        )));
    }
    if key.in_region(primary_region).is_none() {
        return Err(KmsError::NoReplicaInRegion(format!(
            "{key_id} has no replica key in {primary_region}."
        )));
    }
    Ok(())
}

/// The roles after the primary moves to `primary_region` (checked by
/// `check_update_primary`): that region's row becomes the primary, the old primary a replica.
pub fn swap_roles(key: &MultiRegionKey, primary_region: &str) -> Vec<(KeyId, Role)> {
    key.members
        .iter()
        .map(|m| {
            let role = if m.region == primary_region {
                Role::Primary
            } else {
                Role::Replica
            };
            (m.key_id.clone(), role)
        })
        .collect()
}

/// Whether the row of `region` may be scheduled for deletion: a primary with replicas may
/// not. AWS would move it to PendingReplicaDeletion until its replicas are gone; the
/// emulator has no such state and refuses instead, so no replica outlives its primary
/// unnoticed (delete the replicas, or move the primary, first).
pub fn check_schedule_deletion(
    key_id: &KeyId,
    key: &MultiRegionKey,
    region: &str,
) -> Result<(), KmsError> {
    let is_primary = key
        .in_region(region)
        .is_some_and(|m| m.role == Role::Primary);
    if is_primary && !key.replicas().is_empty() {
        return Err(KmsError::PrimaryHasReplicas(format!(
            "{key_id} is a multi-Region primary key with replicas in {}: schedule the deletion of its replicas first, or make one of them the primary key.",
            key.replicas()
                .iter()
                .map(|m| m.region.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &KeyId, members: &[(&str, Role)]) -> MultiRegionKey {
        MultiRegionKey {
            members: members
                .iter()
                .map(|(region, role)| Member {
                    key_id: id.in_region(region),
                    region: (*region).to_owned(),
                    role: *role,
                })
                .collect(),
        }
    }

    fn served(region: &str) -> bool {
        ["eu-de", "eu-nl", "eu-ch2"].contains(&region)
    }

    #[test]
    fn ids_place_a_multi_region_key_in_its_region() {
        let id = KeyId::generate_multi_region("eu-de");
        assert!(id.is_multi_region());
        assert_eq!(id.as_str().len(), 36);
        assert!(id.as_str().starts_with("mrk-"));
        assert_eq!(id.stored(), format!("{}@eu-de", id.as_str()));
        assert_eq!(id.placed_region(), Some("eu-de"));
        let public = KeyId::parse(id.as_str()).unwrap();
        assert_eq!(public.in_region("eu-de"), id);
        assert_eq!(KeyId::parse_stored(id.stored()).unwrap(), id);
        // A client cannot name a row of a region directly.
        assert!(KeyId::parse(id.stored()).is_err());
        assert!(KeyId::parse("mrk-0123456789ABCDEF0123456789abcdef").is_err());
        // A single-Region key is the same key in every region.
        let plain = KeyId::generate();
        assert_eq!(plain.in_region("eu-nl"), plain);
        assert_eq!(plain.stored(), plain.as_str());
    }

    #[test]
    fn only_a_primary_is_replicated_into_a_served_region_without_the_key() {
        let id = KeyId::generate_multi_region("eu-de");
        let k = key(&id, &[("eu-de", Role::Primary), ("eu-nl", Role::Replica)]);
        assert_eq!(check_replicate(&id, &k, "eu-de", "eu-ch2", served), Ok(()));
        assert!(matches!(
            check_replicate(&id, &k, "eu-nl", "eu-ch2", served),
            Err(KmsError::MultiRegionUnsupported(_))
        ));
        assert!(matches!(
            check_replicate(&id, &k, "eu-de", "us-east-1", served),
            Err(KmsError::MultiRegionUnsupported(_))
        ));
        assert!(matches!(
            check_replicate(&id, &k, "eu-de", "eu-nl", served),
            Err(KmsError::ReplicaExists(_))
        ));
        assert!(matches!(
            check_replicate(&id, &k, "eu-de", "eu-de", served),
            Err(KmsError::ReplicaExists(_))
        ));
        let plain = KeyId::generate();
        assert!(matches!(
            check_replicate(&plain, &MultiRegionKey::default(), "eu-de", "eu-nl", served),
            Err(KmsError::MultiRegionUnsupported(_))
        ));
    }

    #[test]
    fn the_primary_moves_to_a_replica_region_and_roles_swap() {
        let id = KeyId::generate_multi_region("eu-de");
        let k = key(
            &id,
            &[
                ("eu-de", Role::Primary),
                ("eu-nl", Role::Replica),
                ("eu-ch2", Role::Replica),
            ],
        );
        assert_eq!(check_update_primary(&id, &k, "eu-de", "eu-nl"), Ok(()));
        assert!(matches!(
            check_update_primary(&id, &k, "eu-nl", "eu-ch2"),
            Err(KmsError::MultiRegionUnsupported(_))
        ));
        assert!(matches!(
            check_update_primary(&id, &k, "eu-de", "eu-de"),
            Err(KmsError::MultiRegionUnsupported(_))
        ));
        assert!(matches!(
            check_update_primary(&id, &k, "eu-de", "us-east-1"),
            Err(KmsError::NoReplicaInRegion(_))
        ));
        let roles = swap_roles(&k, "eu-nl");
        assert_eq!(
            roles,
            vec![
                (id.in_region("eu-de"), Role::Replica),
                (id.in_region("eu-nl"), Role::Primary),
                (id.in_region("eu-ch2"), Role::Replica),
            ]
        );
    }

    #[test]
    fn a_primary_with_replicas_is_not_deleted() {
        let id = KeyId::generate_multi_region("eu-de");
        let k = key(&id, &[("eu-de", Role::Primary), ("eu-nl", Role::Replica)]);
        assert!(matches!(
            check_schedule_deletion(&id, &k, "eu-de"),
            Err(KmsError::PrimaryHasReplicas(_))
        ));
        assert_eq!(check_schedule_deletion(&id, &k, "eu-nl"), Ok(()));
        let alone = key(&id, &[("eu-de", Role::Primary)]);
        assert_eq!(check_schedule_deletion(&id, &alone, "eu-de"), Ok(()));
    }
}
