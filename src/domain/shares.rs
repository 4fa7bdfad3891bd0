//! Percentage shares as exact decimals: inventors' shares and ownership shares must sum to
//! exactly 100. A share is held as an integer number of 1/10,000 percent, so "33.3333" is
//! 333,333 units and 100 % is 1,000,000 — no floating point anywhere.

/// 1/10,000 percent units in 100 %.
pub const HUNDRED_PERCENT: i64 = 1_000_000;
/// Decimal places allowed in a share.
pub const SHARE_DECIMALS: u32 = 4;

/// Parses a decimal percentage such as `50`, `33.33` or `"12.5000"` into units; `None` when it
/// is not a plain decimal with at most four decimals.
pub fn parse_percent(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() || text.starts_with('-') || text.starts_with('+') {
        return None;
    }
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || whole.len() > 6 {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > SHARE_DECIMALS as usize || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let mut frac_units: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..SHARE_DECIMALS as usize {
        frac_units *= 10;
    }
    Some(whole * 10_i64.pow(SHARE_DECIMALS) + frac_units)
}

/// Formats units as a decimal percentage without trailing zeros (`333333` → `"33.3333"`,
/// `500000` → `"50"`).
pub fn format_percent(units: i64) -> String {
    let scale = 10_i64.pow(SHARE_DECIMALS);
    let whole = units / scale;
    let frac = units % scale;
    if frac == 0 {
        whole.to_string()
    } else {
        let f = format!("{frac:04}");
        format!("{whole}.{}", f.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_exactly() {
        assert_eq!(parse_percent("50"), Some(500_000));
        assert_eq!(parse_percent("33.3333"), Some(333_333));
        assert_eq!(parse_percent("33.33"), Some(333_300));
        assert_eq!(parse_percent("0.0001"), Some(1));
        assert_eq!(parse_percent("12.50000"), Some(125_000));
        assert_eq!(parse_percent("1.00001"), None);
        assert_eq!(parse_percent("-5"), None);
        assert_eq!(parse_percent("1e2"), None);
        assert_eq!(parse_percent(""), None);
        assert_eq!(parse_percent("."), None);
    }

    #[test]
    fn three_thirds_of_33_33_do_not_make_100_but_33_3334_does() {
        let a = parse_percent("33.33").unwrap() * 3;
        assert_ne!(a, HUNDRED_PERCENT);
        let b = parse_percent("33.3333").unwrap() * 2 + parse_percent("33.3334").unwrap();
        assert_eq!(b, HUNDRED_PERCENT);
    }

    #[test]
    fn formatting_round_trips() {
        for s in ["50", "33.3333", "0.5", "100", "12.3456"] {
            assert_eq!(format_percent(parse_percent(s).unwrap()), s);
        }
    }
}
