//! Calendar arithmetic for legal deadlines.

use chrono::{Datelike, Months, NaiveDate};

/// `date` plus `months` calendar months; a day that does not exist in the target month is clamped
/// to its last day (31 December + 2 months = 28 or 29 February).
pub fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    // chrono clamps to the month's last day, which is the rule we want.
    date.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// The last day of `date`'s month.
pub fn end_of_month(date: NaiveDate) -> NaiveDate {
    let first_next = if date.month() == 12 {
        NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
    };
    first_next.and_then(|d| d.pred_opt()).unwrap_or(date)
}

/// Rights decisions on inventions: due 2 calendar months after the disclosure was received.
pub const RIGHTS_DECISION_MONTHS: u32 = 2;

/// The statutory rights-decision deadline for a disclosure received on `received_on`.
pub fn rights_deadline(received_on: NaiveDate) -> NaiveDate {
    add_months(received_on, RIGHTS_DECISION_MONTHS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn two_calendar_months_clamped_to_the_month_end() {
        assert_eq!(rights_deadline(d(2026, 1, 15)), d(2026, 3, 15));
        assert_eq!(rights_deadline(d(2026, 12, 31)), d(2027, 2, 28));
        assert_eq!(
            rights_deadline(d(2027, 12, 31)),
            d(2028, 2, 29),
            "leap year"
        );
        assert_eq!(rights_deadline(d(2026, 12, 30)), d(2027, 2, 28));
        assert_eq!(rights_deadline(d(2026, 8, 31)), d(2026, 10, 31));
        assert_eq!(rights_deadline(d(2026, 7, 31)), d(2026, 9, 30));
        assert_eq!(rights_deadline(d(2026, 11, 30)), d(2027, 1, 30));
    }

    #[test]
    fn end_of_month_handles_december_and_leap_years() {
        assert_eq!(end_of_month(d(2026, 12, 5)), d(2026, 12, 31));
        assert_eq!(end_of_month(d(2028, 2, 1)), d(2028, 2, 29));
        assert_eq!(end_of_month(d(2027, 2, 1)), d(2027, 2, 28));
    }
}
