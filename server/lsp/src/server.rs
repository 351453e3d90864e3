//! The `LanguageServer` implementation: lifecycle, text sync into the document mirror, symbols.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock, RwLock};

use tokio::sync::OnceCell;

use dashmap::DashSet;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::commands;
use super::frontend::LspFrontend;
use super::prebuilt::Prebuilt;
use super::symbols::{document_symbols, workspace_symbol};
use jingu_core::ops::Session;
use jingu_core::ops::Workspace;
use jingu_docs::{Document, Documents, Encoding};
use jingu_index::Index;
use jingu_syntax::Language;

/// Maximum results of one `workspace/symbol` request.
const WORKSPACE_SYMBOL_LIMIT: usize = 256;

pub struct Backend {
    pub(super) client: Client,
    pub(super) docs: Arc<Documents>,
    /// The ops session, or why it could not open (a broken policy fails closed: no command runs).
    pub(super) session: OnceLock<std::result::Result<Arc<Session>, String>>,
    pub(super) encoding: RwLock<Encoding>,
    pub(super) workspace: OnceLock<Workspace>,
    pub(super) index: OnceCell<Arc<Index>>,
    /// Set once the index's first fill (the whole workspace) has finished.
    index_done: Arc<tokio::sync::watch::Sender<bool>>,
    pub(super) client_capabilities: OnceLock<ClientCapabilities>,
    /// Open documents changed since the index last saw them (flushed lazily on workspace/symbol).
    dirty: DashSet<Uri>,
    /// Review findings shown as diagnostics (`jingu.review`).
    pub(super) reviews: super::review::Reviews,
    /// Big results serialized here, spliced in by the transport.
    prebuilt: Arc<Prebuilt>,
    /// Whether the user was told that inline completion is unavailable (told once).
    pub(super) completion_warned: std::sync::atomic::AtomicBool,
}

impl Backend {
    pub fn new(client: Client, prebuilt: Arc<Prebuilt>) -> Self {
        Self {
            client,
            docs: Arc::new(Documents::default()),
            session: OnceLock::new(),
            encoding: RwLock::new(Encoding::default()),
            workspace: OnceLock::new(),
            index: OnceCell::new(),
            index_done: Arc::new(tokio::sync::watch::channel(false).0),
            client_capabilities: OnceLock::new(),
            dirty: DashSet::new(),
            reviews: Default::default(),
            prebuilt,
            completion_warned: Default::default(),
        }
    }

    /// The session, or the reason there is none as a JSON-RPC error.
    pub(super) fn session(&self) -> Result<Arc<Session>> {
        match self.session.get() {
            Some(Ok(s)) => Ok(s.clone()),
            Some(Err(e)) => Err(failed(e.clone())),
            None => Err(failed("the server is not initialized")),
        }
    }

    pub(super) fn frontend(&self) -> Result<LspFrontend> {
        let ws = self
            .workspace
            .get()
            .ok_or_else(|| failed("the server is not initialized"))?;
        Ok(LspFrontend::new(
            self.client.clone(),
            self.docs.clone(),
            self.encoding(),
            ws.root.clone(),
        )
        .with_annotations(self.client_supports_annotations()))
    }

    /// Whether the client takes annotated text edits needing confirmation in `documentChanges`
    /// (VS Code: a Refactor Preview with a checkbox per change). Both capabilities are required:
    /// annotated edits are defined for `documentChanges` only, and a client that advertises
    /// annotations without it (Neovim 0.12) confirms all or nothing with a blocking prompt, so it
    /// keeps the Apply/Reject question.
    pub(super) fn client_supports_annotations(&self) -> bool {
        self.client_capabilities
            .get()
            .and_then(|c| c.workspace.as_ref())
            .and_then(|w| w.workspace_edit.as_ref())
            .is_some_and(|e| {
                e.document_changes == Some(true) && e.change_annotation_support.is_some()
            })
    }

    /// A frontend whose progress shows in the editor under a new work-done token titled `title`
    /// (when the client supports it). Await the returned handle after dropping the frontend: it
    /// ends the progress.
    pub(super) async fn frontend_with_progress(
        &self,
        title: &str,
    ) -> Result<(LspFrontend, Option<tokio::task::JoinHandle<()>>)> {
        static NEXT_TOKEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let fe = self.frontend()?;
        if !self.client_supports_progress() {
            return Ok((fe, None));
        }
        let n = NEXT_TOKEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let token = ProgressToken::String(format!("jingu-{n}"));
        if self
            .client
            .create_work_done_progress(token.clone())
            .await
            .is_err()
        {
            return Ok((fe, None));
        }
        let (fe, handle) = fe.with_progress(token, title.to_string());
        Ok((fe, Some(handle)))
    }

