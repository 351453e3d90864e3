//! ACP sessions: an agent conversation bound to a workspace (the client's `cwd`) and the identity
//! that opened it, kept in memory with the ids of the snapshot runs its prompts produced.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::error::AcpError;
use super::mode::Mode;
use agent_client_protocol::v1::schema::SessionInfo;
use agent_client_protocol::v1::schema::{
    SessionConfigOption, SessionConfigOptionCategory, SessionConfigSelectOption,
};
use jingu_core::agent::conversation::{self, Conversation, ConversationError};
use jingu_core::agent::mcp::McpPool;
use jingu_core::agent::{self, ModelChoice};
use jingu_core::ops::Session;
use jingu_providers::CancelToken;

/// Earlier turns given to the model as context, newest last.
const MAX_CONTEXT_TURNS: usize = 6;
/// Longest text of one earlier turn given as context.
const MAX_CONTEXT_CHARS: usize = 2000;

#[derive(Debug, Clone)]
pub(crate) struct Turn {
    pub user: String,
    pub agent: String,
    pub run_id: Option<String>,
}

#[derive(Debug)]
struct State {
    mode: Mode,
    /// The model picked with `session/set_config_option` (`provider/model`), saved with the
    /// conversation; `None`: the routing default.
    model: Option<String>,
    turns: Vec<Turn>,
    /// The prompt in flight, cancelled by `session/cancel`.
    active: Option<CancelToken>,
}

#[derive(Debug)]
pub(crate) struct AcpSession {
    pub id: String,
    /// The workspace root the session is bound to.
    pub root: PathBuf,
    /// The identity subject that opened the session; later prompts must act as the same subject.
    pub subject: String,
    /// MCP servers started by this session's first run that needs them, reused by its later runs.
    pub mcp: Arc<McpPool>,
    state: Mutex<State>,
}

/// The id of the model config option.
pub(crate) const MODEL_OPTION: &str = "model";

impl AcpSession {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn mode(&self) -> Mode {
        self.state().mode
    }

    pub(crate) fn set_mode(&self, mode: Mode) {
        self.state().mode = mode;
    }

    pub(crate) fn model(&self) -> Option<String> {
        self.state().model.clone()
    }

    /// The models the current policy allows, and the session's (the picked one while it is still
    /// allowed, else the routing default).
    pub(crate) fn models(&self) -> Result<(Vec<ModelChoice>, Option<ModelChoice>), AcpError> {
        let session = self.open()?;
        let choices = agent::model_choices(&session.policy)?;
        let picked = self.model();
        let current = choices
            .iter()
            .find(|c| picked.as_deref() == Some(c.id().as_str()))
            .or(choices.first())
            .cloned();
        Ok((choices, current))
    }

    /// The session's config options: the model picker (a `model` select), when a model is usable.
    pub(crate) fn config_options(&self) -> Result<Vec<SessionConfigOption>, AcpError> {
        let (choices, current) = self.models()?;
        let Some(current) = current else {
            return Ok(Vec::new());
        };
        let options: Vec<SessionConfigSelectOption> = choices
            .iter()
            .map(|c| {
                SessionConfigSelectOption::new(c.id(), c.model.clone())
                    .description(format!("{} via provider `{}`", c.model, c.provider))
            })
            .collect();
        Ok(vec![
            SessionConfigOption::select(MODEL_OPTION, "Model", current.id(), options)
                .category(SessionConfigOptionCategory::Model)
                .description(
                    "The model this session's prompts use (as the policy allows)".to_string(),
                ),
        ])
    }

