//! The model's own plan: a Markdown checklist in its text (`- [ ] step`, `- [x] done`) becomes ACP
//! plan entries, ahead of the run's steps. The latest checklist wins, so a model that repeats its
//! list with items ticked moves the plan forward.

/// The items of the last checklist in `text` (consecutive `- [ ]` / `- [x]` lines, `*` or `-`
/// bullets), each with whether it is ticked. Fewer than two items is not a plan.
pub(crate) fn checklist(text: &str) -> Vec<(bool, String)> {
    let mut last = Vec::new();
    let mut current: Vec<(bool, String)> = Vec::new();
    for line in text.lines() {
        match item(line) {
            Some(entry) => current.push(entry),
            None => {
                if current.len() >= 2 {
                    last = std::mem::take(&mut current);
                } else {
                    current.clear();
                }
            }
        }
    }
    if current.len() >= 2 {
        last = current;
    }
    last
}

fn item(line: &str) -> Option<(bool, String)> {
    let rest = line.trim_start();
    let rest = rest
        .strip_prefix("- ")
        .or_else(|| rest.strip_prefix("* "))?;
    let rest = rest.trim_start();
    let (done, rest) = if let Some(r) = rest.strip_prefix("[ ]") {
        (false, r)
    } else if let Some(r) = rest
        .strip_prefix("[x]")
        .or_else(|| rest.strip_prefix("[X]"))
    {
        (true, r)
    } else {
        return None;
    };
    let text: String = rest.trim().chars().take(200).collect();
    (!text.is_empty()).then_some((done, text))
}

#[cfg(test)]
mod tests {
    use super::checklist;

    #[test]
    fn the_last_checklist_of_two_or_more_items_is_the_plan() {
        let text = "Plan:\n- [ ] read lib.rs\n- [ ] rename it\n\nWorking.\n\n* [x] read lib.rs\n  - [ ] rename it\n";
        assert_eq!(
            checklist(text),
            vec![
                (true, "read lib.rs".to_string()),
                (false, "rename it".to_string())
            ]
        );
        // One item, plain bullets, empty items and prose are not a plan.
        assert!(checklist("- [ ] only one\n").is_empty());
        assert!(checklist("- read\n- rename\n").is_empty());
        assert!(checklist("- [ ]\n- [x]  \n").is_empty());
        assert!(checklist("I will [x] do it\nand [ ] that\n").is_empty());
        // A later single ticked line does not replace the plan.
        assert_eq!(checklist("- [ ] a\n- [ ] b\ndone:\n- [x] a\n").len(), 2);
    }
}