    /// Whether the client asked for `jingu/runEvent` notifications during `jingu.ask`
    /// (`capabilities.experimental.jingu.runEvents: true`).
    pub(super) fn client_wants_run_events(&self) -> bool {
        self.client_capabilities
            .get()
            .and_then(|c| c.experimental.as_ref())
            .and_then(|e| e.get("jingu"))
            .and_then(|j| j.get("runEvents"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    }

    pub(super) fn client_supports_progress(&self) -> bool {
        self.client_capabilities
            .get()
            .and_then(|c| c.window.as_ref())
            .and_then(|w| w.work_done_progress)
            .unwrap_or(false)
    }

    pub(super) fn encoding(&self) -> Encoding {
        self.encoding.read().map(|e| *e).unwrap_or_default()
    }

    /// Workspace-relative path of a `file:` URI inside the workspace.
    pub(super) fn rel_path(&self, uri: &Uri) -> Option<String> {
        let ws = self.workspace.get()?;
        let path = uri.to_file_path()?;
        let rel = path.strip_prefix(&ws.root).ok()?;
        rel.to_str().map(|s| s.to_string())
    }

    /// The workspace index, created on first use (at `initialized`) and filled in the background:
    /// the open documents go in at once, the rest of the workspace in batches as it is parsed
    /// (reported with `$/progress` when the client supports it). Callers needing all of it wait
    /// with [`Backend::index_complete`].
    pub(super) async fn ensure_index(&self) -> Option<Arc<Index>> {
        let ws = self.workspace.get()?.clone();
        let index = self
            .index
            .get_or_init(|| async move {
                let index = Arc::new(Index::empty(&ws.root));
                self.start_fill(index.clone(), ws.state_dir.join("symbols"));
                index
            })
            .await
            .clone();
        self.flush_dirty();
        Some(index)
    }

    /// Fill `index` off the async runtime (the walk parses on every core).
    fn start_fill(&self, index: Arc<Index>, saved: PathBuf) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
        if self.client_supports_progress() {
            let client = self.client.clone();
            tokio::spawn(async move {
                let token = ProgressToken::String("jingu-index".into());
                let progress = match client.create_work_done_progress(token.clone()).await {
                    Ok(()) => Some(
                        client
                            .progress(token, "Jingu: indexing symbols")
                            .begin()
                            .await,
                    ),
                    Err(_) => None,
                };
                while let Some(files) = rx.recv().await {
                    if let Some(p) = &progress {
                        p.report(format!("{files} files")).await;
                    }
                }
                if let Some(p) = progress {
                    p.finish().await;
                }
            });
        }
        let done = self.index_done.clone();
        tokio::task::spawn_blocking(move || {
            // A panic in a parser must not leave waiters hanging: they get what was indexed.
            let filled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                index.fill(Some(&saved), &|files| {
                    let _ = tx.send(files);
                })
            }));
            if filled.is_err() {
                tracing::error!("workspace indexing failed; the index is partial");
            }
            done.send_replace(true);
        });
    }

    /// Wait until the index's first fill has finished.
    pub(super) async fn index_complete(&self) {
        let mut rx = self.index_done.subscribe();
        let _ = rx.wait_for(|done| *done).await;
        self.flush_dirty();
    }

    /// Ask the client to tell us about file changes made outside the editor (builds, git checkouts),
    /// so the index follows them; only when it supports dynamic registration.
    async fn watch_files(&self) {
        let supported = self
            .client_capabilities
            .get()
            .and_then(|c| c.workspace.as_ref())
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        if !supported {
            return;
        }
        let options = DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![FileSystemWatcher {
                glob_pattern: GlobPattern::String("**/*".into()),
                kind: None,
            }],
        };
        let registration = Registration {
            id: "jingu-watch".into(),
            method: "workspace/didChangeWatchedFiles".into(),
            register_options: serde_json::to_value(options).ok(),
        };
        if let Err(e) = self.client.register_capability(vec![registration]).await {
            tracing::warn!("client refused file watching: {e}");
        }
    }

    fn flush_dirty(&self) {
        let Some(index) = self.index.get() else {
            return;
        };
        let uris: Vec<Uri> = self.dirty.iter().map(|u| u.clone()).collect();
        for uri in uris {
            self.dirty.remove(&uri);
            // The mirror's symbols: parsed incrementally from its previous tree, and computed once
            // for both the outline and the index.
            let Some(rel) = self.rel_path(&uri) else {
                continue;
            };
            // The parse of a large buffer runs off the async runtime.
            match jingu_core::ops::off_runtime(|| self.docs.with(&uri, |doc| doc.symbols())) {
                Some(Some(symbols)) => index.put_symbols(&rel, symbols),
                // Too big to parse (or not source): like an oversized file on disk, not indexed.
                Some(None) => index.remove_file(&rel),
                None => {}
            }
        }
    }
}