    /// Switch later prompts to the model `id` (`provider/model`), refused unless the policy
    /// allows it; saved with the conversation so a reload keeps it.
    pub(crate) fn set_model(&self, id: &str) -> Result<(), AcpError> {
        let (choices, _) = self.models()?;
        if !choices.iter().any(|c| c.id() == id) {
            return Err(AcpError::ModelNotAllowed {
                model: id.to_string(),
                allowed: choices
                    .iter()
                    .map(ModelChoice::id)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let session = Session::open(&self.root)?;
        let mut conv = match Conversation::load(&session, &self.id) {
            Ok(c) => c,
            Err(ConversationError::NotFound(_)) => Conversation {
                id: self.id.clone(),
                ..Conversation::new()
            },
            Err(e) => return Err(AcpError::Workspace(e.to_string())),
        };
        conv.model = Some(id.to_string());
        conv.save(&session)
            .map_err(|e| AcpError::Workspace(format!("the model choice was not saved: {e}")))?;
        self.state().model = Some(id.to_string());
        Ok(())
    }

    /// The picked model as (provider, model) for the next prompt: `Ok(None)` for the routing
    /// default, `Err(id)` when the picked model is no longer allowed (the default is used).
    pub(crate) fn picked(&self) -> Result<Option<ModelChoice>, String> {
        let Some(id) = self.model() else {
            return Ok(None);
        };
        match self.models() {
            Ok((choices, _)) => choices
                .into_iter()
                .find(|c| c.id() == id)
                .map(Some)
                .ok_or(id),
            Err(_) => Err(id),
        }
    }

    pub(crate) fn turns(&self) -> Vec<Turn> {
        self.state().turns.clone()
    }

    pub(crate) fn run_ids(&self) -> Vec<String> {
        self.state()
            .turns
            .iter()
            .filter_map(|t| t.run_id.clone())
            .collect()
    }

    pub(crate) fn record(&self, turn: Turn) {
        self.state().turns.push(turn);
    }

    /// Mark a prompt as running; refuses a second concurrent prompt in the same conversation.
    pub(crate) fn start_prompt(&self) -> Result<CancelToken, AcpError> {
        let mut st = self.state();
        if st.active.is_some() {
            return Err(AcpError::Busy(self.id.clone()));
        }
        let token = CancelToken::new();
        st.active = Some(token.clone());
        Ok(token)
    }

    pub(crate) fn finish_prompt(&self) {
        self.state().active = None;
    }

    /// Cancel the prompt in flight, if any; `false` when nothing was running.
    pub(crate) fn cancel(&self) -> bool {
        match &self.state().active {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// The instruction for the agent: the new prompt, preceded by the recent conversation.
    pub(crate) fn instruction(&self, prompt: &str) -> String {
        let turns = self.turns();
        if turns.is_empty() {
            return prompt.to_string();
        }
        let mut out = String::from("Earlier in this conversation:\n");
        for t in turns.iter().rev().take(MAX_CONTEXT_TURNS).rev() {
            out.push_str(&format!(
                "User: {}\nJingu: {}\n",
                clip(&t.user),
                clip(&t.agent)
            ));
        }
        out.push_str("\nNow: ");
        out.push_str(prompt);
        out
    }

    /// The conversation saved for this session in the workspace's state directory, if any.
    pub(crate) fn saved(&self) -> Option<Conversation> {
        let session = Session::open(&self.root).ok()?;
        Conversation::load(&session, &self.id).ok()
    }

    /// Open the workspace for one prompt, with this session's mode applied to the policy. The
    /// policy and identity are re-read every time, so an enterprise change applies at once.
    pub(crate) fn open(&self) -> Result<Session, AcpError> {
        let mut session = Session::open(&self.root)?;
        if session.identity.subject != self.subject {
            return Err(AcpError::IdentityChanged {
                was: self.subject.clone(),
                now: session.identity.subject.clone(),
            });
        }
        self.mode().restrict(&mut session.policy);
        // A watcher that cannot start leaves scans walking the tree: slower, never wrong.
        if let Err(e) = session.watch_workspace() {
            tracing::warn!("[snapshots] watch: {e}");
        }
        Ok(session)
    }
}

fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_CONTEXT_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Every session this connection created, by id.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Arc<AcpSession>>>,
}

impl Sessions {
    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<AcpSession>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Open the workspace at `cwd` (failing closed on a bad policy or identity) and start a session.
    pub(crate) fn create(&self, cwd: &Path) -> Result<Arc<AcpSession>, AcpError> {
        if !cwd.is_absolute() {
            return Err(AcpError::RelativeCwd(cwd.display().to_string()));
        }
        let session = Session::open(cwd)?;
        let id = format!("sess-{}", jingu_core::ops::new_run_id());
        // Saved at once, so that a client which restarts the agent before the first prompt (or
        // picks a model first) can still `session/load` it.
        Conversation {
            id: id.clone(),
            ..Conversation::new()
        }
        .save(&session)
        .map_err(|e| AcpError::Workspace(format!("the session was not saved: {e}")))?;
        let acp = Arc::new(AcpSession {
            id: id.clone(),
            root: session.workspace.root.clone(),
            subject: session.identity.subject.clone(),
            mcp: Arc::new(McpPool::default()),
            state: Mutex::new(State {
                mode: Mode::Ask,
                model: None,
                turns: Vec::new(),
                active: None,
            }),
        });
        self.map().insert(id, acp.clone());
        Ok(acp)
    }

    /// `session/list`: the sessions saved for the workspace at `cwd` (or, without `cwd`, for each
    /// workspace this connection has sessions in — saved conversations live per workspace), plus
    /// live ones not saved yet, newest first.
    pub(crate) fn list(&self, cwd: Option<&Path>) -> Result<Vec<SessionInfo>, AcpError> {
        let live: Vec<Arc<AcpSession>> = self.map().values().cloned().collect();
        let mut roots: Vec<PathBuf> = match cwd {
            Some(c) if !c.is_absolute() => {
                return Err(AcpError::RelativeCwd(c.display().to_string()));
            }
            Some(c) => vec![Session::open(c)?.workspace.root.clone()],
            None => live.iter().map(|s| s.root.clone()).collect(),
        };
        roots.sort();
        roots.dedup();
        let mut out: Vec<(u64, SessionInfo)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for root in &roots {
            let session = Session::open(root)?;
            let saved = conversation::list(&session)
                .map_err(|e| AcpError::Workspace(format!("{}: {e}", root.display())))?;
            for s in saved {
                seen.insert(s.id.clone());
                let info = SessionInfo::new(s.id.clone(), root.clone())
                    .title((!s.title.is_empty()).then(|| s.title.clone()))
                    // A session with no turn yet has no update time to report.
                    .updated_at((s.updated > 0).then(|| s.updated_at()));
                out.push((s.updated, info));
            }
        }
        for s in live {
            if roots.contains(&s.root) && !seen.contains(&s.id) {
                let title = s
                    .turns()
                    .first()
                    .map(|t| t.user.chars().take(80).collect::<String>());
                out.push((
                    u64::MAX,
                    SessionInfo::new(s.id.clone(), s.root.clone()).title(title),
                ));
            }
        }
        out.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| b.1.session_id.0.cmp(&a.1.session_id.0))
        });
        Ok(out.into_iter().map(|(_, i)| i).collect())
    }

    /// Stop every session's MCP servers (the connection ended).
    pub(crate) async fn shutdown(&self) {
        let all: Vec<Arc<AcpSession>> = self.map().values().cloned().collect();
        for s in all {
            s.mcp.shutdown().await;
        }
    }

    pub(crate) fn get(&self, id: &str) -> Result<Arc<AcpSession>, AcpError> {
        self.map()
            .get(id)
            .cloned()
            .ok_or_else(|| AcpError::UnknownSession(id.to_string()))
    }

    /// A session to resume from `cwd`: it must exist — in this process, or saved in the
    /// workspace's state directory by an earlier `jingu acp` — and be bound to the same workspace.
    pub(crate) fn load(&self, id: &str, cwd: &Path) -> Result<Arc<AcpSession>, AcpError> {
        let acp = match self.get(id) {
            Ok(acp) => acp,
            Err(unknown) => {
                if !cwd.is_absolute() {
                    return Err(AcpError::RelativeCwd(cwd.display().to_string()));
                }
                let session = Session::open(cwd)?;
                let conv = match Conversation::load(&session, id) {
                    Ok(c) => c,
                    Err(ConversationError::NotFound(_) | ConversationError::BadId(_)) => {
                        return Err(unknown);
                    }
                    Err(e) => return Err(AcpError::Workspace(e.to_string())),
                };
                let acp = Arc::new(AcpSession {
                    id: id.to_string(),
                    root: session.workspace.root.clone(),
                    subject: session.identity.subject.clone(),
                    mcp: Arc::new(McpPool::default()),
                    state: Mutex::new(State {
                        mode: Mode::Ask,
                        model: conv.model.clone(),
                        turns: conv
                            .turns
                            .iter()
                            .map(|t| Turn {
                                user: t.instruction.clone(),
                                agent: t.summary.clone(),
                                run_id: Some(t.run_id.clone()),
                            })
                            .collect(),
                        active: None,
                    }),
                });
                self.map().insert(id.to_string(), acp.clone());
                acp
            }
        };
        let root = jingu_core::ops::Workspace::discover(cwd)
            .map(|w| w.root)
            .map_err(|e| AcpError::Workspace(format!("{}: {e}", cwd.display())))?;
        if root != acp.root {
            return Err(AcpError::OtherWorkspace {
                id: id.to_string(),
                root: acp.root.display().to_string(),
            });
        }
        Ok(acp)
    }
}
