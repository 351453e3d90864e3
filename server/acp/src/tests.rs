//! Unit tests of the ACP front end: modes against policy, prompt text, sessions and errors.

use std::path::Path;

use agent_client_protocol::v1::schema::{ContentBlock, ImageContent, ResourceLink, TextContent};

use super::error::AcpError;
use super::mode::Mode;
use super::prompt::prompt_text;
use super::session::Sessions;
use jingu_policy::{Policy, Tool, ToolDecision};

const ENTERPRISE: &str =
    "[policy]\ntools = { edit = \"ask\", run_command = \"deny\", read = \"allow\" }\n";

fn decision(p: &Policy, tool: Tool) -> ToolDecision {
    p.tool_decision(tool).value
}

#[test]
fn read_only_denies_edits_and_commands_but_keeps_reads() {
    let mut p = Policy::from_texts(Some(ENTERPRISE), None, None).expect("policy");
    Mode::ReadOnly.restrict(&mut p);
    assert_eq!(decision(&p, Tool::Edit), ToolDecision::Deny);
    assert_eq!(decision(&p, Tool::RunCommand), ToolDecision::Deny);
    assert_eq!(decision(&p, Tool::Read), ToolDecision::Allow);
}

#[test]
fn ask_and_auto_never_change_the_policy() {
    for mode in [Mode::Ask, Mode::Auto] {
        let mut p = Policy::from_texts(Some(ENTERPRISE), None, None).expect("policy");
        mode.restrict(&mut p);
        assert_eq!(decision(&p, Tool::Edit), ToolDecision::Ask);
        // The enterprise deny stays a deny in every mode: it is never asked, so never pre-approved.
        assert_eq!(decision(&p, Tool::RunCommand), ToolDecision::Deny);
    }
}

#[test]
fn auto_pre_approves_only_edits() {
    assert!(Mode::Auto.pre_approves("edit"));
    assert!(!Mode::Auto.pre_approves("run_command"));
    assert!(!Mode::Ask.pre_approves("edit"));
    assert!(!Mode::ReadOnly.pre_approves("edit"));
}

#[test]
fn modes_round_trip_and_advertise_all_three() {
    for mode in Mode::ALL {
        assert_eq!(Mode::parse(mode.id()), Some(mode));
    }
    assert_eq!(Mode::parse("yolo"), None);
    let state = super::mode::state(Mode::Ask);
    assert_eq!(&*state.current_mode_id.0, "ask");
    let ids: Vec<&str> = state.available_modes.iter().map(|m| &*m.id.0).collect();
    assert_eq!(ids, ["read-only", "ask", "auto"]);
}

#[test]
fn prompt_text_keeps_text_and_names_links_and_drops_images() {
    let blocks = vec![
        ContentBlock::Text(TextContent::new("rename it")),
        ContentBlock::ResourceLink(ResourceLink::new("lib.rs", "file:///w/src/lib.rs")),
        ContentBlock::Image(ImageContent::new("AAAA", "image/png")),
    ];
    assert_eq!(
        prompt_text(&blocks),
        "rename it\n(attached: file:///w/src/lib.rs)"
    );
    assert_eq!(prompt_text(&[]), "");
}

#[test]
fn unknown_and_relative_sessions_are_typed_errors() {
    let sessions = Sessions::default();
    assert!(matches!(
        sessions.get("sess-nope"),
        Err(AcpError::UnknownSession(id)) if id == "sess-nope"
    ));
    assert!(matches!(
        sessions.create(Path::new("relative/dir")),
        Err(AcpError::RelativeCwd(_))
    ));
    let rpc: agent_client_protocol::Error = AcpError::UnknownSession("s".into()).into();
    assert_eq!(rpc.code, agent_client_protocol::ErrorCode::from(-32002));
    assert!(rpc.message.contains("unknown session `s`"));
    let rpc: agent_client_protocol::Error = AcpError::UnknownMode("x".into()).into();
    assert_eq!(rpc.code, agent_client_protocol::ErrorCode::INVALID_PARAMS);
}

#[test]
fn session_list_pages_by_the_cursor_it_hands_out() {
    use agent_client_protocol::v1::schema::SessionInfo;
    let all: Vec<SessionInfo> = (0..120)
        .map(|i| SessionInfo::new(format!("sess-{i:03}"), "/w"))
        .collect();
    let first = super::page(all.clone(), None).expect("first page");
    assert_eq!(first.sessions.len(), 50);
    assert_eq!(first.next_cursor.as_deref(), Some("at-50"));
    let last = super::page(all.clone(), Some("at-100")).expect("last page");
    assert_eq!(last.sessions.len(), 20);
    assert_eq!(last.sessions[0].session_id.0.as_ref(), "sess-100");
    assert!(last.next_cursor.is_none());
    for bad in ["at-121", "50", "at-x"] {
        assert!(super::page(all.clone(), Some(bad)).is_err(), "{bad}");
    }
}

