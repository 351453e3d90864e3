//! What the server advertises at `initialize`.

use tower_lsp_server::ls_types::*;

use jingu_docs::Encoding;

/// Commands served by `workspace/executeCommand` (DESIGN §3).
pub(crate) const COMMANDS: &[&str] = &[
    "jingu.ask",
    "jingu.editSymbol",
    "jingu.review",
    "jingu.snapshots",
    "jingu.snapshotDiff",
    "jingu.snapshotFile",
    "jingu.rollback",
    "jingu.applySuggestion",
    super::completion::ACCEPT_COMMAND,
];

pub(crate) fn server_capabilities(enc: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(match enc {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..Default::default()
            },
        )),
        document_symbol_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..Default::default()
        })),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        inline_completion_provider: Some(OneOf::Left(true)),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: COMMANDS.iter().map(|c| c.to_string()).collect(),
            work_done_progress_options: WorkDoneProgressOptions {
                work_done_progress: Some(true),
            },
        }),
        ..Default::default()
    }
}
