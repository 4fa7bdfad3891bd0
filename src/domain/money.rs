//! Money: integer minor units plus an ISO 4217 currency code, never a float.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

/// An amount in minor units (øre, cents) of a currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Money {
    /// Amount in minor units: 123450 DKK minor units are 1,234.50 kr.
    #[validate(range(min = -1_000_000_000_000_000i64, max = 1_000_000_000_000_000i64, message = "is out of range"))]
    #[schema(minimum = -1_000_000_000_000_000i64, maximum = 1_000_000_000_000_000i64, example = 123450)]
    pub amount_minor: i64,
    /// ISO 4217 code in upper case.
    #[validate(custom(function = "currency_code"))]
    #[schema(pattern = "^[A-Z]{3}$", example = "DKK")]
    pub currency: String,
}

/// Three upper-case letters, as ISO 4217 codes are.
pub fn currency_code(value: &str) -> Result<(), ValidationError> {
    if value.len() == 3 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        let mut e = ValidationError::new("currency");
        e.message = Some("must be an ISO 4217 code in upper case, e.g. DKK".into());
        Err(e)
    }
}

/// The largest FTE figure accepted (9,999.99).
pub const MAX_FTE_CENTI: i64 = 999_999;

/// FTE as hundredths (1.25 FTE = 125), parsed exactly from a decimal with at most 2 places.
pub fn parse_fte(text: &str) -> Option<i64> {
    let units = super::shares::parse_percent(text)?;
    // parse_percent keeps 4 decimals; FTE keeps 2.
    (units % 100 == 0 && units / 100 <= MAX_FTE_CENTI).then_some(units / 100)
}

/// Formats hundredths of an FTE as a decimal (`125` → `"1.25"`).
pub fn format_fte(centi: i64) -> String {
    super::shares::format_percent(centi * 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_and_fte() {
        assert!(currency_code("DKK").is_ok());
        assert!(currency_code("dkk").is_err());
        assert_eq!(parse_fte("1.25"), Some(125));
        assert_eq!(parse_fte("0.5"), Some(50));
        assert_eq!(parse_fte("1.255"), None);
        assert_eq!(parse_fte("9999.99"), Some(999_999));
        assert_eq!(parse_fte("10000"), None);
        assert_eq!(format_fte(125), "1.25");
        assert_eq!(format_fte(200), "2");
    }
}
