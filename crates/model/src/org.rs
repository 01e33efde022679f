use std::fmt;
use std::str::FromStr;

/// The kind of an organisation, as spelled in `organisations.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrgKind {
    Commissioner,
    AcuteTrust,
    CommunityTrust,
    MentalHealthTrust,
    AmbulanceTrust,
    GpPractice,
    Pcn,
    LocalAuthority,
    IndependentProvider,
    ThirdSector,
}

/// A `kind` value that is not one of [`OrgKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown organisation kind; expected one of {}", OrgKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "))]
pub struct UnknownKind;

impl OrgKind {
    pub const ALL: [OrgKind; 10] = [
        OrgKind::Commissioner,
        OrgKind::AcuteTrust,
        OrgKind::CommunityTrust,
        OrgKind::MentalHealthTrust,
        OrgKind::AmbulanceTrust,
        OrgKind::GpPractice,
        OrgKind::Pcn,
        OrgKind::LocalAuthority,
        OrgKind::IndependentProvider,
        OrgKind::ThirdSector,
    ];

    /// Kinds that deliver care and so may appear as a `provider_code`.
    pub const PROVIDERS: [OrgKind; 7] = [
        OrgKind::AcuteTrust,
        OrgKind::CommunityTrust,
        OrgKind::MentalHealthTrust,
        OrgKind::AmbulanceTrust,
        OrgKind::GpPractice,
        OrgKind::IndependentProvider,
        OrgKind::ThirdSector,
    ];

    /// NHS trusts of every kind.
    pub const TRUSTS: [OrgKind; 4] = [
        OrgKind::AcuteTrust,
        OrgKind::CommunityTrust,
        OrgKind::MentalHealthTrust,
        OrgKind::AmbulanceTrust,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Commissioner => "commissioner",
            OrgKind::AcuteTrust => "acute_trust",
            OrgKind::CommunityTrust => "community_trust",
            OrgKind::MentalHealthTrust => "mental_health_trust",
            OrgKind::AmbulanceTrust => "ambulance_trust",
            OrgKind::GpPractice => "gp_practice",
            OrgKind::Pcn => "pcn",
            OrgKind::LocalAuthority => "local_authority",
            OrgKind::IndependentProvider => "independent_provider",
            OrgKind::ThirdSector => "third_sector",
        }
    }

    pub fn is_provider(self) -> bool {
        Self::PROVIDERS.contains(&self)
    }

    pub fn is_trust(self) -> bool {
        Self::TRUSTS.contains(&self)
    }

    /// Whether an organisation of this kind may have no geographic system.
    pub fn may_lack_system(self) -> bool {
        matches!(self, OrgKind::IndependentProvider | OrgKind::ThirdSector)
    }
}

impl fmt::Display for OrgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrgKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrgKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(UnknownKind)
    }
}
