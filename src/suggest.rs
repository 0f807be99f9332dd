//! "Did you mean" suggestions.

/// Up to three candidates closest to `word`, best first; case-insensitive.
///
/// A candidate qualifies when its Jaro-Winkler similarity is at least 0.75,
/// or when one name contains the other.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let needle = word.to_lowercase();
    let mut scored: Vec<(f64, String)> = candidates
        .into_iter()
        .filter_map(|c| {
            let lower = c.to_lowercase();
            let mut score = strsim::jaro_winkler(&needle, &lower);
            if !needle.is_empty() && (lower.contains(&needle) || needle.contains(&lower)) {
                score = score.max(0.8);
            }
            (score >= 0.75).then(|| (score, c.to_string()))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// "did you mean `a`, `b`?" or an empty string.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let best = closest(word, candidates);
    if best.is_empty() {
        String::new()
    } else {
        let quoted: Vec<String> = best.iter().map(|b| format!("`{b}`")).collect();
        format!("did you mean {}?", quoted.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let cols = ["email", "first_name", "last_name", "phone_number"];
        assert_eq!(closest("emial", cols), vec!["email"]);
        assert_eq!(closest("FIRST_NAM", cols)[0], "first_name");
        assert!(closest("zzzzzz", cols).is_empty());
        assert_eq!(did_you_mean("emal", cols), "did you mean `email`?");
    }
}
