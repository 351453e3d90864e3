//! `jingu acp`: the Agent Client Protocol (JSON-RPC over stdio) for Zed, JetBrains and Neovim
//! agent hosts. Another [`jingu_core::ops::Frontend`] over the same agent, policy, snapshots and audit
//! as the CLI and LSP; this module only translates. Handlers never return an error to the SDK
//! (which would end the connection): failures are answered as JSON-RPC errors.

mod error;
mod frontend;
mod mode;
mod plan;
mod prompt;
mod replay;
mod session;
pub mod stdio;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use agent_client_protocol::schema::ProtocolVersion;
use agent_client_protocol::v1::Responder;
use agent_client_protocol::v1::schema::{
    AgentCapabilities, CancelNotification, ContentBlock, ContentChunk, Implementation,
    InitializeRequest, InitializeResponse, ListSessionsRequest, ListSessionsResponse,
    LoadSessionRequest, LoadSessionResponse, NewSessionRequest, NewSessionResponse,
    PromptCapabilities, PromptRequest, SessionCapabilities, SessionListCapabilities,
    SessionNotification, SessionUpdate, SetSessionConfigOptionRequest,
    SetSessionConfigOptionResponse, SetSessionModeRequest, SetSessionModeResponse, TextContent,
};
use agent_client_protocol::{Agent, ConnectTo};

pub use error::AcpError;
pub use mode::Mode;
use session::Sessions;

/// What the connection knows: its sessions and what the client can do.
#[derive(Default)]
struct Server {
    sessions: Sessions,
    /// The client offered both `fs/read_text_file` and `fs/write_text_file`.
    client_fs: AtomicBool,
}

/// Answer a request with `result`, as a JSON-RPC error when it failed.
fn answer<T: agent_client_protocol::JsonRpcResponse>(
    responder: Responder<T>,
    result: Result<T, AcpError>,
) -> Result<(), agent_client_protocol::Error> {
    let sent = match result {
        Ok(r) => responder.respond(r),
        Err(e) => responder.respond_with_error(e.into()),
    };
    if let Err(e) = sent {
        tracing::warn!("cannot answer the client: {e:?}");
    }
    Ok(())
}

/// Sessions per `session/list` page.
const LIST_PAGE: usize = 50;