#[test]
fn resource_and_link_blocks_become_attachments_and_blobs_do_not() {
    use agent_client_protocol::v1::schema::{
        BlobResourceContents, EmbeddedResource, EmbeddedResourceResource, TextResourceContents,
    };
    let blocks = vec![
        ContentBlock::Text(TextContent::new("explain")),
        ContentBlock::Resource(EmbeddedResource::new(
            EmbeddedResourceResource::TextResourceContents(TextResourceContents::new(
                "fn a() {}",
                "file:///w/src/a.rs",
            )),
        )),
        ContentBlock::ResourceLink(ResourceLink::new("b.rs", "file:///w/src/b.rs")),
        ContentBlock::Resource(EmbeddedResource::new(
            EmbeddedResourceResource::BlobResourceContents(BlobResourceContents::new(
                "AAAA",
                "file:///w/logo.png",
            )),
        )),
    ];
    let got = super::prompt::attachments(&blocks);
    assert_eq!(
        got,
        vec![
            jingu_core::agent::attach::Attachment {
                uri: "file:///w/src/a.rs".into(),
                text: Some("fn a() {}".into()),
            },
            jingu_core::agent::attach::Attachment {
                uri: "file:///w/src/b.rs".into(),
                text: None,
            },
        ]
    );
    assert_eq!(
        prompt_text(&blocks),
        "explain\n(attached: file:///w/src/a.rs)\n(attached: file:///w/src/b.rs)\n\
         (binary attachment not used: file:///w/logo.png)"
    );
}

#[test]
fn replay_gives_an_applied_edit_its_diff_and_a_failed_call_its_status() {
    use agent_client_protocol::v1::schema::{SessionUpdate, ToolCallContent, ToolCallStatus};
    use jingu_core::agent::conversation::{Conversation, TurnEdit, TurnInfo};
    use jingu_providers::{Message, ToolArguments, ToolCall};
    let call = |id: &str, name: &str| ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: ToolArguments::Json(serde_json::json!({"path": "a.rs"})),
    };
    let mut conv = Conversation::new();
    conv.push_turn(
        TurnInfo {
            instruction: "rename".into(),
            run_id: "r1".into(),
            summary: "done".into(),
            time: 1,
            edits: vec![TurnEdit::new("a.rs", "snap1", "fn a() {}\n", "fn b() {}\n")],
        },
        vec![
            Message::user("context + rename"),
            Message::Assistant {
                content: String::new(),
                tool_calls: vec![call("c1", "run_command"), call("c2", "edit")],
            },
            Message::tool_result(&call("c1", "run_command"), "error: denied"),
            Message::tool_result(&call("c2", "edit"), "applied: a.rs"),
        ],
    );
    let updates = super::replay::updates(&conv, Path::new("/w"));
    let results: Vec<_> = updates
        .iter()
        .filter_map(|u| match u {
            SessionUpdate::ToolCallUpdate(u) => Some(u),
            _ => None,
        })
        .collect();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].fields.status, Some(ToolCallStatus::Failed));
    assert!(matches!(
        results[0].fields.content.as_deref(),
        Some([ToolCallContent::Content(_)])
    ));
    assert_eq!(results[1].fields.status, Some(ToolCallStatus::Completed));
    let content = results[1].fields.content.as_deref().expect("content");
    let ToolCallContent::Diff(diff) = &content[0] else {
        panic!("no diff: {content:?}");
    };
    assert_eq!(diff.path, Path::new("/w/a.rs"));
    assert_eq!(diff.old_text.as_deref(), Some("fn a() {}\n"));
    assert_eq!(diff.new_text, "fn b() {}\n");
    let loc = &results[1].fields.locations.as_deref().expect("locations")[0];
    assert_eq!(loc.line, Some(1));
}

#[test]
fn model_errors_are_invalid_params_naming_the_allowed_models() {
    let rpc: agent_client_protocol::Error = AcpError::ModelNotAllowed {
        model: "p/x".into(),
        allowed: "p/a, p/b".into(),
    }
    .into();
    assert_eq!(rpc.code, agent_client_protocol::ErrorCode::INVALID_PARAMS);
    assert_eq!(
        rpc.message,
        "model `p/x` is not allowed by the policy (allowed: p/a, p/b)"
    );
}
