//! Royalty arithmetic and the distribution of income, in integer minor units. Every rounding is
//! explicit: royalties round half up once per computation; distributions use the largest
//! remainder method so payouts sum exactly to the amount distributed.

use std::cmp::Ordering;

/// Basis points in 100 %.
pub const BP: i128 = 10_000;

/// A royalty tier: from `from_minor` of yearly net sales (cumulative) the rate is `rate_bp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    pub from_minor: i64,
    pub rate_bp: u32,
}

/// Royalty due on `sales` of one period, given the year's net sales before it (`ytd_before`).
/// Tiers are marginal: each slice of sales pays the rate of the band it falls in. The exact
/// amount is summed as a fraction and rounded half up to the minor unit once.
///
/// `base_rate_bp` applies below the first tier (or to everything without tiers).
pub fn royalty_due(sales: i64, ytd_before: i64, base_rate_bp: u32, tiers: &[Tier]) -> i64 {
    if sales <= 0 {
        return 0;
    }
    let mut bands: Vec<Tier> = tiers.to_vec();
    bands.sort_by_key(|t| t.from_minor);
    let start = i128::from(ytd_before.max(0));
    let end = start + i128::from(sales);
    let mut numerator: i128 = 0;
    // Band boundaries: [0, t1) at base rate, [t1, t2) at t1's rate, …
    let mut bounds: Vec<(i128, u32)> = vec![(0, base_rate_bp)];
    bounds.extend(
        bands
            .iter()
            .map(|t| (i128::from(t.from_minor.max(0)), t.rate_bp)),
    );
    for (i, (lo, rate)) in bounds.iter().enumerate() {
        let hi = bounds.get(i + 1).map(|b| b.0).unwrap_or(i128::MAX);
        let a = start.max(*lo);
        let b = end.min(hi);
        if b > a {
            numerator += (b - a) * i128::from(*rate);
        }
    }
    round_half_up(numerator, BP)
}

/// `n / d` rounded half up (for non-negative values).
pub fn round_half_up(n: i128, d: i128) -> i64 {
    ((n * 2 + d) / (2 * d)) as i64
}

/// The annual-minimum true-up in the last period of a year: what must be added so that the
/// year's royalties reach the minimum (never negative).
pub fn minimum_true_up(year_royalties: i64, annual_minimum: i64) -> i64 {
    (annual_minimum - year_royalties).max(0)
}

/// Splits `total` minor units among recipients in proportion to their weights so that the parts
/// sum exactly to `total` and each part is within one minor unit of its exact share.
///
/// Largest remainder method: each recipient first gets the floor of its exact share; the minor
/// units left over go, one each, to the recipients with the largest fractional remainders; ties
/// go to the recipient listed first. Deterministic for the same input order.
pub fn split_largest_remainder(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i128 = weights.iter().map(|w| i128::from((*w).max(0))).sum();
    if sum == 0 || weights.is_empty() {
        return vec![0; weights.len()];
    }
    let total_abs = i128::from(total.unsigned_abs() as i64);
    let mut parts: Vec<i64> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(usize, i128)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let exact = total_abs * i128::from((*w).max(0));
        parts.push((exact / sum) as i64);
        remainders.push((i, exact % sum));
    }
    let mut left = total_abs as i64 - parts.iter().sum::<i64>();
    remainders.sort_by(|a, b| match b.1.cmp(&a.1) {
        Ordering::Equal => a.0.cmp(&b.0),
        other => other,
    });
    for (i, _) in remainders {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    if total < 0 {
        parts.iter_mut().for_each(|p| *p = -*p);
    }
    parts
}

#[cfg(test)]
// Amounts are written kroner_øre (50_000_00 = 50,000.00 kr) to read as money.
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;

    #[test]
    fn one_hundred_thousand_kroner_to_inventors_50_30_20_department_and_institution() {
        // Weights: the inventors' third split 50/30/20 (in 1/10,000 %), a third each to the
        // department and the institution: 1,000,000 each.
        let weights = [500_000, 300_000, 200_000, 1_000_000, 1_000_000];
        let parts = split_largest_remainder(10_000_000, &weights);
        assert_eq!(
            parts,
            vec![1_666_667, 1_000_000, 666_667, 3_333_333, 3_333_333]
        );
        assert_eq!(parts.iter().sum::<i64>(), 10_000_000);
        for (p, w) in parts.iter().zip(weights) {
            let exact = 10_000_000f64 * w as f64 / 3_000_000f64;
            assert!((*p as f64 - exact).abs() < 1.0, "{p} vs {exact}");
        }
    }

    #[test]
    fn leftovers_go_to_the_largest_remainders_then_the_first_listed() {
        assert_eq!(split_largest_remainder(1, &[1, 1, 1]), vec![1, 0, 0]);
        assert_eq!(split_largest_remainder(2, &[1, 1, 1]), vec![1, 1, 0]);
        assert_eq!(split_largest_remainder(100, &[1, 2]), vec![33, 67]);
        assert_eq!(
            split_largest_remainder(-100, &[1, 2]),
            vec![-33, -67],
            "counter-entries mirror"
        );
        assert_eq!(split_largest_remainder(5, &[0, 0]), vec![0, 0]);
    }

    #[test]
    fn tiered_royalties_are_marginal_and_round_once() {
        let tiers = [
            Tier {
                from_minor: 100_000_00,
                rate_bp: 300,
            },
            Tier {
                from_minor: 500_000_00,
                rate_bp: 200,
            },
        ];
        // 50,000 kr at the 5 % base rate.
        assert_eq!(royalty_due(50_000_00, 0, 500, &tiers), 2_500_00);
        // A period crossing the first threshold: 80,000 before, 40,000 now → 20,000 at 5 %, 20,000 at 3 %.
        assert_eq!(
            royalty_due(40_000_00, 80_000_00, 500, &tiers),
            1_000_00 + 600_00
        );
        // Far into the top band.
        assert_eq!(royalty_due(10_000_00, 600_000_00, 500, &tiers), 200_00);
        // Rounding: 0.05 % of 1.99 kr = 0.0995 øre → 0 øre; 0.5 øre rounds up.
        assert_eq!(royalty_due(199, 0, 5, &[]), 0);
        assert_eq!(royalty_due(1_000, 0, 5, &[]), 1, "0.5 øre rounds half up");
    }

    #[test]
    fn the_minimum_is_trued_up_in_the_last_period() {
        assert_eq!(minimum_true_up(30_000_00, 50_000_00), 20_000_00);
        assert_eq!(minimum_true_up(60_000_00, 50_000_00), 0);
    }
}