/// `$/progress` carrying part of a request's result (LSP partial results): `ls_types` types only
/// the work-done kind.
enum PartialResult {}

impl notification::Notification for PartialResult {
    type Params = PartialResultParams;
    const METHOD: &'static str = "$/progress";
}

#[derive(serde::Serialize, serde::Deserialize)]
struct PartialResultParams {
    token: ProgressToken,
    value: Vec<WorkspaceSymbol>,
}

impl Backend {
    async fn send_partial(&self, token: &ProgressToken, value: Vec<WorkspaceSymbol>) {
        self.client
            .send_notification::<PartialResult>(PartialResultParams {
                token: token.clone(),
                value,
            })
            .await;
    }
}

fn to_lsp(
    root: &std::path::Path,
    hits: Vec<(String, jingu_syntax::Symbol)>,
) -> Vec<WorkspaceSymbol> {
    hits.into_iter()
        .filter_map(|(rel, sym)| {
            let uri = Uri::from_file_path(root.join(&rel))?;
            Some(workspace_symbol(uri, &sym))
        })
        .collect()
}

/// An operation that was understood but refused or failed (LSP `RequestFailed`, -32803); the message
/// is the reason, for the user.
pub(super) fn failed(message: impl Into<String>) -> Error {
    Error {
        code: tower_lsp_server::jsonrpc::ErrorCode::ServerError(-32803),
        message: message.into().into(),
        data: None,
    }
}

fn negotiate_encoding(params: &InitializeParams) -> Encoding {
    let offered = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref());
    match offered {
        Some(list) if list.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
        _ => Encoding::Utf16,
    }
}

