//! A fixed-bucket histogram (Prometheus' histogram type): the upper bounds are chosen when it
//! is made, each observation adds one to the first bucket whose bound it does not exceed (or
//! to the implicit `+Inf` one) and to the count and sum. Owned by one writer (the events
//! consumer), read under its lock at scrape time.

/// Observations counted into buckets with fixed upper bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Per bucket (not cumulative); the last is `+Inf`.
    counts: Vec<u64>,
    sum: f64,
}

impl Histogram {
    /// An empty histogram with these upper bounds, ascending.
    pub fn new(bounds: &'static [f64]) -> Histogram {
        debug_assert!(bounds.windows(2).all(|w| w[0] < w[1]), "bounds ascend");
        Histogram {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
        }
    }

    /// Counts one observation (a NaN is ignored).
    pub fn observe(&mut self, value: f64) {
        if value.is_nan() {
            return;
        }
        let bucket = self
            .bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(self.bounds.len());
        self.counts[bucket] += 1;
        self.sum += value;
    }

    /// `(upper bound, observations at or below it)` for every bucket, `+Inf` last.
    pub fn cumulative(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        let bounds = self.bounds.iter().copied().chain([f64::INFINITY]);
        bounds.zip(self.counts.iter().scan(0, |total, n| {
            *total += n;
            Some(*total)
        }))
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Their sum.
    pub fn sum(&self) -> f64 {
        self.sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_observation_on_a_bound_falls_in_that_bucket_and_beyond_all_in_inf() {
        let mut h = Histogram::new(&[1.0, 2.0]);
        h.observe(1.0);
        h.observe(2.5);
        h.observe(f64::NAN);
        let buckets: Vec<(f64, u64)> = h.cumulative().collect();
        assert_eq!(buckets, vec![(1.0, 1), (2.0, 1), (f64::INFINITY, 2)]);
        assert_eq!(h.count(), 2);
        assert_eq!(h.sum(), 3.5);
    }
}
