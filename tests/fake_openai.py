"""(Copy of the shared repro server, so the tests do not depend on ../shared.)

Fake OpenAI-compatible server on 127.0.0.1 with fault modes chosen by the URL prefix.

base_url = http://127.0.0.1:PORT/<mode>/v1     e.g. /ok/v1, /e500/v1, /flaky/v1

Modes:
  ok          random-ish text answer (maze-like lines) after DELAY seconds (env FAKE_DELAY, default 0.2)
  slow        like ok, 2 s per answer
  e500        always HTTP 500
  e429        always HTTP 429 with Retry-After: 1
  flaky       30% 500, 20% 429 (Retry-After 0), 50% ok
  badjson     200 with a body that is not JSON
  nochoices   200 {"choices": []}
  choicesdict 200 {"choices": {"a": 1}}
  msgstr      200 {"choices": [{"message": "hello"}]}
  badusage    200 with usage.prompt_tokens = "many"
  nullchoice  200 {"choices": [null]}
  hang        accept, never answer (sleeps 3600 s)
  trickle     send headers, then one byte of body every 2 s, forever (slowloris response)
  reset       close the socket without a response (connection reset)
  huge        200 with a 200 MB content string
  echoauth    HTTP 400 whose body echoes the request headers (incl. Authorization)
  poison      HTTP 400 (context length) for ~1 prompt in 5, deterministic per prompt; others ok
  echoauth500 HTTP 500 whose body echoes the request headers (retried, then the error message)
  translate   replies chosen by the prompt: $FAKE_TRANSLATIONS names a JSON file {substring: reply}; the
              reply of the first substring found in the last message is sent as the answer, except
              "HTTP400" and "HTTP500" (that status); HTTP 422 when the request carries no
              response_format json_schema (structured output), HTTP 404 when no substring is found
  whoami      like ok, but the answer is "port PORT in_flight N" (this server's port and how many requests
              it was serving at that moment, this one included), for tests of spreading over endpoints
  mortal      like whoami for the first $FAKE_DIE_AFTER requests (default 3); the next one ends the whole
              server process at once (requests in flight lose their connections)
  vllm        vLLM's server extensions (not in the shared repro server): /vllm/v1/chat/completions honours
              `continue_final_message` (400 with `add_generation_prompt` too, or when the last message is not
              the assistant's) and `echo` (the partial message before the reply), replying " CONTINUED" to a
              continuation and "a fresh turn" otherwise; /vllm/tokenize gives a chat's ChatML rendering
              (left open with `continue_final_message`) or a `prompt` as its UTF-8 bytes, one token per byte,
              with a BOS token 1 in front unless `add_special_tokens` is false (the default for a chat, as in
              vLLM); /vllm/v1/completions takes token ids and with `prompt_logprobs` gives, per position
              i > 0, {str(token): {"logprob": fake_logprob(prompt, i)}} (None at 0, as vLLM). A last
              message holding "HTTP400" or "HTTP500" gets that status.
With $FAKE_RECORD set, every request's path and body are appended to that file as a JSON line.
Every request is logged to stderr with its mode (not its headers).
"""

from __future__ import annotations

import json
import os
import random
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DELAY = float(os.environ.get("FAKE_DELAY", "0.2"))
DIE_AFTER = int(os.environ.get("FAKE_DIE_AFTER", "3"))
COUNTS: dict[str, int] = {}
IN_FLIGHT = [0]
LOCK = threading.Lock()


def answer(content: str) -> dict:
    return {
        "id": "x",
        "object": "chat.completion",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": len(content.split())},
    }


def fake_logprob(prompt: list[int], i: int) -> float:
    """The vllm mode's log-probability of prompt token i given the ones before it."""
    return -((sum(prompt[:i]) * 31 + prompt[i]) % 97 + 1) / 50


def chatml(messages: list[dict], open_last: bool) -> str:
    """The vllm mode's chat template: ChatML, the last message left open or a fresh assistant turn."""
    closed = messages[:-1] if open_last else messages
    text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in closed)
    last = messages[-1]["content"] if open_last else ""
    return text + "<|im_start|>assistant\n" + last