fn workspace_root(params: &InitializeParams) -> Option<PathBuf> {
    if let Some(folder) = params.workspace_folders.as_ref().and_then(|f| f.first()) {
        return folder.uri.to_file_path().map(|p| p.into_owned());
    }
    #[allow(deprecated)] // Older clients (and Emacs' eglot 1.9) send only rootUri.
    params
        .root_uri
        .as_ref()
        .and_then(|u| u.to_file_path())
        .map(|p| p.into_owned())
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let enc = negotiate_encoding(&params);
        if let Ok(mut e) = self.encoding.write() {
            *e = enc;
        }
        let root = workspace_root(&params)
            .or_else(|| std::env::current_dir().ok())
            .ok_or_else(|| {
                Error::invalid_params("no workspace folder, rootUri or current directory")
            })?;
        let ws = Workspace::discover(&root)
            .map_err(|e| Error::invalid_params(format!("workspace {}: {e}", root.display())))?;
        let session = Session::open_workspace(ws.clone())
            .map(Arc::new)
            .map_err(|e| e.to_string());
        match &session {
            Err(e) => tracing::error!("{e}"),
            // A watcher that cannot start leaves scans walking the tree: slower, never wrong.
            Ok(s) => {
                if let Err(e) = s.watch_workspace() {
                    tracing::warn!("[snapshots] watch: {e}");
                }
            }
        }
        let _ = self.session.set(session);
        let _ = self.workspace.set(ws);
        let _ = self.client_capabilities.set(params.capabilities);
        Ok(InitializeResult {
            capabilities: super::capabilities::server_capabilities(enc),
            server_info: Some(ServerInfo {
                name: "jingu".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        if let Some(Err(e)) = self.session.get() {
            self.client
                .show_message(MessageType::ERROR, format!("Jingu: {e}"))
                .await;
        }
        self.watch_files().await;
        self.ensure_index().await;
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let d = params.text_document;
        let language = Language::from_language_id(&d.language_id)
            .or_else(|| d.uri.to_file_path().and_then(|p| Language::from_path(&p)));
        self.docs
            .open(&d.uri, Document::new(&d.text, d.version, language));
        self.dirty.insert(d.uri);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let enc = self.encoding();
        let outcome = self.docs.with(&uri, |doc| {
            doc.version = params.text_document.version;
            params
                .content_changes
                .iter()
                .try_for_each(|c| doc.apply_change(c, enc))
        });
        match outcome {
            None => tracing::warn!(
                "didChange for a document that is not open: {}",
                uri.as_str()
            ),
            Some(Err(e)) => {
                tracing::error!("didChange for {} out of sync: {e}", uri.as_str());
                self.client
                    .log_message(
                        MessageType::ERROR,
                        format!(
                            "jingu: change to {} did not apply ({e}); reopen the file",
                            uri.as_str()
                        ),
                    )
                    .await;
            }
            Some(Ok(())) => {
                super::review::did_change(self, &uri, &params.content_changes).await;
                self.dirty.insert(uri);
            }
        }
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        if let (Some(index), Some(rel)) =
            (self.index.get(), self.rel_path(&params.text_document.uri))
        {
            index.refresh_from_disk(&rel);
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        self.docs.close(&uri);
        self.dirty.remove(&uri);
        // The buffer may have been discarded: the file on disk is the truth again.
        if let (Some(index), Some(rel)) = (self.index.get(), self.rel_path(&uri)) {
            index.refresh_from_disk(&rel);
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let Some(index) = self.index.get() else {
            return;
        };
        for change in params.changes {
            if self.docs.is_open(&change.uri) {
                continue; // The editor's buffer wins over the disk.
            }
            let Some(rel) = self.rel_path(&change.uri) else {
                continue;
            };
            if change.typ == FileChangeType::DELETED {
                index.remove_file(&rel);
            } else {
                index.refresh_from_disk(&rel);
            }
        }
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let uri = params.text_document.uri;
        let enc = self.encoding();
        // The (incremental) parse of a large buffer runs off the async runtime.
        let result = jingu_core::ops::off_runtime(|| {
            self.docs.with(&uri, |doc| {
                doc.symbols()
                    .map(|file| document_symbols(&file, &doc.rope, enc))
            })
        });
        match result {
            Some(symbols) => Ok(Some(self.prebuilt.outline(symbols.unwrap_or_default()))),
            None => Err(Error::invalid_params(format!(
                "document {} is not open",
                uri.as_str()
            ))),
        }
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        let (Some(index), Some(ws)) = (self.ensure_index().await, self.workspace.get()) else {
            return Ok(Some(WorkspaceSymbolResponse::Nested(Vec::new())));
        };
        let query = &params.query;
        let token = params.partial_result_params.partial_result_token;
        let Some(token) = token.filter(|_| !index.is_complete()) else {
            self.index_complete().await;
            let hits = index.search(query, WORKSPACE_SYMBOL_LIMIT);
            return Ok(Some(WorkspaceSymbolResponse::Nested(to_lsp(
                &ws.root, hits,
            ))));
        };
        // Still indexing and the client takes partial results: what is indexed now (the open
        // documents first), then, once the workspace is in, the rest; the response stays empty.
        let first = index.search(query, WORKSPACE_SYMBOL_LIMIT);
        let sent: std::collections::HashSet<(String, String)> = first
            .iter()
            .map(|(rel, s)| (rel.clone(), s.name_path.clone()))
            .collect();
        self.send_partial(&token, to_lsp(&ws.root, first)).await;
        self.index_complete().await;
        let rest: Vec<_> = index
            .search(query, WORKSPACE_SYMBOL_LIMIT)
            .into_iter()
            .filter(|(rel, s)| !sent.contains(&(rel.clone(), s.name_path.clone())))
            .take(WORKSPACE_SYMBOL_LIMIT - sent.len())
            .collect();
        if !rest.is_empty() {
            self.send_partial(&token, to_lsp(&ws.root, rest)).await;
        }
        Ok(Some(WorkspaceSymbolResponse::Nested(Vec::new())))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        Ok(Some(super::review::code_actions(self, &params)))
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        commands::execute(self, params).await
    }
}