/// One page of `all`, from the opaque `cursor` (an offset this agent handed out) on.
fn page(
    all: Vec<agent_client_protocol::v1::schema::SessionInfo>,
    cursor: Option<&str>,
) -> Result<ListSessionsResponse, AcpError> {
    let start = match cursor {
        None => 0,
        Some(c) => c
            .strip_prefix("at-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= all.len())
            .ok_or_else(|| AcpError::BadCursor(c.to_string()))?,
    };
    let end = (start + LIST_PAGE).min(all.len());
    let next = (end < all.len()).then(|| format!("at-{end}"));
    let sessions = all.into_iter().skip(start).take(end - start).collect();
    Ok(ListSessionsResponse::new(sessions).next_cursor(next))
}

/// The session's config options for `session/new` and `session/load`: without a usable model (a
/// provider configuration the prompt will report) the session still opens, with no picker.
fn picker(
    acp: &session::AcpSession,
) -> Vec<agent_client_protocol::v1::schema::SessionConfigOption> {
    acp.config_options().unwrap_or_else(|e| {
        tracing::warn!("session {}: no model picker: {e}", acp.id);
        Vec::new()
    })
}

fn chunk(text: &str) -> ContentChunk {
    ContentChunk::new(ContentBlock::Text(TextContent::new(text)))
}

/// Serve ACP on `transport` until the client goes away.
pub async fn serve(
    transport: impl ConnectTo<Agent> + 'static,
) -> Result<(), agent_client_protocol::Error> {
    let server = Arc::new(Server::default());
    let (s0, s1, s2, s3, s4, s5, s6, s7, s8) = (
        server.clone(),
        server.clone(),
        server.clone(),
        server.clone(),
        server.clone(),
        server.clone(),
        server.clone(),
        server.clone(),
        server,
    );
    let served = Agent
        .v1()
        .name("jingu")
        .on_receive_request(
            async move |req: InitializeRequest, responder, _cx| {
                let fs = &req.client_capabilities.fs;
                s1.client_fs
                    .store(fs.read_text_file && fs.write_text_file, Ordering::Relaxed);
                let caps = AgentCapabilities::new()
                    .load_session(true)
                    .prompt_capabilities(PromptCapabilities::new().embedded_context(true))
                    .session_capabilities(
                        SessionCapabilities::new().list(SessionListCapabilities::new()),
                    );
                answer(
                    responder,
                    Ok(InitializeResponse::new(ProtocolVersion::V1)
                        .agent_capabilities(caps)
                        .agent_info(Implementation::new("jingu", env!("CARGO_PKG_VERSION")))),
                )
            },
            agent_client_protocol::on_receive_request!(),
        )
        .on_receive_request(
            async move |req: NewSessionRequest, responder, _cx| {
                if !req.mcp_servers.is_empty() {
                    // MCP servers come from policy (`[mcp]`), never from the client.
                    tracing::warn!(
                        "ignoring {} client-provided MCP server(s); configure them in policy",
                        req.mcp_servers.len()
                    );
                }
                let made = jingu_core::ops::off_runtime(|| {
                    let acp = s2.sessions.create(&req.cwd)?;
                    let options = picker(&acp);
                    Ok(NewSessionResponse::new(acp.id.clone())
                        .modes(mode::state(acp.mode()))
                        .config_options(options))
                });
                answer(responder, made)
            },
            agent_client_protocol::on_receive_request!(),
        )
        .on_receive_request(
            async move |req: LoadSessionRequest, responder, cx| {
                let loaded = s3.sessions.load(&req.session_id.0, &req.cwd).map(|acp| {
                    let options = jingu_core::ops::off_runtime(|| picker(&acp));
                    // Replay the conversation so the client can rebuild its panel: from the saved
                    // conversation (tool cards included) when there is one, else its text.
                    let updates = match acp.saved() {
                        Some(conv) => replay::updates(&conv, &acp.root),
                        None => acp
                            .turns()
                            .into_iter()
                            .flat_map(|turn| {
                                [
                                    SessionUpdate::UserMessageChunk(chunk(&turn.user)),
                                    SessionUpdate::AgentMessageChunk(chunk(&turn.agent)),
                                ]
                            })
                            .collect(),
                    };
                    for update in updates {
                        let note = SessionNotification::new(acp.id.clone(), update);
                        if let Err(e) = cx.send_notification(note) {
                            tracing::warn!("cannot replay session {}: {e:?}", acp.id);
                        }
                    }
                    tracing::info!("session {} reloaded; runs {:?}", acp.id, acp.run_ids());
                    LoadSessionResponse::new()
                        .modes(mode::state(acp.mode()))
                        .config_options(options)
                });
                answer(responder, loaded)
            },
            agent_client_protocol::on_receive_request!(),
        )
        .on_receive_request(
            async move |req: ListSessionsRequest, responder, _cx| {
                // Reads every saved conversation of the workspace(s): off the runtime.
                let listed = jingu_core::ops::off_runtime(|| s7.sessions.list(req.cwd.as_deref()))
                    .and_then(|all| page(all, req.cursor.as_deref()));
                answer(responder, listed)
            },
            agent_client_protocol::on_receive_request!(),
        )
        .on_receive_request(
            async move |req: SetSessionModeRequest, responder, cx| {
                let set = s4.sessions.get(&req.session_id.0).and_then(|acp| {
                    let mode = Mode::parse(&req.mode_id.0)
                        .ok_or_else(|| AcpError::UnknownMode(req.mode_id.0.to_string()))?;
                    acp.set_mode(mode);
                    let update = SessionUpdate::CurrentModeUpdate(
                        agent_client_protocol::v1::schema::CurrentModeUpdate::new(mode.id()),
                    );
                    let _ = cx.send_notification(SessionNotification::new(acp.id.clone(), update));
                    Ok(SetSessionModeResponse::new())
                });
                answer(responder, set)
            },
            agent_client_protocol::on_receive_request!(),
        )
        .on_receive_request(
            async move |req: SetSessionConfigOptionRequest, responder, _cx| {
                let set = jingu_core::ops::off_runtime(|| {
                    let acp = s8.sessions.get(&req.session_id.0)?;
                    if &*req.config_id.0 != session::MODEL_OPTION {
                        return Err(AcpError::UnknownConfigOption(req.config_id.0.to_string()));
                    }
                    let value = req
                        .value
                        .as_value_id()
                        .ok_or_else(|| AcpError::BadConfigValue(req.config_id.0.to_string()))?;
                    acp.set_model(&value.0)?;
                    Ok(SetSessionConfigOptionResponse::new(acp.config_options()?))
                });
                answer(responder, set)
            },
            agent_client_protocol::on_receive_request!(),
        )
        .on_receive_request(
            async move |req: PromptRequest, responder, cx| {
                let acp = match s5.sessions.get(&req.session_id.0) {
                    Ok(acp) => acp,
                    Err(e) => return answer(responder, Err(e)),
                };
                let client_fs = s5.client_fs.load(Ordering::Relaxed);
                // The run leaves the dispatch loop so that cancellations, permission answers and
                // file reads keep flowing while it works.
                tokio::spawn(async move {
                    let result = prompt::run(acp, req, cx, client_fs).await;
                    let _ = answer(responder, result);
                });
                Ok(())
            },
            agent_client_protocol::on_receive_request!(),
        )
        .on_receive_notification(
            async move |note: CancelNotification, _cx| {
                match s6.sessions.get(&note.session_id.0) {
                    Ok(acp) => {
                        if !acp.cancel() {
                            tracing::debug!("session/cancel for {}: nothing running", acp.id);
                        }
                    }
                    Err(e) => tracing::warn!("session/cancel: {e}"),
                }
                Ok(())
            },
            agent_client_protocol::on_receive_notification!(),
        )
        .connect_to(transport)
        .await;
    // The client is gone: the sessions end, and their MCP servers with them.
    s0.sessions.shutdown().await;
    served
}

/// `jingu acp`: serve on stdin/stdout. Logs go to stderr (or `log_file`), never stdout.
pub fn run_stdio() -> anyhow::Result<()> {
    // Multi-threaded: the session's blocking work (git2 snapshots, fsync'd audit appends, walks)
    // hands its worker's other tasks off (`off_runtime`), which a current-thread runtime cannot.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let transport = stdio::transport(tokio::io::stdin(), tokio::io::stdout());
    rt.block_on(serve(transport))
        .map_err(|e| anyhow::anyhow!("ACP connection failed: {e:?}"))
}
