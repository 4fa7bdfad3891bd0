//! Pure domain rules: no HTTP, no SQL. Unit-tested without a database.

/// Defines an enum stored and sent as snake_case text, with `ALL`, `as_str` and `parse`.
/// Each `$text` must be the variant's snake_case name, which is what serde and the OpenAPI
/// schema use (unit tests check).
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize, ::utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}
pub(crate) use text_enum;

pub mod checklist;
pub mod dates;
pub mod funnel;
pub mod money;
pub mod patents;
pub mod royalties;
pub mod shares;
pub mod text;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What an API key may do. `admin` may do everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including key management and the audit log.
    Admin,
    /// Reads and writes portfolio data.
    Staff,
    /// Reads portfolio data and reports; sees no personal contact data.
    Management,
    /// Machine clients: read portfolio data, write only what integrations allow.
    Integration,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::Staff,
        Role::Management,
        Role::Integration,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Management => "management",
            Role::Integration => "integration",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role may see personal contact data (email, phone) of people.
    pub fn sees_personal_data(self) -> bool {
        matches!(self, Role::Admin | Role::Staff)
    }
}

/// Kinds of organisation in the portfolio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    Department,
    Hospital,
    Company,
    University,
    Funder,
    Agency,
    Other,
}

impl OrganisationKind {
    pub const ALL: [OrganisationKind; 7] = [
        OrganisationKind::Department,
        OrganisationKind::Hospital,
        OrganisationKind::Company,
        OrganisationKind::University,
        OrganisationKind::Funder,
        OrganisationKind::Agency,
        OrganisationKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrganisationKind::Department => "department",
            OrganisationKind::Hospital => "hospital",
            OrganisationKind::Company => "company",
            OrganisationKind::University => "university",
            OrganisationKind::Funder => "funder",
            OrganisationKind::Agency => "agency",
            OrganisationKind::Other => "other",
        }
    }

    /// Stored values are written by this code, so an unknown one means a corrupt row.
    pub fn parse(s: &str) -> Option<OrganisationKind> {
        OrganisationKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Strong entity tag for a resource version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Whether an `If-Match` header value matches the current version (`*` matches any).
pub fn if_match_allows(header: &str, version: i64) -> bool {
    let current = etag(version);
    header.split(',').map(str::trim).any(|tag| {
        tag == "*" || tag == current || tag.strip_prefix("W/").is_some_and(|t| t == current)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_accepts_the_current_tag_in_a_list_or_a_star() {
        assert!(if_match_allows("\"3\"", 3));
        assert!(if_match_allows("\"1\", \"3\"", 3));
        assert!(if_match_allows("*", 3));
        assert!(!if_match_allows("\"2\"", 3));
        assert!(!if_match_allows("3", 3));
    }

    #[test]
    fn roles_and_kinds_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        for k in OrganisationKind::ALL {
            assert_eq!(OrganisationKind::parse(k.as_str()), Some(k));
        }
        assert!(!Role::Management.sees_personal_data());
        assert!(Role::Staff.sees_personal_data());
    }
}