def random_text(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(0, 12)):
        op = rng.choice(["create", "close"])
        lines.append(
            f"{op} ({rng.randint(0, 8)}, {rng.randint(0, 8)}) g={rng.randint(0, 9)} h={rng.randint(0, 9)}"
        )
    lines.append(
        "plan: " + " ".join(f"({rng.randint(0, 8)}, {rng.randint(0, 8)})" for _ in range(rng.randint(0, 6)))
    )
    lines.append(f"nonce {rng.random()}")
    return "\n".join(lines)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: C901
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        mode = self.path.strip("/").split("/")[0]
        with LOCK:
            COUNTS[mode] = COUNTS.get(mode, 0) + 1
            n = COUNTS[mode]
        print(f"{time.time():.3f} {mode} #{n}", file=sys.stderr, flush=True)
        rng = random.Random()
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        if os.environ.get("FAKE_RECORD"):
            with LOCK, open(os.environ["FAKE_RECORD"], "a", encoding="utf-8") as record:
                record.write(json.dumps({"path": self.path, "body": body}) + "\n")
        if mode == "vllm":
            self._vllm(self.path.split("/", 2)[2], body)
        elif mode in ("whoami", "mortal"):
            if mode == "mortal" and n > DIE_AFTER:
                os._exit(1)
            self._whoami()
        elif mode == "ok":
            time.sleep(DELAY)
            self._send(200, json.dumps(answer(random_text(rng))).encode())
        elif mode == "slow":
            time.sleep(2)
            self._send(200, json.dumps(answer(random_text(rng))).encode())
        elif mode == "e500":
            self._send(500, b'{"error": "boom"}')
        elif mode == "e429":
            self._send(429, b'{"error": "slow down"}', {"Retry-After": "1"})
        elif mode == "flaky":
            r = rng.random()
            if r < 0.3:
                self._send(500, b'{"error": "flaky"}')
            elif r < 0.5:
                self._send(429, b'{"error": "rate"}', {"Retry-After": "0"})
            else:
                time.sleep(DELAY)
                self._send(200, json.dumps(answer(random_text(rng))).encode())
        elif mode == "badjson":
            self._send(200, b'{"choices": [ this is not json')
        elif mode == "nochoices":
            self._send(200, b'{"choices": []}')
        elif mode == "choicesdict":
            self._send(200, b'{"choices": {"a": 1}}')
        elif mode == "msgstr":
            self._send(200, b'{"choices": [{"message": "hello"}]}')
        elif mode == "badusage":
            a = answer("hello")
            a["usage"]["prompt_tokens"] = "many"
            self._send(200, json.dumps(a).encode())
        elif mode == "nullchoice":
            self._send(200, b'{"choices": [null]}')
        elif mode == "hang":
            time.sleep(3600)
        elif mode == "trickle":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000000")
            self.end_headers()
            try:
                for _ in range(100000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(2)
            except OSError:
                return
        elif mode == "reset":
            s = self.connection
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
            self.close_connection = True
        elif mode == "huge":
            content = "create (1, 1) g=1 h=1\n" * (200_000_000 // 22)
            self._send(200, json.dumps(answer(content)).encode())
        elif mode == "poison":
            # one prompt in ~5 is deterministically rejected like a context-length error; the rest succeed
            import hashlib

            content = json.dumps(body.get("messages", []), sort_keys=True)
            if int(hashlib.sha256(content.encode()).hexdigest(), 16) % 5 == 0:
                self._send(
                    400, b'{"error": {"message": "This model\'s maximum context length is 4096 tokens"}}'
                )
            else:
                time.sleep(DELAY)
                self._send(200, json.dumps(answer(random_text(rng))).encode())
        elif mode == "translate":
            self._translate(body)
        elif mode in ("echoauth", "echoauth500"):
            text = json.dumps({"error": "bad request", "headers": dict(self.headers.items())}).encode()
            self._send(400 if mode == "echoauth" else 500, text)
        else:
            self._send(404, b'{"error": "unknown mode"}')

    def _vllm(self, route: str, body: dict) -> None:
        messages = body.get("messages") or []
        last = (messages or [{}])[-1].get("content", "")
        for status in ("HTTP400", "HTTP500"):
            if status in last:
                self._send(int(status[4:]), json.dumps({"error": f"scripted {status}"}).encode())
                return
        continuing = bool(body.get("continue_final_message"))
        if continuing and (
            body.get("add_generation_prompt", True) or messages[-1].get("role") != "assistant"
        ):
            self._send(
                400,
                b'{"error": "continue_final_message needs add_generation_prompt false and a final '
                b'assistant message"}',
            )
        elif route == "v1/chat/completions":
            reply = " CONTINUED" if continuing else "a fresh turn"
            if body.get("echo") and messages[-1].get("role") == "assistant":
                reply = last + reply
            self._send(200, json.dumps(answer(reply)).encode())
        elif route == "tokenize":
            text = chatml(messages, continuing) if messages else body.get("prompt", "")
            special = body.get("add_special_tokens", not messages)
            tokens = ([1] if special else []) + list(text.encode())
            self._send(200, json.dumps({"count": len(tokens), "tokens": tokens}).encode())
        elif route == "v1/completions":
            prompt = body.get("prompt") or []
            choice: dict = {"index": 0, "text": "x", "finish_reason": "length"}
            if body.get("prompt_logprobs") is not None:
                choice["prompt_logprobs"] = [None] + [
                    {str(prompt[i]): {"logprob": fake_logprob(prompt, i), "rank": 1}}
                    for i in range(1, len(prompt))
                ]
            self._send(
                200, json.dumps({"choices": [choice], "usage": {"prompt_tokens": len(prompt)}}).encode()
            )
        else:
            self._send(404, b'{"error": "no such vllm route"}')

    def _whoami(self) -> None:
        with LOCK:
            IN_FLIGHT[0] += 1
            in_flight = IN_FLIGHT[0]
        try:
            time.sleep(DELAY)
            port = self.server.server_address[1]
            self._send(200, json.dumps(answer(f"port {port} in_flight {in_flight}")).encode())
        finally:
            with LOCK:
                IN_FLIGHT[0] -= 1

    def _translate(self, body: dict) -> None:
        schema = (body.get("response_format") or {}).get("json_schema", {}).get("schema")
        if not isinstance(schema, dict):
            self._send(422, b'{"error": "expected response_format with a json_schema"}')
            return
        with open(os.environ["FAKE_TRANSLATIONS"], encoding="utf-8") as handle:
            table = json.load(handle)
        prompt = (body.get("messages") or [{}])[-1].get("content", "")
        reply = next((v for k, v in table.items() if k in prompt), None)
        if reply is None:
            self._send(404, b'{"error": "no translation for this prompt"}')
        elif reply in ("HTTP400", "HTTP500"):
            self._send(int(reply[4:]), json.dumps({"error": f"scripted {reply}"}).encode())
        else:
            self._send(200, json.dumps(answer(reply)).encode())


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 18555
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
