//! "Did you mean …?": the closest known name to a misspelt one.

/// The candidate most similar to `name`, if any is similar enough to be a likely typo.
pub(super) fn did_you_mean<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let lower = name.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let other = c.to_lowercase();
        let mut score = strsim::jaro_winkler(&lower, &other);
        // Short names: one edit away is a likely typo even when Jaro-Winkler is unsure
        // (`mgl` for `mql`).
        if strsim::damerau_levenshtein(&lower, &other) <= 1 {
            score = score.max(0.8);
        }
        if score >= 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Help text for a misspelt name, or `None` when nothing is close.
pub(super) fn help<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<String> {
    did_you_mean(name, candidates).map(|s| format!("did you mean `{s}`?"))
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn close_names_are_suggested() {
        let names = ["service_click", "service_visit", "hard_bounce"];
        assert_eq!(did_you_mean("service_clik", names), Some("service_click"));
        assert_eq!(did_you_mean("hardbounce", names), Some("hard_bounce"));
        assert_eq!(did_you_mean("zzz", names), None);
        assert_eq!(did_you_mean("mgl", ["lead", "mql", "sql"]), Some("mql"));
    }
}
