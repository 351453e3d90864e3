// Drives `jingu acp` with the reference ACP TypeScript SDK (@agentclientprotocol/sdk) as the
// client, and prints what happened as one JSON object on stdout for tests/acp_e2e.rs to check.
//
//   node client.mjs SCENARIO        (env: JINGU_BIN, ACP_CWD, ACP_BUFFER_FILE, ACP_BUFFER_TEXT)
//
// Scenarios: edit (allow, then reload the session), reject, cancel (mid-stream), cancel-ask
// (while a permission question is open), mode (read-only), auto, bad (errors), load (resume
// ACP_SESSION_ID in a fresh process, after session/list), twice (two prompts in one session),
// model (the model picker: ACP_BAD_MODEL refused, ACP_MODEL picked before the prompt).
// ACP_ANSWER: the option chosen in permission questions (default allow-once).
import { spawn } from "node:child_process";
import { Readable, Writable } from "node:stream";
import * as acp from "@agentclientprotocol/sdk";

const scenario = process.argv[2];
const cwd = process.env.ACP_CWD;
const child = spawn(process.env.JINGU_BIN, ["acp"], { stdio: ["pipe", "pipe", "inherit"] });
const stream = acp.ndJsonStream(Writable.toWeb(child.stdin), Readable.toWeb(child.stdout));

const out = { updates: [], permissions: [], reads: [], writes: [], errors: {} };
let onUpdate = () => {};
// Files the "editor" has open with unsaved text, served through fs/read_text_file.
const buffers = new Map();
if (process.env.ACP_BUFFER_FILE) {
  buffers.set(process.env.ACP_BUFFER_FILE, process.env.ACP_BUFFER_TEXT ?? "");
}
let permissionAnswer = process.env.ACP_ANSWER ?? "allow-once";
let clientContext = null;

async function rpcError(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return { code: e.code, message: e.message };
  }
}

const app = acp
  .client()
  .onNotification("session/update", async ({ params }) => {
    out.updates.push(params.update);
    await onUpdate(params.update);
  })
  .onRequest("session/request_permission", async ({ params }) => {
    out.permissions.push(params);
    if (permissionAnswer === "cancelled") {
      // What an editor does when the user presses Stop while a question is open.
      await clientContext.notify("session/cancel", { sessionId: params.sessionId });
      return { outcome: { outcome: "cancelled" } };
    }
    return { outcome: { outcome: "selected", optionId: permissionAnswer } };
  })
  .onRequest("fs/read_text_file", async ({ params }) => {
    out.reads.push(params.path);
    if (!buffers.has(params.path)) throw new acp.RequestError(-32002, "not open");
    return { content: buffers.get(params.path) };
  })
  .onRequest("fs/write_text_file", async ({ params }) => {
    out.writes.push(params);
    buffers.set(params.path, params.content);
    return {};
  });

