"""``OpenAIChatModel``: Chat Completions over ``openai.AsyncOpenAI``, so any
OpenAI-compatible endpoint works (OpenAI, Azure, vLLM, Ollama) by ``base_url``."""

from __future__ import annotations

import asyncio
import os
import weakref
from typing import TYPE_CHECKING, Any

from tracer.runner.errors import ModelBehaviorError, ModelError
from tracer.runner.models.base import ModelRequest, ModelResponse, ToolCall

if TYPE_CHECKING:
    import openai

DEFAULT_MODEL_ENV = "OPENAI_DEFAULT_MODEL"
DEFAULT_MODEL = "gpt-4.1-mini"

# One default client per event loop: an async HTTP client's connections belong to the
# loop that opened them, and ``Runner.run_sync`` makes a new loop per run.
_default_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, openai.AsyncOpenAI] = (
    weakref.WeakKeyDictionary()
)
# `openai` is imported where it is used: it takes ~0.3 s, and `import tracer` (every `baton`
# command) should not pay that unless a model is called.

_STATUS_ADVICE = {
    400: "the endpoint rejected the request; check the model's support for tools and "
    "structured output",
    401: "check OPENAI_API_KEY (or the api_key of your client)",
    403: "the key has no access to this model or project",
    404: "check the model name and OPENAI_BASE_URL (it usually ends in /v1)",
    429: "rate limited or out of quota; wait, or raise max_retries on the client",
}


def default_model_name() -> str:
    """The model an agent without one uses: ``$OPENAI_DEFAULT_MODEL``, else gpt-4.1-mini."""
    return os.environ.get(DEFAULT_MODEL_ENV) or DEFAULT_MODEL


class OpenAIChatModel:
    """A Chat Completions model. Without ``client`` it uses ``openai.AsyncOpenAI()``,
    which reads ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL``; pass your own client for
    another endpoint, retries (``max_retries``) or timeouts (``timeout``)."""

    provider = "openai"

    def __init__(self, name: str, *, client: openai.AsyncOpenAI | None = None) -> None:
        self.name = name
        self._client = client

    def __repr__(self) -> str:
        return f"OpenAIChatModel({self.name!r})"

    @property
    def client(self) -> openai.AsyncOpenAI:
        if self._client is not None:
            return self._client
        loop = asyncio.get_running_loop()
        client = _default_clients.get(loop)
        if client is None:
            import openai

            try:
                client = openai.AsyncOpenAI()
            except openai.OpenAIError as exc:
                raise ModelError(
                    f"cannot call {self.name}: {exc} Set OPENAI_API_KEY (and OPENAI_BASE_URL "
                    "for another endpoint), or give OpenAIChatModel a client."
                ) from exc
            _default_clients[loop] = client
        return client

    async def respond(self, request: ModelRequest) -> ModelResponse:
        import openai

        client = self.client
        try:
            completion = await client.chat.completions.create(**self._arguments(request))
        except openai.APIStatusError as exc:
            advice = _STATUS_ADVICE.get(exc.status_code, "the endpoint failed; try again later")
            raise ModelError(
                f"{self.name} at {client.base_url} answered HTTP {exc.status_code} "
                f"(after up to {client.max_retries} retries): {exc.message}. {advice}."
            ) from exc
        except openai.APITimeoutError as exc:
            raise ModelError(
                f"{self.name} at {client.base_url} did not answer in time "
                f"(after up to {client.max_retries} retries); raise the client's timeout."
            ) from exc
        except openai.APIConnectionError as exc:
            raise ModelError(
                f"cannot reach {client.base_url} for {self.name}: {exc}. Check OPENAI_BASE_URL "
                "and that the server is running."
            ) from exc
        return self._response(completion)

    def _arguments(self, request: ModelRequest) -> dict[str, Any]:
        messages = list(request.messages)
        if request.system:
            messages.insert(0, {"role": "system", "content": request.system})
        args: dict[str, Any] = {"model": self.name, "messages": messages}
        settings = request.settings
        if request.tools:
            args["tools"] = list(request.tools)
            if settings.tool_choice is not None:
                args["tool_choice"] = _tool_choice(settings.tool_choice)
            if settings.parallel_tool_calls is not None:
                args["parallel_tool_calls"] = settings.parallel_tool_calls
        if request.output is not None:
            args["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.output.name,
                    "schema": request.output.json_schema,
                    "strict": request.output.strict,
                },
            }
        for name in ("temperature", "top_p", "max_tokens", "seed", "extra_body"):
            value = getattr(settings, name)
            if value is not None:
                args[name] = value
        if settings.stop is not None:
            args["stop"] = list(settings.stop)
        return args

    def _response(self, completion: Any) -> ModelResponse:
        if not completion.choices:
            raise ModelBehaviorError(f"{self.name} answered with no choices: {completion!r}")
        choice = completion.choices[0]
        message = choice.message
        calls = []
        for call in message.tool_calls or ():
            if call.type != "function":
                raise ModelBehaviorError(
                    f"{self.name} asked for a {call.type!r} tool call; baton runs function tools"
                )
            calls.append(ToolCall(call.id, call.function.name, call.function.arguments))
        usage = completion.usage
        return ModelResponse(
            content=message.content,
            tool_calls=tuple(calls),
            finish_reason=choice.finish_reason or "",
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
            model=completion.model,
            response_id=completion.id,
            refusal=message.refusal,
        )


def _tool_choice(choice: str) -> Any:
    if choice in ("auto", "required", "none"):
        return choice
    return {"type": "function", "function": {"name": choice}}
