//! Validation rules for free text and codes, shared by every resource.

use validator::ValidationError;

fn error(code: &'static str, message: String) -> ValidationError {
    let mut e = ValidationError::new(code);
    e.message = Some(message.into());
    e
}

/// A required text must contain something other than white space.
pub fn not_blank(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(error(
            "blank",
            "must not be empty or only white space".into(),
        ));
    }
    Ok(())
}

/// ISO 3166-1 alpha-2 country code, upper case (`DK`, `SE`).
pub fn country_code(value: &str) -> Result<(), ValidationError> {
    if value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        return Ok(());
    }
    Err(error(
        "country",
        "must be an ISO 3166-1 alpha-2 code in upper case, e.g. DK".into(),
    ))
}

/// A simple, permissive e-mail check: one `@`, something before it, a dot after it, no spaces.
pub fn email(value: &str) -> Result<(), ValidationError> {
    let ok = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(error(
            "email",
            "must be an e-mail address such as name@example.org".into(),
        ))
    }
}

/// Phone numbers: digits, spaces and `+ - ( ) .`, with at least 3 digits.
pub fn phone(value: &str) -> Result<(), ValidationError> {
    let allowed = value
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let digits = value.chars().filter(|c| c.is_ascii_digit()).count();
    if allowed && digits >= 3 {
        Ok(())
    } else {
        Err(error(
            "phone",
            "may hold only digits, spaces and + - ( ) . with at least 3 digits".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_text_is_rejected() {
        assert!(not_blank("  \t").is_err());
        assert!(not_blank(" a ").is_ok());
    }

    #[test]
    fn country_codes_are_two_upper_case_letters() {
        assert!(country_code("DK").is_ok());
        assert!(country_code("dk").is_err());
        assert!(country_code("DNK").is_err());
    }

    #[test]
    fn email_and_phone_checks() {
        assert!(email("a.b@region.dk").is_ok());
        assert!(email("a@b").is_err());
        assert!(email("a b@c.dk").is_err());
        assert!(phone("+45 12 34 56 78").is_ok());
        assert!(phone("call me").is_err());
    }
}