await app.connectWith(stream, async (ctx) => {
  clientContext = ctx;
  out.init = await ctx.request("initialize", {
    protocolVersion: acp.PROTOCOL_VERSION,
    clientCapabilities: { fs: { readTextFile: buffers.size > 0, writeTextFile: buffers.size > 0 } },
  });
  if (scenario === "bad") {
    out.errors.unknownMethod = await rpcError(ctx.request("jingu/nope", {}));
    out.errors.malformed = await rpcError(ctx.request("session/new", { cwd: 42, mcpServers: "x" }));
    out.errors.relativeCwd = await rpcError(ctx.request("session/new", { cwd: "rel", mcpServers: [] }));
    out.errors.noSession = await rpcError(
      ctx.request("session/prompt", { sessionId: "sess-missing", prompt: [{ type: "text", text: "hi" }] }),
    );
    out.errors.loadMissing = await rpcError(
      ctx.request("session/load", { sessionId: "sess-missing", cwd, mcpServers: [] }),
    );
    const s = await ctx.request("session/new", { cwd, mcpServers: [] });
    out.errors.badMode = await rpcError(ctx.request("session/set_mode", { sessionId: s.sessionId, modeId: "yolo" }));
    out.errors.relativeList = await rpcError(ctx.request("session/list", { cwd: "rel" }));
    out.errors.badCursor = await rpcError(ctx.request("session/list", { cwd, cursor: "nope" }));
    out.errors.emptyPrompt = await rpcError(
      ctx.request("session/prompt", { sessionId: s.sessionId, prompt: [] }),
    );
    // Still alive after all of that.
    out.alive = (await ctx.request("session/new", { cwd, mcpServers: [] })).sessionId;
    // Sessions are saved when created: listed (without an update time) before any prompt.
    out.listed = await ctx.request("session/list", { cwd });
    return;
  }
  if (scenario === "load") {
    // A new `jingu acp` process lists what earlier ones saved for the workspace, then resumes one.
    out.list = await ctx.request("session/list", { cwd });
    out.listLiveOnly = await ctx.request("session/list", {});
    out.load = await ctx.request("session/load", { sessionId: process.env.ACP_SESSION_ID, cwd, mcpServers: [] });
    out.replay = out.updates.slice();
    if (process.env.ACP_PROMPT) {
      out.prompt = await ctx.request("session/prompt", {
        sessionId: process.env.ACP_SESSION_ID,
        prompt: [{ type: "text", text: process.env.ACP_PROMPT }],
      });
    }
    return;
  }
  const session = await ctx.request("session/new", { cwd, mcpServers: [] });
  out.session = session;
  const sessionId = session.sessionId;
  if (scenario === "model") {
    // The model picker: a refused model, then an allowed one for the prompt below.
    out.errors.badModel = await rpcError(
      ctx.request("session/set_config_option", { sessionId, configId: "model", value: process.env.ACP_BAD_MODEL }),
    );
    out.errors.badOption = await rpcError(
      ctx.request("session/set_config_option", { sessionId, configId: "effort", value: "high" }),
    );
    out.errors.boolModel = await rpcError(
      ctx.request("session/set_config_option", { sessionId, configId: "model", type: "boolean", value: true }),
    );
    out.setModel = await ctx.request("session/set_config_option", {
      sessionId,
      configId: "model",
      value: process.env.ACP_MODEL,
    });
  }
  if (scenario === "reject") permissionAnswer = "reject-once";
  if (scenario === "cancel-ask") permissionAnswer = "cancelled";
  if (scenario === "mode" || scenario === "auto") {
    const modeId = scenario === "mode" ? "read-only" : "auto";
    await ctx.request("session/set_mode", { sessionId, modeId });
  }
  if (scenario === "cancel") {
    let sent = false;
    onUpdate = async (u) => {
      const text = u.content?.text ?? "";
      if (!sent && u.sessionUpdate === "agent_thought_chunk" && text.startsWith("step 1")) {
        sent = true;
        out.cancelSent = true;
        await ctx.notify("session/cancel", { sessionId });
      }
    };
  }
  // ACP_PROMPT_JSON: the prompt's content blocks (e.g. embedded resources), else the rename.
  const blocks = process.env.ACP_PROMPT_JSON
    ? JSON.parse(process.env.ACP_PROMPT_JSON)
    : [{ type: "text", text: "rename old_name to add" }];
  out.prompt = await ctx.request("session/prompt", { sessionId, prompt: blocks });
  // Updates that arrived before the prompt's response (the end of the turn).
  out.beforeEnd = out.updates.length;
  if (scenario === "twice") {
    // The same edit again in the same session (after an "always" answer it is not asked).
    out.asked = out.permissions.length;
    // ACP_BETWEEN_FILE: written with ACP_BETWEEN_TEXT between the two prompts.
    if (process.env.ACP_BETWEEN_FILE) {
      const { writeFileSync } = await import("node:fs");
      writeFileSync(process.env.ACP_BETWEEN_FILE, process.env.ACP_BETWEEN_TEXT ?? "");
    }
    out.second = await ctx.request("session/prompt", {
      sessionId,
      prompt: [{ type: "text", text: "rename it again" }],
    });
  }
  if (scenario === "edit") {
    const before = out.updates.length;
    out.load = await ctx.request("session/load", { sessionId, cwd, mcpServers: [] });
    out.replay = out.updates.slice(before);
  }
});
// Close the connection as an editor does and let the agent end its sessions; kill it only if it
// does not exit.
out.exit = await new Promise((resolve) => {
  if (child.exitCode !== null) return resolve(child.exitCode);
  const timer = setTimeout(() => {
    child.kill();
    resolve("killed");
  }, 10000);
  child.on("exit", (code, signal) => {
    clearTimeout(timer);
    resolve(signal ?? code);
  });
  child.stdin.end();
});
process.stdout.write(JSON.stringify(out) + "\n");
