"""The ChatML prompt format of Qwen-family models, rendered as their own chat template does.

Rendering it here (rather than through the model's Jinja template) lets a prompt end inside an open
assistant message, which continuation and option scoring need.
"""

from __future__ import annotations

from modulo.model import ChatMessage

QWEN_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."


def render(
    messages: list[ChatMessage], continue_final: bool = False, default_system: str = QWEN_DEFAULT_SYSTEM
) -> str:
    """The prompt text: every message closed and a fresh assistant turn opened, or with
    `continue_final` the last (assistant) message left open so the model continues it."""
    if continue_final and (not messages or messages[-1].role != "assistant"):
        raise ValueError("continuing needs a chat whose last message is the partial assistant message")
    head = (
        []
        if messages and messages[0].role == "system"
        else [ChatMessage(role="system", content=default_system)]
    )
    closed = [*head, *messages]
    last = closed.pop() if continue_final else None
    text = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in closed)
    return text + (f"<|im_start|>assistant\n{last.content}" if last else "<|im_start|>assistant\n")
