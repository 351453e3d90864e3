//! tree-sitter symbols → LSP `DocumentSymbol` trees and `WorkspaceSymbol` lists.

use ropey::Rope;
use tower_lsp_server::ls_types::{
    self as lsp, DocumentSymbol, Location, OneOf, Position, Range, Uri, WorkspaceSymbol,
};

use jingu_docs::{Encoding, position};
use jingu_syntax::{FileSymbols, Symbol, SymbolKind};

pub(crate) fn lsp_kind(kind: SymbolKind) -> lsp::SymbolKind {
    match kind {
        SymbolKind::Function => lsp::SymbolKind::FUNCTION,
        SymbolKind::Method => lsp::SymbolKind::METHOD,
        SymbolKind::Constructor => lsp::SymbolKind::CONSTRUCTOR,
        SymbolKind::Class | SymbolKind::Impl => lsp::SymbolKind::CLASS,
        SymbolKind::Struct => lsp::SymbolKind::STRUCT,
        SymbolKind::Enum => lsp::SymbolKind::ENUM,
        SymbolKind::Variant => lsp::SymbolKind::ENUM_MEMBER,
        SymbolKind::Interface | SymbolKind::Trait => lsp::SymbolKind::INTERFACE,
        SymbolKind::Module => lsp::SymbolKind::MODULE,
        SymbolKind::Namespace => lsp::SymbolKind::NAMESPACE,
        SymbolKind::Constant => lsp::SymbolKind::CONSTANT,
        SymbolKind::Variable => lsp::SymbolKind::VARIABLE,
        SymbolKind::Field => lsp::SymbolKind::FIELD,
        SymbolKind::Type => lsp::SymbolKind::TYPE_PARAMETER,
        SymbolKind::Macro => lsp::SymbolKind::FUNCTION,
    }
}

/// The hierarchical outline of one document. `detail` carries the name path, which is what
/// `jingu.editSymbol` and the agent address symbols by.
pub(crate) fn document_symbols(
    file: &FileSymbols,
    rope: &Rope,
    enc: Encoding,
) -> Vec<DocumentSymbol> {
    // All positions in one scan of the text: one lookup each was half the cost of a big outline.
    let offsets: Vec<usize> = file
        .symbols
        .iter()
        .flat_map(|s| {
            [
                s.range.start,
                s.range.end,
                s.name_range.start,
                s.name_range.end,
            ]
        })
        .collect();
    let positions = position::to_positions(rope, &offsets, enc);
    // Children lists built once: scanning all symbols per parent is quadratic on big files.
    let mut roots = Vec::new();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); file.symbols.len()];
    for (i, s) in file.symbols.iter().enumerate() {
        match s.parent {
            Some(p) => children[p].push(i),
            None => roots.push(i),
        }
    }
    fn build(
        file: &FileSymbols,
        ids: &[usize],
        children: &[Vec<usize>],
        positions: &[Position],
    ) -> Vec<DocumentSymbol> {
        ids.iter()
            .map(|&i| {
                let s = &file.symbols[i];
                let kids = build(file, &children[i], children, positions);
                let p = &positions[4 * i..4 * i + 4];
                #[allow(deprecated)] // `deprecated` is a required field of the struct literal.
                DocumentSymbol {
                    name: s.name.clone(),
                    detail: Some(s.name_path.clone()),
                    kind: lsp_kind(s.kind),
                    tags: None,
                    deprecated: None,
                    range: Range::new(p[0], p[1]),
                    selection_range: Range::new(p[2], p[3]),
                    children: (!kids.is_empty()).then_some(kids),
                }
            })
            .collect()
    }
    build(file, &roots, &children, &positions)
}

/// A workspace symbol located by lines (exact columns need the file's text, which the index does
/// not keep; editors reveal the line).
pub(crate) fn workspace_symbol(uri: Uri, s: &Symbol) -> WorkspaceSymbol {
    let start = Position::new(s.start_line.saturating_sub(1) as u32, 0);
    let end = Position::new(s.end_line as u32, 0);
    WorkspaceSymbol {
        name: s.name.clone(),
        kind: lsp_kind(s.kind),
        tags: None,
        container_name: s
            .name_path
            .rsplit_once('/')
            .map(|(container, _)| container.to_string()),
        location: OneOf::Left(Location::new(uri, Range::new(start, end))),
        data: None,
    }
}
