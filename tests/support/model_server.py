#!/usr/bin/env python3
"""A scripted model server for end-to-end tests: a real HTTP server on 127.0.0.1 speaking the OpenAI
Chat Completions wire format (streamed SSE or not), replaying a conversation script turn by turn.

    model_server.py SCRIPT.json [--port-file F] [--log F] [--chunk-delay-ms N]

SCRIPT.json is a list of turns; the N-th request gets the N-th turn (the last repeats):
    [{"tool_calls": [{"name": "edit", "arguments": {...}}]}, {"content": "done"}]
A turn may also be {"status": 429, "retry_after": 1} or {"stall": true} (headers, then silence),
or {"delay_ms": N} (wait before answering). A POST to .../completions (not chat) is the legacy
OpenAI Completions API used for fill-in-the-middle: it answers {"choices": [{"text": turn["text"]}]}.
and may carry "expect": "text" — a substring the request must contain (else the server answers 400,
so a test sees the agent sent the wrong context).
Every request body is appended as one JSON line to --log, so tests can assert what was sent.
The chosen port is written to --port-file once the server listens (port 0 = any free port).
With --scripts-dir DIR (SCRIPT is then ignored, pass "-"), one server replays many conversations:
a request to /c/NAME/v1/... follows DIR/NAME.json with its own turn counter, so a suite of cases
shares one server.
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def sse(obj):
    return ("data: " + json.dumps(obj) + "\n\n").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep stderr quiet
        pass

    def do_GET(self):
        if self.path.rstrip("/").endswith("/models"):
            self.reply_json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
        else:
            self.reply_json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            self.reply_json(400, {"error": {"message": "request body is not JSON"}})
            return
        script = self.server.script
        with LOCK:
            parts = self.path.split("/")
            if self.server.scripts_dir and len(parts) > 2 and parts[1] == "c":
                name = parts[2]
                turn_no = self.server.turns.get(name, 0)
                self.server.turns[name] = turn_no + 1
                try:
                    with open("%s/%s.json" % (self.server.scripts_dir, name), encoding="utf-8") as f:
                        script = json.load(f)
                except (OSError, ValueError) as e:
                    self.reply_json(404, {"error": {"message": "no script %r: %s" % (name, e)}})
                    return
            else:
                turn_no = self.server.turn
                self.server.turn += 1
            if self.server.log:
                with open(self.server.log, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"turn": turn_no, "path": self.path,
                                        "auth": self.headers.get("Authorization"), "body": body}) + "\n")
        turn = script[min(turn_no, len(script) - 1)]
        if "expect" in turn and turn["expect"] not in raw.decode("utf-8", "replace"):
            self.reply_json(400, {"error": {"message": "scripted server: expected %r in request" % turn["expect"]}})
            return
        if turn.get("delay_ms"):
            time.sleep(turn["delay_ms"] / 1000.0)
        if "status" in turn:
            headers = {"Retry-After": str(turn["retry_after"])} if "retry_after" in turn else {}
            self.reply_json(turn["status"], {"error": {"message": turn.get("message", "scripted error")}}, headers)
            return
        if self.path.rstrip("/").endswith("/completions") and not self.path.rstrip("/").endswith("/chat/completions"):
            self.reply_json(200, self.text_completion(turn, body))
        elif body.get("stream"):
            self.stream(turn, body)
        else:
            self.reply_json(200, self.completion(turn, body))

    def completion(self, turn, body):
        msg = {"role": "assistant", "content": turn.get("content")}
        if turn.get("tool_calls"):
            msg["tool_calls"] = [
                {"id": "call_%d" % i, "type": "function",
                 "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])
                              if not isinstance(c["arguments"], str) else c["arguments"]}}
                for i, c in enumerate(turn["tool_calls"])]
        return {"id": "cmpl", "object": "chat.completion", "model": body.get("model", "scripted"),
                "choices": [{"index": 0, "message": msg,
                             "finish_reason": turn.get("finish") or ("tool_calls" if turn.get("tool_calls") else "stop")}],
                "usage": {"prompt_tokens": len(json.dumps(body)) // 4, "completion_tokens": 7,
                          "total_tokens": len(json.dumps(body)) // 4 + 7}}

    def text_completion(self, turn, body):
        text = turn.get("text", turn.get("content") or "")
        return {"id": "cmpl", "object": "text_completion", "model": body.get("model", "scripted"),
                "choices": [{"index": 0, "text": text, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": len(json.dumps(body)) // 4, "completion_tokens": 7,
                          "total_tokens": len(json.dumps(body)) // 4 + 7}}

    def stream(self, turn, body):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        if turn.get("stall"):
            self.wfile.flush()
            time.sleep(3600)
            return
        delay = self.server.chunk_delay
        base = {"id": "cmpl", "object": "chat.completion.chunk", "model": body.get("model", "scripted")}

        def send(delta, finish=None, usage=None):
            chunk = dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": finish}])
            if usage:
                chunk["usage"] = usage
            self.wfile.write(sse(chunk))
            self.wfile.flush()
            if delay:
                time.sleep(delay)

        try:
            send({"role": "assistant"})
            text = turn.get("content") or ""
            # Several small chunks, so streaming and cancellation are exercised.
            for i in range(0, len(text), 8):
                send({"content": text[i:i + 8]})
            for i, c in enumerate(turn.get("tool_calls", [])):
                args = c["arguments"] if isinstance(c["arguments"], str) else json.dumps(c["arguments"])
                send({"tool_calls": [{"index": i, "id": "call_%d" % i, "type": "function",
                                      "function": {"name": c["name"], "arguments": ""}}]})
                for j in range(0, len(args), 16):
                    send({"tool_calls": [{"index": i, "function": {"arguments": args[j:j + 16]}}]})
            send({}, turn.get("finish") or ("tool_calls" if turn.get("tool_calls") else "stop"),
                 {"prompt_tokens": len(json.dumps(body)) // 4, "completion_tokens": 7,
                  "total_tokens": len(json.dumps(body)) // 4 + 7})
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client cancelled

    def reply_json(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("script")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--chunk-delay-ms", type=int, default=0)
    ap.add_argument("--scripts-dir")
    args = ap.parse_args()
    if args.scripts_dir:
        script = [{"content": "unused"}]
    else:
        with open(args.script, encoding="utf-8") as f:
            script = json.load(f)
    if not isinstance(script, list) or not script:
        sys.exit("script must be a non-empty JSON list of turns")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.script, server.turn, server.log = script, 0, args.log
    server.scripts_dir, server.turns = args.scripts_dir, {}
    server.chunk_delay = args.chunk_delay_ms / 1000.0
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        import os
        os.replace(args.port_file + ".tmp", args.port_file)
    print("listening on 127.0.0.1:%d" % server.server_address[1], file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
