//! Results the server serializes itself. tower-lsp turns every result into a `serde_json::Value`
//! tree before writing it, which for a 2,000-symbol outline costs five times the serialization
//! (5 ms). A handler stashes the bytes here and answers with a placeholder; the transport swaps
//! the placeholder's result for the bytes on the way out.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde_json::Value;
use tower_lsp_server::ls_types::{DocumentSymbol, DocumentSymbolResponse, Range, SymbolKind};

/// Placeholder names start with this; a control character never occurs in a parsed symbol name.
const MARKER: &str = "\u{1}jingu-prebuilt:";
/// Serialized, as it appears in the placeholder response the server writes.
const MARKER_JSON: &[u8] = b"\\u0001jingu-prebuilt:";
/// Results the transport has not collected (their request was cancelled) are dropped beyond this.
const MAX_STASHED: usize = 8;
/// Smaller outlines take the ordinary path: the placeholder would cost more than it saves.
const MIN_SYMBOLS: usize = 64;
/// A placeholder response is a few hundred bytes; bigger frames are never inspected.
const MAX_PLACEHOLDER_BYTES: usize = 1024;

#[derive(Debug, Default)]
pub struct Prebuilt {
    next: AtomicU64,
    stash: Mutex<VecDeque<(u64, Vec<u8>)>>,
}

impl Prebuilt {
    /// An outline response; a big one is serialized here and answered with a placeholder.
    pub fn outline(&self, symbols: Vec<DocumentSymbol>) -> DocumentSymbolResponse {
        let small = count(&symbols) < MIN_SYMBOLS;
        let response = DocumentSymbolResponse::Nested(symbols);
        if small {
            return response;
        }
        let Some(token) = self.stash(&response) else {
            return response;
        };
        #[allow(deprecated)] // `deprecated` is a required field of the struct literal.
        let placeholder = DocumentSymbol {
            name: format!("{MARKER}{token}"),
            detail: None,
            kind: SymbolKind::NULL,
            tags: None,
            deprecated: None,
            range: Range::default(),
            selection_range: Range::default(),
            children: None,
        };
        DocumentSymbolResponse::Nested(vec![placeholder])
    }

    fn stash(&self, result: &impl Serialize) -> Option<u64> {
        let bytes = serde_json::to_vec(result).ok()?;
        let token = self.next.fetch_add(1, Ordering::Relaxed);
        let mut stash = self.stash.lock().unwrap_or_else(|p| p.into_inner());
        if stash.len() >= MAX_STASHED {
            stash.pop_front();
        }
        stash.push_back((token, bytes));
        Some(token)
    }

    fn take(&self, token: u64) -> Option<Vec<u8>> {
        let mut stash = self.stash.lock().unwrap_or_else(|p| p.into_inner());
        let at = stash.iter().position(|(t, _)| *t == token)?;
        stash.remove(at).map(|(_, bytes)| bytes)
    }

    /// The frame to send for `body`, a message the server wrote: `None` when it is not a
    /// placeholder response (send it as is), else the response carrying the stashed result, or an
    /// internal error if that result is gone.
    pub fn splice(&self, body: &[u8]) -> Option<Vec<u8>> {
        if body.len() > MAX_PLACEHOLDER_BYTES
            || !body.windows(MARKER_JSON.len()).any(|w| w == MARKER_JSON)
        {
            return None;
        }
        let message: Value = serde_json::from_slice(body).ok()?;
        let name = message.get("result")?.get(0)?.get("name")?.as_str()?;
        let token: u64 = name.strip_prefix(MARKER)?.parse().ok()?;
        let id = serde_json::to_vec(message.get("id")?).ok()?;
        let mut out = Vec::new();
        match self.take(token) {
            Some(result) => {
                out.reserve(result.len() + id.len() + 32);
                out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
                out.extend_from_slice(&id);
                out.extend_from_slice(b",\"result\":");
                out.extend_from_slice(&result);
                out.push(b'}');
            }
            None => {
                tracing::error!("prebuilt result {token} was dropped before its response");
                let error = serde_json::json!({"jsonrpc": "2.0", "id": message.get("id"),
                    "error": {"code": -32603, "message": "internal error: the result was dropped; retry"}});
                out = serde_json::to_vec(&error).ok()?;
            }
        }
        Some(out)
    }
}

fn count(symbols: &[DocumentSymbol]) -> usize {
    symbols
        .iter()
        .map(|s| 1 + s.children.as_deref().map_or(0, count))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp_server::ls_types::Position;

    #[allow(deprecated)]
    fn symbol(name: &str) -> DocumentSymbol {
        DocumentSymbol {
            name: name.into(),
            detail: Some(format!("impl S/{name}")),
            kind: SymbolKind::METHOD,
            tags: None,
            deprecated: None,
            range: Range::new(Position::new(1, 0), Position::new(3, 1)),
            selection_range: Range::new(Position::new(1, 3), Position::new(1, 6)),
            children: None,
        }
    }

    /// What tower-lsp writes for a handler's result.
    fn written(id: Value, result: &DocumentSymbolResponse) -> Vec<u8> {
        let v = serde_json::json!({"jsonrpc": "2.0", "result": result, "id": id});
        serde_json::to_vec(&v).expect("json")
    }

    #[test]
    fn the_placeholder_is_replaced_by_the_result_it_stands_for() {
        let p = Prebuilt::default();
        let symbols: Vec<DocumentSymbol> =
            (0..MIN_SYMBOLS).map(|i| symbol(&format!("m{i}"))).collect();
        let placeholder = p.outline(symbols.clone());
        let out = p
            .splice(&written(serde_json::json!(7), &placeholder))
            .expect("spliced");
        let got: Value = serde_json::from_slice(&out).expect("valid JSON");
        let want = serde_json::json!({"jsonrpc": "2.0", "id": 7,
            "result": DocumentSymbolResponse::Nested(symbols)});
        assert_eq!(got, want);
        // Taken once: a replay of the same placeholder is an error, not someone else's result.
        let again: Value = serde_json::from_slice(
            &p.splice(&written(serde_json::json!("x"), &placeholder))
                .expect("error"),
        )
        .expect("json");
        assert_eq!(again["id"], "x");
        assert_eq!(again["error"]["code"], -32603);
    }

    fn big() -> Vec<DocumentSymbol> {
        (0..MIN_SYMBOLS).map(|i| symbol(&format!("m{i}"))).collect()
    }

    #[test]
    fn small_outlines_and_ordinary_messages_pass_untouched() {
        let p = Prebuilt::default();
        let small = vec![symbol("get")];
        assert_eq!(
            p.outline(small.clone()),
            DocumentSymbolResponse::Nested(small)
        );
        p.outline(big());
        let plain = written(
            serde_json::json!(1),
            &DocumentSymbolResponse::Nested(vec![symbol("f")]),
        );
        assert_eq!(p.splice(&plain), None);
        // A name that merely looks like a marker, without the control character, is not one.
        let lookalike = written(
            serde_json::json!(2),
            &DocumentSymbolResponse::Nested(vec![symbol("jingu-prebuilt:0")]),
        );
        assert_eq!(p.splice(&lookalike), None);
    }

    #[test]
    fn uncollected_results_are_bounded() {
        let p = Prebuilt::default();
        for _ in 0..3 * MAX_STASHED {
            p.outline(big());
        }
        assert_eq!(p.stash.lock().expect("lock").len(), MAX_STASHED);
    }
}
