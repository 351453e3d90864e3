//! The installed symbol queries (`queries/<lang>/symbols.scm`), read once at start-up and handed
//! to the pure syntax crate, which falls back to its compiled-in copies.

use std::path::PathBuf;

use jingu_syntax::{ALL_LANGUAGES, Language};

/// Where installed query files live: `$JINGU_QUERIES`, else `queries/` or `share/jingu/queries`
/// next to or above the executable.
pub fn installed_queries_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("JINGU_QUERIES") {
        return Some(PathBuf::from(d));
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .take(4)
        .flat_map(|d| [d.join("queries"), d.join("share/jingu/queries")])
        .find(|d| d.join("rust/symbols.scm").is_file())
}

/// Read the installed queries, if any, and hand them to the syntax crate. Call before the first
/// parse; a missing file keeps that language's compiled-in query.
pub fn install() {
    let Some(dir) = installed_queries_dir() else {
        return;
    };
    let texts: Vec<(Language, String)> = ALL_LANGUAGES
        .iter()
        .filter_map(|&language| {
            let path = dir.join(language.query_dir()).join("symbols.scm");
            std::fs::read_to_string(&path)
                .ok()
                .map(|text| (language, text))
        })
        .collect();
    jingu_syntax::install_queries(texts);
}
